package records

import (
	"context"
	"strconv"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// expandKey is where linked records are embedded: rec["expand"][field].
const expandKey = "expand"

// expand embeds the records linked by the named fields, each read through
// the target entity's own scope and field rights: a linked record the
// principal may not see is simply not embedded.
func (v *view) expand(ctx context.Context, recs []Record, names []string) error {
	if len(names) == 0 || len(recs) == 0 {
		return nil
	}
	if len(names) > 10 {
		return apperr.Invalid("bad_expand", "reason", "at most 10 fields")
	}
	for _, name := range names {
		target, err := v.linkField(name)
		if err != nil {
			return err
		}
		var ids []any
		seen := map[int64]bool{}
		for _, r := range recs {
			for _, id := range linkedIDs(r[name]) {
				if !seen[id] {
					seen[id] = true
					ids = append(ids, id)
				}
			}
		}
		if len(ids) == 0 {
			continue
		}
		tv, err := v.s.viewFor(v.p, target, access.Read, "t")
		if err != nil {
			continue // no read right on the target: nothing to embed
		}
		q := "SELECT " + tv.selectList() + " FROM " + v.s.db.Ident(tv.e.Table()) + " t WHERE t.deleted_at IS NULL AND t.id IN (" + placeholders(len(ids)) + ")"
		args := ids
		if tv.scoped {
			q += " AND " + tv.scope
			args = append(args, tv.sargs...)
		}
		rows, err := v.s.db.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		found := map[int64]Record{}
		for rows.Next() {
			r, err := tv.scan(rows)
			if err != nil {
				rows.Close()
				return err
			}
			found[r.ID()] = tv.public(r, nil)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range recs {
			ex, _ := r[expandKey].(map[string]any)
			if ex == nil {
				ex = map[string]any{}
			}
			switch x := r[name].(type) {
			case int64:
				if t, ok := found[x]; ok {
					ex[name] = t
				}
			case []int64:
				list := []Record{}
				for _, id := range x {
					if t, ok := found[id]; ok {
						list = append(list, t)
					}
				}
				ex[name] = list
			}
			if len(ex) > 0 {
				r[expandKey] = ex
			}
		}
	}
	return nil
}

func (v *view) linkField(name string) (string, error) {
	if name == "owner" || name == "created_by" {
		return "users", nil
	}
	f := v.e.Field(name)
	if f == nil || v.r.Hidden(name) || linkTarget(f) == "" {
		return "", apperr.Invalid("unknown_field", "field", name)
	}
	return linkTarget(f), nil
}

func linkedIDs(x any) []int64 {
	switch t := x.(type) {
	case int64:
		return []int64{t}
	case []int64:
		return t
	}
	return nil
}

// public converts a canonical record to its API form for this principal:
// hidden fields removed, values in JSON form, ids as strings.
func (v *view) public(r Record, fields []string) Record {
	out := make(Record, len(v.e.Fields)+8)
	want := func(n string) bool { return len(fields) == 0 || contains(fields, n) }
	for _, k := range []string{"id", "version"} {
		if x, ok := r[k]; ok {
			if k == "id" {
				out[k] = strconv.FormatInt(x.(int64), 10)
			} else {
				out[k] = x
			}
		}
	}
	for _, k := range []string{"created_by", "owner"} {
		if !want(k) {
			continue
		}
		if x, ok := r[k].(int64); ok {
			out[k] = strconv.FormatInt(x, 10)
		} else {
			out[k] = nil
		}
	}
	for _, k := range []string{"created_at", "updated_at", "deleted_at"} {
		if x, ok := r[k]; ok && want(k) {
			out[k] = meta.FormatTime(x.(time.Time))
		}
	}
	for i := range v.e.Fields {
		f := &v.e.Fields[i]
		if v.r.Hidden(f.Name) || !want(f.Name) {
			continue
		}
		x, ok := r[f.Name]
		if f.Type == "subtable" {
			if !ok {
				continue
			}
			out[f.Name] = v.publicRows(f, x.([]Record))
			continue
		}
		if !ok || x == nil {
			out[f.Name] = nil
			continue
		}
		out[f.Name] = v.s.types.ResultOf(f).JSON(f, x)
	}
	if ex, ok := r[expandKey]; ok {
		out[expandKey] = ex
	}
	return out
}

func (v *view) publicRows(f *meta.Field, rows []Record) []Record {
	cv := childView(v, f)
	out := make([]Record, 0, len(rows))
	for _, row := range rows {
		o := Record{}
		if id, ok := row["id"].(int64); ok && id != 0 {
			o["id"] = strconv.FormatInt(id, 10)
		}
		for i := range f.Fields {
			sf := &f.Fields[i]
			if cv.hidden(sf.Name) {
				continue
			}
			if x, ok := row[sf.Name]; ok && x != nil {
				o[sf.Name] = v.s.types.ResultOf(sf).JSON(sf, x)
			} else {
				o[sf.Name] = nil
			}
		}
		out = append(out, o)
	}
	return out
}
