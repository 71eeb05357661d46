package records

import (
	"context"
	"errors"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
)

// Batch sizes of Each.
const (
	DefaultEachBatch = 1000
	MaxEachBatch     = 5000
)

// EachOptions are the options of Each: the list's own (Filter, Sort, Fields,
// Q, Expand, Deleted — Page and Count are ignored, PerPage is the batch
// size) and the right the caller needs besides read.
type EachOptions struct {
	ListOptions
	// Action is checked on the entity as well as read (access.Export for
	// exports); "" needs read only. The rows are those read gives.
	Action string
}

// Each calls fn with successive batches of the records List would return
// for o: the same rows (scope, filter, q, recycle bin), the same order, the
// same fields (sub-tables loaded when named in Fields), every page in turn.
// It stops at the end or at fn's first error, which it returns.
//
// It never pages by offset: it first reads the ids of every matching
// record in the list's order (one query, sorted once; 8 bytes a record, so
// 800 KB for 100,000) and then the records by id, a batch at a time (each
// a primary-key lookup, whatever the planner knows of the table). Memory
// is one batch and the ids, and no connection is held between batches, so
// fn may take its time (a slow download) without pinning the database.
// The set and order of the records are fixed when Each starts; their
// values are read batch by batch: a record changed meanwhile appears as it
// is when its batch is read, one that no longer matches (deleted, out of
// scope, filtered out) is left out, and one created meanwhile is not
// included.
func (s *Service) Each(ctx context.Context, p *access.Principal, entity string, o EachOptions, fn func([]Record) error) error {
	action := o.Action
	if action == "" {
		action = access.Read
	}
	v, err := s.viewFor(p, entity, action, "t")
	if err != nil {
		return err
	}
	where, args, err := v.where(o.ListOptions)
	if err != nil {
		return err
	}
	order, err := v.orderBy(o.Sort)
	if err != nil {
		return err
	}
	batch := o.PerPage
	if batch <= 0 {
		batch = DefaultEachBatch
	}
	if batch > MaxEachBatch {
		return apperr.Invalid("bad_paging", "max", MaxEachBatch)
	}
	pass := func(recs []Record) error {
		if len(o.Fields) > 0 {
			if err := v.loadChildren(ctx, recs, o.Fields); err != nil {
				return err
			}
		}
		if err := v.expand(ctx, recs, o.Expand); err != nil {
			return err
		}
		return fn(recs)
	}
	d := s.db
	from := " FROM " + d.Ident(v.e.Table()) + " t WHERE " + where
	ids, err := d.Int64s(ctx, "SELECT t.id"+from+" ORDER BY "+order, args...)
	if err != nil {
		return err
	}
	for len(ids) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := ids[:min(len(ids), batch)]
		ids = ids[len(chunk):]
		qargs := append([]any(nil), args...)
		for _, id := range chunk {
			qargs = append(qargs, id)
		}
		res := &ListResult{}
		if err := v.page(ctx, "SELECT "+v.selectList()+from+" AND t.id IN ("+placeholders(len(chunk))+")", qargs, res); err != nil {
			return err
		}
		byID := make(map[int64]Record, len(res.Items))
		for _, r := range res.Items {
			byID[r.ID()] = r
		}
		recs := make([]Record, 0, len(res.Items))
		for _, id := range chunk {
			if r, ok := byID[id]; ok { // gone or changed since the ids were read: left out
				recs = append(recs, r)
			}
		}
		if len(recs) > 0 {
			if err := pass(recs); err != nil {
				return err
			}
		}
	}
	return nil
}

// Titles returns the titles (the title field's value as text) of those of
// ids that are live records of entity p may read, by id: scope and field
// rights apply, so a record outside p's scope, a deleted one, or any record
// of an entity whose title field is hidden from p (or that p may not read
// at all) has no entry. It is how an export shows links by name.
func (s *Service) Titles(ctx context.Context, p *access.Principal, entity string, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	v, err := s.viewFor(p, entity, access.Read, "t")
	if errors.Is(err, apperr.ErrForbidden) || errors.Is(err, apperr.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	f := v.e.Field(v.e.TitleField)
	if f == nil || v.r.Hidden(f.Name) {
		return out, nil
	}
	if _, ok := s.types.ColumnOf(f); !ok || f.Type == "subtable" {
		return out, nil
	}
	typ := s.types.ResultOf(f)
	seen := make(map[int64]bool, len(ids))
	var todo []any
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			todo = append(todo, id)
		}
	}
	d := s.db
	for len(todo) > 0 {
		chunk := todo[:min(len(todo), 500)]
		todo = todo[len(chunk):]
		q := "SELECT t.id, t." + d.Ident(f.Name) + " FROM " + d.Ident(v.e.Table()) + " t WHERE t.deleted_at IS NULL AND t.id IN (" + placeholders(len(chunk)) + ")"
		args := append([]any(nil), chunk...)
		if v.scoped {
			q += " AND " + v.scope
			args = append(args, v.sargs...)
		}
		err := func() error {
			rows, err := d.Query(ctx, q, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id int64
				var raw any
				if err := rows.Scan(&id, &raw); err != nil {
					return err
				}
				if raw == nil {
					continue
				}
				x, err := typ.FromDB(d.Dialect, f, raw)
				if err != nil {
					return err
				}
				if x != nil {
					out[id] = typ.Text(f, x)
				}
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
