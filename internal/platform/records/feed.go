package records

import (
	"context"
	"errors"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/audit"
	"github.com/tenon-crm/tenon/internal/platform/db"
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
// (source, external id): the same call twice leaves one record, also when
// the calls race. The key is claimed before the record is created: a row of
// external_ids is inserted first (ON CONFLICT DO NOTHING), so a concurrent
// upsert of the same key waits on the unique key until the first commits
// (PostgreSQL) or runs after it on the single writer (SQLite), then finds
// the row and updates the record the first one created. An existing key is
// read with its row locked (PostgreSQL), so concurrent updates of one key
// queue.
//
// A record moved to the recycle bin is restored and then updated (as p, who
// needs the right to restore it: delete, within scope; without it the
// upsert is refused with 409 upsert_record_deleted): the external id keeps
// naming the one record, with its links and history. A record that no
// longer exists at all (its row was purged) is created anew and the key
// points to the new record.
//
// Inside a caller's transaction the upsert runs in a savepoint, so a
// refused upsert leaves nothing behind (no claimed key) and the caller's
// transaction stays usable. created reports whether a record was created.
func (s *Service) Upsert(ctx context.Context, p *access.Principal, entity, source, extID string, input map[string]any) (Record, bool, error) {
	if source == "" || len(source) > 64 || extID == "" || len(extID) > 200 {
		return nil, false, apperr.Invalid("bad_external_id")
	}
	e, err := s.entity(entity)
	if err != nil {
		return nil, false, err
	}
	var out Record
	created := false
	work := func(ctx context.Context) error {
		out, created = nil, false
		id, found, err := s.externalKey(ctx, entity, source, extID, true)
		if err != nil {
			return err
		}
		if !found {
			res, err := s.db.Exec(ctx, `INSERT INTO external_ids (entity, source, external_id, record_id) VALUES (?, ?, ?, 0)
				ON CONFLICT (entity, source, external_id) DO NOTHING`, entity, source, extID)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				out, err = s.upsertCreate(ctx, p, entity, source, extID, input)
				created = err == nil
				return err
			}
			// Another transaction committed the key since it was read.
			if id, found, err = s.externalKey(ctx, entity, source, extID, true); err != nil {
				return err
			}
		}
		if !found || id == 0 {
			return errVersionRace
		}
		out, err = s.Update(ctx, p, entity, id, input, 0)
		if err == nil || !errors.Is(err, apperr.ErrNotFound) {
			return err
		}
		// Not found: outside p's scope, in the recycle bin, or gone.
		var deleted bool
		err = s.db.QueryRow(ctx, "SELECT deleted_at IS NOT NULL FROM "+s.db.Ident(e.Table())+" WHERE id = ?", id).Scan(&deleted)
		switch {
		case errors.Is(err, errNoRows):
			out, err = s.upsertCreate(ctx, p, entity, source, extID, input)
			created = err == nil
			return err
		case err != nil:
			return err
		case !deleted:
			return apperr.NotFound()
		}
		if _, err := s.Restore(ctx, p, entity, id); err != nil {
			if errors.Is(err, apperr.ErrForbidden) {
				return apperr.Conflict("upsert_record_deleted", "id", strconv.FormatInt(id, 10))
			}
			return err
		}
		out, err = s.Update(ctx, p, entity, id, input, 0)
		return err
	}
	if db.InTx(ctx) {
		err = s.db.Savepoint(ctx, work)
	} else {
		err = s.db.WithTx(ctx, work)
	}
	if err != nil {
		return nil, false, err
	}
	return out, created, nil
}

// upsertCreate creates the record of a claimed key and points the key to it.
func (s *Service) upsertCreate(ctx context.Context, p *access.Principal, entity, source, extID string, input map[string]any) (Record, error) {
	rec, err := s.Create(ctx, p, entity, input)
	if err != nil {
		return nil, err
	}
	_, err = s.db.Exec(ctx, `UPDATE external_ids SET record_id = ? WHERE entity = ? AND source = ? AND external_id = ?`,
		rec.ID(), entity, source, extID)
	return rec, err
}

// externalKey reads the record id of a key (locking the key's row on
// PostgreSQL when lock is set).
func (s *Service) externalKey(ctx context.Context, entity, source, extID string, lock bool) (int64, bool, error) {
	q := `SELECT record_id FROM external_ids WHERE entity = ? AND source = ? AND external_id = ?`
	if lock && s.db.Kind == db.Postgres {
		q += ` FOR UPDATE`
	}
	var id int64
	err := s.db.QueryRow(ctx, q, entity, source, extID).Scan(&id)
	if errors.Is(err, errNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}

// ExternalID returns the id of the record an outside system knows by
// (source, external id), if the key exists (the record itself may have
// been deleted since; readers check it through the service as usual).
func (s *Service) ExternalID(ctx context.Context, entity, source, extID string) (int64, bool, error) {
	id, found, err := s.externalKey(ctx, entity, source, extID, false)
	if err != nil || !found || id == 0 {
		return 0, false, err
	}
	return id, true, nil
}
