package expr

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// The run-time semantics of programs. Every operator of the language is
// routed through these functions (see rewriter), so that numbers of mixed
// kinds, decimals, dates and nil behave the same everywhere.

// divisionPlaces is the number of decimal places kept by a division that
// does not come out exact.
const divisionPlaces = 16

// Bounds on decimal results, so that no expression can build numbers whose
// arithmetic gets expensive.
const (
	maxDecimalExp  = 100
	maxDecimalBits = 400
)

type numKind int

const (
	nInt numKind = iota
	nFloat
	nDec
)

type num struct {
	k numKind
	i int64
	f float64
	d decimal.Decimal
}

func asNum(v any) (num, bool) {
	switch x := v.(type) {
	case decimal.Decimal:
		return num{k: nDec, d: x}, true
	case float64:
		return num{k: nFloat, f: x}, true
	case float32:
		return num{k: nFloat, f: float64(x)}, true
	case uint64:
		if x > math.MaxInt64 {
			return num{k: nDec, d: decimal.NewFromUint64(x)}, true
		}
	case uint:
		if uint64(x) > math.MaxInt64 {
			return num{k: nDec, d: decimal.NewFromUint64(uint64(x))}, true
		}
	case string, bool, nil:
		return num{}, false
	}
	if i, ok := toInt64(v, false); ok {
		return num{k: nInt, i: i}, true
	}
	return num{}, false
}

func (n num) dec() (decimal.Decimal, error) {
	switch n.k {
	case nInt:
		return decimal.NewFromInt(n.i), nil
	case nFloat:
		if math.IsNaN(n.f) || math.IsInf(n.f, 0) {
			return decimal.Decimal{}, errors.New("not a finite number")
		}
		return decimal.NewFromFloat(n.f), nil
	}
	return n.d, nil
}

func (n num) float() float64 {
	if n.k == nInt {
		return float64(n.i)
	}
	return n.f
}

func checkDec(d decimal.Decimal) (any, error) {
	if e := d.Exponent(); e > maxDecimalExp || e < -maxDecimalExp || d.Coefficient().BitLen() > maxDecimalBits {
		return nil, errors.New("number out of range")
	}
	return d, nil
}

func checkFloat(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errors.New("number out of range")
	}
	return f, nil
}

// typeName names a value's type for messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	case string:
		return "text"
	case bool:
		return "boolean"
	case decimal.Decimal:
		return "decimal"
	case float32, float64:
		return "number"
	case time.Time:
		return "date"
	}
	if _, ok := asNum(v); ok {
		return "integer"
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map:
		return "record"
	}
	return "value"
}

// isNil is true for nil and for nil slices, maps and pointers.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Slice, reflect.Map, reflect.Pointer, reflect.Interface, reflect.Func, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

// truth is a condition's value: nil is false.
func truth(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case nil:
		return false, nil
	}
	if isNil(v) {
		return false, nil
	}
	return false, fmt.Errorf("a condition must be true or false, not %s", typeName(v))
}

// arith applies + - * / % to two values. nil in, nil out.
func arith(op string, a, b any) (any, error) {
	if isNil(a) || isNil(b) {
		return nil, nil
	}
	if sa, ok := a.(string); ok && op == "+" {
		if sb, ok := b.(string); ok {
			return sa + sb, nil
		}
	}
	x, okx := asNum(a)
	y, oky := asNum(b)
	if !okx || !oky {
		return nil, fmt.Errorf("cannot apply %s to %s and %s", op, typeName(a), typeName(b))
	}
	k := max(x.k, y.k)
	if k == nInt {
		i, j := x.i, y.i
		switch op {
		case "+":
			if s := i + j; (s > i) == (j > 0) {
				return s, nil
			}
		case "-":
			if s := i - j; (s < i) == (j > 0) {
				return s, nil
			}
		case "*":
			if i == 0 || j == 0 {
				return int64(0), nil
			}
			if s := i * j; s/j == i && !(i == -1 && j == math.MinInt64) && !(j == -1 && i == math.MinInt64) {
				return s, nil
			}
		case "%":
			if j == 0 {
				return nil, errors.New("division by zero")
			}
			return i % j, nil
		}
		// overflow, or a division: continue exactly in decimals
		k = nDec
	}
	if k == nFloat {
		i, j := x.float(), y.float()
		switch op {
		case "+":
			return checkFloat(i + j)
		case "-":
			return checkFloat(i - j)
		case "*":
			return checkFloat(i * j)
		case "/":
			if j == 0 {
				return nil, errors.New("division by zero")
			}
			return checkFloat(i / j)
		case "%":
			if j == 0 {
				return nil, errors.New("division by zero")
			}
			return checkFloat(math.Mod(i, j))
		}
		return nil, fmt.Errorf("unknown operator %s", op)
	}
	i, err := x.dec()
	if err != nil {
		return nil, err
	}
	j, err := y.dec()
	if err != nil {
		return nil, err
	}
	switch op {
	case "+":
		return checkDec(i.Add(j))
	case "-":
		return checkDec(i.Sub(j))
	case "*":
		return checkDec(i.Mul(j))
	case "/":
		if j.IsZero() {
			return nil, errors.New("division by zero")
		}
		q := i.DivRound(j, divisionPlaces)
		if q.IsInteger() && x.k == nInt && y.k == nInt {
			return q.IntPart(), nil
		}
		return checkDec(q)
	case "%":
		if j.IsZero() {
			return nil, errors.New("division by zero")
		}
		return checkDec(i.Mod(j))
	}
	return nil, fmt.Errorf("unknown operator %s", op)
}

// negate is unary minus. nil in, nil out.
func negate(a any) (any, error) {
	if isNil(a) {
		return nil, nil
	}
	x, ok := asNum(a)
	if !ok {
		return nil, fmt.Errorf("cannot negate %s", typeName(a))
	}
	switch x.k {
	case nInt:
		if x.i == math.MinInt64 {
			return decimal.NewFromInt(x.i).Neg(), nil
		}
		return -x.i, nil
	case nFloat:
		return -x.f, nil
	}
	return x.d.Neg(), nil
}

// plus is unary plus: numbers (and nil) only.
func plus(a any) (any, error) {
	if isNil(a) {
		return nil, nil
	}
	if _, ok := asNum(a); !ok {
		return nil, fmt.Errorf("%s is not a number", typeName(a))
	}
	return a, nil
}

// isMidnight reports whether t is a date: midnight in its own zone.
func isMidnight(t time.Time) bool {
	h, m, s := t.Clock()
	return h == 0 && m == 0 && s == 0 && t.Nanosecond() == 0
}

// civil is t's calendar date: its own for a date, in loc for a moment.
func civil(t time.Time, loc *time.Location) time.Time {
	if !isMidnight(t) {
		t = t.In(loc)
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// toTime reads a time.Time, an RFC 3339 string or a "YYYY-MM-DD" string
// (midnight in loc).
func toTime(v any, loc *time.Location) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		if t, err := time.ParseInLocation(time.DateOnly, x, loc); err == nil {
			return t, true
		}
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// compareTimes compares two dates by calendar day, anything else by
// instant.
func compareTimes(a, b time.Time, loc *time.Location) int {
	if isMidnight(a) && isMidnight(b) {
		return civil(a, loc).Compare(civil(b, loc))
	}
	return a.Compare(b)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpDecInt compares a decimal with an integer without allocating, when
// the decimal's coefficient fits in an int64 and its exponent is between
// -18 and 0 (money and decimal fields, compared with an integer literal in
// most conditions); ok is false otherwise.
func cmpDecInt(d decimal.Decimal, i int64) (c int, ok bool) {
	e := d.Exponent()
	if e > 0 || e < -18 || d.NumDigits() > 18 {
		return 0, false
	}
	coef := d.CoefficientInt64()
	p := int64(1)
	for range -e {
		p *= 10
	}
	whole, frac := coef/p, coef%p // both truncated toward zero
	if whole != i {
		return cmpInt(whole, i), true
	}
	switch {
	case frac > 0:
		return 1, true
	case frac < 0:
		return -1, true
	}
	return 0, true
}

// compare orders two non-nil values of comparable types.
func compare(a, b any, loc *time.Location) (int, error) {
	if x, ok := asNum(a); ok {
		if y, ok := asNum(b); ok {
			switch {
			case x.k == nInt && y.k == nInt:
				return cmpInt(x.i, y.i), nil
			case x.k == nDec && y.k == nInt:
				if c, ok := cmpDecInt(x.d, y.i); ok {
					return c, nil
				}
			case x.k == nInt && y.k == nDec:
				if c, ok := cmpDecInt(y.d, x.i); ok {
					return -c, nil
				}
			case x.k == nFloat && y.k == nFloat:
				if math.IsNaN(x.f) || math.IsNaN(y.f) {
					return 0, errors.New("cannot compare NaN")
				}
				switch {
				case x.f < y.f:
					return -1, nil
				case x.f > y.f:
					return 1, nil
				}
				return 0, nil
			}
			i, err := x.dec()
			if err != nil {
				return 0, err
			}
			j, err := y.dec()
			if err != nil {
				return 0, err
			}
			return i.Cmp(j), nil
		}
	}
	if sa, ok := a.(string); ok {
		if sb, ok := b.(string); ok {
			return strings.Compare(sa, sb), nil
		}
	}
	ta, aTime := a.(time.Time)
	tb, bTime := b.(time.Time)
	if aTime || bTime {
		if !aTime {
			ta, aTime = toTime(a, loc)
		}
		if !bTime {
			tb, bTime = toTime(b, loc)
		}
		if aTime && bTime {
			return compareTimes(ta, tb, loc), nil
		}
	}
	return 0, fmt.Errorf("cannot compare %s with %s", typeName(a), typeName(b))
}

// equal is == with the language's semantics: numbers by value, dates by
// day, lists and records element-wise, different types never equal.
func equal(a, b any, loc *time.Location) bool {
	an, bn := isNil(a), isNil(b)
	if an || bn {
		return an && bn
	}
	switch a.(type) {
	case bool:
		bb, ok := b.(bool)
		return ok && a.(bool) == bb
	case string:
		if sb, ok := b.(string); ok {
			return a.(string) == sb
		}
		if _, ok := b.(time.Time); !ok {
			return false
		}
	}
	_, aNum := asNum(a)
	_, bNum := asNum(b)
	_, aTime := a.(time.Time)
	_, bTime := b.(time.Time)
	if (aNum && bNum) || aTime || bTime {
		c, err := compare(a, b, loc)
		return err == nil && c == 0
	}
	if aNum || bNum {
		return false
	}
	ra, rb := reflect.ValueOf(a), reflect.ValueOf(b)
	switch {
	case isSeq(ra) && isSeq(rb):
		if ra.Len() != rb.Len() {
			return false
		}
		for i := range ra.Len() {
			if !equal(ra.Index(i).Interface(), rb.Index(i).Interface(), loc) {
				return false
			}
		}
		return true
	case ra.Kind() == reflect.Map && rb.Kind() == reflect.Map:
		if ra.Len() != rb.Len() || ra.Type().Key() != rb.Type().Key() {
			return false
		}
		it := ra.MapRange()
		for it.Next() {
			ov := rb.MapIndex(it.Key())
			if !ov.IsValid() || !equal(it.Value().Interface(), ov.Interface(), loc) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func isSeq(v reflect.Value) bool {
	return v.Kind() == reflect.Slice || v.Kind() == reflect.Array
}

// member is `x in coll`: list membership or a record's key.
func member(x, coll any, loc *time.Location) (bool, error) {
	if isNil(coll) {
		return false, nil
	}
	rv := reflect.ValueOf(coll)
	switch {
	case isSeq(rv) && rv.Type() != reflect.TypeOf([]byte(nil)):
		for i := range rv.Len() {
			if equal(x, rv.Index(i).Interface(), loc) {
				return true, nil
			}
		}
		return false, nil
	case rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String:
		s, ok := x.(string)
		if !ok {
			return false, nil
		}
		return rv.MapIndex(reflect.ValueOf(s).Convert(rv.Type().Key())).IsValid(), nil
	}
	return false, fmt.Errorf("in needs a list, not %s", typeName(coll))
}

// textOp is contains/startsWith/endsWith: case-insensitive on text (like
// the SQL filters), membership for contains on a list. nil gives false.
func textOp(op string, a, b any, loc *time.Location) (bool, error) {
	if isNil(a) || isNil(b) {
		return false, nil
	}
	if sa, ok := a.(string); ok {
		sb, ok := b.(string)
		if !ok {
			return false, fmt.Errorf("%s needs text, not %s", op, typeName(b))
		}
		sa, sb = strings.ToLower(sa), strings.ToLower(sb)
		switch op {
		case "startsWith":
			return strings.HasPrefix(sa, sb), nil
		case "endsWith":
			return strings.HasSuffix(sa, sb), nil
		}
		return strings.Contains(sa, sb), nil
	}
	if op == "contains" && isSeq(reflect.ValueOf(a)) {
		return member(b, a, loc)
	}
	return false, fmt.Errorf("%s needs text, not %s", op, typeName(a))
}

// get is member access obj.key / obj[key]. Nil-safe: a nil object or a
// missing key or index gives nil.
func get(obj, key any) (any, error) {
	if isNil(obj) {
		return nil, nil
	}
	if m, ok := obj.(map[string]any); ok {
		s, ok := key.(string)
		if !ok {
			return nil, fmt.Errorf("a record's field name must be text, not %s", typeName(key))
		}
		return m[s], nil
	}
	rv := reflect.ValueOf(obj)
	switch {
	case rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String:
		s, ok := key.(string)
		if !ok {
			return nil, fmt.Errorf("a record's field name must be text, not %s", typeName(key))
		}
		v := rv.MapIndex(reflect.ValueOf(s).Convert(rv.Type().Key()))
		if !v.IsValid() {
			return nil, nil
		}
		return v.Interface(), nil
	case isSeq(rv):
		i, ok := toInt64(key, false)
		if !ok {
			return nil, fmt.Errorf("a list index must be a whole number, not %s", typeName(key))
		}
		if i < 0 {
			i += int64(rv.Len())
		}
		if i < 0 || i >= int64(rv.Len()) {
			return nil, nil
		}
		return rv.Index(int(i)).Interface(), nil
	}
	if s, ok := key.(string); ok {
		return nil, fmt.Errorf("cannot read %s of %s", s, typeName(obj))
	}
	return nil, fmt.Errorf("cannot index %s", typeName(obj))
}

// Built-in functions.

func fnLen(x any) (any, error) {
	if isNil(x) {
		return int64(0), nil
	}
	if s, ok := x.(string); ok {
		return int64(utf8.RuneCountInString(s)), nil
	}
	rv := reflect.ValueOf(x)
	if isSeq(rv) || rv.Kind() == reflect.Map {
		return int64(rv.Len()), nil
	}
	return nil, fmt.Errorf("len needs text or a list, not %s", typeName(x))
}

func fnAbs(x any) (any, error) {
	if isNil(x) {
		return nil, nil
	}
	n, ok := asNum(x)
	if !ok {
		return nil, fmt.Errorf("abs needs a number, not %s", typeName(x))
	}
	switch n.k {
	case nInt:
		if n.i < 0 {
			return negate(n.i)
		}
		return n.i, nil
	case nFloat:
		return math.Abs(n.f), nil
	}
	return n.d.Abs(), nil
}

// fnRound rounds half away from zero (四舍五入) to places decimal places.
func fnRound(args ...any) (any, error) {
	if len(args) == 0 || len(args) > 2 {
		return nil, errors.New("round takes a number and optionally the decimal places")
	}
	places := int64(0)
	if len(args) == 2 {
		p, ok := toInt64(args[1], false)
		if !ok || p < -30 || p > 30 {
			return nil, errors.New("round's places must be a whole number between -30 and 30")
		}
		places = p
	}
	if isNil(args[0]) {
		return nil, nil
	}
	n, ok := asNum(args[0])
	if !ok {
		return nil, fmt.Errorf("round needs a number, not %s", typeName(args[0]))
	}
	switch n.k {
	case nInt:
		if places >= 0 {
			return n.i, nil
		}
		r := decimal.NewFromInt(n.i).Round(int32(places))
		if i, ok := toInt64(r, false); ok {
			return i, nil
		}
		return r, nil
	case nFloat:
		d, err := n.dec()
		if err != nil {
			return nil, err
		}
		f, _ := d.Round(int32(places)).Float64()
		return f, nil
	}
	return n.d.Round(int32(places)), nil
}

func fnFloorCeil(name string, x any) (any, error) {
	if isNil(x) {
		return nil, nil
	}
	n, ok := asNum(x)
	if !ok {
		return nil, fmt.Errorf("%s needs a number, not %s", name, typeName(x))
	}
	switch n.k {
	case nInt:
		return n.i, nil
	case nFloat:
		if name == "floor" {
			return math.Floor(n.f), nil
		}
		return math.Ceil(n.f), nil
	}
	if name == "floor" {
		return n.d.Floor(), nil
	}
	return n.d.Ceil(), nil
}

// fnMinMax is min/max over its arguments (or the one list argument),
// ignoring nils; all nil gives nil.
func fnMinMax(name string, loc *time.Location, args []any) (any, error) {
	if len(args) == 1 && !isNil(args[0]) {
		if rv := reflect.ValueOf(args[0]); isSeq(rv) {
			args = make([]any, rv.Len())
			for i := range args {
				args[i] = rv.Index(i).Interface()
			}
		}
	}
	var best any
	for _, a := range args {
		if isNil(a) {
			continue
		}
		if best == nil {
			best = a
			continue
		}
		c, err := compare(a, best, loc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if (name == "min" && c < 0) || (name == "max" && c > 0) {
			best = a
		}
	}
	return best, nil
}

func fnText(name string, x any) (any, error) {
	if isNil(x) {
		return nil, nil
	}
	s, ok := x.(string)
	if !ok {
		return nil, fmt.Errorf("%s needs text, not %s", name, typeName(x))
	}
	switch name {
	case "upper":
		return strings.ToUpper(s), nil
	case "lower":
		return strings.ToLower(s), nil
	}
	return strings.TrimSpace(s), nil
}

// fnString formats a value as text: numbers plainly, dates as
// YYYY-MM-DD, moments as RFC 3339 in loc. nil gives "".
func fnString(x any, loc *time.Location) (any, error) {
	if isNil(x) {
		return "", nil
	}
	switch v := x.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case time.Time:
		if isMidnight(v) {
			return v.Format(time.DateOnly), nil
		}
		return v.In(loc).Format(time.RFC3339), nil
	}
	if n, ok := asNum(x); ok {
		switch n.k {
		case nInt:
			return strconv.FormatInt(n.i, 10), nil
		case nFloat:
			return strconv.FormatFloat(n.f, 'f', -1, 64), nil
		}
		return n.d.String(), nil
	}
	return nil, fmt.Errorf("cannot turn %s into text", typeName(x))
}

func dateArg(name string, v any, loc *time.Location) (time.Time, error) {
	t, ok := toTime(v, loc)
	if !ok {
		return time.Time{}, fmt.Errorf("%s needs a date, not %s", name, typeName(v))
	}
	return t, nil
}

// fnDaysBetween is the number of calendar days from a to b.
func fnDaysBetween(a, b any, loc *time.Location) (any, error) {
	if isNil(a) || isNil(b) {
		return nil, nil
	}
	ta, err := dateArg("days_between", a, loc)
	if err != nil {
		return nil, err
	}
	tb, err := dateArg("days_between", b, loc)
	if err != nil {
		return nil, err
	}
	return int64(civil(tb, loc).Sub(civil(ta, loc)) / (24 * time.Hour)), nil
}

func fnAddDays(d, n any, loc *time.Location) (any, error) {
	if isNil(d) || isNil(n) {
		return nil, nil
	}
	t, err := dateArg("add_days", d, loc)
	if err != nil {
		return nil, err
	}
	days, ok := toInt64(n, false)
	if !ok || days < -1_000_000 || days > 1_000_000 {
		return nil, errors.New("add_days needs a whole number of days")
	}
	return t.AddDate(0, 0, int(days)), nil
}

func fnDatePart(name string, d any, loc *time.Location) (any, error) {
	if isNil(d) {
		return nil, nil
	}
	t, err := dateArg(name, d, loc)
	if err != nil {
		return nil, err
	}
	c := civil(t, loc)
	if name == "year" {
		return int64(c.Year()), nil
	}
	return int64(c.Month()), nil
}
