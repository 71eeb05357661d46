package lang

import (
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// The format filters and whether their argument is required, optional or
// refused.
const (
	argNone = iota
	argOptional
	argRequired
)

var filters = map[string]int{
	"number":   argOptional, // number:2 — decimals (default: the field's; auto: no trailing zeros), thousands separators
	"money":    argOptional, // money, money:USD, money:code
	"percent":  argOptional, // percent:1
	"date":     argOptional, // date, date:cn, date:"YYYY/MM/DD"
	"datetime": argOptional, // datetime, datetime:cn
	"capital":  argNone,     // 壹万贰仟…元整
	"default":  argRequired, // default:"—" when empty
	"raw":      argNone,     // the stored value (a select option's value)
	"upper":    argNone,
	"lower":    argNone,
}

// checkFilter validates a filter and its argument at parse time.
func checkFilter(f Filter) *Error {
	want, ok := filters[f.Name]
	if !ok {
		return errAt(Pos{}, "print_err_unknown_filter", "filter", f.Name)
	}
	switch {
	case want == argNone && f.HasArg, want == argRequired && !f.HasArg:
		return errAt(Pos{}, "print_err_filter_arg", "filter", f.Name, "arg", f.Arg)
	}
	if f.HasArg {
		switch f.Name {
		case "number", "percent":
			if n, err := strconv.Atoi(f.Arg); (err != nil || n < 0 || n > 6) && !(f.Name == "number" && f.Arg == "auto") {
				return errAt(Pos{}, "print_err_filter_arg", "filter", f.Name, "arg", f.Arg)
			}
		case "money":
			if f.Arg != "code" && (len(f.Arg) != 3 || strings.ToUpper(f.Arg) != f.Arg) {
				return errAt(Pos{}, "print_err_filter_arg", "filter", f.Name, "arg", f.Arg)
			}
		case "date", "datetime":
			if f.Arg == "" || len(f.Arg) > 40 {
				return errAt(Pos{}, "print_err_filter_arg", "filter", f.Name, "arg", f.Arg)
			}
		}
	}
	return nil
}

// currencySymbols are the symbols money prints before an amount.
var currencySymbols = map[string]string{"CNY": "¥", "USD": "$", "EUR": "€", "JPY": "JP¥", "HKD": "HK$", "GBP": "£"}

// format applies the filters to a value (a Scalar, or nil for empty).
func format(v Scalar, empty bool, fs []Filter, currency string) string {
	if len(fs) == 0 {
		return v.Text
	}
	out := v.Text
	for _, f := range fs {
		switch f.Name {
		case "default":
			if empty || out == "" {
				out = f.Arg
			}
			continue
		case "upper":
			out = strings.ToUpper(out)
			continue
		case "lower":
			out = strings.ToLower(out)
			continue
		}
		if empty {
			continue
		}
		switch f.Name {
		case "raw":
			if v.Raw != "" {
				out = v.Raw
			}
		case "number":
			if v.Kind == KNumber && f.Arg == "auto" {
				out = Grouped(v.Num, int(max(0, -v.Num.Exponent())))
				if strings.Contains(out, ".") {
					out = strings.TrimRight(strings.TrimRight(out, "0"), ".")
				}
			} else if v.Kind == KNumber {
				out = Grouped(v.Num, scaleArg(f, v.Scale))
			}
		case "percent":
			if v.Kind == KNumber {
				n := v.Num
				if !v.Percent {
					n = n.Mul(decimal.NewFromInt(100))
				}
				out = n.StringFixed(int32(scaleArg(f, min(v.Scale, 2)))) + "%"
			}
		case "money":
			if v.Kind == KNumber {
				out = moneyText(v, f, currency)
			}
		case "capital":
			if v.Kind == KNumber {
				out = Capital(v.Num)
			}
		case "date", "datetime":
			if v.Kind == KDate || v.Kind == KDateTime {
				out = formatTime(v.Time, f)
			}
		}
	}
	return out
}

func scaleArg(f Filter, def int) int {
	if f.HasArg {
		n, _ := strconv.Atoi(f.Arg)
		return n
	}
	return def
}

func moneyText(v Scalar, f Filter, currency string) string {
	code := v.Currency
	if code == "" {
		code = currency
	}
	if f.HasArg && f.Arg != "code" {
		code = f.Arg
	}
	if code == "" {
		code = "CNY"
	}
	scale := 2
	if code == "JPY" {
		scale = 0
	}
	n := Grouped(v.Num, scale)
	if f.Arg == "code" {
		return code + " " + n
	}
	sym, ok := currencySymbols[code]
	if !ok {
		return code + " " + n
	}
	if strings.HasPrefix(n, "-") {
		return "-" + sym + n[1:]
	}
	return sym + n
}

// Grouped writes d with scale decimals and thousands separators.
func Grouped(d decimal.Decimal, scale int) string {
	s := d.StringFixed(int32(scale))
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

// formatTime writes a date or datetime by a pattern: YYYY, MM (two
// digits), M, DD, D, HH, mm, ss; "cn" is YYYY年M月D日 (and HH:mm for
// datetimes); the default YYYY-MM-DD (HH:mm).
func formatTime(t time.Time, f Filter) string {
	pattern := "YYYY-MM-DD"
	if f.Name == "datetime" {
		pattern = "YYYY-MM-DD HH:mm"
	}
	switch {
	case f.Arg == "cn" && f.Name == "date":
		pattern = "YYYY年M月D日"
	case f.Arg == "cn":
		pattern = "YYYY年M月D日 HH:mm"
	case f.HasArg:
		pattern = f.Arg
	}
	two := func(n int) string { return strconv.Itoa(n/10) + strconv.Itoa(n%10) }
	r := strings.NewReplacer("YYYY", strconv.Itoa(t.Year()), "MM", two(int(t.Month())), "M", strconv.Itoa(int(t.Month())),
		"DD", two(t.Day()), "D", strconv.Itoa(t.Day()), "HH", two(t.Hour()), "mm", two(t.Minute()), "ss", two(t.Second()))
	return r.Replace(pattern)
}
