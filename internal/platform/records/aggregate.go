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
	AggCount         = "count"          // number of records (or, with Field, of records where it is set)
	AggSum           = "sum"            // sum of a decimal or integer field
	AggSumProduct    = "sum_product"    // sum of Field × Times (both decimal or integer)
	AggAvg           = "avg"            // mean of the set values (exact: sum / count)
	AggMin           = "min"            // smallest value (numbers, dates, text)
	AggMax           = "max"            // largest value
	AggCountDistinct = "count_distinct" // number of distinct set values
)

// Buckets of a date or datetime group (in Asia/Shanghai).
const (
	BucketDay     = "day"     // YYYY-MM-DD
	BucketWeek    = "week"    // the week's Monday, YYYY-MM-DD
	BucketMonth   = "month"   // YYYY-MM
	BucketQuarter = "quarter" // YYYY-Qn
	BucketYear    = "year"    // YYYY
)

// Duration units of a measure with Since.
const (
	UnitMinute = "minute"
	UnitHour   = "hour"
	UnitDay    = "day"
)

// MaxAggregateGroups bounds the groups one aggregate returns.
const MaxAggregateGroups = 5000

// Measure is one aggregated value.
//
// Field may be a link path (account.credit_limit). With Since, the value
// measured is the duration Field − Since (two date or two datetime fields)
// in Unit. With Filter, only the records matching it count (the filter
// language, like the aggregate's own filter). With Via ("leads.campaign"),
// the measure is over the records of another entity whose link field
// points at the grouped record: count, sum, min or max of Field on them,
// within the principal's scope and field rights on that entity.
type Measure struct {
	Op     string
	Field  string
	Times  string // sum_product's second factor
	Since  string // duration measures: the start field
	Unit   string // duration measures: minute, hour (default) or day
	Filter string
	Via    string
}

// GroupBy is one grouping key: a field (or owner, created_by, created_at,
// updated_at; or a link path like account.region), optionally bucketed.
type GroupBy struct {
	Field  string
	Bucket string
}

// AggSort orders the groups by one output column: a key (0..len(GroupBy)-1)
// or a measure (len(GroupBy)+i).
type AggSort struct {
	Column int
	Desc   bool
}

// AggregateOptions describe an aggregate: the records the filter selects
// within the principal's scope, grouped, measured, sorted and limited.
// Without Sort, groups come in key order (no value last).
type AggregateOptions struct {
	Filter   string
	GroupBy  []GroupBy
	Measures []Measure
	Sort     []AggSort
	Limit    int
}

// AggregateRow is one group: its keys (canonical values: text, int64 ids and
// integers, bool; bucket labels as text; nil for no value) and one value per
// measure (counts as whole decimals). Null[i] is true when measure i has no
// value in the group (avg, min or max over no values). The min or max of a
// date, datetime or text field is in Raw[i] (YYYY-MM-DD, time.Time, text)
// instead of Values.
type AggregateRow struct {
	Keys   []any
	Values []decimal.Decimal
	Null   []bool
	Raw    []any
}

// aggQuery is an aggregate being compiled: the SQL pieces in the order
// their placeholders appear (select list, joins, where).
type aggQuery struct {
	s       *Service
	v       *view
	env     *filterEnv
	sel     []string
	selArgs []any
	joins   []string
	jArgs   []any
	joined  map[string]*filterEnv // link path prefix → the joined view's env
	n       int                   // joins made
}

// column resolves a field or a link path to a column of the query, joining
// the linked entities (LEFT JOIN under their own data scope, so a linked
// record the principal may not read gives no value).
func (q *aggQuery) column(path string) (expr.Column, *filterEnv, error) {
	parts := strings.Split(path, ".")
	env := q.env
	prefix := ""
	for i, name := range parts[:len(parts)-1] {
		if prefix != "" {
			prefix += "."
		}
		prefix += name
		if j, ok := q.joined[prefix]; ok {
			env = j
			continue
		}
		if i >= 2 {
			return expr.Column{}, nil, apperr.Invalid("bad_aggregate", "reason", "at most two links in "+path)
		}
		v := env.v
		fd := v.e.Field(name)
		if fd == nil || v.r.Hidden(name) || fd.Type == "multi_link" {
			return expr.Column{}, nil, unknownField(path)
		}
		target := linkTarget(fd)
		if target == "" {
			return expr.Column{}, nil, unknownField(path)
		}
		q.n++
		alias := "j" + strconv.Itoa(q.n)
		tv, err := q.s.viewFor(q.v.p, target, access.Read, alias)
		if err != nil {
			return expr.Column{}, nil, unknownField(path)
		}
		tv.depth = 1
		on := alias + ".id = " + v.alias + "." + q.s.db.Ident(name) + " AND " + alias + ".deleted_at IS NULL"
		if tv.scoped {
			on += " AND " + tv.scope
			q.jArgs = append(q.jArgs, tv.sargs...)
		}
		q.joins = append(q.joins, " LEFT JOIN "+q.s.db.Ident(tv.e.Table())+" "+alias+" ON "+on)
		env = &filterEnv{v: tv}
		q.joined[prefix] = env
	}
	c, err := env.Column(parts[len(parts)-1])
	if err != nil {
		if len(parts) > 1 {
			return expr.Column{}, nil, unknownField(path)
		}
		return expr.Column{}, nil, err
	}
	return c, env, nil
}

// numeric is a summable column and its stored scale on SQLite.
func (q *aggQuery) numeric(path string) (string, int32, error) {
	c, env, err := q.column(path)
	if err != nil {
		return "", 0, err
	}
	return env.v.numericOf(c, path)
}

// duration is the SQL of Field − Since in whole seconds.
func (q *aggQuery) duration(m Measure) (string, error) {
	a, _, err := q.column(m.Field)
	if err != nil {
		return "", err
	}
	b, _, err := q.column(m.Since)
	if err != nil {
		return "", err
	}
	if a.Kind != b.Kind || (a.Kind != expr.KDate && a.Kind != expr.KDateTime) {
		return "", apperr.Invalid("bad_aggregate", "reason", m.Field+" and "+m.Since+" are not two dates or two datetimes")
	}
	return durationSQL(q.s.db, a.SQL, b.SQL, a.Kind == expr.KDateTime), nil
}

// durationSQL is a − b in whole seconds.
func durationSQL(d *db.DB, a, b string, datetime bool) string {
	if d.Kind == db.SQLite {
		if datetime {
			return "(CAST(strftime('%s', substr(" + a + ", 1, 19)) AS INTEGER) - CAST(strftime('%s', substr(" + b + ", 1, 19)) AS INTEGER))"
		}
		return "(CAST(ROUND((julianday(" + a + ") - julianday(" + b + ")) * 86400) AS INTEGER))"
	}
	if datetime {
		return "(FLOOR(EXTRACT(EPOCH FROM " + a + ")) - FLOOR(EXTRACT(EPOCH FROM " + b + ")))"
	}
	return "((" + a + " - " + b + ") * 86400)"
}

// unitSeconds is the number of seconds in a duration unit.
func unitSeconds(u string) (int64, error) {
	switch u {
	case UnitMinute:
		return 60, nil
	case UnitHour, "":
		return 3600, nil
	case UnitDay:
		return 86400, nil
	}
	return 0, apperr.Invalid("bad_aggregate", "reason", "unknown unit "+u)
}

// condition compiles a measure's filter against the source view.
func (q *aggQuery) condition(filter string) (string, []any, error) {
	if strings.TrimSpace(filter) == "" {
		return "", nil, nil
	}
	return expr.Compile(filter, q.env)
}

// when wraps a value in CASE WHEN cond THEN value END (or leaves it).
func when(cond, value string) string {
	if cond == "" {
		return value
	}
	return "CASE WHEN " + cond + " THEN " + value + " END"
}

// measureSpec is how one measure is read back: its select columns and what
// to make of them.
type measureSpec struct {
	op        string
	cols      int   // select columns it takes (avg: sum and count)
	scale     int32 // SQLite decimal scale of sums, mins and maxes
	unit      int64 // duration measures: seconds per unit
	kind      expr.ValueKind
	orderBy   string // the select column to order by (avg: its own AVG)
	orderArgs []any
}

// addMeasure compiles one measure into the select list.
func (q *aggQuery) addMeasure(m Measure) (measureSpec, error) {
	sp := measureSpec{op: m.Op, cols: 1, kind: expr.KDecimal}
	if m.Via != "" {
		return q.addVia(m)
	}
	cond, cargs, err := q.condition(m.Filter)
	if err != nil {
		return sp, err
	}
	add := func(sql string) {
		q.sel = append(q.sel, sql)
		if cond != "" {
			q.selArgs = append(q.selArgs, cargs...)
		}
	}
	value := func() (string, error) {
		if m.Since != "" {
			sec, err := unitSeconds(m.Unit)
			if err != nil {
				return "", err
			}
			sp.unit = sec
			return q.duration(m)
		}
		c, s, err := q.numeric(m.Field)
		sp.scale = s
		return c, err
	}
	switch m.Op {
	case AggCount:
		if m.Field == "" {
			add("COUNT(" + when(cond, "1") + ")")
			return sp, nil
		}
		c, _, err := q.column(m.Field)
		if err != nil {
			return sp, err
		}
		add("COUNT(" + when(cond, c.SQL) + ")")
	case AggCountDistinct:
		c, _, err := q.column(m.Field)
		if err != nil {
			return sp, err
		}
		add("COUNT(DISTINCT " + when(cond, c.SQL) + ")")
	case AggSum, AggSumProduct:
		x, err := value()
		if err != nil {
			return sp, err
		}
		if m.Op == AggSumProduct {
			c2, sc2, err := q.numeric(m.Times)
			if err != nil {
				return sp, err
			}
			x, sp.scale = x+" * "+c2, sp.scale+sc2
		}
		add("SUM(" + when(cond, x) + ")")
	case AggAvg:
		x, err := value()
		if err != nil {
			return sp, err
		}
		add("SUM(" + when(cond, x) + ")")
		add("COUNT(" + when(cond, x) + ")")
		sp.cols = 2
		sp.orderBy = "AVG(" + when(cond, x) + ")"
		if cond != "" {
			sp.orderArgs = cargs
		}
	case AggMin, AggMax:
		fn := "MIN("
		if m.Op == AggMax {
			fn = "MAX("
		}
		if m.Since != "" {
			x, err := value()
			if err != nil {
				return sp, err
			}
			add(fn + when(cond, x) + ")")
			return sp, nil
		}
		c, env, err := q.column(m.Field)
		if err != nil {
			return sp, err
		}
		switch c.Kind {
		case expr.KInt, expr.KDecimal:
			_, sp.scale, err = env.v.numericOf(c, m.Field)
			if err != nil {
				return sp, err
			}
		case expr.KDate, expr.KDateTime, expr.KText:
			sp.kind = c.Kind
		default:
			return sp, apperr.Invalid("bad_aggregate", "reason", m.Field+" has no order")
		}
		add(fn + when(cond, c.SQL) + ")")
	default:
		return sp, apperr.Invalid("bad_aggregate", "reason", "unknown operation "+m.Op)
	}
	return sp, nil
}

// addVia compiles a measure over related records: a correlated subquery on
// the related entity under its own scope, summed over the group.
func (q *aggQuery) addVia(m Measure) (measureSpec, error) {
	sp := measureSpec{op: m.Op, cols: 1, kind: expr.KDecimal}
	entity, link, ok := strings.Cut(m.Via, ".")
	if !ok {
		return sp, apperr.Invalid("bad_aggregate", "reason", "via is entity.link_field")
	}
	q.n++
	alias := "x" + strconv.Itoa(q.n)
	rv, err := q.s.viewFor(q.v.p, entity, access.Read, alias)
	if err != nil {
		return sp, unknownField(m.Via)
	}
	lf := rv.e.Field(link)
	if lf == nil || rv.r.Hidden(link) || linkTarget(lf) != q.v.e.Name || lf.Type == "multi_link" {
		return sp, unknownField(m.Via)
	}
	renv := &filterEnv{v: rv}
	where := alias + "." + q.s.db.Ident(link) + " = t.id AND " + alias + ".deleted_at IS NULL"
	var args []any
	if rv.scoped {
		where += " AND " + rv.scope
		args = append(args, rv.sargs...)
	}
	if strings.TrimSpace(m.Filter) != "" {
		fs, fa, err := expr.Compile(m.Filter, renv)
		if err != nil {
			return sp, err
		}
		where += " AND (" + fs + ")"
		args = append(args, fa...)
	}
	var inner, outer string
	switch m.Op {
	case AggCount:
		inner, outer = "COUNT(*)", "SUM"
	case AggSum, AggMin, AggMax:
		c, err := renv.Column(m.Field)
		if err != nil {
			return sp, err
		}
		col, scale, err := rv.numericOf(c, m.Field)
		if err != nil {
			return sp, err
		}
		sp.scale = scale
		outer = map[string]string{AggSum: "SUM", AggMin: "MIN", AggMax: "MAX"}[m.Op]
		inner = outer + "(" + col + ")"
	default:
		return sp, apperr.Invalid("bad_aggregate", "reason", m.Op+" is not available over related records")
	}
	q.sel = append(q.sel, outer+"((SELECT "+inner+" FROM "+q.s.db.Ident(rv.e.Table())+" "+alias+" WHERE "+where+"))")
	q.selArgs = append(q.selArgs, args...)
	return sp, nil
}

// compileAggregate compiles an aggregate. Aggregate counts, sums, averages… the records the principal may read that
// match the filter, grouped by fields, in one query under the principal's
// compiled data scope (linked and related records under theirs). Hidden
// fields are unknown to it (400 unknown_field), as they are to filters and
// sorts, so a total never reveals what the list hides. At most
// MaxAggregateGroups groups (400 aggregate_too_many_groups). On SQLite sums
// of scaled decimals are exact integer sums (an overflow of 64 bits is an
// error, not a wrong figure); averages are exact sums divided by counts on
// both databases. compileAggregate builds its statement.
func (s *Service) compileAggregate(p *access.Principal, entity string, o AggregateOptions) (*compiledAgg, error) {
	v, err := s.viewFor(p, entity, access.Read, "t")
	if err != nil {
		return nil, err
	}
	where, args, err := v.where(ListOptions{Filter: o.Filter})
	if err != nil {
		return nil, err
	}
	q := &aggQuery{s: s, v: v, env: &filterEnv{v: v}, joined: map[string]*filterEnv{}}
	d := s.db
	var dims []string
	var keyKinds []expr.ValueKind
	for _, g := range o.GroupBy {
		c, _, err := q.column(g.Field)
		if err != nil {
			return nil, err
		}
		col := c.SQL
		switch g.Bucket {
		case "":
		case BucketDay, BucketWeek, BucketMonth, BucketQuarter, BucketYear:
			if c.Kind != expr.KDate && c.Kind != expr.KDateTime {
				return nil, apperr.Invalid("bad_aggregate", "reason", g.Field+" is not a date")
			}
			col = bucketSQL(d, col, c.Kind == expr.KDateTime, g.Bucket)
			c.Kind = expr.KText
		default:
			return nil, apperr.Invalid("bad_aggregate", "reason", "unknown bucket "+g.Bucket)
		}
		q.sel = append(q.sel, col)
		dims = append(dims, col)
		keyKinds = append(keyKinds, c.Kind)
	}
	specs := make([]measureSpec, len(o.Measures))
	for i, m := range o.Measures {
		if specs[i], err = q.addMeasure(m); err != nil {
			return nil, err
		}
	}
	if len(q.sel) == 0 {
		return nil, apperr.Invalid("bad_aggregate", "reason", "nothing to compute")
	}
	order, err := q.orderBy(o, dims, specs)
	if err != nil {
		return nil, err
	}
	sql := "SELECT " + strings.Join(q.sel, ", ") + " FROM " + d.Ident(v.e.Table()) + " t" + strings.Join(q.joins, "") + " WHERE " + where
	if len(dims) > 0 {
		pos := make([]string, len(dims))
		for i := range dims {
			pos[i] = strconv.Itoa(i + 1)
		}
		sql += " GROUP BY " + strings.Join(pos, ", ")
	}
	limit := MaxAggregateGroups + 1
	if o.Limit > 0 && o.Limit < limit {
		limit = o.Limit
	}
	if len(dims) > 0 {
		sql += order + " LIMIT " + strconv.Itoa(limit)
	}
	all := append(append(append([]any{}, q.selArgs...), q.jArgs...), args...)
	return &compiledAgg{sql: sql, args: all, cols: len(q.sel), dims: len(dims), keyKinds: keyKinds, specs: specs}, nil
}

// compiledAgg is an aggregate's statement and how to read its rows.
type compiledAgg struct {
	sql      string
	args     []any
	cols     int
	dims     int
	keyKinds []expr.ValueKind
	specs    []measureSpec
}

// CheckAggregate compiles an aggregate for p without running it: the
// errors Aggregate would give for unknown or hidden fields, bad buckets and
// measures.
func (s *Service) CheckAggregate(p *access.Principal, entity string, o AggregateOptions) error {
	_, err := s.compileAggregate(p, entity, o)
	return err
}

// Aggregate runs an aggregate (see compileAggregate).
func (s *Service) Aggregate(ctx context.Context, p *access.Principal, entity string, o AggregateOptions) ([]AggregateRow, error) {
	c, err := s.compileAggregate(p, entity, o)
	if err != nil {
		return nil, err
	}
	d := s.db
	rows, err := d.Query(ctx, c.sql, c.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AggregateRow
	n := c.cols
	for rows.Next() {
		vals := make([]any, n)
		dest := make([]any, n)
		for i := range dest {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		row := AggregateRow{Keys: make([]any, c.dims), Values: make([]decimal.Decimal, len(c.specs)), Null: make([]bool, len(c.specs))}
		for i := range c.dims {
			row.Keys[i] = aggKey(d.Dialect, c.keyKinds[i], vals[i])
		}
		at := c.dims
		for i, sp := range c.specs {
			row.Values[i], row.Null[i] = sp.read(d.Dialect, vals[at:at+sp.cols])
			if sp.kind != expr.KDecimal && vals[at] != nil {
				if row.Raw == nil {
					row.Raw = make([]any, len(c.specs))
				}
				row.Raw[i] = aggKey(d.Dialect, sp.kind, vals[at])
				row.Null[i] = false
			}
			at += sp.cols
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

// orderBy is the ORDER BY clause: the requested columns, then the keys
// (no value last, the same on both databases).
func (q *aggQuery) orderBy(o AggregateOptions, dims []string, specs []measureSpec) (string, error) {
	var parts []string
	used := map[int]bool{}
	for _, s := range o.Sort {
		dir := ""
		if s.Desc {
			dir = " DESC"
		}
		switch {
		case s.Column >= 0 && s.Column < len(dims):
			used[s.Column] = true
			parts = append(parts, "("+dims[s.Column]+") IS NULL", dims[s.Column]+dir)
		case s.Column >= len(dims) && s.Column < len(dims)+len(specs):
			mi := s.Column - len(dims)
			pos := len(dims) + 1
			for _, sp := range specs[:mi] {
				pos += sp.cols
			}
			if specs[mi].orderBy != "" {
				// An average orders by its own AVG, added to the select list.
				q.sel = append(q.sel, specs[mi].orderBy)
				q.selArgs = append(q.selArgs, specs[mi].orderArgs...)
				pos = len(q.sel)
			}
			parts = append(parts, strconv.Itoa(pos)+dir)
		default:
			return "", apperr.Invalid("bad_aggregate", "reason", "sort column out of range")
		}
	}
	for i, dsql := range dims {
		if !used[i] {
			parts = append(parts, "("+dsql+") IS NULL", dsql)
		}
	}
	if len(parts) == 0 {
		return "", nil
	}
	return " ORDER BY " + strings.Join(parts, ", "), nil
}

// read converts the select columns of one measure to its value.
func (sp measureSpec) read(d db.Dialect, x []any) (decimal.Decimal, bool) {
	switch sp.op {
	case AggCount, AggCountDistinct:
		if x[0] == nil {
			return decimal.Zero, false
		}
		n, _ := strconv.ParseInt(aggText(x[0]), 10, 64)
		return decimal.NewFromInt(n), false
	case AggAvg:
		n, _ := strconv.ParseInt(aggText(x[1]), 10, 64)
		if n == 0 {
			return decimal.Zero, true
		}
		sum := aggDecimal(d, x[0], sp.scale)
		return sp.inUnit(sum).Div(decimal.NewFromInt(n)), false
	case AggMin, AggMax:
		if x[0] == nil {
			return decimal.Zero, true
		}
		if sp.kind != expr.KDecimal { // a date or text: in Raw
			return decimal.Zero, true
		}
	}
	return sp.inUnit(aggDecimal(d, x[0], sp.scale)), false
}

// inUnit converts seconds to the measure's unit (other values unchanged).
func (sp measureSpec) inUnit(v decimal.Decimal) decimal.Decimal {
	if sp.unit == 0 {
		return v
	}
	return v.Div(decimal.NewFromInt(sp.unit))
}

// numericOf is a summable column of the view and its stored scale on
// SQLite (decimals are integers scaled by 10^scale there).
func (v *view) numericOf(c expr.Column, name string) (string, int32, error) {
	switch c.Kind {
	case expr.KInt:
		return c.SQL, 0, nil
	case expr.KDecimal:
		parts := strings.Split(name, ".")
		f := v.e.Field(parts[len(parts)-1])
		if v.s.db.Kind == db.SQLite && f != nil {
			return c.SQL, int32(f.ScaleOf()), nil
		}
		return c.SQL, 0, nil
	}
	return "", 0, apperr.Invalid("bad_aggregate", "reason", name+" is not a number")
}

// bucketSQL is a date or datetime column as its day, week, month, quarter
// or year in Asia/Shanghai. SQLite stores datetimes as fixed-width UTC text
// and dates as YYYY-MM-DD; PostgreSQL has TIMESTAMPTZ and DATE.
func bucketSQL(d *db.DB, col string, datetime bool, bucket string) string {
	if d.Kind == db.SQLite {
		day, month := col, "substr("+col+", 1, 7)"
		if datetime {
			// Converting every row with strftime was most of a forecast's
			// time over 150,000 deals. Shanghai is UTC+8 all year, and the
			// stored text is YYYY-MM-DDTHH:MM:SS...Z, so a time before 16:00
			// UTC is on the same day in Shanghai, and one before the 28th
			// (every month has 28 days) in the same month: those are cut
			// from the text, and only the rest are converted.
			day = "CASE WHEN substr(" + col + ", 12, 2) >= '16' THEN strftime('%Y-%m-%d', substr(" + col + ", 1, 19), '+8 hours') ELSE substr(" + col + ", 1, 10) END"
			month = "CASE WHEN substr(" + col + ", 12, 2) >= '16' AND substr(" + col + ", 9, 2) >= '28' THEN strftime('%Y-%m', substr(" + col + ", 1, 19), '+8 hours') ELSE substr(" + col + ", 1, 7) END"
		}
		switch bucket {
		case BucketDay:
			return day
		case BucketWeek: // the next Sunday (or the day itself), less six days
			return "date(" + day + ", 'weekday 0', '-6 days')"
		case BucketMonth:
			return month
		case BucketQuarter:
			return "substr(" + month + ", 1, 4) || '-Q' || ((CAST(substr(" + month + ", 6, 2) AS INTEGER) + 2) / 3)"
		}
		return "substr(" + month + ", 1, 4)"
	}
	x := col
	if datetime {
		x = "(" + col + " AT TIME ZONE 'Asia/Shanghai')"
	}
	switch bucket {
	case BucketDay:
		return "to_char(" + x + ", 'YYYY-MM-DD')"
	case BucketWeek:
		return "to_char(date_trunc('week', " + x + "), 'YYYY-MM-DD')"
	case BucketMonth:
		return "to_char(" + x + ", 'YYYY-MM')"
	case BucketQuarter:
		return "to_char(" + x + ", 'YYYY-\"Q\"Q')"
	}
	return "to_char(" + x + ", 'YYYY')"
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
