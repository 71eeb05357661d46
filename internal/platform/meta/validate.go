package meta

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
)

// Compiler compiles expressions for formulas and conditions. The expr
// package provides it; meta does not depend on the language itself.
type Compiler func(src string, vars []string) (Evaluator, error)

var numberingRe = regexp.MustCompile(`\{(YYYY|YY|MM|DD|seq:[1-9][0-9]?)\}`)

// validateEntity checks a whole definition against the registry (for link
// targets) and prepares compiled parts. All problems are returned at once as
// a 422 whose field paths name the offending part ("fields[3].options").
func (r *Registry) validateEntity(e *Entity, lookup func(string) *Entity) error {
	var errs []apperr.FieldError
	add := func(path, code string, kv ...any) { errs = append(errs, apperr.Field(path, code, kv...)) }
	if !validName(e.Name) {
		add("name", "invalid_name")
	}
	if len(e.Label) == 0 {
		add("label", "required")
	}
	for k := range e.Label {
		if k != "zh-CN" && k != "en" {
			add("label", "unknown_language", "lang", k)
		}
	}
	seen := map[string]bool{}
	for i := range e.Fields {
		f := &e.Fields[i]
		path := fmt.Sprintf("fields[%d]", i)
		if seen[f.Name] {
			add(path+".name", "duplicate_name", "name", f.Name)
		}
		seen[f.Name] = true
		errs = append(errs, r.validateField(e, f, path, lookup, false)...)
	}
	if e.TitleField != "" && e.Field(e.TitleField) == nil {
		add("title_field", "unknown_field", "field", e.TitleField)
	}
	if n := e.Numbering; n != nil {
		f := e.Field(n.Field)
		switch {
		case f == nil || f.Type != "autonumber":
			add("numbering.field", "must_be_autonumber")
		case !strings.Contains(n.Pattern, "{seq:") || len(n.Pattern) > 60:
			add("numbering.pattern", "invalid_pattern")
		case numberingRe.ReplaceAllString(n.Pattern, "") != stripBraces(n.Pattern):
			add("numbering.pattern", "invalid_pattern")
		}
		switch n.Reset {
		case "", "never", "yearly", "monthly", "daily":
		default:
			add("numbering.reset", "invalid_option", "value", n.Reset)
		}
	}
	for i, ix := range e.Indexes {
		if len(ix.Fields) == 0 || len(ix.Fields) > 8 {
			add(fmt.Sprintf("indexes[%d]", i), "invalid_index")
		}
		for _, name := range ix.Fields {
			if IsSystemColumn(name) {
				continue
			}
			f := e.Field(name)
			if f == nil {
				add(fmt.Sprintf("indexes[%d]", i), "unknown_field", "field", name)
			} else if _, ok := r.types.ColumnOf(f); !ok {
				add(fmt.Sprintf("indexes[%d]", i), "not_indexable", "field", name)
			}
		}
	}
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	return r.prepare(e)
}

func stripBraces(p string) string {
	// Characters outside placeholders must not contain braces.
	if strings.ContainsAny(numberingRe.ReplaceAllString(p, ""), "{}") {
		return "\x00"
	}
	return numberingRe.ReplaceAllString(p, "")
}

func (r *Registry) validateField(e *Entity, f *Field, path string, lookup func(string) *Entity, inSub bool) []apperr.FieldError {
	var errs []apperr.FieldError
	add := func(p, code string, kv ...any) { errs = append(errs, apperr.Field(path+p, code, kv...)) }
	if !validName(f.Name) || systemColumns[f.Name] {
		add(".name", "invalid_name")
	}
	t, ok := r.types[f.Type]
	if !ok {
		add(".type", "unknown_type", "type", f.Type)
		return errs
	}
	if f.MaxLength < 0 || f.MaxLength > 200000 {
		add(".max_length", "out_of_range")
	}
	if f.Scale != nil && (*f.Scale < 0 || *f.Scale > 6) {
		add(".scale", "out_of_range", "min", 0, "max", 6)
	}
	if f.Pattern != "" {
		if len(f.Pattern) > 500 {
			add(".pattern", "too_long")
		} else if _, err := regexp.Compile(f.Pattern); err != nil {
			add(".pattern", "invalid_pattern")
		}
	}
	if inSub && f.Unique {
		add(".unique", "not_supported")
	}
	switch f.Type {
	case "select", "multi_select":
		if len(f.Options) == 0 && f.OptionsFrom == "" {
			add(".options", "required")
		}
		vals := map[string]bool{}
		for _, o := range f.Options {
			if o.Value == "" || vals[o.Value] || len(o.Value) > 100 {
				add(".options", "invalid_option", "value", o.Value)
			}
			vals[o.Value] = true
		}
		if f.OptionsFrom != "" && lookup(f.OptionsFrom) == nil {
			add(".options_from", "unknown_entity", "entity", f.OptionsFrom)
		}
	case "link", "multi_link":
		if f.Target == "" || lookup(f.Target) == nil {
			add(".target", "unknown_entity", "entity", f.Target)
		}
	case "subtable":
		if inSub {
			add(".type", "nested_subtable")
		}
		if len(f.Fields) == 0 || len(f.Fields) > 60 {
			add(".fields", "required")
		}
		seen := map[string]bool{}
		for i := range f.Fields {
			sf := &f.Fields[i]
			if seen[sf.Name] {
				add(fmt.Sprintf(".fields[%d].name", i), "duplicate_name", "name", sf.Name)
			}
			seen[sf.Name] = true
			if sf.Type == "rollup" || sf.Type == "autonumber" {
				add(fmt.Sprintf(".fields[%d].type", i), "not_supported")
			}
			errs = append(errs, r.validateField(e, sf, fmt.Sprintf("%s.fields[%d]", path, i), lookup, true)...)
		}
	case "rollup":
		switch f.Op {
		case "sum", "count", "min", "max", "avg":
		default:
			add(".op", "invalid_option", "value", f.Op)
		}
		src := e.Field(f.Source)
		if src == nil || src.Type != "subtable" {
			add(".source", "must_be_subtable")
		} else if f.Op != "count" {
			of := src.SubField(f.Of)
			if of == nil {
				add(".of", "unknown_field", "field", f.Of)
			} else if k := r.types.KindOf(of); k != KDecimal && k != KInt {
				add(".of", "not_numeric")
			}
		}
	case "formula":
		if f.Expression == "" {
			add(".expression", "required")
		}
		switch f.ResultType {
		case "", "boolean", "text", "date", "datetime", "integer", "decimal", "money", "percent":
		default:
			add(".result_type", "invalid_option", "value", f.ResultType)
		}
	}
	if f.Default != nil && !isComputed(f) {
		var v any
		if err := decodeJSONValue(f.Default, &v); err != nil {
			add(".default", "invalid_default")
		} else if _, err := t.Normalize(f, v); err != nil {
			add(".default", "invalid_default")
		}
	}
	return errs
}

func isComputed(f *Field) bool {
	switch f.Type {
	case "formula", "rollup", "autonumber":
		return true
	}
	return false
}

// IsComputed reports whether the field's value is computed by Tenon and
// cannot be written by a client.
func (f *Field) IsComputed() bool { return isComputed(f) }

// prepare compiles patterns and expressions of a validated definition.
func (r *Registry) prepare(e *Entity) error {
	vars := make([]string, 0, len(e.Fields)+6)
	for _, f := range e.Fields {
		vars = append(vars, f.Name)
	}
	vars = append(vars, "id", "owner", "created_at", "updated_at", "created_by", "user")
	var errs []apperr.FieldError
	var prep func(fs []Field, vars []string, path string)
	prep = func(fs []Field, vars []string, path string) {
		for i := range fs {
			f := &fs[i]
			p := fmt.Sprintf("%sfields[%d]", path, i)
			if f.Pattern != "" {
				f.pattern = regexp.MustCompile(f.Pattern)
			}
			compile := func(src, key string) Evaluator {
				if src == "" {
					return nil
				}
				ev, err := r.compile(src, vars)
				if err != nil {
					code, kv := "bad_expression", []any{"reason", err.Error()}
					if ae, ok := apperr.As(err); ok && ae.Args != nil {
						kv = []any{"reason", ae.Args["reason"]}
					}
					errs = append(errs, apperr.Field(p+"."+key, code, kv...))
				}
				return ev
			}
			if f.Type == "formula" {
				f.Formula = compile(f.Expression, "expression")
			}
			f.RequiredIfProg = compile(f.RequiredIf, "required_if")
			f.VisibleIfProg = compile(f.VisibleIf, "visible_if")
			if f.Type == "subtable" {
				sub := make([]string, 0, len(f.Fields)+1)
				for _, sf := range f.Fields {
					sub = append(sub, sf.Name)
				}
				sub = append(sub, "parent")
				prep(f.Fields, sub, p+".")
			}
		}
	}
	prep(e.Fields, vars, "")
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	return nil
}

func decodeJSONValue(b json.RawMessage, v *any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	return dec.Decode(v)
}

// DefaultValue decodes a field's default for normalisation.
func (f *Field) DefaultValue() (any, bool) {
	if f.Default == nil {
		return nil, false
	}
	var v any
	if err := decodeJSONValue(f.Default, &v); err != nil {
		return nil, false
	}
	return v, true
}
