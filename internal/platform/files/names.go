package files

import (
	"context"
	"strings"
)

// Names returns the names of the stored files among ids, by id, in one
// query per 500 ids (ids that are not valid or not stored have no entry).
// Like Get it checks no permission: it is for callers that already read
// the records holding the files (an export shows file fields by name).
func (s *Service) Names(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	seen := make(map[string]bool, len(ids))
	var todo []any
	for _, id := range ids {
		if validID(id) && !seen[id] {
			seen[id] = true
			todo = append(todo, id)
		}
	}
	for len(todo) > 0 {
		chunk := todo[:min(len(todo), 500)]
		todo = todo[len(chunk):]
		marks := strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",")
		rows, err := s.db.Query(ctx, `SELECT id, name FROM files WHERE id IN (`+marks+`)`, chunk...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = name
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
