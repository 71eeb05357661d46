package lang

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
)

// Kind is the kind of a scalar value.
type Kind int

// The kinds of scalars.
const (
	KText Kind = iota
	KNumber
	KDate
	KDateTime
	KBool
)

// Scalar is one printable value of the view model: its default print form
// and what the format filters need.
type Scalar struct {
	Kind Kind
	// Text is how the value prints without a filter (a select option's
	// label, a number with its field's decimal places, a date YYYY-MM-DD).
	Text string
	// Raw is the stored form (a select option's value); the raw filter
	// prints it. Empty means Text.
	Raw string
	// Numbers: the value and the field's decimal places.
	Num   decimal.Decimal
	Scale int
	// Percent: Num is a percentage (13 means 13%).
	Percent bool
	// Money: Num is an amount in Currency (an ISO code; "" is CNY).
	Money    bool
	Currency string
	// Dates and datetimes.
	Time time.Time
	Bool bool
}

// Object is a record of the view model as the printing user may see it.
// Get returns a Scalar, an Object (a linked record), a []Object (sub-table
// rows) or nil (empty, hidden or unknown).
type Object interface {
	// Names lists every variable the object declares, visible or not, so
	// that a condition naming a field hidden from the user compiles (and
	// sees nil).
	Names() []string
	Get(ctx context.Context, name string) (any, error)
	// Env is the object's values for conditions: numbers as decimals or
	// int64, dates as time.Time, select fields by their stored value,
	// links by id, sub-tables as lists of maps.
	Env(ctx context.Context) (map[string]any, error)
	// Title is what the object prints as (a linked record's title).
	Title() string
}

// Map is a simple Object over a map of Scalars, Objects and lists (tests,
// and the page-header variables).
type Map map[string]any

// Names implements Object.
func (m Map) Names() []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Get implements Object.
func (m Map) Get(_ context.Context, name string) (any, error) { return m[name], nil }

// Env implements Object.
func (m Map) Env(ctx context.Context) (map[string]any, error) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case Scalar:
			out[k] = x.envValue()
		case []Object:
			rows := make([]any, len(x))
			for i, o := range x {
				env, err := o.Env(ctx)
				if err != nil {
					return nil, err
				}
				rows[i] = env
			}
			out[k] = rows
		case Object:
			out[k] = x.Title()
		}
	}
	return out, nil
}

// Title implements Object.
func (m Map) Title() string {
	if s, ok := m["name"].(Scalar); ok {
		return s.Text
	}
	return ""
}

// envValue is the scalar as conditions see it.
func (s Scalar) envValue() any {
	switch s.Kind {
	case KNumber:
		return s.Num
	case KDate, KDateTime:
		return s.Time
	case KBool:
		return s.Bool
	}
	if s.Raw != "" {
		return s.Raw
	}
	return s.Text
}
