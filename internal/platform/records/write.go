package records

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/audit"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/events"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// Create validates and stores a new record. Everything that needs no
// database (normalisation, defaults, formulas, required checks) is done
// before the transaction, on the caller's goroutine, unless a module hook
// may change the record first; the transaction then holds only the work that
// must be atomic.
func (s *Service) Create(ctx context.Context, p *access.Principal, entity string, input map[string]any) (Record, error) {
	v, err := s.viewFor(p, entity, access.Create, "t")
	if err != nil {
		return nil, err
	}
	prepared, err := v.newRecord(input)
	if err != nil {
		return nil, err
	}
	hooked := s.hasBefore(entity)
	if !hooked {
		if err := v.settle(prepared); err != nil {
			return nil, err
		}
	}
	var out Record
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		// The function may run more than once (group commit, retries):
		// each attempt starts from its own copy.
		rec := prepared.clone()
		c := &Change{P: p, Entity: v.e, Op: OpCreate, New: rec}
		if hooked {
			if err := s.runBefore(ctx, c); err != nil {
				return err
			}
			if err := v.settle(rec); err != nil {
				return err
			}
		}
		if err := v.checkDB(ctx, rec, nil); err != nil {
			return err
		}
		if err := v.number(ctx, rec, rec["created_at"].(time.Time)); err != nil {
			return err
		}
		w := s.batchFor(ctx, v)
		var id int64
		var err error
		if w != nil {
			id, err = w.insert(ctx, v, rec)
		} else {
			id, err = v.insert(ctx, rec)
		}
		if err != nil {
			return err
		}
		rec["id"] = id
		if err := v.writeChildren(ctx, rec, nil); err != nil {
			return err
		}
		if err := v.index(ctx, rec, true, nil); err != nil {
			return err
		}
		c.Changed = changedFields(v.e, nil, rec)
		if err := s.settleChange(ctx, v, c, id, access.Create, "created", w); err != nil {
			return err
		}
		out = rec
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// newRecord builds a new record from input: normalised values, defaults,
// owner, creator and timestamps.
func (v *view) newRecord(input map[string]any) (Record, error) {
	s, p := v.s, v.p
	vals, errs, err := v.normalize(input, nil)
	if err != nil {
		return nil, err
	}
	rec := make(Record, len(vals)+8)
	for i := range v.e.Fields {
		f := &v.e.Fields[i]
		if x, ok := vals[f.Name]; ok {
			rec[f.Name] = x
			continue
		}
		if dv, ok := f.DefaultValue(); ok && !f.IsComputed() {
			if nv, err := s.types[f.Type].Normalize(f, dv); err == nil && nv != nil {
				rec[f.Name] = nv
			}
		}
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	if p.UserID != 0 {
		rec["owner"] = p.UserID
		rec["created_by"] = p.UserID
	}
	if o, ok := vals["owner"]; ok {
		rec["owner"] = o
	}
	rec["created_at"], rec["updated_at"], rec["version"] = now, now, int64(1)
	if len(errs) > 0 {
		return nil, v.withSettleErrors(rec, errs)
	}
	return rec, nil
}

// clone copies a record deeply enough for a write attempt to change it:
// the map and the rows of its sub-tables.
func (r Record) clone() Record {
	out := make(Record, len(r))
	for k, x := range r {
		if rows, ok := x.([]Record); ok {
			cp := make([]Record, len(rows))
			for i, row := range rows {
				cp[i] = make(Record, len(row))
				for rk, rx := range row {
					cp[i][rk] = rx
				}
			}
			x = cp
		}
		out[k] = x
	}
	return out
}

// hasBefore reports whether any before-hook applies to the entity.
func (s *Service) hasBefore(entity string) bool {
	for _, h := range s.hooksFor(entity) {
		if h.Before != nil {
			return true
		}
	}
	return false
}

// Update applies a partial change. ifVersion, when not 0, must equal the
// stored version (If-Match), or nothing changes and 412 is returned.
func (s *Service) Update(ctx context.Context, p *access.Principal, entity string, id int64, input map[string]any, ifVersion int64) (Record, error) {
	var out Record
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		v, err := s.viewFor(p, entity, access.Update, "t")
		if err != nil {
			return err
		}
		old, err := v.loadForUpdate(ctx, id, false)
		if err != nil {
			return err
		}
		if ifVersion != 0 && old.Version() != ifVersion {
			return apperr.New(apperr.ErrPrecondition, "version_mismatch", "current", old.Version())
		}
		if err := v.loadChildren(ctx, []Record{old}, nil); err != nil {
			return err
		}
		vals, errs, err := v.normalize(input, old)
		if err != nil {
			return err
		}
		rec := Record{}
		for k, x := range old {
			rec[k] = x
		}
		for k, x := range vals {
			if x == nil {
				delete(rec, k)
			} else {
				rec[k] = x
			}
		}
		if len(errs) > 0 {
			return v.withSettleErrors(rec, errs)
		}
		c := &Change{P: p, Entity: v.e, Op: OpUpdate, Old: old, New: rec}
		if err := s.runBefore(ctx, c); err != nil {
			return err
		}
		if err := v.finish(ctx, rec, old); err != nil {
			return err
		}
		c.Changed = changedFields(v.e, old, rec)
		if len(c.Changed) == 0 {
			out = old
			return nil
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		rec["version"], rec["updated_at"] = old.Version()+1, now
		if err := v.update(ctx, rec, old, c.Changed); err != nil {
			return err
		}
		if err := v.writeChildren(ctx, rec, old); err != nil {
			return err
		}
		if err := v.index(ctx, rec, false, c.Changed); err != nil {
			return err
		}
		if err := s.settleChange(ctx, v, c, id, access.Update, "updated", nil); err != nil {
			return err
		}
		out = rec
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete moves a record to the recycle bin.
func (s *Service) Delete(ctx context.Context, p *access.Principal, entity string, id int64, ifVersion int64) error {
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		v, err := s.viewFor(p, entity, access.Delete, "t")
		if err != nil {
			return err
		}
		old, err := v.loadForUpdate(ctx, id, false)
		if err != nil {
			return err
		}
		if ifVersion != 0 && old.Version() != ifVersion {
			return apperr.New(apperr.ErrPrecondition, "version_mismatch", "current", old.Version())
		}
		c := &Change{P: p, Entity: v.e, Op: OpDelete, Old: old}
		if err := s.runBefore(ctx, c); err != nil {
			return err
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		if _, err := s.db.Exec(ctx, "UPDATE "+s.db.Ident(v.e.Table())+" SET deleted_at = ?, deleted_by = ?, version = version + 1, updated_at = ? WHERE id = ?",
			meta.TimeToDB(s.db.Dialect, now), nullID(p.UserID), meta.TimeToDB(s.db.Dialect, now), id); err != nil {
			return err
		}
		c.New = Record{"version": old.Version() + 1}
		if err := s.record(ctx, v, c, "deleted", nil); err != nil {
			return err
		}
		return s.runAfter(ctx, c)
	})
}

// Restore brings a record back from the recycle bin.
func (s *Service) Restore(ctx context.Context, p *access.Principal, entity string, id int64) (Record, error) {
	var out Record
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		v, err := s.viewFor(p, entity, access.Delete, "t")
		if err != nil {
			return err
		}
		old, err := v.loadForUpdate(ctx, id, true)
		if err != nil {
			return err
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		if _, err := s.db.Exec(ctx, "UPDATE "+s.db.Ident(v.e.Table())+" SET deleted_at = NULL, deleted_by = NULL, version = version + 1, updated_at = ? WHERE id = ?",
			meta.TimeToDB(s.db.Dialect, now), id); err != nil {
			return v.uniqueConflict(err)
		}
		rec := Record{}
		for k, x := range old {
			rec[k] = x
		}
		delete(rec, "deleted_at")
		rec["version"], rec["updated_at"] = old.Version()+1, now
		c := &Change{P: p, Entity: v.e, Op: OpRestore, Old: old, New: rec}
		if err := s.record(ctx, v, c, "restored", nil); err != nil {
			return err
		}
		if err := s.runAfter(ctx, c); err != nil {
			return err
		}
		out = rec
		return nil
	})
	return out, err
}

// settleChange ends a create or update inside its transaction: the record
// must still be in the principal's scope, then the audit row, the outbox
// event and the after hooks. With a batch's writes w (a create put off),
// the scope is checked when the row is written.
func (s *Service) settleChange(ctx context.Context, v *view, c *Change, id int64, action, event string, w *writes) error {
	if w == nil {
		if err := v.checkScopeAfter(ctx, id, action); err != nil {
			return err
		}
	}
	if err := s.record(ctx, v, c, event, w); err != nil {
		return err
	}
	return s.runAfter(ctx, c)
}

func (s *Service) runBefore(ctx context.Context, c *Change) error {
	for _, h := range s.hooksFor(c.Entity.Name) {
		if h.Before != nil {
			if err := h.Before(ctx, c); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Service) runAfter(ctx context.Context, c *Change) error {
	for _, h := range s.hooksFor(c.Entity.Name) {
		if h.After != nil {
			if err := h.After(ctx, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadForUpdate reads the row within the action's scope, locking it on
// PostgreSQL so that concurrent writers queue.
func (v *view) loadForUpdate(ctx context.Context, id int64, deleted bool) (Record, error) {
	q := "SELECT " + v.selectList() + " FROM " + v.s.db.Ident(v.e.Table()) + " t WHERE t.id = ?"
	args := []any{id}
	if deleted {
		q += " AND t.deleted_at IS NOT NULL"
	} else {
		q += " AND t.deleted_at IS NULL"
	}
	if v.scoped {
		q += " AND " + v.scope
		args = append(args, v.sargs...)
	}
	if v.s.db.Kind == db.Postgres {
		q += " FOR UPDATE OF t"
	}
	rec, err := v.scan(v.s.db.QueryRow(ctx, q, args...))
	if err != nil {
		if errors.Is(err, errNoRows) {
			// Outside the update scope but readable is still 404: the
			// record's existence is only revealed through read.
			return nil, apperr.NotFound()
		}
		return nil, err
	}
	return rec, nil
}

// checkScopeAfter refuses a write that moves the record out of the
// principal's scope for that action (for example a rep reassigning an
// account to another region).
func (v *view) checkScopeAfter(ctx context.Context, id int64, action string) error {
	if !v.scoped {
		return nil
	}
	var n int
	q := "SELECT COUNT(*) FROM " + v.s.db.Ident(v.e.Table()) + " t WHERE t.id = ? AND " + v.scope
	if err := v.s.db.QueryRow(ctx, q, append([]any{id}, v.sargs...)...).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		if action == access.Create {
			return apperr.Forbidden("outside_scope")
		}
		return apperr.Forbidden("outside_scope")
	}
	return nil
}

// finish computes formulas and roll-ups, then validates required fields,
// links and uniqueness of the complete new record.
func (v *view) finish(ctx context.Context, rec, old Record) error {
	if err := v.settle(rec); err != nil {
		return err
	}
	return v.checkDB(ctx, rec, old)
}

// settle computes formulas and roll-ups and checks required values: the
// part of validation that needs no database.
func (v *view) settle(rec Record) error {
	if errs := v.settleErrors(rec, nil); len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	return nil
}

// withSettleErrors adds to errs, found while normalising the input, what
// settling the rest of the record finds (required fields, sub-table rows),
// so that one 422 lists every problem. Fields already in errs are skipped.
func (v *view) withSettleErrors(rec Record, errs []apperr.FieldError) error {
	bad := make(map[string]bool, len(errs))
	for _, e := range errs {
		bad[e.Field] = true
		if i := strings.IndexAny(e.Field, "[."); i > 0 { // a sub-table cell: its table
			bad[e.Field[:i]] = true
		}
	}
	return apperr.Fields(append(errs, v.settleErrors(rec, bad)...)...)
}

// settleErrors computes formulas and roll-ups and checks required fields
// and sub-table rows, skipping the fields in skip.
func (v *view) settleErrors(rec Record, skip map[string]bool) []apperr.FieldError {
	var errs []apperr.FieldError
	vars := v.compute(rec)
	varsOf := func() map[string]any {
		if vars == nil {
			vars = exprVars(v, rec)
		}
		return vars
	}
	for i := range v.e.Fields {
		f := &v.e.Fields[i]
		x, has := rec[f.Name]
		empty := !has || x == nil || isEmptyList(x)
		req := f.Required
		if !req && f.RequiredIfProg != nil {
			if ok, err := f.RequiredIfProg.RunBool(varsOf()); err == nil && ok {
				req = true
			}
		}
		if f.VisibleIfProg != nil && req && f.Required {
			if vis, err := f.VisibleIfProg.RunBool(varsOf()); err == nil && !vis {
				req = false // a hidden field cannot be required
			}
		}
		if skip[f.Name] {
			continue
		}
		if req && empty && !f.IsComputed() && f.Type != "autonumber" {
			errs = append(errs, apperr.Field(f.Name, "required"))
		}
		if f.Type == "subtable" && has {
			errs = append(errs, v.checkRows(f, x.([]Record))...)
		}
	}
	return errs
}

// checkDB validates links against the database (uniqueness is left to the
// unique indexes: see uniqueConflict).
func (v *view) checkDB(ctx context.Context, rec, old Record) error {
	return v.checkLinks(ctx, rec, old)
}

func isEmptyList(x any) bool {
	switch t := x.(type) {
	case []string:
		return len(t) == 0
	case []int64:
		return len(t) == 0
	case []Record:
		return len(t) == 0
	case string:
		return t == ""
	}
	return false
}

func (v *view) checkRows(f *meta.Field, rows []Record) []apperr.FieldError {
	var errs []apperr.FieldError
	for i, row := range rows {
		for j := range f.Fields {
			sf := &f.Fields[j]
			x, ok := row[sf.Name]
			if sf.Required && (!ok || x == nil) && !sf.IsComputed() {
				errs = append(errs, apperr.Field(fmt.Sprintf("%s[%d].%s", f.Name, i, sf.Name), "required"))
			}
		}
	}
	return errs
}

// compute evaluates formulas (row formulas first, in field order) and
// roll-ups. A formula that fails (a division by zero, a missing value)
// stores nothing rather than refusing the write. It returns the record as
// expressions see it once computed (see exprVars) when it built that to
// evaluate formulas, nil otherwise.
func (v *view) compute(rec Record) map[string]any {
	types := v.s.types
	for i := range v.e.Fields {
		f := &v.e.Fields[i]
		if f.Type != "subtable" {
			continue
		}
		rows, _ := rec[f.Name].([]Record)
		for _, row := range rows {
			for j := range f.Fields {
				sf := &f.Fields[j]
				if sf.Type != "formula" || sf.Formula == nil {
					continue
				}
				rv := map[string]any{}
				for k, x := range row {
					rv[k] = x
				}
				res, err := sf.Formula.Run(rv)
				delete(row, sf.Name)
				if err == nil && res != nil {
					if nv, err := types[sf.Type].Normalize(sf, exprOut(res)); err == nil && nv != nil {
						row[sf.Name] = nv
					}
				}
			}
		}
	}
	for i := range v.e.Fields {
		f := &v.e.Fields[i]
		if f.Type == "rollup" {
			delete(rec, f.Name)
			if r := rollup(f, v.e.Field(f.Source), rec); r != nil {
				rec[f.Name] = *r
			}
		}
	}
	// Each formula sees the record with the formulas before it computed.
	var vars map[string]any
	for i := range v.e.Fields {
		f := &v.e.Fields[i]
		if f.Type != "formula" || f.Formula == nil {
			continue
		}
		if vars == nil {
			vars = exprVars(v, rec)
		}
		res, err := f.Formula.Run(vars)
		delete(rec, f.Name)
		vars[f.Name] = nil
		if err == nil && res != nil {
			if nv, err := types[f.Type].Normalize(f, exprOut(res)); err == nil && nv != nil {
				rec[f.Name], vars[f.Name] = nv, nv
			}
		}
	}
	return vars
}

// exprOut converts an expression result to input form for normalisation.
func exprOut(x any) any {
	switch t := x.(type) {
	case decimal.Decimal:
		return t.String()
	case int:
		return fmt.Sprint(t)
	case int64:
		return fmt.Sprint(t)
	case float64:
		return decimal.NewFromFloat(t).String()
	case time.Time:
		return t.Format(time.RFC3339Nano)
	}
	return x
}

func rollup(f, src *meta.Field, rec Record) *decimal.Decimal {
	rows, _ := rec[src.Name].([]Record)
	if f.Op == "count" {
		d := decimal.NewFromInt(int64(len(rows)))
		return &d
	}
	var acc *decimal.Decimal
	n := 0
	for _, row := range rows {
		var d decimal.Decimal
		switch x := row[f.Of].(type) {
		case decimal.Decimal:
			d = x
		case int64:
			d = decimal.NewFromInt(x)
		default:
			continue
		}
		n++
		if acc == nil {
			c := d
			acc = &c
			continue
		}
		switch f.Op {
		case "sum", "avg":
			*acc = acc.Add(d)
		case "min":
			if d.LessThan(*acc) {
				*acc = d
			}
		case "max":
			if d.GreaterThan(*acc) {
				*acc = d
			}
		}
	}
	if acc == nil {
		if f.Op == "sum" {
			z := decimal.Zero
			return &z
		}
		return nil
	}
	if f.Op == "avg" {
		r := acc.DivRound(decimal.NewFromInt(int64(n)), int32(f.ScaleOf()))
		return &r
	}
	r := acc.Round(int32(f.ScaleOf()))
	return &r
}

// exprVars is the record as an expression sees it.
func exprVars(v *view, rec Record) map[string]any {
	vars := make(map[string]any, len(v.e.Fields)+len(rec)+1)
	for i := range v.e.Fields {
		vars[v.e.Fields[i].Name] = nil
	}
	for k, x := range rec {
		if rows, ok := x.([]Record); ok {
			list := make([]any, len(rows))
			for i, r := range rows {
				list[i] = map[string]any(r)
			}
			vars[k] = list
			continue
		}
		vars[k] = x
	}
	vars["user"] = map[string]any{"id": v.p.UserID, "login": v.p.Login, "department": v.p.DepartmentID, "regions": v.p.Regions, "roles": v.p.Roles}
	return vars
}

// checkLinks refuses links to records that do not exist or that the
// principal cannot see, and select values drawn from another entity that
// do not exist there.
// rowLinksVisible checks each link column of a sub-table's rows with one
// query for all its rows (a 200-line quote links 200 products): the
// columns whose linked records are all visible need no check row by row;
// the others are checked row by row, to name the failing rows.
func (v *view) rowLinksVisible(ctx context.Context, f *meta.Field, rows []Record) (map[string]bool, error) {
	verified := map[string]bool{}
	if len(rows) < 2 {
		return verified, nil
	}
	for j := range f.Fields {
		sf := &f.Fields[j]
		target := linkTarget(sf)
		if target == "" || sf.OptionsFrom != "" {
			continue
		}
		var ids []int64
		seen := map[int64]bool{}
		for _, row := range rows {
			for _, id := range linkedIDs(row[sf.Name]) {
				if !seen[id] {
					seen[id] = true
					ids = append(ids, id)
				}
			}
		}
		if len(ids) == 0 {
			continue
		}
		ok, err := v.s.visible(ctx, v.p, target, ids)
		if err != nil {
			return nil, err
		}
		verified[sf.Name] = ok
	}
	return verified, nil
}

func (v *view) checkLinks(ctx context.Context, rec, old Record) error {
	var errs []apperr.FieldError
	check := func(path string, f *meta.Field, x any) error {
		if old != nil && equalValues(old[f.Name], x) && !strings.Contains(path, "[") {
			return nil
		}
		if f.OptionsFrom != "" {
			vals := textValues(x)
			if len(vals) == 0 {
				return nil
			}
			ok, err := v.s.codesExist(ctx, f.OptionsFrom, vals)
			if err != nil {
				return err
			}
			if !ok {
				errs = append(errs, apperr.Field(path, "invalid_option"))
			}
			return nil
		}
		target := linkTarget(f)
		ids := linkedIDs(x)
		if target == "" || len(ids) == 0 {
			return nil
		}
		ok, err := v.s.visible(ctx, v.p, target, ids)
		if err != nil {
			return err
		}
		if !ok {
			errs = append(errs, apperr.Field(path, "link_not_found"))
		}
		return nil
	}
	for i := range v.e.Fields {
		f := &v.e.Fields[i]
		x, ok := rec[f.Name]
		if !ok || x == nil {
			continue
		}
		if f.Type == "subtable" {
			rows := x.([]Record)
			verified, err := v.rowLinksVisible(ctx, f, rows)
			if err != nil {
				return err
			}
			for ri, row := range rows {
				for j := range f.Fields {
					sf := &f.Fields[j]
					if verified[sf.Name] {
						continue
					}
					if y, ok := row[sf.Name]; ok && y != nil {
						if err := check(fmt.Sprintf("%s[%d].%s", f.Name, ri, sf.Name), sf, y); err != nil {
							return err
						}
					}
				}
			}
			continue
		}
		if err := check(f.Name, f, x); err != nil {
			return err
		}
	}
	// The acting user was found active when the request was authenticated.
	if o, ok := rec["owner"].(int64); ok && o != v.p.UserID && (old == nil || old["owner"] != rec["owner"]) {
		if ok, err := v.s.activeUser(ctx, o); err != nil {
			return err
		} else if !ok {
			errs = append(errs, apperr.Field("owner", "link_not_found"))
		}
	}
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	return nil
}

func textValues(x any) []string {
	switch t := x.(type) {
	case string:
		return []string{t}
	case []string:
		return t
	}
	return nil
}

// visible reports whether every id exists in target within p's scope.
func (s *Service) visible(ctx context.Context, p *access.Principal, target string, ids []int64) (bool, error) {
	if idsKnown(ctx, p, target, ids) {
		return true, nil
	}
	tv, err := s.viewFor(p, target, access.Read, "t")
	if err != nil {
		if errors.Is(err, apperr.ErrForbidden) {
			return false, nil
		}
		return false, err
	}
	args := make([]any, 0, len(ids)+len(tv.sargs))
	for _, id := range ids {
		args = append(args, id)
	}
	q := "SELECT COUNT(*) FROM " + s.db.Ident(tv.e.Table()) + " t WHERE t.deleted_at IS NULL AND t.id IN (" + placeholders(len(ids)) + ")"
	if tv.scoped {
		q += " AND " + tv.scope
		args = append(args, tv.sargs...)
	}
	var n int
	if err := s.db.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		return false, err
	}
	if n != len(ids) {
		return false, nil
	}
	rememberIDs(ctx, p, target, ids)
	return true, nil
}

func (s *Service) codesExist(ctx context.Context, entity string, codes []string) (bool, error) {
	e, err := s.entity(entity)
	if err != nil || e.Field("code") == nil {
		return false, err
	}
	if codesKnown(ctx, entity, codes) {
		return true, nil
	}
	args := make([]any, len(codes))
	for i, c := range codes {
		args[i] = c
	}
	var n int
	if err := s.db.QueryRow(ctx, "SELECT COUNT(DISTINCT code) FROM "+s.db.Ident(e.Table())+" WHERE deleted_at IS NULL AND code IN ("+placeholders(len(codes))+")", args...).Scan(&n); err != nil {
		return false, err
	}
	if n != len(codes) {
		return false, nil
	}
	rememberCodes(ctx, entity, codes)
	return true, nil
}

func (s *Service) activeUser(ctx context.Context, id int64) (bool, error) {
	var n int
	err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM r_users WHERE id = ? AND deleted_at IS NULL", id).Scan(&n)
	return n == 1, err
}

// uniqueConflict turns a unique-index violation into a 409 that names the
// field when the index is a single field's. The index is the only check, so
// a taken value costs no query on the way in.
func (v *view) uniqueConflict(err error) error {
	on := db.UniqueViolationOn(err)
	if on == "" {
		return err
	}
	table := v.e.Table()
	for i := range v.e.Fields {
		f := &v.e.Fields[i]
		if f.Unique && (on == meta.IndexName(table, []string{f.Name}, true) || on == table+"."+f.Name) {
			return &apperr.Error{Kind: apperr.ErrConflict, Code: "unique_violation", Args: map[string]any{"field": f.Name},
				Fields: []apperr.FieldError{apperr.Field(f.Name, "taken")}}
		}
	}
	return apperr.Conflict("unique_violation")
}

// number fills the autonumber field from the entity's numbering rule. The
// counter row is incremented inside the writing transaction, so numbers are
// unique under any concurrency (the row lock on PostgreSQL, the single
// writer on SQLite) and a rolled-back create gives its number back.
func (v *view) number(ctx context.Context, rec Record, now time.Time) error {
	n := v.e.Numbering
	if n == nil {
		return nil
	}
	if x, ok := rec[n.Field]; ok && x != nil {
		return nil
	}
	local := now.In(meta.Shanghai)
	period := ""
	switch n.Reset {
	case "yearly":
		period = local.Format("2006")
	case "monthly":
		period = local.Format("200601")
	case "daily":
		period = local.Format("20060102")
	}
	key := v.e.Name + "." + n.Field + "." + period
	var seq int64
	if err := v.s.db.QueryRow(ctx, `INSERT INTO sequences (key, value) VALUES (?, 1)
		ON CONFLICT (key) DO UPDATE SET value = sequences.value + 1 RETURNING value`, key).Scan(&seq); err != nil {
		return err
	}
	rec[n.Field] = FormatNumber(n.Pattern, local, seq)
	return nil
}

// FormatNumber renders a numbering pattern such as "QT-{YYYY}{MM}-{seq:4}".
func FormatNumber(pattern string, t time.Time, seq int64) string {
	r := strings.NewReplacer("{YYYY}", t.Format("2006"), "{YY}", t.Format("06"), "{MM}", t.Format("01"), "{DD}", t.Format("02"))
	out := r.Replace(pattern)
	for {
		i := strings.Index(out, "{seq:")
		if i < 0 {
			break
		}
		j := strings.IndexByte(out[i:], '}')
		if j < 0 {
			break
		}
		var width int
		fmt.Sscanf(out[i+5:i+j], "%d", &width)
		out = out[:i] + fmt.Sprintf("%0*d", width, seq) + out[i+j+1:]
	}
	return out
}

// changedFields lists fields whose canonical value differs.
func changedFields(e *meta.Entity, old, rec Record) []string {
	var out []string
	names := []string{"owner"}
	for i := range e.Fields {
		names = append(names, e.Fields[i].Name)
	}
	for _, n := range names {
		var a any
		if old != nil {
			a = old[n]
		}
		b := rec[n]
		if old == nil && b == nil {
			continue
		}
		if ra, ok := a.([]Record); ok {
			if rb, ok := b.([]Record); ok && rowsEqual(ra, rb) {
				continue
			}
			out = append(out, n)
			continue
		}
		if !equalValues(a, b) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func rowsEqual(a, b []Record) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		for k, x := range a[i] {
			if !equalValues(x, b[i][k]) {
				return false
			}
		}
		for k := range b[i] {
			if _, ok := a[i][k]; !ok {
				return false
			}
		}
	}
	return true
}

// record writes the audit entry and the outbox event of a change, or puts
// them off with the batch's writes w (see batch.go) when w is not nil.
func (s *Service) record(ctx context.Context, v *view, c *Change, event string, w *writes) error {
	forgetChecks(ctx, v.e.Name)
	pv := &view{s: s, p: access.System(), e: v.e, r: access.System().RightsOn(v.e.Name)}
	changes := map[string]audit.Change{}
	names := c.Changed
	if c.Op == OpDelete || c.Op == OpRestore {
		names = nil
	}
	var oldPub, newPub Record
	if len(names) > 0 { // only the changed fields are needed
		if c.Old != nil {
			oldPub = pv.public(c.Old, names)
		}
		if c.New != nil && c.Op != OpDelete {
			newPub = pv.public(c.New, names)
		}
	}
	for _, n := range names {
		var o, nw any
		if oldPub != nil {
			o = oldPub[n]
		}
		if newPub != nil {
			nw = newPub[n]
		}
		changes[n] = audit.Change{Old: o, New: nw}
	}
	id := c.New.ID()
	if id == 0 && c.Old != nil {
		id = c.Old.ID()
	}
	version := c.New.Version()
	at := s.now().UTC()
	raw, err := audit.MarshalChanges(changes) // once, for the audit row and the outbox
	if err != nil {
		return err
	}
	var entry *audit.Entry
	if !v.e.NoAudit {
		entry = &audit.Entry{Entity: v.e.Name, RecordID: id, Action: string(c.Op), Version: version,
			Actor: c.P.UserID, TokenID: c.P.TokenID, Source: sourceOf(c.P), At: at}
	}
	var ev *events.Change
	if s.outbox != nil {
		evc := make(map[string]any, len(changes))
		for k, ch := range changes {
			evc[k] = ch
		}
		ev = &events.Change{Entity: v.e.Name, RecordID: id, Event: event, Version: version, Actor: c.P.UserID, At: at, Changes: evc}
	}
	if w != nil {
		w.change(ctx, entry, ev, raw)
		return nil
	}
	var auditSQL string
	var auditArgs []any
	if entry != nil {
		auditSQL, auditArgs = audit.Insert(s.db, *entry, raw)
	}
	if ev == nil {
		if auditSQL == "" {
			return nil
		}
		_, err := s.db.Exec(ctx, auditSQL, auditArgs...)
		return err
	}
	// The audit row and the event go to the database together.
	return s.outbox.AppendRawWith(ctx, *ev, raw, auditSQL, auditArgs)
}

func sourceOf(p *access.Principal) string {
	if p.Source == "" {
		return access.SourceAPI
	}
	return p.Source
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

type timeT = time.Time

// errVersionRace means the row changed between read and write; it cannot
// happen while the row is locked (PostgreSQL) or the writer is single
// (SQLite), so it surfaces as a 409 rather than silently losing a write.
var errVersionRace = apperr.Conflict("concurrent_update")
