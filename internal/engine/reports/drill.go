package reports

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// MaxDrillParents bounds the grouped records a drill into related records
// names (a campaign table has tens of rows, not thousands).
const MaxDrillParents = 500

// DrillTarget is the list behind a cell: an entity and a filter.
type DrillTarget struct {
	Entity string `json:"entity"`
	Filter string `json:"filter"`
}

// Drill is the list of the records behind a cell as p sees it: keys are
// the row's dimension values as Run wrote them (fewer than the dimensions
// for a subtotal, none for a total), measure the column (-1: the rows
// behind the row, without any measure's condition).
func (s *Service) Drill(ctx context.Context, p *access.Principal, spec *Spec, prm Params, keys []any, measure int) (*DrillTarget, error) {
	pl, err := s.compile(spec, prm, false)
	if err != nil {
		return nil, err
	}
	if len(keys) > len(spec.Dimensions) {
		return nil, apperr.Invalid("report_bad_drill", "reason", "too many keys")
	}
	if measure >= len(spec.Measures) {
		return nil, apperr.Invalid("report_bad_drill", "reason", "no such measure")
	}
	parts := []string{pl.opts.Filter}
	for i, k := range keys {
		c, err := s.keyCondition(spec, spec.Dimensions[i], k)
		if err != nil {
			return nil, err
		}
		parts = append(parts, c)
	}
	var m *Measure
	for measure >= 0 {
		mm := spec.Measures[measure]
		if !mm.derived() {
			m = &mm
			break
		}
		measure = mm.Of[0] // a ratio's numerator, a growth's figure
	}
	if m == nil {
		return &DrillTarget{Entity: spec.Source, Filter: and(parts...)}, nil
	}
	if m.Via != "" {
		return s.drillVia(ctx, p, spec, *m, and(parts...))
	}
	parts = append(parts, m.Filter, durationSet(*m))
	switch m.Op {
	case records.AggAvg, records.AggMin, records.AggMax, records.AggCountDistinct:
		if m.Since == "" && m.Field != "" {
			parts = append(parts, m.Field+" != nil")
		}
	case records.AggCount:
		if m.Field != "" {
			parts = append(parts, m.Field+" != nil")
		}
	}
	return &DrillTarget{Entity: spec.Source, Filter: and(parts...)}, nil
}

// drillVia is the list of related records behind a measure over them:
// those linked to the grouped records the cell covers.
func (s *Service) drillVia(ctx context.Context, p *access.Principal, spec *Spec, m Measure, parentFilter string) (*DrillTarget, error) {
	entity, link, _ := strings.Cut(m.Via, ".")
	res, err := s.recs.List(ctx, p, spec.Source, records.ListOptions{Filter: parentFilter, Fields: []string{"id"}, Sort: "id", Page: 1, PerPage: MaxDrillParents})
	if err != nil {
		return nil, err
	}
	if res.Total > MaxDrillParents {
		return nil, apperr.Invalid("report_drill_too_wide", "max", MaxDrillParents)
	}
	ids := make([]string, len(res.Items))
	for i, r := range res.Items {
		ids[i] = strconv.FormatInt(r.ID(), 10)
	}
	return &DrillTarget{Entity: entity, Filter: and(link+" in ["+strings.Join(ids, ", ")+"]", m.Filter)}, nil
}

// keyCondition is the condition that a record falls in a dimension's group.
func (s *Service) keyCondition(spec *Spec, d Dimension, k any) (string, error) {
	if k == nil {
		return d.Field + " == nil", nil
	}
	bad := apperr.Invalid("report_bad_drill", "reason", "bad key for "+d.Field)
	if d.Bucket != "" {
		label, _ := k.(string)
		start, ok := bucketStart(d.Bucket, label)
		if !ok {
			return "", bad
		}
		end := bucketNext(d.Bucket, start)
		return d.Field + " >= " + strconv.Quote(start.Format(time.DateOnly)) + " && " + d.Field + " < " + strconv.Quote(end.Format(time.DateOnly)), nil
	}
	f, _ := s.fieldAt(spec.Source, d.Field)
	if f == nil {
		return "", bad
	}
	switch t := k.(type) {
	case bool:
		return d.Field + " == " + strconv.FormatBool(t), nil
	case float64:
		return d.Field + " == " + strconv.FormatFloat(t, 'f', -1, 64), nil
	case string:
		switch f.Type {
		case "link", "user", "department", "integer", "decimal", "money", "percent", "rating":
			if _, err := strconv.ParseFloat(t, 64); err != nil || strings.ContainsAny(t, "eE") {
				return "", bad
			}
			return d.Field + " == " + t, nil
		}
		if f.Name == "id" {
			if _, err := strconv.ParseInt(t, 10, 64); err != nil {
				return "", bad
			}
			return d.Field + " == " + t, nil
		}
		return d.Field + " == " + strconv.Quote(t), nil
	}
	return "", bad
}
