package inbound

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// decodeBody decodes a call's body for expressions: one JSON value (an
// object or an array), numbers exact (int64, or decimal.Decimal), never
// floats.
func decodeBody(b []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err == nil {
		return nil, false // more than one value
	}
	switch v.(type) {
	case map[string]any, []any:
	default:
		return nil, false
	}
	return exact(v), true
}

// exact replaces json.Number in decoded JSON by int64 or an exact decimal.
// A number too large or too precise for a decimal field (more than 40
// characters, or an exponent) is kept as its text, which a numeric field
// then refuses.
func exact(v any) any {
	switch x := v.(type) {
	case json.Number:
		s := x.String()
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i
		}
		if len(s) <= 40 && !strings.ContainsAny(s, "eE") {
			if d, err := decimal.NewFromString(s); err == nil {
				return d
			}
		}
		return s
	case []any:
		for i := range x {
			x[i] = exact(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = exact(x[k])
		}
	}
	return v
}

// lookup follows a dotted path through objects; nil when a step is
// missing or not an object.
func lookup(v any, path []string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// sizeOf is what reading a value costs against the evaluation budget:
// texts by their length, lists and objects by their elements.
func sizeOf(x any) int {
	switch v := x.(type) {
	case string:
		return len(v)/64 + 1
	case []any:
		n := 1
		for _, e := range v {
			n += sizeOf(e)
		}
		return n
	case map[string]any:
		n := 1
		for k, e := range v {
			n += len(k)/64 + sizeOf(e)
		}
		return n
	}
	return 1
}

// externalID renders an item's external id: a text, or a whole number.
func externalID(x any) (string, bool) {
	switch v := x.(type) {
	case string:
		return v, v != "" && len(v) <= 200
	case int64:
		return strconv.FormatInt(v, 10), true
	case decimal.Decimal:
		if v.IsInteger() {
			return v.String(), true
		}
	}
	return "", false
}
