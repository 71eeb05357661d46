package backup

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// appendValue appends the neutral JSON form of a value scanned (into an
// *any) from a column of logical type c.
func appendValue(buf []byte, c Column, x any) ([]byte, error) {
	if x == nil {
		return append(buf, "null"...), nil
	}
	switch c.Type {
	case TInt:
		n, err := toInt(x)
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(buf, n, 10), nil
	case TText:
		return appendString(buf, textOf(x)), nil
	case TBool:
		switch v := x.(type) {
		case bool:
			return strconv.AppendBool(buf, v), nil
		case int64:
			return strconv.AppendBool(buf, v != 0), nil
		}
		return nil, fmt.Errorf("boolean stored as %T", x)
	case TDecimal:
		var d decimal.Decimal
		switch v := x.(type) {
		case int64: // SQLite: scaled integer
			d = decimal.New(v, -int32(c.Scale))
		case string, []byte: // PostgreSQL: NUMERIC text
			p, err := decimal.NewFromString(textOf(v))
			if err != nil {
				return nil, fmt.Errorf("decimal %q: %w", textOf(v), err)
			}
			d = p
		default:
			return nil, fmt.Errorf("decimal stored as %T", x)
		}
		if !d.Equal(d.Round(int32(c.Scale))) {
			return nil, fmt.Errorf("decimal %s has more than %d decimals", d, c.Scale)
		}
		return appendString(buf, d.StringFixed(int32(c.Scale))), nil
	case TDateTime:
		var t time.Time
		switch v := x.(type) {
		case time.Time:
			t = v
		case string, []byte:
			p, err := time.Parse(time.RFC3339Nano, textOf(v))
			if err != nil {
				return nil, fmt.Errorf("datetime %q: %w", textOf(v), err)
			}
			t = p
		default:
			return nil, fmt.Errorf("datetime stored as %T", x)
		}
		return appendString(buf, t.UTC().Format(meta.DateTimeLayout)), nil
	case TDate:
		var s string
		switch v := x.(type) {
		case time.Time:
			s = v.Format(time.DateOnly)
		case string, []byte:
			s = textOf(v)
			if len(s) > 10 {
				s = s[:10]
			}
		default:
			return nil, fmt.Errorf("date stored as %T", x)
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return nil, fmt.Errorf("date %q: %w", s, err)
		}
		return appendString(buf, s), nil
	case TTime:
		if t, ok := x.(time.Time); ok {
			return appendString(buf, t.Format(time.TimeOnly)), nil
		}
		return appendString(buf, textOf(x)), nil
	case TJSON:
		var b []byte
		switch v := x.(type) {
		case string:
			b = []byte(v)
		case []byte:
			b = v
		default:
			return nil, fmt.Errorf("JSON stored as %T", x)
		}
		var out bytes.Buffer
		if err := json.Compact(&out, b); err != nil {
			return nil, fmt.Errorf("stored JSON is not valid: %w", err)
		}
		return append(buf, out.Bytes()...), nil
	case TBytes:
		var b []byte
		switch v := x.(type) {
		case []byte:
			b = v
		case string:
			b = []byte(v)
		default:
			return nil, fmt.Errorf("bytes stored as %T", x)
		}
		buf = append(buf, '"')
		buf = base64.StdEncoding.AppendEncode(buf, b)
		return append(buf, '"'), nil
	case TFloat:
		var f float64
		switch v := x.(type) {
		case float64:
			f = v
		case int64:
			f = float64(v)
		case string, []byte:
			p, err := strconv.ParseFloat(textOf(v), 64)
			if err != nil {
				return nil, err
			}
			f = p
		default:
			return nil, fmt.Errorf("float stored as %T", x)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("float %v cannot be archived", f)
		}
		return strconv.AppendFloat(buf, f, 'g', -1, 64), nil
	}
	return nil, fmt.Errorf("unknown logical type %q", c.Type)
}

func toInt(x any) (int64, error) {
	switch v := x.(type) {
	case int64:
		return v, nil
	case int32:
		return int64(v), nil
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			return 0, fmt.Errorf("integer column holds %v", v)
		}
		return int64(v), nil
	case string, []byte:
		return strconv.ParseInt(textOf(v), 10, 64)
	case bool: // a boolean read where an integer is declared
		if v {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("integer stored as %T", x)
}

func textOf(x any) string {
	switch v := x.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(x)
}

// appendString appends s as a JSON string. Invalid UTF-8 (which PostgreSQL
// could not store anyway) becomes U+FFFD.
func appendString(buf []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	b, _ := json.Marshal(s) // a string always marshals
	return append(buf, b...)
}

// dbValue converts a neutral JSON value of logical type c to a parameter
// for a column of the target dialect.
func dbValue(d db.Dialect, c Column, raw json.RawMessage) (any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	str := func() (string, error) {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("want a string, got %s", clip(raw))
		}
		return s, nil
	}
	switch c.Type {
	case TInt:
		return strconv.ParseInt(string(raw), 10, 64)
	case TText, TTime:
		return str()
	case TBool:
		switch string(raw) {
		case "true":
			return meta.BoolToDB(d, true), nil
		case "false":
			return meta.BoolToDB(d, false), nil
		}
		return nil, fmt.Errorf("want true or false, got %s", clip(raw))
	case TDecimal:
		s, err := str()
		if err != nil {
			return nil, err
		}
		v, err := decimal.NewFromString(s)
		if err != nil || strings.ContainsAny(s, "eE") {
			return nil, fmt.Errorf("not a decimal: %q", s)
		}
		if !v.Equal(v.Round(int32(c.Scale))) {
			return nil, fmt.Errorf("decimal %s has more than %d decimals", s, c.Scale)
		}
		return meta.DecimalToDB(d, c.Scale, v), nil
	case TDateTime:
		s, err := str()
		if err != nil {
			return nil, err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("not a datetime: %q", s)
		}
		return meta.TimeToDB(d, t.UTC()), nil
	case TDate:
		s, err := str()
		if err != nil {
			return nil, err
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return nil, fmt.Errorf("not a date: %q", s)
		}
		return s, nil
	case TJSON:
		if !json.Valid(raw) {
			return nil, fmt.Errorf("invalid JSON value")
		}
		return string(raw), nil
	case TBytes:
		s, err := str()
		if err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("bad base64: %w", err)
		}
		if b == nil {
			b = []byte{}
		}
		return b, nil
	case TFloat:
		return strconv.ParseFloat(string(raw), 64)
	}
	return nil, fmt.Errorf("unknown logical type %q", c.Type)
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}
