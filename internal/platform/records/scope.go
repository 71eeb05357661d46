package records

import (
	"strconv"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/expr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// compileScope builds the data-scope predicate of the given grants (ORed),
// plus records shared with the principal. Admins and "all" grants are
// unscoped.
func (v *view) compileScope(grants []access.Grant) error {
	if v.r.IsAll() {
		return nil
	}
	var parts []string
	var args []any
	col := func(c string) string { return v.alias + "." + v.s.db.Ident(c) }
	for _, g := range grants {
		switch g.Scope {
		case access.ScopeAll:
			return nil
		case access.ScopeOwn, "":
			parts = append(parts, col("owner")+" = ?")
			args = append(args, v.p.UserID)
		case access.ScopeDepartment, access.ScopeDepartmentTree:
			depts := []int64{v.p.DepartmentID}
			if g.Scope == access.ScopeDepartmentTree && len(v.p.DeptTree) > 0 {
				depts = v.p.DeptTree
			}
			if v.p.DepartmentID == 0 {
				parts = append(parts, col("owner")+" = ?")
				args = append(args, v.p.UserID)
				continue
			}
			parts = append(parts, col("owner")+" IN (SELECT u.id FROM r_users u WHERE u.department IN ("+placeholders(len(depts))+"))")
			for _, d := range depts {
				args = append(args, d)
			}
			if v.e.Name == "users" { // a department's users are its members
				parts = append(parts, col("department")+" IN ("+placeholders(len(depts))+")")
				for _, d := range depts {
					args = append(args, d)
				}
			}
		case access.ScopeRegions:
			regions := g.Regions
			if len(regions) == 0 {
				regions = v.p.Regions
			}
			f := v.e.Field("region")
			if f == nil || len(regions) == 0 {
				parts = append(parts, col("owner")+" = ?")
				args = append(args, v.p.UserID)
				continue
			}
			parts = append(parts, "("+col("region")+" IN ("+placeholders(len(regions))+") OR "+col("owner")+" = ?)")
			for _, r := range regions {
				args = append(args, r)
			}
			args = append(args, v.p.UserID)
		case access.ScopeFilter:
			// Every field is reachable from a role's filter; me() and
			// my_department() are still the caller's.
			env := &filterEnv{v: &view{s: v.s, p: access.System(), e: v.e, r: access.System().RightsOn(v.e.Name), alias: v.alias, depth: v.depth}, caller: v.p}
			sqlp, a, err := expr.Compile(g.Filter, env)
			if err != nil {
				// A broken role filter must not widen access: it matches nothing.
				parts = append(parts, "1=0")
				continue
			}
			parts = append(parts, "("+sqlp+")")
			args = append(args, a...)
		}
	}
	parts = append(parts, col("id")+" IN (SELECT rs.record_id FROM record_shares rs WHERE rs.entity = ? AND (rs.user_id = ? OR rs.department_id = ?))")
	args = append(args, v.e.Name, v.p.UserID, v.p.DepartmentID)
	v.scope = "(" + strings.Join(parts, " OR ") + ")"
	v.sargs = args
	v.scoped = true
	return nil
}

// filterEnv resolves names of filter expressions for one view: only fields
// the principal may read exist; links go through the target's scope.
type filterEnv struct {
	v *view
	// caller answers me() and my_department() when v is not the caller's
	// own view (a role's filter is compiled with every field visible).
	caller *access.Principal
}

func (f *filterEnv) Dialect() db.Dialect { return f.v.s.db.Dialect }

func unknownField(name string) error { return apperr.Invalid("unknown_field", "field", name) }

func kindOf(k meta.Kind) expr.ValueKind {
	switch k {
	case meta.KInt:
		return expr.KInt
	case meta.KDecimal:
		return expr.KDecimal
	case meta.KBool:
		return expr.KBool
	case meta.KDate:
		return expr.KDate
	case meta.KDateTime:
		return expr.KDateTime
	case meta.KTime:
		return expr.KTime
	case meta.KID:
		return expr.KID
	case meta.KTextList:
		return expr.KTextList
	case meta.KIDList:
		return expr.KIDList
	case meta.KJSON:
		return expr.KJSON
	}
	return expr.KText
}

func (f *filterEnv) Column(name string) (expr.Column, error) {
	v := f.v
	d := v.s.db.Dialect
	sqlc := v.alias + "." + d.Ident(name)
	switch name {
	case "id", "owner", "created_by":
		return expr.Column{SQL: sqlc, Kind: expr.KID, Param: idParam}, nil
	case "version":
		return expr.Column{SQL: sqlc, Kind: expr.KInt}, nil
	case "created_at", "updated_at":
		return expr.Column{SQL: sqlc, Kind: expr.KDateTime, Param: timeParam(d)}, nil
	}
	fd := v.e.Field(name)
	if fd == nil || v.r.Hidden(name) {
		return expr.Column{}, unknownField(name)
	}
	k := v.s.types.KindOf(fd)
	if k == meta.KNone {
		return expr.Column{}, unknownField(name)
	}
	c := expr.Column{SQL: sqlc, Kind: kindOf(k)}
	switch k {
	case meta.KDecimal:
		scale := fd.ScaleOf()
		c.Param = func(x any) (any, error) {
			dv, ok := meta.ParseDecimal(x)
			if !ok {
				if fl, isF := x.(float64); isF {
					dv, ok = meta.ParseDecimal(strconv.FormatFloat(fl, 'f', -1, 64))
				}
			}
			if !ok {
				return nil, apperr.Invalid("bad_filter", "reason", "expected a number for "+name)
			}
			if !dv.Equal(dv.Round(int32(scale))) {
				return nil, apperr.Invalid("bad_filter", "reason", "too many decimal places for "+name)
			}
			if d.Kind == db.SQLite {
				return dv.Shift(int32(scale)).Round(0).IntPart(), nil
			}
			return dv.String(), nil
		}
	case meta.KID, meta.KIDList:
		c.Param = idParam
	case meta.KDateTime:
		c.Param = timeParam(d)
	case meta.KBool:
		c.Param = func(x any) (any, error) {
			b, ok := x.(bool)
			if !ok {
				return nil, apperr.Invalid("bad_filter", "reason", "expected true or false for "+name)
			}
			return meta.BoolToDB(d, b), nil
		}
	case meta.KDate:
		c.Param = func(x any) (any, error) {
			s, ok := x.(string)
			if _, err := time.Parse(time.DateOnly, s); !ok || err != nil {
				return nil, apperr.Invalid("bad_filter", "reason", "expected a date YYYY-MM-DD for "+name)
			}
			return s, nil
		}
	}
	return c, nil
}

func idParam(x any) (any, error) {
	switch t := x.(type) {
	case int:
		return int64(t), nil
	case int64:
		return t, nil
	case float64:
		return int64(t), nil
	}
	if n, ok := meta.ParseID(x); ok {
		return n, nil
	}
	return nil, apperr.Invalid("bad_filter", "reason", "expected an id")
}

func timeParam(d db.Dialect) func(x any) (any, error) {
	return func(x any) (any, error) {
		var t time.Time
		switch v := x.(type) {
		case time.Time:
			t = v
		case string:
			var err error
			if t, err = time.Parse(time.RFC3339Nano, v); err != nil {
				day, err2 := time.ParseInLocation(time.DateOnly, v, meta.Shanghai)
				if err2 != nil {
					return nil, apperr.Invalid("bad_filter", "reason", "expected a datetime")
				}
				t = day
			}
		default:
			return nil, apperr.Invalid("bad_filter", "reason", "expected a datetime")
		}
		return meta.TimeToDB(d, t), nil
	}
}

func (f *filterEnv) Link(name string) (expr.Env, func(string) (string, []any), error) {
	v := f.v
	fd := v.e.Field(name)
	if fd == nil || v.r.Hidden(name) {
		return nil, nil, unknownField(name)
	}
	target := linkTarget(fd)
	if target == "" || fd.Type == "multi_link" {
		return nil, nil, unknownField(name)
	}
	if v.depth >= 3 {
		return nil, nil, apperr.Invalid("filter_too_complex")
	}
	alias := "l" + strconv.Itoa(v.depth+1)
	tv, err := v.s.viewFor(v.p, target, access.Read, alias)
	if err != nil {
		return nil, nil, unknownField(name)
	}
	tv.depth = v.depth + 1
	wrap := func(pred string) (string, []any) {
		q := v.alias + "." + v.s.db.Ident(name) + " IN (SELECT " + alias + ".id FROM " + v.s.db.Ident(tv.e.Table()) + " " + alias +
			" WHERE " + alias + ".deleted_at IS NULL AND (" + pred + ")"
		var args []any
		if tv.scoped {
			q += " AND " + tv.scope
			args = append(args, tv.sargs...)
		}
		return q + ")", args
	}
	return &filterEnv{v: tv, caller: f.caller}, wrap, nil
}

func (f *filterEnv) Func(name string, args []any) (any, error) {
	now := f.v.s.now()
	who := f.v.p
	if f.caller != nil {
		who = f.caller
	}
	switch name {
	case "me":
		return who.UserID, nil
	case "my_department":
		return who.DepartmentID, nil
	case "today":
		return now.In(meta.Shanghai).Format(time.DateOnly), nil
	case "now":
		return now, nil
	case "days_ago", "days_ahead":
		if len(args) != 1 {
			return nil, apperr.Invalid("bad_filter", "reason", name+" takes one number")
		}
		n, ok := args[0].(int)
		if !ok {
			return nil, apperr.Invalid("bad_filter", "reason", name+" takes one number")
		}
		if name == "days_ago" {
			n = -n
		}
		return now.In(meta.Shanghai).AddDate(0, 0, n).Format(time.DateOnly), nil
	}
	return nil, apperr.Invalid("bad_filter", "reason", "unknown function "+name)
}

// linkTarget is the entity a link-like field points to.
func linkTarget(f *meta.Field) string {
	if f.Type == "multi_link" {
		return f.Target
	}
	return f.LinkTarget()
}
