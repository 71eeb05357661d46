package meta

import (
	"encoding/json"
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/db"
)

// Kind is how a field compares in filters and sorts.
type Kind int

const (
	KText Kind = iota
	KInt
	KDecimal
	KBool
	KDate
	KDateTime
	KTime
	KID
	KTextList
	KIDList
	KJSON
	KNone // not stored (sub-table) — cannot be filtered or sorted
)

// Type is a field type: how a value is stored, normalised, validated,
// compared and exported. Types are registered by name in a Types map.
type Type interface {
	Name() string
	// Column is the storage type; ok is false for types without a column.
	Column() (t db.ColType, ok bool)
	Kind() Kind
	// Normalize turns decoded JSON input (string, json.Number, bool, nil,
	// []any, map[string]any) into the canonical Go value, or returns a
	// *ValueError naming the problem.
	Normalize(f *Field, v any) (any, error)
	// ToDB converts a canonical value to an SQL parameter.
	ToDB(d db.Dialect, f *Field, v any) any
	// FromDB converts a scanned SQL value to the canonical value.
	FromDB(d db.Dialect, f *Field, v any) (any, error)
	// JSON converts a canonical value to its API form.
	JSON(f *Field, v any) any
	// Text renders a canonical value for export, search and audit.
	Text(f *Field, v any) string
}

// ValueError is a field-level validation failure: a stable code and
// arguments for the translated message.
type ValueError struct {
	Code string
	Args []any // key, value pairs
}

func (e *ValueError) Error() string { return e.Code }

func verr(code string, kv ...any) error { return &ValueError{Code: code, Args: kv} }

// Types is the registry of field types by name.
type Types map[string]Type

// Register adds t (used by modules that bring their own field types).
func (ts Types) Register(t Type) { ts[t.Name()] = t }

// DefaultTypes returns the registry with every built-in field type of P1.
func DefaultTypes() Types {
	ts := Types{}
	for _, n := range []string{"text", "long_text", "rich_text", "barcode", "phone", "email", "url", "autonumber", "file", "image", "signature"} {
		ts.Register(textType{name: n})
	}
	ts.Register(textType{name: "select"})
	for _, n := range []string{"multi_select", "tags"} {
		ts.Register(listType{name: n})
	}
	ts.Register(intType{name: "integer"})
	ts.Register(intType{name: "rating"})
	for _, n := range []string{"decimal", "money", "percent", "rollup"} {
		ts.Register(decimalType{name: n})
	}
	ts.Register(boolType{})
	ts.Register(dateType{})
	ts.Register(datetimeType{})
	ts.Register(timeType{})
	for _, n := range []string{"link", "user", "department"} {
		ts.Register(idType{name: n})
	}
	ts.Register(idListType{})
	for _, n := range []string{"json", "address", "geo"} {
		ts.Register(jsonType{name: n})
	}
	ts.Register(subtableType{})
	ts.Register(formulaType{ts: ts})
	return ts
}

// ---------------------------------------------------------------- text

type textType struct{ name string }

func (t textType) Name() string                     { return t.name }
func (t textType) Column() (db.ColType, bool)       { return db.TText, true }
func (t textType) Kind() Kind                       { return KText }
func (t textType) ToDB(db.Dialect, *Field, any) any { panic("unused") }

func (t textType) maxLen(f *Field) int {
	if f.MaxLength > 0 {
		return f.MaxLength
	}
	switch t.name {
	case "long_text":
		return 20000
	case "rich_text":
		return 200000
	case "url":
		return 2000
	case "phone":
		return 40
	case "email":
		return 254
	}
	return 500
}

var phoneRe = regexp.MustCompile(`^\+?[0-9][0-9 \-()]{4,30}(\s*(ext|转|#)\s*[0-9]{1,6})?$`)
var fileIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{10,64}$`)

func (t textType) Normalize(f *Field, v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		if n, isNum := v.(json.Number); isNum && (t.name == "text" || t.name == "barcode" || t.name == "phone") {
			s = n.String()
		} else {
			return nil, verr("not_text")
		}
	}
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return nil, verr("invalid_text")
	}
	switch t.name {
	case "long_text", "rich_text":
	default:
		if strings.ContainsAny(s, "\r\n") {
			return nil, verr("single_line")
		}
		s = strings.TrimSpace(s)
	}
	if t.name == "rich_text" {
		s = sanitizeRich(s)
	}
	if s == "" {
		return nil, nil
	}
	if n := utf8.RuneCountInString(s); n > t.maxLen(f) {
		return nil, verr("too_long", "max", t.maxLen(f))
	}
	switch t.name {
	case "email":
		a, err := mail.ParseAddress(s)
		if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
			return nil, verr("invalid_email")
		}
		s = strings.ToLower(s)
	case "phone":
		if !phoneRe.MatchString(s) {
			return nil, verr("invalid_phone")
		}
	case "url":
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, verr("invalid_url")
		}
	case "file", "image", "signature":
		if !fileIDRe.MatchString(s) {
			return nil, verr("invalid_file")
		}
	case "select":
		if !f.HasOption(s) && f.OptionsFrom == "" {
			return nil, verr("invalid_option", "value", s)
		}
	}
	if f.pattern != nil && !f.pattern.MatchString(s) {
		return nil, verr("pattern_mismatch")
	}
	return s, nil
}

func (t textType) FromDB(_ db.Dialect, _ *Field, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	}
	return fmt.Sprint(v), nil
}
func (t textType) JSON(_ *Field, v any) any { return v }
func (t textType) Text(_ *Field, v any) string {
	if t.name == "rich_text" {
		return richText(asString(v))
	}
	return asString(v)
}

// HasOption reports whether s is one of the field's options.
func (f *Field) HasOption(s string) bool {
	for _, o := range f.Options {
		if o.Value == s {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------- lists of text

type listType struct{ name string }

func (t listType) Name() string               { return t.name }
func (t listType) Column() (db.ColType, bool) { return db.TJSON, true }
func (t listType) Kind() Kind                 { return KTextList }
func (t listType) Normalize(f *Field, v any) (any, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, verr("not_list")
	}
	if len(arr) > 200 {
		return nil, verr("too_many_items", "max", 200)
	}
	out := make([]string, 0, len(arr))
	seen := map[string]bool{}
	for _, x := range arr {
		s, ok := x.(string)
		s = strings.TrimSpace(s)
		if !ok || s == "" || utf8.RuneCountInString(s) > 100 || strings.ContainsAny(s, "\r\n\x00") {
			return nil, verr("invalid_item")
		}
		if t.name == "multi_select" && f.OptionsFrom == "" && !f.HasOption(s) {
			return nil, verr("invalid_option", "value", s)
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
func (t listType) ToDB(d db.Dialect, f *Field, v any) any { return jsonText(v) }
func (t listType) FromDB(_ db.Dialect, _ *Field, v any) (any, error) {
	b := asBytes(v)
	if b == nil {
		return nil, nil
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}
func (t listType) JSON(_ *Field, v any) any { return v }
func (t listType) Text(_ *Field, v any) string {
	if l, ok := v.([]string); ok {
		return strings.Join(l, ", ")
	}
	return ""
}

// ---------------------------------------------------------------- integers

type intType struct{ name string }

func (t intType) Name() string               { return t.name }
func (t intType) Column() (db.ColType, bool) { return db.TBigInt, true }
func (t intType) Kind() Kind                 { return KInt }
func (t intType) Normalize(f *Field, v any) (any, error) {
	var n int64
	switch x := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(x.String(), 10, 64)
		if err != nil {
			return nil, verr("not_integer")
		}
		n = i
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return nil, verr("not_integer")
		}
		n = i
	case int64: // Go callers (modules, hooks) pass numbers as they hold them
		n = x
	case int:
		n = int64(x)
	default:
		return nil, verr("not_integer")
	}
	if t.name == "rating" {
		hi := int64(5)
		if f.Max != nil {
			hi, _ = strconv.ParseInt(string(*f.Max), 10, 64)
		}
		if n < 0 || n > hi {
			return nil, verr("out_of_range", "min", 0, "max", hi)
		}
		return n, nil
	}
	d := decimal.NewFromInt(n)
	if err := checkRange(f, d); err != nil {
		return nil, err
	}
	return n, nil
}
func (t intType) ToDB(db.Dialect, *Field, any) any { panic("unused") }
func (t intType) FromDB(_ db.Dialect, _ *Field, v any) (any, error) {
	return asInt(v)
}
func (t intType) JSON(_ *Field, v any) any    { return v }
func (t intType) Text(_ *Field, v any) string { return asString(v) }

// ---------------------------------------------------------------- decimals

type decimalType struct{ name string }

func (t decimalType) Name() string               { return t.name }
func (t decimalType) Column() (db.ColType, bool) { return db.TDecimal, true }
func (t decimalType) Kind() Kind                 { return KDecimal }

// ParseDecimal parses a decimal written as a JSON number or string, refusing
// exponents, NaN and infinities.
func ParseDecimal(v any) (decimal.Decimal, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	case int64:
		return decimal.NewFromInt(x), true
	case int:
		return decimal.NewFromInt(int64(x)), true
	case decimal.Decimal:
		return x, true
	default:
		return decimal.Decimal{}, false
	}
	if s == "" || len(s) > 40 || strings.ContainsAny(s, "eE") {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(s)
	return d, err == nil
}

// maxDecimalDigits bounds the integer part so that scaled values fit int64
// on SQLite and NUMERIC(28,s) on PostgreSQL.
const maxDecimalDigits = 18

func (t decimalType) Normalize(f *Field, v any) (any, error) {
	d, ok := ParseDecimal(v)
	if !ok {
		return nil, verr("not_decimal")
	}
	scale := f.ScaleOf()
	if -d.Exponent() > int32(scale) && !d.Equal(d.Round(int32(scale))) {
		return nil, verr("too_many_decimals", "max", scale)
	}
	d = d.Round(int32(scale))
	limit := decimal.New(1, int32(maxDecimalDigits-scale))
	if d.Abs().GreaterThanOrEqual(limit) {
		return nil, verr("out_of_range", "max", limit.String())
	}
	if err := checkRange(f, d); err != nil {
		return nil, err
	}
	return d, nil
}

// DecimalToDB is the stored form of a decimal: NUMERIC text on PostgreSQL,
// an integer scaled by 10^scale on SQLite (exact, and it sorts and sums).
func DecimalToDB(d db.Dialect, scale int, v decimal.Decimal) any {
	if d.Kind == db.SQLite {
		return v.Shift(int32(scale)).Round(0).IntPart()
	}
	return v.StringFixed(int32(scale))
}

func (t decimalType) ToDB(d db.Dialect, f *Field, v any) any {
	return DecimalToDB(d, f.ScaleOf(), v.(decimal.Decimal))
}
func (t decimalType) FromDB(d db.Dialect, f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if d.Kind == db.SQLite {
		n, err := asInt(v)
		if err != nil {
			return nil, err
		}
		return decimal.New(n.(int64), -int32(f.ScaleOf())), nil
	}
	s := asString(v)
	dv, err := decimal.NewFromString(s)
	return dv, err
}
func (t decimalType) JSON(f *Field, v any) any {
	return v.(decimal.Decimal).StringFixed(int32(f.ScaleOf()))
}
func (t decimalType) Text(f *Field, v any) string {
	if d, ok := v.(decimal.Decimal); ok {
		return d.StringFixed(int32(f.ScaleOf()))
	}
	return ""
}

func checkRange(f *Field, d decimal.Decimal) error {
	if f.Min != nil {
		if m, err := decimal.NewFromString(string(*f.Min)); err == nil && d.LessThan(m) {
			return verr("below_min", "min", string(*f.Min))
		}
	}
	if f.Max != nil {
		if m, err := decimal.NewFromString(string(*f.Max)); err == nil && d.GreaterThan(m) {
			return verr("above_max", "max", string(*f.Max))
		}
	}
	return nil
}

// ---------------------------------------------------------------- boolean

type boolType struct{}

func (boolType) Name() string               { return "boolean" }
func (boolType) Column() (db.ColType, bool) { return db.TBool, true }
func (boolType) Kind() Kind                 { return KBool }
func (boolType) Normalize(_ *Field, v any) (any, error) {
	b, ok := v.(bool)
	if !ok {
		return nil, verr("not_boolean")
	}
	return b, nil
}
func (boolType) ToDB(d db.Dialect, _ *Field, v any) any { return BoolToDB(d, v.(bool)) }

// BoolToDB is the stored form of a boolean.
func BoolToDB(d db.Dialect, b bool) any {
	if d.Kind == db.SQLite {
		if b {
			return int64(1)
		}
		return int64(0)
	}
	return b
}
func (boolType) FromDB(_ db.Dialect, _ *Field, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool:
		return x, nil
	case int64:
		return x != 0, nil
	}
	return nil, fmt.Errorf("bad boolean %T", v)
}
func (boolType) JSON(_ *Field, v any) any { return v }
func (boolType) Text(_ *Field, v any) string {
	if b, ok := v.(bool); ok && b {
		return "true"
	} else if ok {
		return "false"
	}
	return ""
}

// ---------------------------------------------------------------- dates and times

type dateType struct{}

func (dateType) Name() string               { return "date" }
func (dateType) Column() (db.ColType, bool) { return db.TDate, true }
func (dateType) Kind() Kind                 { return KDate }
func (dateType) Normalize(f *Field, v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, verr("not_date")
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Year() < 1 || t.Year() > 9999 {
		return nil, verr("not_date")
	}
	return s, nil
}
func (dateType) ToDB(_ db.Dialect, _ *Field, v any) any { return v }
func (dateType) FromDB(_ db.Dialect, _ *Field, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		return x.Format(time.DateOnly), nil
	}
	s := asString(v)
	if len(s) >= 10 {
		s = s[:10]
	}
	return s, nil
}
func (dateType) JSON(_ *Field, v any) any    { return v }
func (dateType) Text(_ *Field, v any) string { return asString(v) }

type datetimeType struct{}

// DateTimeLayout is how SQLite stores datetimes: UTC, fixed width, so that
// text order is time order.
const DateTimeLayout = "2006-01-02T15:04:05.000000Z"

func (datetimeType) Name() string               { return "datetime" }
func (datetimeType) Column() (db.ColType, bool) { return db.TDateTime, true }
func (datetimeType) Kind() Kind                 { return KDateTime }
func (datetimeType) Normalize(_ *Field, v any) (any, error) {
	var t time.Time
	switch x := v.(type) {
	case time.Time: // from Go callers
		t = x
	case string:
		var err error
		if t, err = time.Parse(time.RFC3339Nano, x); err != nil {
			return nil, verr("not_datetime")
		}
	default:
		return nil, verr("not_datetime")
	}
	if t.Year() < 1 || t.Year() > 9999 {
		return nil, verr("not_datetime")
	}
	return t.UTC().Truncate(time.Microsecond), nil
}
func (datetimeType) ToDB(d db.Dialect, _ *Field, v any) any { return TimeToDB(d, v.(time.Time)) }

// TimeToDB is the stored form of a datetime.
func TimeToDB(d db.Dialect, t time.Time) any {
	if d.Kind == db.SQLite {
		return t.UTC().Format(DateTimeLayout)
	}
	return t.UTC()
}

// TimeFromDB parses a stored datetime.
func TimeFromDB(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		return x.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, asString(v))
	if err != nil {
		return nil, err
	}
	return t.UTC(), nil
}
func (datetimeType) FromDB(_ db.Dialect, _ *Field, v any) (any, error) { return TimeFromDB(v) }
func (datetimeType) JSON(_ *Field, v any) any                          { return FormatTime(v.(time.Time)) }
func (datetimeType) Text(_ *Field, v any) string {
	if t, ok := v.(time.Time); ok {
		return FormatTime(t)
	}
	return ""
}

// Shanghai is the display zone of datetimes (P13); an immutable value set once
// start by the caller that needs it and passed on, with a fixed +08:00 zone
// as fallback when the tz database is missing.
var Shanghai = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}()

// FormatTime renders a datetime for the API: RFC 3339 in Asia/Shanghai.
func FormatTime(t time.Time) string { return t.In(Shanghai).Format(time.RFC3339) }

type timeType struct{}

var timeRe = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$`)

func (timeType) Name() string               { return "time" }
func (timeType) Column() (db.ColType, bool) { return db.TText, true }
func (timeType) Kind() Kind                 { return KTime }
func (timeType) Normalize(_ *Field, v any) (any, error) {
	s, ok := v.(string)
	if !ok || !timeRe.MatchString(s) {
		return nil, verr("not_time")
	}
	if len(s) == 5 {
		s += ":00"
	}
	return s, nil
}
func (timeType) ToDB(_ db.Dialect, _ *Field, v any) any { return v }
func (timeType) FromDB(_ db.Dialect, _ *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return asString(v), nil
}
func (timeType) JSON(_ *Field, v any) any    { return v }
func (timeType) Text(_ *Field, v any) string { return asString(v) }

// ---------------------------------------------------------------- ids

type idType struct{ name string }

func (t idType) Name() string               { return t.name }
func (t idType) Column() (db.ColType, bool) { return db.TBigInt, true }
func (t idType) Kind() Kind                 { return KID }

// ParseID accepts an id as a JSON string or number.
func ParseID(v any) (int64, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		s = x.String()
	case int64:
		return x, x > 0
	default:
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

func (t idType) Normalize(_ *Field, v any) (any, error) {
	n, ok := ParseID(v)
	if !ok {
		return nil, verr("invalid_id")
	}
	return n, nil
}
func (t idType) ToDB(db.Dialect, *Field, any) any { panic("unused") }
func (t idType) FromDB(_ db.Dialect, _ *Field, v any) (any, error) {
	return asInt(v)
}
func (t idType) JSON(_ *Field, v any) any    { return strconv.FormatInt(v.(int64), 10) }
func (t idType) Text(_ *Field, v any) string { return asString(v) }

type idListType struct{}

func (idListType) Name() string               { return "multi_link" }
func (idListType) Column() (db.ColType, bool) { return db.TJSON, true }
func (idListType) Kind() Kind                 { return KIDList }
func (idListType) Normalize(_ *Field, v any) (any, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, verr("not_list")
	}
	if len(arr) > 500 {
		return nil, verr("too_many_items", "max", 500)
	}
	out := make([]int64, 0, len(arr))
	seen := map[int64]bool{}
	for _, x := range arr {
		n, ok := ParseID(x)
		if !ok {
			return nil, verr("invalid_id")
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}
func (idListType) ToDB(_ db.Dialect, _ *Field, v any) any { return jsonText(v) }
func (idListType) FromDB(_ db.Dialect, _ *Field, v any) (any, error) {
	b := asBytes(v)
	if b == nil {
		return nil, nil
	}
	var out []int64
	err := json.Unmarshal(b, &out)
	return out, err
}
func (idListType) JSON(_ *Field, v any) any {
	ids := v.([]int64)
	out := make([]string, len(ids))
	for i, n := range ids {
		out[i] = strconv.FormatInt(n, 10)
	}
	return out
}
func (idListType) Text(_ *Field, v any) string {
	ids, _ := v.([]int64)
	parts := make([]string, len(ids))
	for i, n := range ids {
		parts[i] = strconv.FormatInt(n, 10)
	}
	return strings.Join(parts, ", ")
}

// ---------------------------------------------------------------- JSON-shaped

type jsonType struct{ name string }

func (t jsonType) Name() string               { return t.name }
func (t jsonType) Column() (db.ColType, bool) { return db.TJSON, true }
func (t jsonType) Kind() Kind                 { return KJSON }

var addressKeys = map[string]int{"province": 20, "city": 30, "district": 30, "detail": 200, "postcode": 10}

func (t jsonType) Normalize(_ *Field, v any) (any, error) {
	switch t.name {
	case "address":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, verr("not_address")
		}
		out := map[string]any{}
		for k, x := range m {
			limit, known := addressKeys[k]
			s, isStr := x.(string)
			if !known || (!isStr && x != nil) {
				return nil, verr("not_address")
			}
			s = strings.TrimSpace(s)
			if utf8.RuneCountInString(s) > limit || strings.ContainsAny(s, "\r\n\x00") {
				return nil, verr("not_address")
			}
			if s != "" {
				out[k] = s
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		if out["province"] == nil && (out["city"] != nil || out["district"] != nil) {
			return nil, verr("address_needs_province")
		}
		return out, nil
	case "geo":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, verr("not_geo")
		}
		lat, ok1 := ParseDecimal(m["lat"])
		lng, ok2 := ParseDecimal(m["lng"])
		if !ok1 || !ok2 || lat.Abs().GreaterThan(decimal.NewFromInt(90)) || lng.Abs().GreaterThan(decimal.NewFromInt(180)) {
			return nil, verr("not_geo")
		}
		out := map[string]any{"lat": lat.Round(7).String(), "lng": lng.Round(7).String()}
		for k, x := range m {
			switch k {
			case "lat", "lng":
			case "accuracy":
				a, ok := ParseDecimal(x)
				if !ok || a.IsNegative() {
					return nil, verr("not_geo")
				}
				out[k] = a.Round(1).String()
			case "at":
				s, _ := x.(string)
				if _, err := time.Parse(time.RFC3339, s); err != nil {
					return nil, verr("not_geo")
				}
				out[k] = s
			case "label":
				s, _ := x.(string)
				if utf8.RuneCountInString(s) > 200 {
					return nil, verr("not_geo")
				}
				out[k] = s
			default:
				return nil, verr("not_geo")
			}
		}
		return out, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, verr("not_json")
	}
	if len(b) > 64*1024 {
		return nil, verr("too_long", "max", 64*1024)
	}
	return json.RawMessage(b), nil
}
func (t jsonType) ToDB(_ db.Dialect, _ *Field, v any) any { return jsonText(v) }
func (t jsonType) FromDB(_ db.Dialect, _ *Field, v any) (any, error) {
	b := asBytes(v)
	if b == nil {
		return nil, nil
	}
	if t.name == "json" {
		return json.RawMessage(append([]byte(nil), b...)), nil
	}
	var m map[string]any
	err := json.Unmarshal(b, &m)
	return m, err
}
func (t jsonType) JSON(_ *Field, v any) any { return v }
func (t jsonType) Text(_ *Field, v any) string {
	if t.name == "address" {
		if m, ok := v.(map[string]any); ok {
			var parts []string
			for _, k := range []string{"province", "city", "district", "detail"} {
				if s, ok := m[k].(string); ok {
					parts = append(parts, s)
				}
			}
			return strings.Join(parts, " ")
		}
	}
	s, _ := jsonText(v).(string)
	return s
}

// ---------------------------------------------------------------- sub-table and formula

type subtableType struct{}

func (subtableType) Name() string                                { return "subtable" }
func (subtableType) Column() (db.ColType, bool)                  { return 0, false }
func (subtableType) Kind() Kind                                  { return KNone }
func (subtableType) Normalize(*Field, any) (any, error)          { return nil, verr("not_list") }
func (subtableType) ToDB(db.Dialect, *Field, any) any            { return nil }
func (subtableType) FromDB(db.Dialect, *Field, any) (any, error) { return nil, nil }
func (subtableType) JSON(_ *Field, v any) any                    { return v }
func (subtableType) Text(*Field, any) string                     { return "" }

// formulaType stores the computed value in a column of its result type, so
// formulas can be filtered, sorted and reported on like any field.
type formulaType struct{ ts Types }

func (t formulaType) result(f *Field) Type {
	switch f.ResultType {
	case "boolean", "text", "date", "datetime", "integer", "decimal", "money", "percent":
		return t.ts[f.ResultType]
	}
	return t.ts["decimal"]
}
func (formulaType) Name() string               { return "formula" }
func (formulaType) Column() (db.ColType, bool) { return 0, true } // see ColumnOf
func (t formulaType) Kind() Kind               { return KNone }
func (t formulaType) Normalize(f *Field, v any) (any, error) {
	if r, ok := v.(interface{ Result() any }); ok {
		v = r.Result()
	}
	return t.result(f).Normalize(f, v)
}
func (t formulaType) ToDB(d db.Dialect, f *Field, v any) any { return ToDB(t.result(f), d, f, v) }
func (t formulaType) FromDB(d db.Dialect, f *Field, v any) (any, error) {
	return t.result(f).FromDB(d, f, v)
}
func (t formulaType) JSON(f *Field, v any) any    { return t.result(f).JSON(f, v) }
func (t formulaType) Text(f *Field, v any) string { return t.result(f).Text(f, v) }

// ColumnOf returns the storage of a field (formulas store their result).
func (ts Types) ColumnOf(f *Field) (db.ColType, bool) {
	return ts.ResultOf(f).Column()
}

// KindOf returns how a field compares in filters and sorts.
func (ts Types) KindOf(f *Field) Kind { return ts.ResultOf(f).Kind() }

// ResultOf returns the type a field's values have: the result type of a
// formula, the field's own type otherwise.
func (ts Types) ResultOf(f *Field) Type {
	t := ts[f.Type]
	if ft, ok := t.(formulaType); ok {
		return ft.result(f)
	}
	return t
}

// ToDB converts a canonical value for storage through t; nil stays nil.
// Types whose canonical value is already the stored value (text, ints, ids)
// are passed through.
func ToDB(t Type, d db.Dialect, f *Field, v any) any {
	if v == nil {
		return nil
	}
	switch t.(type) {
	case textType, intType, idType, timeType, dateType:
		return v
	}
	return t.ToDB(d, f, v)
}

// ---------------------------------------------------------------- helpers

func jsonText(v any) any {
	if v == nil {
		return nil
	}
	if r, ok := v.(json.RawMessage); ok {
		return string(r)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func asBytes(v any) []byte {
	switch x := v.(type) {
	case nil:
		return nil
	case []byte:
		return x
	case string:
		return []byte(x)
	}
	b, _ := json.Marshal(v)
	return b
}

func asString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

func asInt(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case float64:
		if x != math.Trunc(x) {
			return nil, fmt.Errorf("not an integer: %v", x)
		}
		return int64(x), nil
	case []byte, string:
		return strconv.ParseInt(asString(x), 10, 64)
	}
	return nil, fmt.Errorf("not an integer: %T", v)
}
