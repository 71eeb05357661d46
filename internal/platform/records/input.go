package records

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// InputValue converts a computed value to the input form of field f (nil:
// the owner), the form a client would send in JSON, so that Create, Update
// and Upsert normalise and validate it like any input: a value that does
// not fit the field is refused there, with the field's own code. The rules
// engine (expressions of set_fields, create_record, create_task…) and the
// inbound engine (mappings) write their results through it.
//
// A computed value is an expression's result (package expr: nil, string,
// bool, int64, float64, decimal.Decimal, time.Time, []any,
// map[string]any) or a record's canonical value ([]string of a
// multi_select, []int64 of a multi_link, []Record of a sub-table). By the
// field's type:
//
//   - integer, decimal, money, percent, rating: numbers as json.Number,
//     exact (a decimal keeps its digits);
//   - date: a time as YYYY-MM-DD (a midnight in its own zone, any other
//     moment in Asia/Shanghai);
//   - datetime: a time as RFC 3339; a "YYYY-MM-DD" text as that midnight
//     in Asia/Shanghai;
//   - time: a time as HH:MM:SS in Asia/Shanghai;
//   - link, user, department, and the owner: an id as its text;
//   - multi_link: every id as its text;
//   - multi_select, tags: a text becomes a list of one; a []string a list;
//   - sub-table: each row field by field;
//   - boolean, json, address, geo: JSON, numbers as json.Number and times
//     as RFC 3339, at any depth;
//   - every other (text-like) type: numbers, booleans and times as text
//     (a midnight as YYYY-MM-DD, any other moment as RFC 3339 in
//     Asia/Shanghai), a list of such values joined with "、"; an object
//     stays an object (refused as not text).
//
// nil stays nil. Values of other kinds are passed on as JSON, for the
// records service to refuse.
func InputValue(f *meta.Field, x any) any {
	if x == nil {
		return nil
	}
	typ := "user"
	if f != nil {
		typ = f.Type
	}
	switch typ {
	case "subtable":
		return rowsInput(f, x)
	case "integer", "decimal", "money", "percent", "rating":
		if n, ok := number(x); ok {
			return n
		}
	case "date":
		if t, ok := x.(time.Time); ok {
			if !midnight(t) {
				t = t.In(meta.Shanghai)
			}
			return t.Format(time.DateOnly)
		}
	case "datetime":
		switch t := x.(type) {
		case time.Time:
			return t.Format(time.RFC3339Nano)
		case string:
			if d, err := time.ParseInLocation(time.DateOnly, t, meta.Shanghai); err == nil {
				return d.Format(time.RFC3339)
			}
			return t
		}
	case "time":
		if t, ok := x.(time.Time); ok {
			return t.In(meta.Shanghai).Format(time.TimeOnly)
		}
	case "link", "user", "department":
		if id, ok := idText(x); ok {
			return id
		}
	case "multi_link":
		switch l := x.(type) {
		case []int64:
			out := make([]any, len(l))
			for i, n := range l {
				out[i] = strconv.FormatInt(n, 10)
			}
			return out
		case []any:
			out := make([]any, len(l))
			for i, e := range l {
				if id, ok := idText(e); ok {
					out[i] = id
				} else {
					out[i] = jsonInput(e)
				}
			}
			return out
		}
	case "multi_select", "tags":
		switch l := x.(type) {
		case string:
			return []any{l}
		case []string:
			out := make([]any, len(l))
			for i, s := range l {
				out[i] = s
			}
			return out
		}
	case "boolean", "json", "address", "geo":
	default: // text-like
		if s, ok := scalarText(x); ok {
			return s
		}
		if parts, ok := listTexts(x); ok {
			return strings.Join(parts, "、")
		}
	}
	return jsonInput(x)
}

// rowsInput converts the rows of sub-table f field by field.
func rowsInput(f *meta.Field, x any) any {
	var rows []any
	switch l := x.(type) {
	case []any:
		rows = l
	case []Record:
		rows = make([]any, len(l))
		for i, r := range l {
			rows[i] = map[string]any(r)
		}
	default:
		return jsonInput(x)
	}
	out := make([]any, len(rows))
	for i, r := range rows {
		row, ok := r.(map[string]any)
		if !ok {
			if rec, isRec := r.(Record); isRec {
				row, ok = map[string]any(rec), true
			}
		}
		if !ok {
			out[i] = jsonInput(r)
			continue
		}
		cp := make(map[string]any, len(row))
		for k, v := range row {
			if sf := f.SubField(k); sf != nil {
				cp[k] = InputValue(sf, v)
			} else {
				cp[k] = jsonInput(v)
			}
		}
		out[i] = cp
	}
	return out
}

// number is a numeric value as an exact json.Number.
func number(x any) (json.Number, bool) {
	switch n := x.(type) {
	case int64:
		return json.Number(strconv.FormatInt(n, 10)), true
	case decimal.Decimal:
		return json.Number(n.String()), true
	case float64:
		return json.Number(strconv.FormatFloat(n, 'f', -1, 64)), true
	}
	return "", false
}

// idText is an id (an int64, or a whole decimal) as its text.
func idText(x any) (string, bool) {
	switch n := x.(type) {
	case int64:
		return strconv.FormatInt(n, 10), true
	case decimal.Decimal:
		if n.IsInteger() {
			return n.String(), true
		}
	}
	return "", false
}

// midnight reports whether t is 00:00:00 in its own zone (how expressions
// hold a date).
func midnight(t time.Time) bool {
	h, m, s := t.Clock()
	return h == 0 && m == 0 && s == 0 && t.Nanosecond() == 0
}

// scalarText writes a text, number, boolean or time as text.
func scalarText(x any) (string, bool) {
	switch v := x.(type) {
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case time.Time:
		if midnight(v) {
			return v.Format(time.DateOnly), true
		}
		return meta.FormatTime(v), true
	}
	if n, ok := number(x); ok {
		return n.String(), true
	}
	return "", false
}

// listTexts writes a list of scalars as texts.
func listTexts(x any) ([]string, bool) {
	switch l := x.(type) {
	case []string:
		return l, true
	case []any:
		out := make([]string, len(l))
		for i, e := range l {
			s, ok := scalarText(e)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// jsonInput converts a value to plain JSON input: numbers as json.Number
// (exact), times as RFC 3339, lists and objects element by element.
func jsonInput(x any) any {
	switch v := x.(type) {
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = jsonInput(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = jsonInput(e)
		}
		return out
	case Record:
		return jsonInput(map[string]any(v))
	}
	if n, ok := number(x); ok {
		return n
	}
	return x
}
