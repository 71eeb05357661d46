package sales

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
)

// Periods of the forecast and of targets.
const (
	PeriodMonth   = "month"
	PeriodQuarter = "quarter"
	PeriodYear    = "year"
)

// span is a range of days [From, To) in Asia/Shanghai.
type span struct{ From, To time.Time }

func (s span) fromDate() string { return s.From.Format(time.DateOnly) }
func (s span) toDate() string   { return s.To.Format(time.DateOnly) }

// datetimeFilter selects a datetime field within the span.
func (s span) datetimeFilter(field string) string {
	return field + " >= " + strconv.Quote(s.From.Format(time.RFC3339)) + " && " + field + " < " + strconv.Quote(s.To.Format(time.RFC3339))
}

// dateFilter selects a date field within the span.
func (s span) dateFilter(field string) string {
	return field + " >= " + strconv.Quote(s.fromDate()) + " && " + field + " < " + strconv.Quote(s.toDate())
}

func parseDay(s string) (time.Time, error) {
	return time.ParseInLocation(time.DateOnly, strings.TrimSpace(s), shanghai)
}

// periodRange is the span of the period starting on start; start must be
// the period's first day.
func periodRange(period, start string) (span, error) {
	t, err := parseDay(start)
	if err != nil {
		return span{}, apperr.Invalid("sales_period_start_invalid")
	}
	switch period {
	case PeriodMonth:
		if t.Day() == 1 {
			return span{t, t.AddDate(0, 1, 0)}, nil
		}
	case PeriodQuarter:
		if t.Day() == 1 && (t.Month()-1)%3 == 0 {
			return span{t, t.AddDate(0, 3, 0)}, nil
		}
	case PeriodYear:
		if t.Day() == 1 && t.Month() == 1 {
			return span{t, t.AddDate(1, 0, 0)}, nil
		}
	default:
		return span{}, apperr.Invalid("sales_period_invalid")
	}
	return span{}, apperr.Invalid("sales_period_start_invalid")
}

// periodStart is the first day of the period holding t.
func periodStart(period string, t time.Time) time.Time {
	t = t.In(shanghai)
	y, mo, _ := t.Date()
	switch period {
	case PeriodQuarter:
		mo = (mo-1)/3*3 + 1
	case PeriodYear:
		mo = 1
	}
	return time.Date(y, mo, 1, 0, 0, 0, 0, shanghai)
}

// periodLabel names the period holding a month ("2026-11", "2026-Q4",
// "2026").
func periodLabel(period string, t time.Time) string {
	switch period {
	case PeriodQuarter:
		return fmt.Sprintf("%d-Q%d", t.Year(), (int(t.Month())-1)/3+1)
	case PeriodYear:
		return strconv.Itoa(t.Year())
	}
	return t.Format("2006-01")
}

// step is the length of one period.
func step(period string, t time.Time) time.Time {
	switch period {
	case PeriodQuarter:
		return t.AddDate(0, 3, 0)
	case PeriodYear:
		return t.AddDate(1, 0, 0)
	}
	return t.AddDate(0, 1, 0)
}

// rangeOf reads from/to (dates; to exclusive) for a report: by default
// defFrom and defFrom plus defLen periods. Ranges over 5 years are
// refused.
func rangeOf(from, to string, defFrom time.Time, period string, defLen int) (span, error) {
	s := span{From: defFrom}
	var err error
	if strings.TrimSpace(from) != "" {
		if s.From, err = parseDay(from); err != nil {
			return span{}, apperr.Invalid("sales_bad_range")
		}
	}
	s.To = s.From
	for range defLen {
		s.To = step(period, s.To)
	}
	if strings.TrimSpace(to) != "" {
		if s.To, err = parseDay(to); err != nil {
			return span{}, apperr.Invalid("sales_bad_range")
		}
	}
	if !s.To.After(s.From) || s.To.After(s.From.AddDate(5, 0, 1)) {
		return span{}, apperr.Invalid("sales_bad_range")
	}
	return s, nil
}

// Fixed is a decimal written in the API's form: a string with a fixed
// number of decimals (money 2, days 1, ratios 4).
type Fixed struct {
	d     decimal.Decimal
	scale int32
}

// MarshalJSON writes the decimal as a string.
func (f Fixed) MarshalJSON() ([]byte, error) {
	return []byte(`"` + f.d.StringFixed(f.scale) + `"`), nil
}

// Decimal returns the value.
func (f Fixed) Decimal() decimal.Decimal { return f.d }

func money(d decimal.Decimal) *Fixed { return &Fixed{d, 2} }
