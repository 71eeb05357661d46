package files

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
)

// DefaultOrphanAge is how long an unreferenced file is kept when
// Orphans/PurgeOrphans get no age: long enough for a user to upload and
// then finish filling in the form.
const DefaultOrphanAge = 24 * time.Hour

// Refs returns the record fields that hold the file, ordered by entity,
// record and field; none for an unknown or unreferenced file.
func (s *Service) Refs(ctx context.Context, id string) ([]Ref, error) {
	if !validID(id) {
		return nil, nil
	}
	rows, err := s.db.Query(ctx, `SELECT entity, record_id, field FROM file_refs
		WHERE file_id = ? ORDER BY entity, record_id, field`, id)
	if err != nil {
		return nil, fmt.Errorf("files: refs of %s: %w", id, err)
	}
	defer rows.Close()
	var refs []Ref
	for rows.Next() {
		var r Ref
		if err := rows.Scan(&r.Entity, &r.RecordID, &r.Field); err != nil {
			return nil, err
		}
		refs = append(refs, r)
	}
	return refs, rows.Err()
}

// SetRefs makes fileIDs the files held by (entity, recordID, field),
// replacing what it held before. It runs in the caller's transaction when
// ctx carries one, so the refs commit or roll back with the record. An id
// that names no file fails the whole call with a 422 on field, code
// "file_not_found". Duplicate ids count once.
func (s *Service) SetRefs(ctx context.Context, entity string, recordID int64, field string, fileIDs []string) error {
	ids := make([]string, 0, len(fileIDs))
	seen := make(map[string]bool, len(fileIDs))
	for _, id := range fileIDs {
		if !validID(id) {
			return apperr.Fields(apperr.Field(field, "file_not_found", "id", id))
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		if missing, err := s.missing(ctx, ids); err != nil {
			return err
		} else if missing != "" {
			return apperr.Fields(apperr.Field(field, "file_not_found", "id", missing))
		}
		if _, err := s.db.Exec(ctx, `DELETE FROM file_refs WHERE entity = ? AND record_id = ? AND field = ?`,
			entity, recordID, field); err != nil {
			return fmt.Errorf("files: clear refs: %w", err)
		}
		for _, id := range ids {
			if _, err := s.db.Exec(ctx, `INSERT INTO file_refs (file_id, entity, record_id, field) VALUES (?, ?, ?, ?)`,
				id, entity, recordID, field); err != nil {
				return fmt.Errorf("files: add ref: %w", err)
			}
		}
		return nil
	})
}

// DropRefs removes every ref held by a record, for when it is deleted; its
// files then become orphans and are purged later.
func (s *Service) DropRefs(ctx context.Context, entity string, recordID int64) error {
	_, err := s.db.Exec(ctx, `DELETE FROM file_refs WHERE entity = ? AND record_id = ?`, entity, recordID)
	if err != nil {
		return fmt.Errorf("files: drop refs: %w", err)
	}
	return nil
}

// missing returns the first of ids that names no file, or "". On
// PostgreSQL the found rows are share-locked until the transaction ends, so
// a concurrent PurgeOrphans cannot delete a file that is being referenced.
// (SQLite serialises writers, which gives the same guarantee.)
func (s *Service) missing(ctx context.Context, ids []string) (string, error) {
	found := make(map[string]bool, len(ids))
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		q := `SELECT id FROM files WHERE id IN (?` + strings.Repeat(", ?", len(part)-1) + `)`
		if s.db.Kind == db.Postgres {
			q += ` FOR SHARE`
		}
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		rows, err := s.db.Query(ctx, q, args...)
		if err != nil {
			return "", fmt.Errorf("files: check ids: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return "", err
			}
			found[id] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return "", err
		}
	}
	for _, id := range ids {
		if !found[id] {
			return id, nil
		}
	}
	return "", nil
}

const orphanWhere = `f.created_at < ? AND NOT EXISTS (SELECT 1 FROM file_refs r WHERE r.file_id = f.id)`

// Orphans counts the files no record refers to that were uploaded more than
// olderThan ago (DefaultOrphanAge when olderThan <= 0).
func (s *Service) Orphans(ctx context.Context, olderThan time.Duration) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM files f WHERE `+orphanWhere, s.cutoff(olderThan)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("files: count orphans: %w", err)
	}
	return n, nil
}

func (s *Service) cutoff(olderThan time.Duration) int64 {
	if olderThan <= 0 {
		olderThan = DefaultOrphanAge
	}
	return s.now().Add(-olderThan).UnixMicro()
}

type orphan struct {
	id, key string
	at      int64
}

// PurgeOrphans deletes the files no record refers to that were uploaded more
// than olderThan ago (DefaultOrphanAge when olderThan <= 0): rows first, in
// small transactions that re-check each file under a lock, then their bytes.
// It returns how many files were deleted. A failure to delete bytes does not
// stop the purge; the failures are returned joined, naming the keys left in
// storage.
func (s *Service) PurgeOrphans(ctx context.Context, olderThan time.Duration) (int, error) {
	const batch = 100
	cutoff := s.cutoff(olderThan)
	total := 0
	var errs []error
	// Keyset pagination on (created_at, id): a file skipped because it
	// gained a ref is not looked at again.
	afterAt, afterID := int64(-1<<63), ""
	for {
		cands, err := s.orphanBatch(ctx, cutoff, afterAt, afterID, batch)
		if err != nil {
			return total, errors.Join(append(errs, err)...)
		}
		if len(cands) == 0 {
			break
		}
		last := cands[len(cands)-1]
		afterAt, afterID = last.at, last.id

		var gone []orphan
		err = s.db.WithTx(ctx, func(ctx context.Context) error {
			gone = gone[:0] // the transaction may be retried
			for _, c := range cands {
				ok, err := s.deleteIfOrphan(ctx, c.id, cutoff)
				if err != nil {
					return err
				}
				if ok {
					gone = append(gone, c)
				}
			}
			return nil
		})
		if err != nil {
			return total, errors.Join(append(errs, fmt.Errorf("files: purge orphans: %w", err))...)
		}
		total += len(gone)
		for _, c := range gone {
			if err := s.st.Delete(ctx, c.key); err != nil {
				errs = append(errs, fmt.Errorf("files: delete bytes of purged file %s (key %s): %w", c.id, c.key, err))
			}
		}
		if len(cands) < batch {
			break
		}
	}
	return total, errors.Join(errs...)
}

func (s *Service) orphanBatch(ctx context.Context, cutoff, afterAt int64, afterID string, limit int) ([]orphan, error) {
	rows, err := s.db.Query(ctx, `SELECT f.id, f.storage_key, f.created_at FROM files f
		WHERE `+orphanWhere+` AND (f.created_at > ? OR (f.created_at = ? AND f.id > ?))
		ORDER BY f.created_at, f.id LIMIT ?`, cutoff, afterAt, afterAt, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("files: find orphans: %w", err)
	}
	defer rows.Close()
	var out []orphan
	for rows.Next() {
		var o orphan
		if err := rows.Scan(&o.id, &o.key, &o.at); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// deleteIfOrphan deletes the files row of id if it is still old and
// unreferenced. On PostgreSQL the row is locked first and the refs are read
// by a later statement, which therefore sees any SetRefs that held the row
// and has since committed.
func (s *Service) deleteIfOrphan(ctx context.Context, id string, cutoff int64) (bool, error) {
	if s.db.Kind == db.Postgres {
		var got string
		err := s.db.QueryRow(ctx, `SELECT id FROM files WHERE id = ? FOR UPDATE`, id).Scan(&got)
		if err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return false, nil
			}
			return false, err
		}
	}
	res, err := s.db.Exec(ctx, `DELETE FROM files WHERE id = ? AND created_at < ?
		AND NOT EXISTS (SELECT 1 FROM file_refs r WHERE r.file_id = files.id)`, id, cutoff)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
