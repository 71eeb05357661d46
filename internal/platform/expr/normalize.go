package expr

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/db"
)

// DateTimeLayout is how Normalize writes a KDateTime value for SQLite: UTC
// and fixed width, so that text order is time order. A records layer that
// stores datetimes differently sets Column.Param.
const DateTimeLayout = "2006-01-02T15:04:05.000000Z"

// DefaultLocation is the zone a date without a zone is read in (a filter's
// "2026-01-01" against a datetime, today() in programs): China Standard
// Time, UTC+8 all year (Asia/Shanghai has had no DST since 1991).
func DefaultLocation() *time.Location { return time.FixedZone("CST", 8*60*60) }

// Normalize is the default conversion of a filter value (a literal or a
// function result) for a column of kind k; for KTextList and KIDList pass
// the element kind (KText, KID). It checks the value's type and returns
// what is bound:
//
//	KText      string
//	KInt, KID  int64 (from integers, integral numbers or numeric strings)
//	KDecimal   the decimal's string (exact; NUMERIC on PostgreSQL; SQLite
//	           compares it numerically, so a scaled column needs Param)
//	KBool      bool
//	KDate      "YYYY-MM-DD" (from such a string or a time.Time)
//	KDateTime  time.Time in UTC on PostgreSQL, DateTimeLayout text on SQLite
//	           (from RFC 3339, "YYYY-MM-DD" at midnight UTC+8, or time.Time)
//	KTime      "HH:MM:SS" (from "HH:MM" or "HH:MM:SS")
func Normalize(d db.Dialect, k ValueKind, v any) (any, error) {
	switch k {
	case KText:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, errors.New("the field expects text")
	case KInt, KID:
		if n, ok := toInt64(v, true); ok {
			return n, nil
		}
		if k == KID {
			return nil, errors.New("the field expects an id")
		}
		return nil, errors.New("the field expects a whole number")
	case KDecimal:
		if dec, ok := toDecimal(v, true); ok {
			return dec.String(), nil
		}
		return nil, errors.New("the field expects a number")
	case KBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, errors.New("the field expects true or false")
	case KDate:
		switch x := v.(type) {
		case string:
			if _, err := time.Parse(time.DateOnly, x); err == nil {
				return x, nil
			}
		case time.Time:
			return x.Format(time.DateOnly), nil
		}
		return nil, errors.New("the field expects a date (YYYY-MM-DD)")
	case KDateTime:
		var t time.Time
		switch x := v.(type) {
		case string:
			var err error
			if t, err = time.Parse(time.RFC3339Nano, x); err != nil {
				if t, err = time.ParseInLocation(time.DateOnly, x, DefaultLocation()); err != nil {
					return nil, errors.New("the field expects a date and time (RFC 3339)")
				}
			}
		case time.Time:
			t = x
		default:
			return nil, errors.New("the field expects a date and time (RFC 3339)")
		}
		t = t.UTC()
		if d.Kind == db.Postgres {
			return t, nil
		}
		return t.Format(DateTimeLayout), nil
	case KTime:
		if s, ok := v.(string); ok {
			for _, layout := range []string{"15:04:05", "15:04"} {
				if t, err := time.Parse(layout, s); err == nil {
					return t.Format("15:04:05"), nil
				}
			}
		}
		return nil, errors.New("the field expects a time (HH:MM or HH:MM:SS)")
	}
	return nil, errors.New("the field cannot be compared with a value")
}

// toInt64 converts integers, integral floats and decimals, and (when
// strs) numeric strings.
func toInt64(v any, strs bool) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), true
		}
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case float32:
		return toInt64(float64(x), false)
	case float64:
		if x == math.Trunc(x) && x >= math.MinInt64 && x < math.MaxInt64 {
			return int64(x), true
		}
	case decimal.Decimal:
		if x.IsInteger() && x.Cmp(decimal.NewFromInt(math.MinInt64)) >= 0 && x.Cmp(decimal.NewFromInt(math.MaxInt64)) <= 0 {
			return x.IntPart(), true
		}
	case string:
		if !strs {
			return 0, false
		}
		s := strings.TrimSpace(x)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, true
		}
	}
	return 0, false
}

// toDecimal converts any number exactly (a float64 through its shortest
// representation) and, when strs, a numeric string.
func toDecimal(v any, strs bool) (decimal.Decimal, bool) {
	switch x := v.(type) {
	case decimal.Decimal:
		return x, true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return decimal.Decimal{}, false
		}
		return decimal.NewFromFloat(x), true
	case float32:
		return toDecimal(float64(x), false)
	case uint64:
		return decimal.NewFromUint64(x), true
	case uint:
		return decimal.NewFromUint64(uint64(x)), true
	case string:
		if !strs {
			return decimal.Decimal{}, false
		}
		dec, err := decimal.NewFromString(strings.TrimSpace(x))
		if err != nil || strings.ContainsAny(x, "eE") && (dec.Exponent() > 64 || dec.Exponent() < -64) {
			return decimal.Decimal{}, false
		}
		return dec, true
	}
	if n, ok := toInt64(v, false); ok {
		return decimal.NewFromInt(n), true
	}
	return decimal.Decimal{}, false
}
