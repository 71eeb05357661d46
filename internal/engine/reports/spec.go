package reports

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Chart types.
const (
	ChartTable   = "table"
	ChartPivot   = "pivot"
	ChartBar     = "bar"
	ChartLine    = "line"
	ChartArea    = "area"
	ChartPie     = "pie"
	ChartFunnel  = "funnel"
	ChartKPI     = "kpi"
	ChartGauge   = "gauge"
	ChartGantt   = "gantt"
	ChartHeatmap = "heatmap"
)

// Operations computed from other measures of the same row, after the query.
const (
	OpRatio   = "ratio"   // Of[0] / Of[1]
	OpCompare = "compare" // growth of Of[0] against the bucket Period earlier
)

// Comparison periods.
const (
	PeriodPrevious = "previous" // the bucket before (month-on-month for months)
	PeriodYear     = "year"     // the same bucket a year earlier
)

// Limits of a definition.
const (
	MaxDimensions = 3
	MaxMeasures   = 12
)

// Dimension is one grouping of a report.
type Dimension struct {
	Field  string                `json:"field"`
	Bucket string                `json:"bucket,omitempty"`
	Label  meta.Label            `json:"label,omitempty"`
	Values map[string]meta.Label `json:"values,omitempty"` // display labels of values (a text field's codes)
}

// Measure is one figure of a report: an aggregate (records.Measure), or a
// ratio or comparison of other measures. Factor multiplies the value
// (0.01 turns amount × probability into a weighted amount).
type Measure struct {
	Op     string     `json:"op"`
	Field  string     `json:"field,omitempty"`
	Times  string     `json:"times,omitempty"`
	Since  string     `json:"since,omitempty"`
	Unit   string     `json:"unit,omitempty"`
	Filter string     `json:"filter,omitempty"`
	Via    string     `json:"via,omitempty"`
	Of     []int      `json:"of,omitempty"`
	Period string     `json:"period,omitempty"`
	Factor string     `json:"factor,omitempty"`
	Format string     `json:"format,omitempty"` // number (default), money, percent, duration
	Hidden bool       `json:"hidden,omitempty"` // computed for ratios but not shown
	Label  meta.Label `json:"label,omitempty"`
}

// derived reports whether the measure is computed from other measures.
func (m Measure) derived() bool { return m.Op == OpRatio || m.Op == OpCompare }

// Sort orders a report by one output column: "d0", "d1"… or "m0", "m1"….
type Sort struct {
	Column string `json:"column"`
	Desc   bool   `json:"desc,omitempty"`
}

// Spec is a report definition: what the records of reports hold.
type Spec struct {
	ID           int64          `json:"id,string,omitempty"`
	Name         string         `json:"name"`
	NameEn       string         `json:"name_en,omitempty"`
	Source       string         `json:"source"`
	Dimensions   []Dimension    `json:"dimensions"`
	Measures     []Measure      `json:"measures"`
	Filter       string         `json:"filter,omitempty"`
	Sort         []Sort         `json:"sort,omitempty"`
	Limit        int            `json:"row_limit,omitempty"`
	DateField    string         `json:"date_field,omitempty"`
	Chart        string         `json:"chart"`
	ChartOptions map[string]any `json:"chart_options,omitempty"`
}

// SpecOf reads a report record.
func SpecOf(rec records.Record) (*Spec, error) {
	s := &Spec{ID: rec.ID(), Name: str(rec["name"]), NameEn: str(rec["name_en"]), Source: str(rec["source"]),
		Filter: str(rec["filter"]), DateField: str(rec["date_field"]), Chart: str(rec["chart"])}
	if n, ok := rec["row_limit"].(int64); ok {
		s.Limit = int(n)
	}
	for _, f := range []struct {
		name string
		into any
	}{{"dimensions", &s.Dimensions}, {"measures", &s.Measures}, {"sort", &s.Sort}, {"chart_options", &s.ChartOptions}} {
		if err := decodeJSON(rec[f.name], f.into); err != nil {
			return nil, apperr.Fields(apperr.Field(f.name, "report_bad_json"))
		}
	}
	return s, nil
}

// decodeJSON reads a json field's value (decoded already, or raw) into v.
func decodeJSON(x any, v any) error {
	if x == nil {
		return nil
	}
	var b []byte
	switch t := x.(type) {
	case json.RawMessage:
		b = t
	case []byte:
		b = t
	case string:
		b = []byte(t)
	default:
		var err error
		if b, err = json.Marshal(t); err != nil {
			return err
		}
	}
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func str(x any) string { s, _ := x.(string); return s }

// columnIndex reads "d1" / "m0" as an output column of the query
// (dimensions first, then the query's measures). Derived measures are not
// sortable in SQL.
func (s *Spec) columnIndex(c string, sqlIndex []int) (int, bool) {
	if len(c) < 2 {
		return 0, false
	}
	n, err := strconv.Atoi(c[1:])
	if err != nil || n < 0 {
		return 0, false
	}
	switch c[0] {
	case 'd':
		return n, n < len(s.Dimensions)
	case 'm':
		if n >= len(s.Measures) || sqlIndex[n] < 0 {
			return 0, false
		}
		return len(s.Dimensions) + sqlIndex[n], true
	}
	return 0, false
}

// check validates the shape of a definition (what compiling it cannot
// tell): sizes, chart, references between measures, comparisons over a
// bucketed first dimension.
func (s *Spec) check() error {
	var errs []apperr.FieldError
	bad := func(field, code string, kv ...any) { errs = append(errs, apperr.Field(field, code, kv...)) }
	if s.Source == "" {
		bad("source", "required")
	}
	if len(s.Dimensions) > MaxDimensions {
		bad("dimensions", "report_too_many", "max", MaxDimensions)
	}
	if len(s.Measures) == 0 && s.Chart != ChartTable && s.Chart != ChartGantt {
		bad("measures", "report_no_measure")
	}
	if len(s.Measures) > MaxMeasures {
		bad("measures", "report_too_many", "max", MaxMeasures)
	}
	switch s.Chart {
	case ChartTable, ChartPivot, ChartBar, ChartLine, ChartArea, ChartPie, ChartFunnel, ChartKPI, ChartGauge, ChartGantt, ChartHeatmap:
	default:
		bad("chart", "invalid_option", "value", s.Chart)
	}
	if s.Chart == ChartHeatmap || s.Chart == ChartPivot {
		if len(s.Dimensions) != 2 {
			bad("dimensions", "report_needs_two_dimensions")
		}
	}
	for i, m := range s.Measures {
		if !m.derived() {
			if len(m.Of) > 0 || m.Period != "" {
				bad("measures", "report_bad_measure", "index", i)
			}
			continue
		}
		want := 2
		if m.Op == OpCompare {
			want = 1
			if m.Period != PeriodPrevious && m.Period != PeriodYear {
				bad("measures", "report_bad_measure", "index", i)
			}
			if len(s.Dimensions) == 0 || s.Dimensions[0].Bucket == "" {
				bad("measures", "report_compare_needs_bucket", "index", i)
			}
		}
		if len(m.Of) != want {
			bad("measures", "report_bad_measure", "index", i)
			continue
		}
		for _, j := range m.Of {
			if j < 0 || j >= len(s.Measures) || s.Measures[j].derived() {
				bad("measures", "report_bad_measure", "index", i)
			}
		}
	}
	if s.Limit < 0 || s.Limit > records.MaxAggregateGroups {
		bad("limit", "report_bad_limit")
	}
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	return nil
}
