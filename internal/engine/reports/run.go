package reports

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Params are a dashboard's shared filters, applied to each report whose
// source has the field: the date range to the report's date field (From
// and To inclusive, days in Asia/Shanghai), the region, owner and product
// line to the source's fields of those names.
type Params struct {
	From        string `json:"from,omitempty"`
	To          string `json:"to,omitempty"`
	Region      string `json:"region,omitempty"`
	Owner       int64  `json:"owner,string,omitempty"`
	ProductLine string `json:"product_line,omitempty"`
}

// Column describes one column of a result: a dimension (d0…) or a measure
// (m0…).
type Column struct {
	Key    string `json:"key"`
	Label  string `json:"label"`
	Role   string `json:"role"` // dimension or measure
	Field  string `json:"field,omitempty"`
	Type   string `json:"type,omitempty"` // a dimension's field type
	Bucket string `json:"bucket,omitempty"`
	Op     string `json:"op,omitempty"`
	Format string `json:"format,omitempty"`
	Unit   string `json:"unit,omitempty"`
	Hidden bool   `json:"hidden,omitempty"`
}

// Result is a report as one caller sees it.
type Result struct {
	Report       string                       `json:"report,omitempty"`
	Name         string                       `json:"name"`
	Source       string                       `json:"source"`
	Chart        string                       `json:"chart"`
	ChartOptions map[string]any               `json:"chart_options,omitempty"`
	Columns      []Column                     `json:"columns"`
	Rows         [][]any                      `json:"rows"`
	Totals       []any                        `json:"totals"`
	Labels       map[string]map[string]string `json:"labels"`
	Applied      []string                     `json:"applied"`
	Truncated    bool                         `json:"truncated"`
}

// plan is a spec compiled for the records service.
type plan struct {
	spec     *Spec
	opts     records.AggregateOptions
	sqlIndex []int // spec measure → records measure (-1 for derived)
	helper   []int // spec measure → records measure counting its values (avg totals), or -1
	from     string
	applied  []string
}

// compile turns the spec and the shared filters into one aggregate. With
// widen, a comparison's earlier buckets are queried too (Run drops them).
func (s *Service) compile(spec *Spec, prm Params, widen bool) (*plan, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	e, ok := s.recs.Registry().Get(spec.Source)
	if !ok {
		return nil, apperr.Fields(apperr.Field("source", "invalid_option", "value", spec.Source))
	}
	pl := &plan{spec: spec, sqlIndex: make([]int, len(spec.Measures)), helper: make([]int, len(spec.Measures))}
	for _, d := range spec.Dimensions {
		pl.opts.GroupBy = append(pl.opts.GroupBy, records.GroupBy{Field: d.Field, Bucket: d.Bucket})
	}
	for i, m := range spec.Measures {
		pl.helper[i] = -1
		if m.derived() {
			pl.sqlIndex[i] = -1
			continue
		}
		pl.sqlIndex[i] = len(pl.opts.Measures)
		pl.opts.Measures = append(pl.opts.Measures, records.Measure{Op: m.Op, Field: m.Field, Times: m.Times, Since: m.Since, Unit: m.Unit, Filter: m.Filter, Via: m.Via})
	}
	for i, m := range spec.Measures {
		if m.Op == records.AggAvg {
			pl.helper[i] = len(pl.opts.Measures)
			f := m.Field
			if m.Since != "" {
				f = ""
			}
			pl.opts.Measures = append(pl.opts.Measures, records.Measure{Op: records.AggCount, Field: f, Filter: and(m.Filter, durationSet(m))})
		}
	}
	for _, so := range spec.Sort {
		c, ok := spec.columnIndex(so.Column, pl.sqlIndex)
		if !ok {
			return nil, apperr.Fields(apperr.Field("sort", "report_bad_sort", "column", so.Column))
		}
		pl.opts.Sort = append(pl.opts.Sort, records.AggSort{Column: c, Desc: so.Desc})
	}
	pl.opts.Limit = spec.Limit
	filters := []string{spec.Filter}
	from := prm.From
	if widen && from != "" && spec.DateField != "" && len(spec.Dimensions) > 0 && spec.Dimensions[0].Field == spec.DateField {
		// Comparisons need the buckets before the range: the query starts
		// a year (or a bucket) earlier, and those rows are dropped after.
		for _, m := range spec.Measures {
			if m.Op != OpCompare {
				continue
			}
			if t, err := time.Parse(time.DateOnly, from); err == nil {
				earlier := shiftBucket(spec.Dimensions[0].Bucket, bucketStartOf(spec.Dimensions[0].Bucket, t), m.Period)
				if q := earlier.Format(time.DateOnly); q < from {
					pl.from, from = prm.From, q
				}
			}
		}
	}
	pf, applied, err := paramFilter(e, spec.DateField, Params{From: from, To: prm.To, Region: prm.Region, Owner: prm.Owner, ProductLine: prm.ProductLine})
	if err != nil {
		return nil, err
	}
	pl.applied = applied
	pl.opts.Filter = and(append(filters, pf)...)
	return pl, nil
}

// durationSet is the condition that a duration measure's fields are set.
func durationSet(m Measure) string {
	if m.Since == "" {
		return ""
	}
	return m.Field + " != nil && " + m.Since + " != nil"
}

// paramFilter is the filter of the shared filters that apply to the
// entity, and which of them apply.
func paramFilter(e *meta.Entity, dateField string, prm Params) (string, []string, error) {
	var parts []string
	applied := []string{}
	if prm.From != "" || prm.To != "" {
		if dateField != "" {
			applied = append(applied, "date")
			if prm.From != "" {
				if _, err := time.Parse(time.DateOnly, prm.From); err != nil {
					return "", nil, apperr.Invalid("report_bad_param", "name", "from")
				}
				parts = append(parts, dateField+" >= "+strconv.Quote(prm.From))
			}
			if prm.To != "" {
				t, err := time.Parse(time.DateOnly, prm.To)
				if err != nil {
					return "", nil, apperr.Invalid("report_bad_param", "name", "to")
				}
				parts = append(parts, dateField+" < "+strconv.Quote(t.AddDate(0, 0, 1).Format(time.DateOnly)))
			}
		}
	}
	if prm.Region != "" && e.Field("region") != nil {
		applied = append(applied, "region")
		parts = append(parts, "region == "+strconv.Quote(prm.Region))
	}
	if prm.Owner != 0 {
		applied = append(applied, "owner")
		parts = append(parts, "owner == "+strconv.FormatInt(prm.Owner, 10))
	}
	if prm.ProductLine != "" && e.Field("product_line") != nil {
		applied = append(applied, "product_line")
		parts = append(parts, "product_line == "+strconv.Quote(prm.ProductLine))
	}
	return and(parts...), applied, nil
}

// and joins conditions with &&, each in parentheses.
func and(parts ...string) string {
	var out []string
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			out = append(out, "("+p+")")
		}
	}
	return strings.Join(out, " && ")
}

// Run computes a report as p sees it: one query under p's data scope and
// field rights, then ratios, comparisons, totals and labels.
func (s *Service) Run(ctx context.Context, p *access.Principal, spec *Spec, prm Params, lang string) (*Result, error) {
	pl, err := s.compile(spec, prm, true)
	if err != nil {
		return nil, err
	}
	rows, err := s.recs.Aggregate(ctx, p, spec.Source, pl.opts)
	if err != nil {
		return nil, err
	}
	res := &Result{Name: spec.label(lang), Source: spec.Source, Chart: spec.Chart, ChartOptions: spec.ChartOptions,
		Rows: [][]any{}, Labels: map[string]map[string]string{}, Applied: pl.applied}
	if spec.ID != 0 {
		res.Report = strconv.FormatInt(spec.ID, 10)
	}
	res.Columns = s.columns(spec, lang)
	vals := s.values(pl, rows)
	nd := len(spec.Dimensions)
	for ri, r := range rows {
		if pl.from != "" && nd > 0 {
			if k, _ := r.Keys[0].(string); k != "" && k < bucketLabel(spec.Dimensions[0].Bucket, mustDay(pl.from)) {
				continue
			}
		}
		out := make([]any, 0, nd+len(spec.Measures))
		for _, k := range r.Keys {
			out = append(out, keyJSON(k))
		}
		for i, m := range spec.Measures {
			if j := pl.sqlIndex[i]; j >= 0 && r.Raw != nil && r.Raw[j] != nil {
				out = append(out, keyJSON(r.Raw[j])) // a date's min or max
				continue
			}
			out = append(out, figure(m, vals[ri][i]))
		}
		res.Rows = append(res.Rows, out)
	}
	res.Truncated = spec.Limit > 0 && len(rows) >= spec.Limit
	res.Totals = s.totals(pl, rows, vals)
	if err := s.labels(ctx, p, spec, rows, res, lang); err != nil {
		return nil, err
	}
	return res, nil
}

// value is one computed figure: nil when undefined or not visible.
type value = *decimal.Decimal

// values computes every measure of every row, derived ones included.
func (s *Service) values(pl *plan, rows []records.AggregateRow) [][]value {
	spec := pl.spec
	out := make([][]value, len(rows))
	index := map[string]int{} // the row's keys → row, for comparisons
	for ri, r := range rows {
		out[ri] = make([]value, len(spec.Measures))
		for i, m := range spec.Measures {
			j := pl.sqlIndex[i]
			if j < 0 || r.Null[j] {
				continue
			}
			if r.Raw != nil && r.Raw[j] != nil {
				continue // a date's min or max: written from Raw
			}
			v := r.Values[j]
			if m.Factor != "" {
				if f, err := decimal.NewFromString(m.Factor); err == nil {
					v = v.Mul(f)
				}
			}
			out[ri][i] = &v
		}
		index[rowKey(r.Keys)] = ri
	}
	for ri, r := range rows {
		for i, m := range spec.Measures {
			switch m.Op {
			case OpRatio:
				out[ri][i] = ratio(out[ri][m.Of[0]], out[ri][m.Of[1]])
			case OpCompare:
				keys := append([]any{}, r.Keys...)
				label, _ := keys[0].(string)
				start, ok := bucketStart(spec.Dimensions[0].Bucket, label)
				if !ok {
					continue
				}
				keys[0] = bucketLabel(spec.Dimensions[0].Bucket, shiftBucket(spec.Dimensions[0].Bucket, start, m.Period))
				pj, ok := index[rowKey(keys)]
				if !ok {
					continue
				}
				cur, prev := out[ri][m.Of[0]], out[pj][m.Of[0]]
				if cur == nil || prev == nil || prev.IsZero() {
					continue
				}
				g := cur.Sub(*prev).DivRound(prev.Abs(), 6)
				out[ri][i] = &g
			}
		}
	}
	return out
}

// rowKey is a map key for a row's keys.
func rowKey(keys []any) string {
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(keyText(k))
		b.WriteByte(0)
	}
	return b.String()
}

// ratio is a / b, nil when either is unknown or b is zero.
func ratio(a, b value) value {
	if a == nil || b == nil || b.IsZero() {
		return nil
	}
	r := a.DivRound(*b, 6)
	return &r
}

// places is how many decimals a measure's figure has.
func places(m Measure) int32 {
	switch m.Op {
	case records.AggCount, records.AggCountDistinct:
		if m.Factor == "" {
			return 0
		}
	case OpRatio, OpCompare:
		return 4
	}
	return 2
}

// figure is a measure's value as JSON: a decimal string, or nil.
func figure(m Measure, v value) any {
	if v == nil {
		return nil
	}
	return v.StringFixed(places(m))
}

// totals sums the rows: counts and sums add up, an average is weighted by
// its count, min and max are the rows' min and max, ratios are the ratio of
// the totals; distinct counts and comparisons have no total.
func (s *Service) totals(pl *plan, rows []records.AggregateRow, vals [][]value) []any {
	spec := pl.spec
	nd := len(spec.Dimensions)
	out := make([]any, nd+len(spec.Measures))
	tot := make([]value, len(spec.Measures))
	for i, m := range spec.Measures {
		var acc *decimal.Decimal
		var weight decimal.Decimal
		for ri := range rows {
			if pl.from != "" && nd > 0 {
				if k, _ := rows[ri].Keys[0].(string); k != "" && k < bucketLabel(spec.Dimensions[0].Bucket, mustDay(pl.from)) {
					continue
				}
			}
			v := vals[ri][i]
			if v == nil {
				continue
			}
			switch m.Op {
			case records.AggCount, records.AggSum, records.AggSumProduct:
				if acc == nil {
					acc = &decimal.Decimal{}
				}
				*acc = acc.Add(*v)
			case records.AggAvg:
				n := rows[ri].Values[pl.helper[i]]
				if acc == nil {
					acc = &decimal.Decimal{}
				}
				*acc = acc.Add(v.Mul(n))
				weight = weight.Add(n)
			case records.AggMin:
				if acc == nil || v.LessThan(*acc) {
					c := *v
					acc = &c
				}
			case records.AggMax:
				if acc == nil || v.GreaterThan(*acc) {
					c := *v
					acc = &c
				}
			}
		}
		if m.Op == records.AggAvg {
			if weight.IsZero() {
				acc = nil
			} else {
				a := acc.Div(weight)
				acc = &a
			}
		}
		if (m.Op == records.AggCount || m.Op == records.AggSum || m.Op == records.AggSumProduct) && acc == nil {
			acc = &decimal.Decimal{}
		}
		tot[i] = acc
	}
	for i, m := range spec.Measures {
		if m.Op == OpRatio {
			tot[i] = ratio(tot[m.Of[0]], tot[m.Of[1]])
		}
		out[nd+i] = figure(m, tot[i])
	}
	return out
}

// label is the report's name in lang.
func (s *Spec) label(lang string) string {
	if lang == "en" && s.NameEn != "" {
		return s.NameEn
	}
	return s.Name
}

// columns describes the result's columns in lang.
func (s *Service) columns(spec *Spec, lang string) []Column {
	var cols []Column
	for i, d := range spec.Dimensions {
		c := Column{Key: "d" + strconv.Itoa(i), Role: "dimension", Field: d.Field, Bucket: d.Bucket}
		f, _ := s.fieldAt(spec.Source, d.Field)
		if f != nil {
			c.Type = f.Type
		}
		c.Label = d.Label.Get(lang, s.fieldLabel(spec.Source, d.Field, lang))
		cols = append(cols, c)
	}
	for i, m := range spec.Measures {
		c := Column{Key: "m" + strconv.Itoa(i), Role: "measure", Op: m.Op, Format: m.Format, Unit: m.Unit, Hidden: m.Hidden, Field: m.Field}
		c.Label = m.Label.Get(lang, s.measureLabel(spec, m, lang))
		cols = append(cols, c)
	}
	return cols
}

// measureLabel is a measure's default label ("求和：金额").
func (s *Service) measureLabel(spec *Spec, m Measure, lang string) string {
	op := opLabels[m.Op]
	name := op.Get(lang, m.Op)
	if m.Field == "" {
		return name
	}
	src := spec.Source
	if m.Via != "" {
		src, _, _ = strings.Cut(m.Via, ".")
	}
	return name + " · " + s.fieldLabel(src, m.Field, lang)
}

var opLabels = map[string]meta.Label{
	records.AggCount:         {"zh-CN": "计数", "en": "Count"},
	records.AggSum:           {"zh-CN": "求和", "en": "Sum"},
	records.AggSumProduct:    {"zh-CN": "乘积求和", "en": "Sum of products"},
	records.AggAvg:           {"zh-CN": "平均", "en": "Average"},
	records.AggMin:           {"zh-CN": "最小", "en": "Min"},
	records.AggMax:           {"zh-CN": "最大", "en": "Max"},
	records.AggCountDistinct: {"zh-CN": "去重计数", "en": "Distinct count"},
	OpRatio:                  {"zh-CN": "比率", "en": "Ratio"},
	OpCompare:                {"zh-CN": "增长", "en": "Growth"},
}

// systemFields are the fields every record has, as a dimension sees them.
var systemFields = map[string]*meta.Field{
	"id":         {Name: "id", Type: "integer", Label: meta.Label{"zh-CN": "编号", "en": "ID"}},
	"owner":      {Name: "owner", Type: "user", Label: meta.Label{"zh-CN": "负责人", "en": "Owner"}},
	"created_by": {Name: "created_by", Type: "user", Label: meta.Label{"zh-CN": "创建人", "en": "Created by"}},
	"created_at": {Name: "created_at", Type: "datetime", Label: meta.Label{"zh-CN": "创建时间", "en": "Created at"}},
	"updated_at": {Name: "updated_at", Type: "datetime", Label: meta.Label{"zh-CN": "更新时间", "en": "Updated at"}},
}

// fieldAt resolves a field or a link path of an entity to its definition
// and the entity that holds it.
func (s *Service) fieldAt(entity, path string) (*meta.Field, string) {
	parts := strings.Split(path, ".")
	for i, name := range parts {
		e, ok := s.recs.Registry().Get(entity)
		if !ok {
			return nil, ""
		}
		f := e.Field(name)
		if f == nil {
			f = systemFields[name]
		}
		if f == nil {
			return nil, ""
		}
		if i == len(parts)-1 {
			return f, entity
		}
		entity = f.LinkTarget()
	}
	return nil, ""
}

// fieldLabel is a field's label in lang ("客户 · 区域" for a path).
func (s *Service) fieldLabel(entity, path string, lang string) string {
	parts := strings.Split(path, ".")
	var out []string
	for i := range parts {
		f, _ := s.fieldAt(entity, strings.Join(parts[:i+1], "."))
		if f == nil {
			return path
		}
		out = append(out, f.Label.Get(lang, f.Name))
	}
	return strings.Join(out, " · ")
}

// labels fills the display labels of dimension values: select options in
// lang, the titles of linked records p may read.
func (s *Service) labels(ctx context.Context, p *access.Principal, spec *Spec, rows []records.AggregateRow, res *Result, lang string) error {
	for i, d := range spec.Dimensions {
		if d.Bucket != "" {
			continue
		}
		f, _ := s.fieldAt(spec.Source, d.Field)
		if f == nil {
			continue
		}
		m := map[string]string{}
		switch {
		case len(d.Values) > 0:
		case len(f.Options) > 0:
			for _, o := range f.Options {
				m[o.Value] = o.Label.Get(lang, o.Value)
			}
		case f.LinkTarget() != "":
			var ids []int64
			seen := map[int64]bool{}
			for _, r := range rows {
				if id, ok := r.Keys[i].(int64); ok && !seen[id] {
					seen[id] = true
					ids = append(ids, id)
				}
			}
			sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
			if len(ids) > 0 {
				titles, err := s.recs.Titles(ctx, p, f.LinkTarget(), ids)
				if err != nil {
					if ae, ok := apperr.As(err); ok && (ae.Kind == apperr.ErrForbidden || ae.Kind == apperr.ErrNotFound) {
						continue
					}
					return err
				}
				for id, t := range titles {
					m[strconv.FormatInt(id, 10)] = t
				}
			}
		}
		for v, l := range d.Values {
			m[v] = l.Get(lang, v)
		}
		if len(m) > 0 {
			res.Labels["d"+strconv.Itoa(i)] = m
		}
	}
	return nil
}

// keyJSON is a group key as JSON: ids as strings, times in RFC 3339.
func keyJSON(k any) any {
	switch t := k.(type) {
	case int64:
		return strconv.FormatInt(t, 10)
	case time.Time:
		return t.Format(time.RFC3339)
	}
	return k
}

// keyText is a key's text (the map key of labels and comparisons).
func keyText(k any) string {
	switch t := keyJSON(k).(type) {
	case nil:
		return "\x01"
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	}
	return ""
}
