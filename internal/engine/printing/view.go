package printing

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/engine/printing/lang"
	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// The view model is what a template can reach: the record as the printing
// user reads it through the records service (hidden fields are absent),
// its sub-tables' rows, and the records its links point to, one level
// deep, read with the same user's rights. Linked records' own links print
// as titles; nothing else is reachable.

// systemFields are the record columns every entity has besides its fields.
var systemFields = map[string]string{"id": "integer", "owner": "user", "created_by": "user", "created_at": "datetime", "updated_at": "datetime"}

// viewModel is one print's access to data: the caller, the language of the
// template, and the records and file names read so far.
type viewModel struct {
	s      *Service
	p      *access.Principal
	lang   string
	root   *object
	linked map[string]*object // "<entity>:<id>"; nil entries: not visible
	names  map[string]string  // file names
}

// object is a record (or a sub-table row) of the view model.
type object struct {
	vm      *viewModel
	e       *meta.Entity
	fields  []meta.Field // the entity's fields, or the sub-table's
	rec     records.Record
	visible records.Record // the public form: its keys are what p may read
	depth   int            // 0: the printed record and its rows; 1: linked records
	row     bool           // a sub-table row
	rows    map[string][]lang.Object
}

// viewModel reads the record as p may see it (404 outside p's scope).
func (s *Service) viewModel(ctx context.Context, p *access.Principal, entity string, id int64, lng string) (*viewModel, lang.Object, error) {
	rec, err := s.recs.Get(ctx, p, entity, id, records.GetOptions{})
	if err != nil {
		return nil, nil, err
	}
	if lng != string(i18n.EN) {
		lng = string(i18n.ZH)
	}
	e, _ := s.recs.Registry().Get(entity)
	vm := &viewModel{s: s, p: p, lang: lng, linked: map[string]*object{}, names: map[string]string{}}
	vm.root = &object{vm: vm, e: e, fields: e.Fields, rec: rec, visible: s.recs.Public(p, entity, rec, nil)}
	return vm, vm.root, nil
}

// title is the printed record's title (its title field, when visible).
func (vm *viewModel) title() string { return vm.root.Title() }

// link reads a linked record with p's rights; nil when p may not see it.
func (vm *viewModel) link(ctx context.Context, target string, id int64) (*object, error) {
	key := target + ":" + strconv.FormatInt(id, 10)
	if o, ok := vm.linked[key]; ok {
		return o, nil
	}
	if len(vm.linked) >= maxLinked {
		return nil, nil
	}
	// Fields names no sub-table: linked records are read without rows.
	rec, err := vm.s.recs.Get(ctx, vm.p, target, id, records.GetOptions{Fields: []string{"id"}})
	var o *object
	switch {
	case err == nil:
		e, _ := vm.s.recs.Registry().Get(target)
		o = &object{vm: vm, e: e, fields: e.Fields, rec: rec, visible: vm.s.recs.Public(vm.p, target, rec, nil), depth: 1}
	case errors.Is(err, apperr.ErrNotFound) || errors.Is(err, apperr.ErrForbidden):
	default:
		return nil, err
	}
	vm.linked[key] = o
	return o, nil
}

// prefetch reads the records that a sub-table's rows link to, one query
// per target and up to records.MaxPerPage ids (a 200-line quote names 200
// products), as p may see them; link then finds them read.
func (vm *viewModel) prefetch(ctx context.Context, f *meta.Field, rows []records.Record) error {
	for j := range f.Fields {
		sf := &f.Fields[j]
		target := sf.LinkTarget()
		e, ok := vm.s.recs.Registry().Get(target)
		if !ok {
			continue
		}
		var ids []string
		want := map[string]bool{}
		for _, r := range rows {
			id, _ := r[sf.Name].(int64)
			key := target + ":" + strconv.FormatInt(id, 10)
			if _, read := vm.linked[key]; id == 0 || read || want[key] {
				continue
			}
			want[key] = true
			ids = append(ids, strconv.FormatInt(id, 10))
		}
		if len(ids) < 2 || len(vm.linked)+len(ids) > maxLinked {
			continue // link reads them one by one, up to the limit
		}
		var fields []string
		for _, lf := range e.Fields {
			if lf.Type != "subtable" {
				fields = append(fields, lf.Name)
			}
		}
		for start := 0; start < len(ids); start += records.MaxPerPage {
			chunk := ids[start:min(start+records.MaxPerPage, len(ids))]
			res, err := vm.s.recs.List(ctx, vm.p, target, records.ListOptions{Filter: "id in [" + strings.Join(chunk, ", ") + "]",
				PerPage: records.MaxPerPage, Count: records.CountNone, Fields: fields})
			if errors.Is(err, apperr.ErrForbidden) {
				break // none visible: link finds out one by one
			}
			if err != nil {
				return err
			}
			for _, rec := range res.Items {
				vm.linked[target+":"+strconv.FormatInt(rec.ID(), 10)] = &object{vm: vm, e: e, fields: e.Fields, rec: rec,
					visible: vm.s.recs.Public(vm.p, target, rec, nil), depth: 1}
			}
		}
	}
	return nil
}

// Names implements lang.Object: every field, visible or not.
func (o *object) Names() []string {
	out := make([]string, 0, len(o.fields)+len(systemFields))
	for _, f := range o.fields {
		out = append(out, f.Name)
	}
	if !o.row {
		for n := range systemFields {
			out = append(out, n)
		}
	}
	return out
}

// field returns the definition of a name (system columns too) when p may
// read it, or nil.
func (o *object) field(name string) *meta.Field {
	if _, ok := o.visible[name]; !ok {
		return nil
	}
	for i := range o.fields {
		if o.fields[i].Name == name {
			return &o.fields[i]
		}
	}
	if t, ok := systemFields[name]; ok && !o.row {
		return &meta.Field{Name: name, Type: t}
	}
	return nil
}

// Get implements lang.Object.
func (o *object) Get(ctx context.Context, name string) (any, error) {
	f := o.field(name)
	if f == nil {
		return nil, nil
	}
	x, ok := o.rec[name]
	if !ok || x == nil {
		return nil, nil
	}
	switch f.Type {
	case "subtable":
		if o.depth > 0 {
			return nil, nil
		}
		if _, done := o.rows[f.Name]; !done {
			rows, _ := x.([]records.Record)
			if err := o.vm.prefetch(ctx, f, rows); err != nil {
				return nil, err
			}
		}
		return o.subRows(f), nil
	case "link", "user", "department":
		id, _ := x.(int64)
		l, err := o.vm.link(ctx, f.LinkTarget(), id)
		if err != nil || l == nil {
			return nil, err
		}
		if o.depth > 0 {
			return lang.Scalar{Text: l.Title()}, nil
		}
		return l, nil
	}
	return o.vm.scalar(ctx, f, x)
}

// subRows are a sub-table's rows with the fields p may read.
func (o *object) subRows(f *meta.Field) []lang.Object {
	if rows, ok := o.rows[f.Name]; ok {
		return rows
	}
	canon, _ := o.rec[f.Name].([]records.Record)
	pub, _ := o.visible[f.Name].([]records.Record)
	out := make([]lang.Object, 0, len(canon))
	for i, r := range canon {
		if i >= len(pub) {
			break
		}
		out = append(out, &object{vm: o.vm, e: o.e, fields: f.Fields, rec: r, visible: pub[i], depth: o.depth, row: true})
	}
	if o.rows == nil {
		o.rows = map[string][]lang.Object{}
	}
	o.rows[f.Name] = out
	return out
}

// scalar is a field's value as templates print it.
func (vm *viewModel) scalar(ctx context.Context, f *meta.Field, x any) (any, error) {
	ev := vm.s.recs.Registry().Types().Export(f, x, vm.lang)
	switch ev.Kind {
	case meta.ExportNumber:
		d, err := decimal.NewFromString(ev.Text)
		if err != nil {
			return lang.Scalar{Text: ev.Text}, nil
		}
		typ := f.Type
		if typ == "formula" || typ == "rollup" {
			typ = f.ResultType
		}
		return lang.Scalar{Kind: lang.KNumber, Num: d, Scale: ev.Scale, Text: ev.Text, Percent: typ == "percent",
			Money: typ == "money", Currency: f.Currency}, nil
	case meta.ExportBool:
		word := map[bool]string{true: "export_yes", false: "export_no"}[ev.Bool]
		return lang.Scalar{Kind: lang.KBool, Bool: ev.Bool, Text: i18n.Message(i18n.Lang(vm.lang), word, nil)}, nil
	case meta.ExportDate:
		t, err := time.ParseInLocation(time.DateOnly, ev.Text, meta.Shanghai)
		if err != nil {
			return lang.Scalar{Text: ev.Text}, nil
		}
		return lang.Scalar{Kind: lang.KDate, Time: t, Text: ev.Text}, nil
	case meta.ExportDateTime:
		t := ev.Time.In(meta.Shanghai)
		return lang.Scalar{Kind: lang.KDateTime, Time: t, Text: t.Format("2006-01-02 15:04")}, nil
	case meta.ExportRefs:
		var titles []string
		for _, id := range ev.IDs {
			if l, err := vm.link(ctx, ev.Target, id); err != nil {
				return nil, err
			} else if l != nil {
				titles = append(titles, l.Title())
			}
		}
		return lang.Scalar{Text: strings.Join(titles, "、")}, nil
	case meta.ExportFiles:
		names, err := vm.fileNames(ctx, ev.Texts)
		return lang.Scalar{Text: strings.Join(names, "、")}, err
	}
	s := lang.Scalar{Text: ev.Text}
	if raw, ok := x.(string); ok && f.Type == "select" {
		s.Raw = raw
	}
	return s, nil
}

func (vm *viewModel) fileNames(ctx context.Context, ids []string) ([]string, error) {
	var need []string
	for _, id := range ids {
		if _, ok := vm.names[id]; !ok {
			need = append(need, id)
		}
	}
	if len(need) > 0 {
		got, err := vm.s.files.Names(ctx, need)
		if err != nil {
			return nil, err
		}
		for _, id := range need {
			vm.names[id] = got[id]
		}
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, vm.names[id])
	}
	return out, nil
}

// Env implements lang.Object: the values conditions see.
func (o *object) Env(ctx context.Context) (map[string]any, error) {
	env := map[string]any{}
	for _, n := range o.Names() {
		f := o.field(n)
		if f == nil || o.rec[n] == nil {
			env[n] = nil
			continue
		}
		x := o.rec[n]
		switch f.Type {
		case "subtable":
			rows := []any{}
			if o.depth == 0 {
				for _, r := range o.subRows(f) {
					re, err := r.Env(ctx)
					if err != nil {
						return nil, err
					}
					rows = append(rows, re)
				}
			}
			env[n] = rows
			continue
		case "date":
			if s, ok := x.(string); ok {
				if t, err := time.ParseInLocation(time.DateOnly, s, meta.Shanghai); err == nil {
					env[n] = t
					continue
				}
			}
		}
		switch v := x.(type) {
		case decimal.Decimal, int64, bool, string, time.Time:
			env[n] = v
		case []string:
			l := make([]any, len(v))
			for i, s := range v {
				l[i] = s
			}
			env[n] = l
		default:
			env[n] = o.vm.s.recs.Registry().Types().ResultOf(f).Text(f, x)
		}
	}
	return env, nil
}

// Title implements lang.Object: the title field when visible.
func (o *object) Title() string {
	if o.row {
		return ""
	}
	f := o.field(o.e.TitleField)
	if f == nil || o.rec[f.Name] == nil {
		return ""
	}
	return o.vm.s.recs.Registry().Types().ResultOf(f).Text(f, o.rec[f.Name])
}

// schema describes an entity for checking templates when they are saved:
// the same names the view model declares, links to their targets one
// level deep, sub-tables to their rows.
type schema struct {
	reg    *meta.Registry
	e      *meta.Entity
	fields []meta.Field
	depth  int
	row    bool
}

func schemaOf(reg *meta.Registry, e *meta.Entity, depth int) schema {
	return schema{reg: reg, e: e, fields: e.Fields, depth: depth}
}

func (s schema) Names() []string {
	o := object{e: s.e, fields: s.fields, row: s.row}
	return o.Names()
}

func (s schema) Member(name string) (lang.Schema, bool) {
	var f *meta.Field
	for i := range s.fields {
		if s.fields[i].Name == name {
			f = &s.fields[i]
		}
	}
	if f == nil {
		if t := systemFields[name]; t == "user" && s.depth == 0 && !s.row {
			if u, ok := s.reg.Get("users"); ok {
				return schemaOf(s.reg, u, 1), false
			}
		}
		return nil, false
	}
	switch f.Type {
	case "subtable":
		if s.depth == 0 {
			return schema{reg: s.reg, e: s.e, fields: f.Fields, depth: s.depth, row: true}, true
		}
	case "link", "user", "department":
		target := map[string]string{"user": "users", "department": "departments", "link": f.Target}[f.Type]
		if t, ok := s.reg.Get(target); ok && s.depth == 0 {
			return schemaOf(s.reg, t, 1), false
		}
	}
	return nil, false
}
