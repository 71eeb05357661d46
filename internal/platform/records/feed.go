package records

import (
	"context"
	"errors"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/audit"
	"github.com/tenon-crm/tenon/internal/platform/events"
)

// Public converts a record to its API form for p (hidden fields removed).
func (s *Service) Public(p *access.Principal, entity string, rec Record, fields []string) Record {
	e, ok := s.reg.Get(entity)
	if !ok {
		return Record{}
	}
	v := &view{s: s, p: p, e: e, r: p.RightsOn(entity)}
	return v.public(rec, fields)
}

// PublicAll converts a page of records with one rights computation.
func (s *Service) PublicAll(p *access.Principal, entity string, recs []Record, fields []string) []Record {
	out := make([]Record, len(recs))
	e, ok := s.reg.Get(entity)
	if !ok {
		return out
	}
	v := &view{s: s, p: p, e: e, r: p.RightsOn(entity)}
	for i, r := range recs {
		out[i] = v.public(r, fields)
	}
	return out
}

// History returns a record's audit trail as p may see it: the record must
// be readable (deleted records too), and changes of hidden fields are
// removed.
func (s *Service) History(ctx context.Context, p *access.Principal, entity string, id int64, beforeID int64) ([]audit.Entry, error) {
	v, err := s.viewFor(p, entity, access.Read, "t")
	if err != nil {
		return nil, err
	}
	if _, err := v.load(ctx, id, false); err != nil {
		if _, err2 := v.load(ctx, id, true); err2 != nil {
			return nil, err
		}
	}
	entries, err := audit.Find(ctx, s.db, audit.Query{Entity: v.e.Name, RecordID: id, BeforeID: beforeID})
	if err != nil {
		return nil, err
	}
	for i := range entries {
		entries[i].Changes = v.redactAudit(entries[i].Changes)
	}
	return entries, nil
}

func (v *view) redactAudit(ch map[string]audit.Change) map[string]audit.Change {
	out := map[string]audit.Change{}
	for k, c := range ch {
		if v.r.Hidden(k) {
			continue
		}
		if f := v.e.Field(k); f != nil && f.Type == "subtable" {
			c.Old, c.New = v.redactRows(f.Name, c.Old), v.redactRows(f.Name, c.New)
		}
		out[k] = c
	}
	return out
}

func (v *view) redactRows(field string, x any) any {
	rows, ok := x.([]any)
	if !ok {
		return x
	}
	for _, r := range rows {
		if m, ok := r.(map[string]any); ok {
			for k := range m {
				if v.r.Hidden(k) || v.r.Hidden(field+"."+k) {
					delete(m, k)
				}
			}
		}
	}
	return rows
}

// FeedPage is a page of the change feed.
type FeedPage struct {
	Items []events.Change `json:"items"`
	Next  string          `json:"next"`
	More  bool            `json:"has_more"`
}

// Changes returns what changed after the cursor, in commit order, limited
// to entities p may read, records in p's scope (as they are now) and fields
// p may see. The cursor advances past skipped rows too.
func (s *Service) Changes(ctx context.Context, p *access.Principal, since string, entities []string, limit int) (*FeedPage, error) {
	cur, ok := events.ParseCursor(since)
	if !ok {
		return nil, apperr.Invalid("bad_cursor")
	}
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	for _, e := range entities {
		if _, err := s.viewFor(p, e, access.Read, "t"); err != nil {
			return nil, err
		}
	}
	rows, err := s.outbox.Since(ctx, cur, entities, limit+1)
	if err != nil {
		return nil, err
	}
	page := &FeedPage{Items: []events.Change{}, Next: cur.String()}
	if len(rows) > limit {
		rows, page.More = rows[:limit], true
	}
	views := map[string]*view{}
	visible := map[string]map[int64]bool{}
	byEntity := map[string][]int64{}
	for _, c := range rows {
		byEntity[c.Entity] = append(byEntity[c.Entity], c.RecordID)
	}
	for name, ids := range byEntity {
		v, err := s.viewFor(p, name, access.Read, "t")
		if err != nil {
			if errors.Is(err, apperr.ErrForbidden) || errors.Is(err, apperr.ErrNotFound) {
				continue
			}
			return nil, err
		}
		views[name] = v
		vis, err := v.visibleIDs(ctx, ids)
		if err != nil {
			return nil, err
		}
		visible[name] = vis
	}
	for _, c := range rows {
		page.Next = events.CursorOf(c).String()
		v := views[c.Entity]
		if v == nil || !visible[c.Entity][c.RecordID] {
			continue
		}
		red := map[string]any{}
		for k, x := range c.Changes {
			if v.r.Hidden(k) {
				continue
			}
			if f := v.e.Field(k); f != nil && f.Type == "subtable" {
				if m, ok := x.(map[string]any); ok {
					x = map[string]any{"old": v.redactRows(k, m["old"]), "new": v.redactRows(k, m["new"])}
				}
			}
			red[k] = x
		}
		c.Changes = red
		page.Items = append(page.Items, c)
	}
	return page, nil
}

// visibleIDs returns which of ids are in scope (deleted ones included).
func (v *view) visibleIDs(ctx context.Context, ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	args := make([]any, 0, len(ids)+len(v.sargs))
	for _, id := range ids {
		args = append(args, id)
	}
	q := "SELECT t.id FROM " + v.s.db.Ident(v.e.Table()) + " t WHERE t.id IN (" + placeholders(len(ids)) + ")"
	if v.scoped {
		q += " AND " + v.scope
		args = append(args, v.sargs...)
	}
	rows, err := v.s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// RunAction runs a domain action on a record p may read.
func (s *Service) RunAction(ctx context.Context, p *access.Principal, entity string, id int64, name string, input map[string]any) (Record, error) {
	s.mu.RLock()
	fn := s.actions[entity][name]
	s.mu.RUnlock()
	if fn == nil {
		return nil, apperr.NotFound()
	}
	var out Record
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		rec, err := s.Get(ctx, p, entity, id, GetOptions{})
		if err != nil {
			return err
		}
		out, err = fn(ctx, p, rec, input)
		return err
	})
	return out, err
}

// Upsert creates or updates the record known to an outside system by
// (source, external id): the same call twice leaves one record.
func (s *Service) Upsert(ctx context.Context, p *access.Principal, entity, source, extID string, input map[string]any) (Record, bool, error) {
	if source == "" || len(source) > 64 || extID == "" || len(extID) > 200 {
		return nil, false, apperr.Invalid("bad_external_id")
	}
	var out Record
	created := false
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		if _, err := s.entity(entity); err != nil {
			return err
		}
		var id int64
		err := s.db.QueryRow(ctx, `SELECT record_id FROM external_ids WHERE entity = ? AND source = ? AND external_id = ?`, entity, source, extID).Scan(&id)
		switch {
		case err == nil:
			out, err = s.Update(ctx, p, entity, id, input, 0)
			return err
		case !errors.Is(err, errNoRows):
			return err
		}
		out, err = s.Create(ctx, p, entity, input)
		if err != nil {
			return err
		}
		created = true
		_, err = s.db.Exec(ctx, `INSERT INTO external_ids (entity, source, external_id, record_id) VALUES (?, ?, ?, ?)`, entity, source, extID, out.ID())
		return err
	})
	return out, created, err
}
