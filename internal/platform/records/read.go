package records

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// view is an entity as one principal sees it: the definition, the rights,
// and the compiled scope predicate over alias t.
type view struct {
	s      *Service
	p      *access.Principal
	e      *meta.Entity
	r      *access.Rights
	alias  string
	depth  int
	scope  string
	sargs  []any
	scoped bool
}

// entity returns the definition or 404 (unknown entities do not exist).
func (s *Service) entity(name string) (*meta.Entity, error) {
	e, ok := s.reg.Get(name)
	if !ok {
		return nil, apperr.NotFound()
	}
	return e, nil
}

// viewFor checks that the principal may perform action on the entity at all
// (403 otherwise) and compiles their scope.
func (s *Service) viewFor(p *access.Principal, entity, action, alias string) (*view, error) {
	e, err := s.entity(entity)
	if err != nil {
		return nil, err
	}
	r := p.RightsOn(e.Name)
	if !r.Can(action) || (action != access.Read && !r.Can(access.Read)) {
		return nil, apperr.Forbidden("action_not_allowed", "action", action, "entity", e.Name)
	}
	v := &view{s: s, p: p, e: e, r: r, alias: alias}
	grants := r.ReadGrants
	if action == access.Update {
		grants = r.UpdateGrants
	} else if action == access.Delete {
		grants = r.DeleteGrants
	}
	if err := v.compileScope(grants); err != nil {
		return nil, err
	}
	return v, nil
}

// columns lists the stored fields of the entity in select order.
func (v *view) columns() []*meta.Field {
	var out []*meta.Field
	for i := range v.e.Fields {
		f := &v.e.Fields[i]
		if _, ok := v.s.types.ColumnOf(f); ok && f.Type != "subtable" {
			out = append(out, f)
		}
	}
	return out
}

var systemSelect = []string{"id", "version", "created_at", "updated_at", "created_by", "owner", "deleted_at"}

func (v *view) selectList() string {
	var b strings.Builder
	for i, c := range systemSelect {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(v.alias + "." + v.s.db.Ident(c))
	}
	for _, f := range v.columns() {
		b.WriteString(", " + v.alias + "." + v.s.db.Ident(f.Name))
	}
	return b.String()
}

type scanner interface{ Scan(dest ...any) error }

func (v *view) scan(row scanner) (Record, error) {
	cols := v.columns()
	n := len(systemSelect) + len(cols)
	vals := make([]any, n)
	dest := make([]any, n)
	for i := range dest {
		dest[i] = &vals[i]
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	val := func(i int) any { return vals[i] }
	rec := make(Record, n)
	for i, c := range systemSelect {
		x := val(i)
		switch c {
		case "created_at", "updated_at", "deleted_at":
			t, err := meta.TimeFromDB(x)
			if err != nil {
				return nil, err
			}
			if t != nil {
				rec[c] = t
			}
		default:
			if x == nil {
				continue
			}
			n, err := strconv.ParseInt(toString(x), 10, 64)
			if err != nil {
				return nil, err
			}
			rec[c] = n
		}
	}
	for i, f := range cols {
		x := val(len(systemSelect) + i)
		if x == nil {
			continue
		}
		cv, err := v.s.types.ResultOf(f).FromDB(v.s.db.Dialect, f, x)
		if err != nil {
			return nil, err
		}
		if cv != nil {
			rec[f.Name] = cv
		}
	}
	return rec, nil
}

func toString(x any) string {
	switch t := x.(type) {
	case []byte:
		return string(t)
	case string:
		return t
	case int64:
		return strconv.FormatInt(t, 10)
	}
	return ""
}

// GetOptions tune Get.
type GetOptions struct {
	Fields  []string
	Expand  []string
	Deleted bool // read from the recycle bin
}

// Get reads one record the principal may see: 404 when it does not exist,
// is deleted (unless Deleted) or is outside the principal's scope.
func (s *Service) Get(ctx context.Context, p *access.Principal, entity string, id int64, o GetOptions) (Record, error) {
	v, err := s.viewFor(p, entity, access.Read, "t")
	if err != nil {
		return nil, err
	}
	rec, err := v.load(ctx, id, o.Deleted)
	if err != nil {
		return nil, err
	}
	if err := v.loadChildren(ctx, []Record{rec}, o.Fields); err != nil {
		return nil, err
	}
	if err := v.expand(ctx, []Record{rec}, o.Expand); err != nil {
		return nil, err
	}
	return rec, nil
}

// load reads one row within scope.
func (v *view) load(ctx context.Context, id int64, deleted bool) (Record, error) {
	q := "SELECT " + v.selectList() + " FROM " + v.s.db.Ident(v.e.Table()) + " " + v.alias + " WHERE " + v.alias + ".id = ?"
	args := []any{id}
	if deleted {
		q += " AND " + v.alias + ".deleted_at IS NOT NULL"
	} else {
		q += " AND " + v.alias + ".deleted_at IS NULL"
	}
	if v.scoped {
		q += " AND (" + v.scope + ")"
		args = append(args, v.sargs...)
	}
	rec, err := v.scan(v.s.db.QueryRow(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFound()
	}
	return rec, err
}

// loadChildren fills sub-table fields of recs (only those in fields, when
// fields is not empty).
func (v *view) loadChildren(ctx context.Context, recs []Record, fields []string) error {
	if len(recs) == 0 {
		return nil
	}
	for i := range v.e.Fields {
		f := &v.e.Fields[i]
		if f.Type != "subtable" || v.r.Hidden(f.Name) || (len(fields) > 0 && !contains(fields, f.Name)) {
			continue
		}
		byID := map[int64]Record{}
		ids := make([]any, 0, len(recs))
		for _, r := range recs {
			byID[r.ID()] = r
			ids = append(ids, r.ID())
			r[f.Name] = []Record{}
		}
		cv := childView(v, f)
		q := "SELECT c.id, c.parent_id, " + cv.childSelect() + " FROM " + v.s.db.Ident(v.e.ChildTable(f.Name)) +
			" c WHERE c.parent_id IN (" + placeholders(len(ids)) + ") ORDER BY c.parent_id, c.position"
		rows, err := v.s.db.Query(ctx, q, ids...)
		if err != nil {
			return err
		}
		for rows.Next() {
			row, parent, err := cv.scanChild(rows)
			if err != nil {
				rows.Close()
				return err
			}
			if r := byID[parent]; r != nil {
				r[f.Name] = append(r[f.Name].([]Record), row)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// subView describes a sub-table's rows.
type subView struct {
	s      *Service
	f      *meta.Field
	hidden func(string) bool
}

func childView(v *view, f *meta.Field) *subView {
	return &subView{s: v.s, f: f, hidden: func(n string) bool { return v.r.Hidden(n) || v.r.Hidden(f.Name+"."+n) }}
}

func (c *subView) cols() []*meta.Field {
	var out []*meta.Field
	for i := range c.f.Fields {
		sf := &c.f.Fields[i]
		if _, ok := c.s.types.ColumnOf(sf); ok {
			out = append(out, sf)
		}
	}
	return out
}

func (c *subView) childSelect() string {
	cols := c.cols()
	parts := make([]string, len(cols))
	for i, f := range cols {
		parts[i] = "c." + c.s.db.Ident(f.Name)
	}
	if len(parts) == 0 {
		return "1"
	}
	return strings.Join(parts, ", ")
}

func (c *subView) scanChild(rows *sql.Rows) (Record, int64, error) {
	cols := c.cols()
	dest := make([]any, 2+max(len(cols), 1))
	for i := range dest {
		dest[i] = new(any)
	}
	if err := rows.Scan(dest...); err != nil {
		return nil, 0, err
	}
	id, _ := strconv.ParseInt(toString(*(dest[0].(*any))), 10, 64)
	parent, _ := strconv.ParseInt(toString(*(dest[1].(*any))), 10, 64)
	row := Record{"id": id}
	for i, f := range cols {
		x := *(dest[2+i].(*any))
		if x == nil {
			continue
		}
		cv, err := c.s.types.ResultOf(f).FromDB(c.s.db.Dialect, f, x)
		if err != nil {
			return nil, 0, err
		}
		if cv != nil {
			row[f.Name] = cv
		}
	}
	return row, parent, nil
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
