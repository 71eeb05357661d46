package records

import (
	"context"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/expr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// Aggregate operations.
const (
	AggCount      = "count"       // number of records
	AggSum        = "sum"         // sum of a decimal or integer field
	AggSumProduct = "sum_product" // sum of Field × Times (both decimal or integer)
)

// Buckets of a date or datetime group (days and months in Asia/Shanghai).
const (
	BucketDay   = "day"   // YYYY-MM-DD
	BucketMonth = "month" // YYYY-MM
)

// MaxAggregateGroups bounds the groups one aggregate returns.
const MaxAggregateGroups = 5000

// Measure is one aggregated value.
type Measure struct {
	Op    string
	Field string
	Times string // sum_product's second factor
}

// GroupBy is one grouping key: a field (or owner, created_by, created_at,
// updated_at), optionally bucketed by day or month.
type GroupBy struct {
	Field  string
	Bucket string
}

// AggregateOptions describe an aggregate: the records the filter selects
// within the principal's scope, grouped, measured.
type AggregateOptions struct {
	Filter   string
	GroupBy  []GroupBy
	Measures []Measure
}

// AggregateRow is one group: its keys (canonical values: text, int64 ids and
// integers, bool; bucket labels as text; nil for no value) and one value per
// measure (counts as whole decimals).
type AggregateRow struct {
	Keys   []any
	Values []decimal.Decimal
}

// Aggregate counts and sums the records the principal may read that match
// the filter, grouped by fields, in one query under the principal's
// compiled data scope. Hidden fields are unknown to it (400 unknown_field),
// as they are to filters and sorts, so a total never reveals what the list
// hides. At most MaxAggregateGroups groups (400 aggregate_too_many_groups).
// On SQLite sums of scaled decimals are exact integer sums (an overflow of
// 64 bits is an error, not a wrong figure).
func (s *Service) Aggregate(ctx context.Context, p *access.Principal, entity string, o AggregateOptions) ([]AggregateRow, error) {
	v, err := s.viewFor(p, entity, access.Read, "t")
	if err != nil {
		return nil, err
	}
	where, args, err := v.where(ListOptions{Filter: o.Filter})
	if err != nil {
		return nil, err
	}
	env := &filterEnv{v: v}
	d := s.db
	var sel, groups []string
	var keyKinds []expr.ValueKind
	for _, g := range o.GroupBy {
		c, err := env.Column(g.Field)
		if err != nil {
			return nil, err
		}
		col := c.SQL
		switch g.Bucket {
		case "":
		case BucketDay, BucketMonth:
			if c.Kind != expr.KDate && c.Kind != expr.KDateTime {
				return nil, apperr.Invalid("bad_aggregate", "reason", g.Field+" is not a date")
			}
			col = bucketSQL(d, col, c.Kind == expr.KDateTime, g.Bucket)
			c.Kind = expr.KText
		default:
			return nil, apperr.Invalid("bad_aggregate", "reason", "unknown bucket "+g.Bucket)
		}
		sel = append(sel, col)
		groups = append(groups, col)
		keyKinds = append(keyKinds, c.Kind)
	}
	scales := make([]int32, len(o.Measures))
	for i, m := range o.Measures {
		switch m.Op {
		case AggCount:
			sel = append(sel, "COUNT(*)")
		case AggSum, AggSumProduct:
			c, sc, err := v.numericColumn(env, m.Field)
			if err != nil {
				return nil, err
			}
			expr := c
			if m.Op == AggSumProduct {
				c2, sc2, err := v.numericColumn(env, m.Times)
				if err != nil {
					return nil, err
				}
				expr, sc = c+" * "+c2, sc+sc2
			}
			sel = append(sel, "SUM("+expr+")")
			scales[i] = sc
		default:
			return nil, apperr.Invalid("bad_aggregate", "reason", "unknown operation "+m.Op)
		}
	}
	if len(sel) == 0 {
		return nil, apperr.Invalid("bad_aggregate", "reason", "nothing to compute")
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + d.Ident(v.e.Table()) + " t WHERE " + where
	if len(groups) > 0 {
		q += " GROUP BY " + strings.Join(groups, ", ") + " LIMIT " + strconv.Itoa(MaxAggregateGroups+1)
	}
	rows, err := d.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AggregateRow
	n := len(groups) + len(o.Measures)
	for rows.Next() {
		vals := make([]any, n)
		dest := make([]any, n)
		for i := range dest {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		row := AggregateRow{Keys: make([]any, len(groups)), Values: make([]decimal.Decimal, len(o.Measures))}
		for i := range groups {
			row.Keys[i] = aggKey(d.Dialect, keyKinds[i], vals[i])
		}
		for i, m := range o.Measures {
			x := vals[len(groups)+i]
			if m.Op == AggCount {
				n, _ := strconv.ParseInt(aggText(x), 10, 64)
				row.Values[i] = decimal.NewFromInt(n)
				continue
			}
			row.Values[i] = aggDecimal(d.Dialect, x, scales[i])
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) > MaxAggregateGroups {
		return nil, apperr.Invalid("aggregate_too_many_groups", "max", MaxAggregateGroups)
	}
	return out, nil
}

// numericColumn is a summable column the principal may read and its
// stored scale on SQLite (decimals are integers scaled by 10^scale there).
func (v *view) numericColumn(env *filterEnv, name string) (string, int32, error) {
	c, err := env.Column(name)
	if err != nil {
		return "", 0, err
	}
	switch c.Kind {
	case expr.KInt:
		return c.SQL, 0, nil
	case expr.KDecimal:
		f := v.e.Field(name)
		if v.s.db.Kind == db.SQLite {
			return c.SQL, int32(f.ScaleOf()), nil
		}
		return c.SQL, 0, nil
	}
	return "", 0, apperr.Invalid("bad_aggregate", "reason", name+" is not a number")
}

// bucketSQL is a date or datetime column as its day or month in
// Asia/Shanghai. SQLite stores datetimes as fixed-width UTC text and dates
// as YYYY-MM-DD; PostgreSQL has TIMESTAMPTZ and DATE.
func bucketSQL(d *db.DB, col string, datetime bool, bucket string) string {
	if d.Kind == db.SQLite {
		if !datetime {
			if bucket == BucketMonth {
				return "substr(" + col + ", 1, 7)"
			}
			return col
		}
		// Converting every row with strftime was most of a forecast's time
		// over 150,000 deals. Shanghai is UTC+8 all year, and the stored
		// text is YYYY-MM-DDTHH:MM:SS...Z, so a time before 16:00 UTC is on
		// the same day in Shanghai, and one before the 28th (every month
		// has 28 days) in the same month: those are cut from the text, and
		// only the rest are converted.
		if bucket == BucketMonth {
			return "CASE WHEN substr(" + col + ", 12, 2) >= '16' AND substr(" + col + ", 9, 2) >= '28' THEN strftime('%Y-%m', substr(" + col + ", 1, 19), '+8 hours') ELSE substr(" + col + ", 1, 7) END"
		}
		return "CASE WHEN substr(" + col + ", 12, 2) >= '16' THEN strftime('%Y-%m-%d', substr(" + col + ", 1, 19), '+8 hours') ELSE substr(" + col + ", 1, 10) END"
	}
	f := "YYYY-MM-DD"
	if bucket == BucketMonth {
		f = "YYYY-MM"
	}
	if datetime {
		return "to_char(" + col + " AT TIME ZONE 'Asia/Shanghai', '" + f + "')"
	}
	return "to_char(" + col + ", '" + f + "')"
}

// aggText is a scanned value as text (toString, plus the integer and float
// forms aggregates can give).
func aggText(x any) string {
	switch t := x.(type) {
	case int32:
		return strconv.FormatInt(int64(t), 10)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	return toString(x)
}

// aggKey converts a group value to its canonical form.
func aggKey(d db.Dialect, k expr.ValueKind, x any) any {
	if x == nil {
		return nil
	}
	switch k {
	case expr.KID, expr.KInt:
		n, err := strconv.ParseInt(aggText(x), 10, 64)
		if err != nil {
			return nil
		}
		return n
	case expr.KBool:
		switch t := x.(type) {
		case bool:
			return t
		default:
			return aggText(x) == "1"
		}
	case expr.KDate:
		if t, ok := x.(timeT); ok {
			return t.Format("2006-01-02")
		}
		s := aggText(x)
		if len(s) > 10 {
			s = s[:10]
		}
		return s
	case expr.KDateTime:
		t, err := meta.TimeFromDB(x)
		if err != nil {
			return nil
		}
		return t
	}
	return aggText(x)
}

// aggDecimal converts a sum to a decimal (zero for no rows).
func aggDecimal(d db.Dialect, x any, scale int32) decimal.Decimal {
	if x == nil {
		return decimal.Zero
	}
	if d.Kind == db.SQLite {
		if n, ok := x.(int64); ok {
			return decimal.New(n, -scale)
		}
		if f, ok := x.(float64); ok { // SQLite turns an overflowing SUM into an error, not a float; kept for REAL columns
			return decimal.NewFromFloat(f).Shift(-scale)
		}
	}
	dv, err := decimal.NewFromString(aggText(x))
	if err != nil {
		return decimal.Zero
	}
	return dv.Shift(-scale)
}
