package importer

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// A cell becomes a value in the records API's input form here; validating
// it is the records service's job (the same normalisation and checks as
// any API input), so a value this file cannot read is passed on as the
// text it is and refused there with the usual field error. What this file
// does is read what spreadsheets hold: grouping separators and currency
// signs in numbers, 12.5% for a percent field, dates written 2026/11/22 or
// 2026年11月22日, 是/否 for booleans, option labels for option values,
// lists separated by commas or 、 and, through resolvers, linked records
// named by title.

// listSep splits multi_select, tags and multi_link cells.
var listSep = regexp.MustCompile(`[,，;；、|\n]+`)

// convert turns the text of a cell into input for a field of type typ
// (f is nil for owner). Link-like types are not handled here (see
// resolver).
func convert(typ string, f *meta.Field, cell string) any {
	s := strings.TrimSpace(cell)
	switch typ {
	case "integer", "rating":
		n := cleanNumber(s)
		if strings.HasSuffix(n, ".0") || strings.HasSuffix(n, ".00") {
			n = strings.TrimRight(strings.TrimRight(n, "0"), ".")
		}
		return n
	case "decimal", "money":
		n := cleanNumber(s)
		if p, ok := strings.CutSuffix(n, "%"); ok {
			if d, ok := meta.ParseDecimal(p); ok {
				return d.Shift(-2).String()
			}
		}
		return n
	case "percent":
		return strings.TrimSuffix(cleanNumber(s), "%")
	case "boolean":
		if b, ok := parseBool(s); ok {
			return b
		}
		return s
	case "date":
		if d, ok := parseDate(s); ok {
			return d
		}
		return s
	case "datetime":
		if t, ok := parseDateTime(s); ok {
			return t
		}
		return s
	case "time":
		if t, ok := parseClock(s); ok {
			return t
		}
		return s
	case "select":
		return option(f, s)
	case "multi_select", "tags":
		var out []any
		for _, part := range listSep.Split(s, -1) {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, option(f, part))
			}
		}
		return out
	case "json":
		var v any
		d := json.NewDecoder(bytes.NewReader([]byte(s)))
		d.UseNumber()
		if err := d.Decode(&v); err == nil && !d.More() {
			return v
		}
		return s
	case "address":
		return map[string]any{"detail": s}
	case "geo":
		parts := strings.Split(strings.NewReplacer("，", ",", " ", ",").Replace(s), ",")
		var nums []string
		for _, p := range parts {
			if p != "" {
				nums = append(nums, p)
			}
		}
		if len(nums) == 2 {
			return map[string]any{"lat": nums[0], "lng": nums[1]}
		}
		return s
	}
	return s
}

// cleanNumber folds full-width digits and drops grouping separators,
// spaces and currency signs: "￥1,234.50" → "1234.50".
func cleanNumber(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case ',', ' ', '\u00a0', '¥', '$', '€', '£', '\'':
			continue
		}
		b.WriteRune(r)
	}
	out := b.String()
	for _, p := range []string{"rmb", "RMB", "CNY", "cny", "元"} {
		out = strings.TrimSuffix(strings.TrimPrefix(out, p), p)
	}
	return out
}

// option returns the option a cell names: its value, or the value of the
// option whose value or zh-CN or English label it matches ignoring case,
// width and spaces. Anything else is returned as it is.
func option(f *meta.Field, s string) string {
	if f == nil || f.HasOption(s) || f.OptionsFrom != "" {
		return s
	}
	key := normalizeHeader(s)
	for _, o := range f.Options {
		if key == normalizeHeader(o.Value) || key == normalizeHeader(o.Label["zh-CN"]) || key == normalizeHeader(o.Label["en"]) {
			return o.Value
		}
	}
	return s
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(norm.NFKC.String(s)) {
	case "true", "yes", "y", "1", "是", "对", "有", "√", "✓", "✔", "on", "t":
		return true, true
	case "false", "no", "n", "0", "否", "不", "无", "×", "✗", "✘", "off", "f":
		return false, true
	}
	return false, false
}

var (
	dateYMD = regexp.MustCompile(`^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$`)
	dateCmp = regexp.MustCompile(`^(\d{4})(\d{2})(\d{2})$`)
	clockRe = regexp.MustCompile(`^(\d{1,2})\s*[:：时]\s*(\d{2})(?:\s*[:：分]\s*(\d{2})\s*秒?)?\s*分?$`)
)

// parseDate reads 2026-11-22, 2026/11/22, 2026.11.22, 2026年11月22日 and
// 20261122 (and a date with a time of day, whose time is dropped).
func parseDate(s string) (string, bool) {
	s = norm.NFKC.String(s)
	if i := strings.IndexAny(s, " T"); i > 0 {
		if _, ok := parseClock(strings.TrimSpace(s[i+1:])); ok {
			s = s[:i]
		}
	}
	m := dateYMD.FindStringSubmatch(s)
	if m == nil {
		m = dateCmp.FindStringSubmatch(s)
	}
	if m == nil {
		return "", false
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	d, _ := strconv.Atoi(m[3])
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != mo || t.Day() != d {
		return "", false
	}
	return t.Format(time.DateOnly), true
}

// parseClock reads 9:30, 09:30:15, 9时30分.
func parseClock(s string) (string, bool) {
	m := clockRe.FindStringSubmatch(norm.NFKC.String(s))
	if m == nil {
		return "", false
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	sec := 0
	if m[3] != "" {
		sec, _ = strconv.Atoi(m[3])
	}
	if h > 23 || mi > 59 || sec > 59 {
		return "", false
	}
	return time.Date(2000, 1, 1, h, mi, sec, 0, time.UTC).Format(time.TimeOnly), true
}

// parseDateTime reads RFC 3339, and a date with an optional time of day in
// Asia/Shanghai (how spreadsheets here write them).
func parseDateTime(s string) (string, bool) {
	s = strings.TrimSpace(norm.NFKC.String(s))
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.Format(time.RFC3339Nano), true
	}
	datePart, clock := s, "00:00:00"
	if i := strings.IndexAny(s, " T"); i > 0 {
		c, ok := parseClock(strings.TrimSpace(s[i+1:]))
		if !ok {
			return "", false
		}
		datePart, clock = s[:i], c
	}
	d, ok := parseDate(datePart)
	if !ok {
		return "", false
	}
	t, err := time.ParseInLocation(time.DateTime, d+" "+clock, meta.Shanghai)
	if err != nil {
		return "", false
	}
	return t.Format(time.RFC3339), true
}
