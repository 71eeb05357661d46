package apitest

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/tenon-crm/tenon/internal/module/demo"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/notify/notifytest"
)

// reportsEnv is a Tenon with the demo company and its quote-to-order
// business loaded on a clock at 2026-11-02 09:00 Shanghai, the accounts
// graded, and the built-in reports by key.
type reportsEnv struct {
	*env
	clk     *testClock
	reports map[string]string // key → id
}

func newReportsEnv(t testing.TB) *reportsEnv {
	t.Helper()
	clk := &testClock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, shanghai)}
	r := &reportsEnv{env: openEnv(t, "tenon_reports", clk), clk: clk, reports: map[string]string{}}
	ctx := context.Background()
	if err := r.app.Sales.Install(ctx); err != nil {
		t.Fatal(err)
	}
	if err := demo.LoadCompany(ctx, r.app.Records, clk); err != nil {
		t.Fatal(err)
	}
	if err := r.app.LoadQuotingDemo(ctx, clk); err != nil {
		t.Fatal(err)
	}
	for range 20 { // grading jobs: order_count, annual_purchases
		n, err := r.app.Jobs.RunDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	for _, it := range r.c("admin").do("GET", "/api/v1/records/reports?per_page=100&fields=key", nil, nil).want(200).items() {
		if k, ok := it["key"].(string); ok {
			r.reports[k] = it["id"].(string)
		}
	}
	return r
}

// data is a report's result as the client sees it.
func (r *reportsEnv) data(c *client, key, query string) map[string]any {
	r.t.Helper()
	id, ok := r.reports[key]
	if !ok {
		r.t.Fatalf("no built-in report %s", key)
	}
	return c.do("GET", "/api/v1/reports/"+id+"/data?"+query, nil, nil).want(200).json()
}

// dialectSQL writes the hand queries' dialect-specific pieces.
type dialectSQL struct{ pg bool }

// month is a datetime column's month in Shanghai, converted row by row.
func (d dialectSQL) month(col string) string {
	if d.pg {
		return "to_char(" + col + " AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')"
	}
	return "strftime('%Y-%m', substr(" + col + ", 1, 19), '+8 hours')"
}

// dateMonth is a date column's month.
func (d dialectSQL) dateMonth(col string) string {
	if d.pg {
		return "to_char(" + col + ", 'YYYY-MM')"
	}
	return "substr(" + col + ", 1, 7)"
}

// week is a datetime column's Monday in Shanghai.
func (d dialectSQL) week(col string) string {
	if d.pg {
		return "to_char(date_trunc('week', " + col + " AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM-DD')"
	}
	return "date(substr(" + col + ", 1, 19), '+8 hours', '-' || ((CAST(strftime('%w', substr(" + col + ", 1, 19), '+8 hours') AS INTEGER) + 6) % 7) || ' days')"
}

// money is a stored decimal of scale 2 as a number.
func (d dialectSQL) money(col string) string {
	if d.pg {
		return col
	}
	return "(" + col + " / 100.0)"
}

// weighted is Σ amount × probability / 100 (SQLite: both of scale 2).
func (d dialectSQL) weighted() string {
	if d.pg {
		return "SUM(amount * probability) * 0.01"
	}
	return "SUM(amount * probability) / 1000000.0"
}

// hours is b − a in hours for two datetimes.
func (d dialectSQL) hours(b, a string) string {
	if d.pg {
		return "(EXTRACT(EPOCH FROM " + b + ") - EXTRACT(EPOCH FROM " + a + ")) / 3600.0"
	}
	return "(julianday(substr(" + b + ", 1, 19)) - julianday(substr(" + a + ", 1, 19))) * 24"
}

// prevMonth and lastYear are the label of the month before, a year before.
func (d dialectSQL) prevMonth(label string) string {
	if d.pg {
		return "to_char(to_date(" + label + ", 'YYYY-MM') - interval '1 month', 'YYYY-MM')"
	}
	return "strftime('%Y-%m', " + label + " || '-01', '-1 month')"
}

func (d dialectSQL) lastYear(label string) string {
	if d.pg {
		return "to_char(to_date(" + label + ", 'YYYY-MM') - interval '1 year', 'YYYY-MM')"
	}
	return "strftime('%Y-%m', " + label + " || '-01', '-1 year')"
}

// num makes a division exact on both databases.
func (d dialectSQL) num(x string) string {
	if d.pg {
		return "(" + x + ")::numeric"
	}
	return "(" + x + ") * 1.0"
}

// ninetyDaysAgo is the start of the day 90 days before the clock's day.
func ninetyDaysAgo(d dialectSQL, now time.Time) string {
	day := now.In(shanghai).AddDate(0, 0, -90)
	t := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, shanghai).UTC()
	if d.pg {
		return "'" + t.Format(time.RFC3339) + "'"
	}
	return "'" + t.Format("2006-01-02T15:04:05") + "'"
}

// handReports are the built-in reports as hand-written SQL over the record
// tables: the dimensions, then every measure in order.
func handReports(d dialectSQL, now time.Time) map[string]string {
	live := "deleted_at IS NULL"
	open := live + " AND status = 'open'"
	won := live + " AND status = 'won'"
	stageCounts := "COUNT(*)"
	for i := 2; i <= 7; i++ {
		stageCounts += fmt.Sprintf(", COUNT(CASE WHEN stage_reached >= %d THEN 1 END)", i)
	}
	revenue := func(table, col, value, where string) string {
		return "WITH m AS (SELECT " + d.month(col) + " AS k, SUM(" + value + ") AS s, COUNT(*) AS n FROM " + table + " WHERE " + where + " GROUP BY 1) " +
			"SELECT m.k, " + d.money("m.s") + ", m.n, " + d.num("m.s - p.s") + " / NULLIF(ABS(p.s), 0), " + d.num("m.s - y.s") + " / NULLIF(ABS(y.s), 0) " +
			"FROM m LEFT JOIN m p ON p.k = " + d.prevMonth("m.k") + " LEFT JOIN m y ON y.k = " + d.lastYear("m.k")
	}
	cycle := func(dim string) string {
		return "SELECT " + dim + ", SUM(cycle_days) * 1.0 / COUNT(cycle_days) " + map[bool]string{true: "", false: "/ 10.0"}[d.pg] + ", COUNT(*), " + d.money("SUM(amount)") +
			" FROM r_opportunities WHERE " + won + " AND cycle_days IS NOT NULL GROUP BY 1"
	}
	approved := d.hours("approved_at", "submitted_at")
	turnaround := d.hours("sent_at", "requested_at")
	return map[string]string{
		"sales_funnel": "SELECT " + stageCounts + ", COUNT(CASE WHEN status = 'won' THEN 1 END), " +
			d.num("COUNT(CASE WHEN status = 'won' THEN 1 END)") + " / NULLIF(COUNT(*), 0) FROM r_opportunities o WHERE o." + live +
			" AND pipeline IN (SELECT id FROM r_pipelines WHERE is_default = " + map[bool]string{true: "TRUE", false: "1"}[d.pg] + " AND " + live + ")",
		"pipeline_by_stage": "SELECT stage, COUNT(*), " + d.money("SUM(amount)") + ", " + d.weighted() +
			" FROM r_opportunities WHERE " + open + " GROUP BY 1",
		"weighted_forecast": "SELECT " + d.dateMonth("expected_close") + ", " + d.money("SUM(amount)") + ", " + d.weighted() +
			", COUNT(*) FROM r_opportunities WHERE " + open + " GROUP BY 1",
		"key_deals_timeline": "SELECT name, MIN(created_at), MAX(expected_close) FROM r_opportunities WHERE " + open +
			" AND key_deal = " + map[bool]string{true: "TRUE", false: "1"}[d.pg] + " AND expected_close IS NOT NULL GROUP BY 1",
		"lead_sources":           "SELECT source, COUNT(*) FROM r_leads WHERE " + live + " GROUP BY 1",
		"lead_kpis":              "SELECT COUNT(*), COUNT(CASE WHEN status IS NULL OR status <> 'disqualified' THEN 1 END), " + d.num("COUNT(CASE WHEN status IS NULL OR status <> 'disqualified' THEN 1 END)") + " / COUNT(*), COUNT(converted_opportunity), " + d.num("COUNT(converted_opportunity)") + " / COUNT(*), " + d.num("SUM(first_response_minutes)") + " / COUNT(first_response_minutes) FROM r_leads WHERE " + live,
		"lead_response_by_month": "SELECT " + d.month("created_at") + ", " + d.num("SUM(first_response_minutes)") + " / NULLIF(COUNT(first_response_minutes), 0), COUNT(*) FROM r_leads WHERE " + live + " GROUP BY 1",
		"lead_conversion_by_source": "SELECT source, COUNT(*), COUNT(CASE WHEN status IS NULL OR status <> 'disqualified' THEN 1 END), COUNT(converted_opportunity), " +
			d.num("COUNT(CASE WHEN status IS NULL OR status <> 'disqualified' THEN 1 END)") + " / COUNT(*), " + d.num("COUNT(converted_opportunity)") + " / COUNT(*) FROM r_leads WHERE " + live + " GROUP BY 1",
		"cycle_by_region":       cycle("region"),
		"cycle_by_product_line": cycle("product_line"),
		"won_by_month":          revenue("r_opportunities", "closed_at", "amount", won),
		"orders_by_month":       revenue("r_sales_orders", "created_at", "total_cny", live+" AND status <> 'cancelled'"),
		"grade_mix":             "SELECT grade, COUNT(*) FROM r_accounts WHERE " + live + " GROUP BY 1",
		"customer_kpis": "SELECT COUNT(*), COUNT(CASE WHEN last_activity_at >= " + ninetyDaysAgo(d, now) + " THEN 1 END), " +
			d.num("COUNT(CASE WHEN last_activity_at >= "+ninetyDaysAgo(d, now)+" THEN 1 END)") + " / COUNT(*), " +
			"COUNT(CASE WHEN order_count >= 1 THEN 1 END), COUNT(CASE WHEN order_count >= 2 THEN 1 END), " +
			d.num("COUNT(CASE WHEN order_count >= 2 THEN 1 END)") + " / NULLIF(COUNT(CASE WHEN order_count >= 1 THEN 1 END), 0) FROM r_accounts WHERE " + live,
		"avg_order_value":  "SELECT " + d.money("SUM(total_cny)") + " / COUNT(total_cny), COUNT(*), COUNT(DISTINCT account) FROM r_sales_orders WHERE " + live + " AND status <> 'cancelled'",
		"top_customers":    "SELECT name, " + d.money("SUM(annual_purchases)") + ", MAX(value_score) FROM r_accounts WHERE " + live + " AND annual_purchases > 0 GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
		"activity_heatmap": "SELECT owner, " + d.week("occurred_at") + ", COUNT(*) FROM r_activities WHERE " + live + " GROUP BY 1, 2",
		"campaign_roi": "SELECT c.name, " + d.money("SUM(c.cost)") + ", " +
			"(SELECT COUNT(*) FROM r_leads l WHERE l.campaign = c.id AND l." + live + "), " +
			"(SELECT COUNT(*) FROM r_opportunities o WHERE o.campaign = c.id AND o." + live + "), " +
			"(SELECT COUNT(*) FROM r_opportunities o WHERE o.campaign = c.id AND o." + won + "), " +
			"(SELECT " + d.money("COALESCE(SUM(o.amount), 0)") + " FROM r_opportunities o WHERE o.campaign = c.id AND o." + won + "), NULL, NULL " +
			"FROM r_campaigns c WHERE c." + live + " GROUP BY c.name, c.id",
		"quote_approval_cycle": "SELECT " + d.month("submitted_at") + ", AVG(CASE WHEN approved_at IS NOT NULL THEN " + approved + " END), COUNT(approved_at) FROM r_quotes WHERE " + live + " AND submitted_at IS NOT NULL GROUP BY 1",
		"quote_turnaround":     "SELECT " + d.month("requested_at") + ", AVG(CASE WHEN sent_at IS NOT NULL THEN " + turnaround + " END), COUNT(sent_at) FROM r_quotes WHERE " + live + " AND revision = 1 GROUP BY 1",
	}
}

// handRows runs a hand query and keys its rows by their first nKeys
// columns; values as text (nil for NULL).
func handRows(t *testing.T, e *env, q string, nKeys int) map[string][]any {
	t.Helper()
	rows, err := e.app.DB.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	out := map[string][]any{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out[rowKeyOf(vals[:nKeys])] = vals
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func rowKeyOf(keys []any) string {
	var parts []string
	for _, k := range keys {
		parts = append(parts, cellText(k))
	}
	return strings.Join(parts, "|")
}

// cellText is a scanned or JSON value as text: times in UTC seconds.
func cellText(x any) string {
	switch t := x.(type) {
	case nil:
		return "<nil>"
	case []byte:
		return string(t)
	case time.Time:
		return t.UTC().Format("2006-01-02T15:04:05")
	case string:
		if tt, err := time.Parse(time.RFC3339Nano, t); err == nil {
			return tt.UTC().Format("2006-01-02T15:04:05")
		}
		if len(t) > 19 && t[10] == 'T' { // SQLite's stored datetime
			return t[:19]
		}
		return t
	}
	return fmt.Sprint(x)
}

// sameFigure compares a report figure with a hand one to the report's
// places.
func sameFigure(got any, want any) bool {
	if got == nil || want == nil {
		return got == nil && (want == nil || cellText(want) == "0")
	}
	g, err1 := decimal.NewFromString(cellText(got))
	w, err2 := decimal.NewFromString(cellText(want))
	if err1 != nil || err2 != nil {
		return cellText(got) == cellText(want)
	}
	places := int32(0)
	if s := cellText(got); strings.Contains(s, ".") {
		places = int32(len(s) - strings.Index(s, ".") - 1)
	}
	// Within half a unit of the last place (the hand query's floating
	// point may land either side of a rounding boundary).
	return g.Sub(w).Abs().LessThanOrEqual(decimal.New(5, -places-1).Add(decimal.New(1, -9)))
}

// TestReportsBuiltinMatchSQL compares every built-in report, as an
// administrator, with a hand-written query over the demo data.
func TestReportsBuiltinMatchSQL(t *testing.T) {
	r := newReportsEnv(t)
	admin := r.c("admin")
	hand := handReports(dialectSQL{pg: r.app.DB.Kind == db.Postgres}, r.clk.Now())
	if len(r.reports) != len(hand) {
		t.Fatalf("%d built-in reports, %d hand queries", len(r.reports), len(hand))
	}
	for key, q := range hand {
		res := r.data(admin, key, "")
		cols := res["columns"].([]any)
		nd := 0
		for _, c := range cols {
			if c.(map[string]any)["role"] == "dimension" {
				nd++
			}
		}
		want := handRows(t, r.env, q, nd)
		rows := res["rows"].([]any)
		if len(rows) != len(want) {
			t.Errorf("%s: %d rows, hand query %d", key, len(rows), len(want))
		}
		if len(rows) == 0 && key != "orders_by_month" {
			t.Errorf("%s: no rows over the demo", key)
		}
		for _, row := range rows {
			vals := row.([]any)
			w, ok := want[rowKeyOf(vals[:nd])]
			if !ok {
				t.Errorf("%s: row %v not in the hand query", key, vals)
				continue
			}
			for i := nd; i < len(vals); i++ {
				if key == "campaign_roi" && i >= 6 { // ratios, checked below from the counts
					continue
				}
				if key == "key_deals_timeline" {
					if cellText(vals[i]) != cellText(w[i]) && !strings.HasPrefix(cellText(w[i]), cellText(vals[i])) {
						t.Errorf("%s %v col %d: %v, hand %v", key, vals[:nd], i, vals[i], cellText(w[i]))
					}
					continue
				}
				if !sameFigure(vals[i], w[i]) {
					t.Errorf("%s %v col %s: %v, hand %v", key, vals[:nd], cols[i].(map[string]any)["key"], vals[i], cellText(w[i]))
				}
			}
		}
	}
	// MK1: the campaign ROI report reproduces the requirement's table.
	roi := map[string][]any{}
	for _, row := range r.data(admin, "campaign_roi", "")["rows"].([]any) {
		vals := row.([]any)
		roi[vals[0].(string)] = vals
	}
	for name, want := range map[string][]string{
		"上海工博会":      {"120", "35", "10", "4800000.00", "0.0833"},
		"区域技术交流会-华东": {"60", "18", "8", "2600000.00", "0.1333"},
		"白皮书下载":      {"200", "20", "4", "900000.00", "0.0200"},
	} {
		got := roi[name]
		if got == nil || got[2] != want[0] || got[3] != want[1] || got[4] != want[2] || got[5] != want[3] || got[6] != want[4] {
			t.Errorf("MK1 %s: %v, want %v", name, got, want)
		}
	}
}

// TestReportsScopeAndDrill checks that a rep's figures count only the
// rep's scope (totals included), that a manager's drill-down lists exactly
// the records behind each count, that a measure over a hidden field is
// refused, and the XLSX export.
func TestReportsScopeAndDrill(t *testing.T) {
	r := newReportsEnv(t)
	admin, south, mgr := r.c("admin"), r.c("rep.south"), r.c("sales.manager")
	users := r.userIDs()
	count := func(c *client, entity, filter string) int {
		t.Helper()
		res := c.do("GET", "/api/v1/records/"+entity+"?per_page=1&count=exact&filter="+url.QueryEscape(filter), nil, nil).want(200).json()
		return int(res["total"].(float64))
	}
	// The 华南 rep's lead sources: the rows and the total are the rep's
	// leads only (scope: region 华南, or owned by the rep).
	res := r.data(south, "lead_sources", "")
	total, _ := strconv.Atoi(res["totals"].([]any)[1].(string))
	if seen := count(south, "leads", ""); total != seen || total == 0 {
		t.Fatalf("rep's total %d, the rep's list %d", total, seen)
	}
	want := handRows(t, r.env, "SELECT source, COUNT(*) FROM r_leads WHERE deleted_at IS NULL AND (region = '华南' OR owner = "+users["rep.south"]+") GROUP BY 1", 1)
	sum := 0
	for _, row := range res["rows"].([]any) {
		vals := row.([]any)
		if w := want[rowKeyOf(vals[:1])]; w == nil || !sameFigure(vals[1], w[1]) {
			t.Errorf("rep's %v: hand %v", vals, w)
		}
		n, _ := strconv.Atoi(vals[1].(string))
		sum += n
	}
	if sum != total || total >= count(admin, "leads", "") {
		t.Errorf("rep's rows sum to %d, total %d", sum, total)
	}
	// The rep's campaign ROI counts the rep's leads only.
	for _, row := range r.data(south, "campaign_roi", "")["rows"].([]any) {
		vals := row.([]any)
		if vals[0] == "区域技术交流会-华东" && vals[2] != "0" {
			t.Errorf("华南 rep sees 华东 leads: %v", vals)
		}
	}

	// Drill-down: every count of every built-in report, for the first rows,
	// lists exactly that many records for the manager.
	drills := 0
	keys := make([]string, 0, len(r.reports))
	for k := range r.reports {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		res := r.data(mgr, key, "preset=last_12_months")
		cols := res["columns"].([]any)
		rows := res["rows"].([]any)
		nd := 0
		for _, c := range cols {
			if c.(map[string]any)["role"] == "dimension" {
				nd++
			}
		}
		for ri, row := range rows {
			if ri == 3 {
				break
			}
			vals := row.([]any)
			for i := nd; i < len(vals); i++ {
				c := cols[i].(map[string]any)
				if c["op"] != "count" || vals[i] == nil {
					continue
				}
				n, _ := strconv.Atoi(vals[i].(string))
				tgt := mgr.do("POST", "/api/v1/reports/"+r.reports[key]+"/drill", map[string]any{"keys": vals[:nd], "measure": i - nd,
					"params": map[string]any{"preset": "last_12_months"}}, nil).want(200).json()
				if got := count(mgr, tgt["entity"].(string), tgt["filter"].(string)); got != n {
					t.Errorf("%s %v %s: %d, drill-down lists %d (%s: %s)", key, vals[:nd], c["key"], n, got, tgt["entity"], tgt["filter"])
				}
				drills++
			}
		}
	}
	if drills < 30 {
		t.Errorf("only %d drill-downs checked", drills)
	}
	// A total's drill-down: the wins of the last 12 months (the MoM / YoY
	// report queries a year more, and shows and lists only the range).
	won := r.data(mgr, "won_by_month", "preset=last_12_months")
	tgt := mgr.do("POST", "/api/v1/reports/"+r.reports["won_by_month"]+"/drill", map[string]any{"keys": []any{}, "measure": 1,
		"params": map[string]any{"preset": "last_12_months"}}, nil).want(200).json()
	if n, _ := strconv.Atoi(won["totals"].([]any)[2].(string)); n == 0 || count(mgr, "opportunities", tgt["filter"].(string)) != n {
		t.Errorf("won total %v, drill-down %d (%s)", won["totals"], count(mgr, "opportunities", tgt["filter"].(string)), tgt["filter"])
	}
	if first := won["rows"].([]any)[0].([]any)[0].(string); first < "2025-11" {
		t.Errorf("rows before the range: %s", first)
	}

	// A measure over a field hidden from the rep is refused, not computed.
	rep := map[string]any{"name": "毛利", "source": "quotes", "chart": "kpi", "dimensions": []any{},
		"measures": []any{map[string]any{"op": "sum", "field": "margin"}}}
	south.do("POST", "/api/v1/reports/preview", map[string]any{"report": rep}, nil).want(422)
	south.do("POST", "/api/v1/records/reports", rep, nil).want(422)
	rep["shared"] = true
	id := admin.do("POST", "/api/v1/records/reports", rep, nil).want(201).json()["id"].(string)
	south.do("GET", "/api/v1/reports/"+id+"/data", nil, nil).want(400)
	admin.do("GET", "/api/v1/reports/"+id+"/data", nil, nil).want(200)
	// …and so is one through a link to a hidden field.
	south.do("POST", "/api/v1/reports/preview", map[string]any{"report": map[string]any{"source": "opportunities", "chart": "bar",
		"dimensions": []any{map[string]any{"field": "account.credit_limit"}}, "measures": []any{map[string]any{"op": "count"}}}}, nil).want(422)
	// Only administrators share.
	south.do("POST", "/api/v1/records/reports", map[string]any{"name": "我的", "source": "leads", "chart": "pie", "shared": true,
		"dimensions": []any{map[string]any{"field": "source"}}, "measures": []any{map[string]any{"op": "count"}}}, nil).want(403)

	// XLSX: the rows as the caller sees them, with a totals row.
	x := south.do("GET", "/api/v1/reports/"+r.reports["lead_sources"]+"/data?format=xlsx", nil, nil).want(200)
	if ct := x.header.Get("Content-Type"); !strings.Contains(ct, "spreadsheetml") {
		t.Fatalf("content type %s", ct)
	}
	sheet := readXLSX(t, x.body)
	if last := sheet[len(sheet)-1]; last[0] != "合计" || last[1] != strconv.Itoa(total) {
		t.Errorf("xlsx totals %v, want %d", last, total)
	}
}

// TestReportsBuilderAndSchedule covers definitions the builder makes (link
// dimensions, buckets, sort and limit, bad input) and the scheduled
// e-mail of a dashboard, each recipient with their own figures.
func TestReportsBuilderAndSchedule(t *testing.T) {
	r := newReportsEnv(t)
	mgr, admin := r.c("sales.manager"), r.c("admin")
	users := r.userIDs()
	prev := func(rep map[string]any) map[string]any {
		return mgr.do("POST", "/api/v1/reports/preview", map[string]any{"report": rep}, nil).want(200).json()
	}
	// Won deals by the account's region and quarter, top 3 by amount.
	res := prev(map[string]any{"name": "x", "source": "opportunities", "chart": "bar", "filter": `status == "won"`,
		"dimensions": []any{map[string]any{"field": "account.region"}, map[string]any{"field": "closed_at", "bucket": "quarter"}},
		"measures":   []any{map[string]any{"op": "sum", "field": "amount"}, map[string]any{"op": "avg", "field": "amount"}, map[string]any{"op": "max", "field": "amount"}},
		"sort":       []any{map[string]any{"column": "m0", "desc": true}}, "row_limit": 3})
	rows := res["rows"].([]any)
	if len(rows) != 3 || !res["truncated"].(bool) {
		t.Fatalf("rows %v", rows)
	}
	prevAmt := decimal.New(1, 12)
	for _, row := range rows {
		vals := row.([]any)
		if q := vals[1].(string); len(q) != 7 || q[4:6] != "-Q" {
			t.Errorf("quarter label %q", q)
		}
		a, _ := decimal.NewFromString(vals[2].(string))
		if a.GreaterThan(prevAmt) {
			t.Errorf("not sorted: %v", rows)
		}
		prevAmt = a
	}
	// Bad definitions are 422 with the field.
	for _, bad := range []map[string]any{
		{"source": "opportunities", "chart": "pie", "measures": []any{map[string]any{"op": "median", "field": "amount"}}},
		{"source": "opportunities", "chart": "pie", "measures": []any{map[string]any{"op": "sum", "field": "name"}}},
		{"source": "opportunities", "chart": "bar", "dimensions": []any{map[string]any{"field": "amount", "bucket": "month"}}, "measures": []any{map[string]any{"op": "count"}}},
		{"source": "opportunities", "chart": "heatmap", "measures": []any{map[string]any{"op": "count"}}},
		{"source": "opportunities", "chart": "bar", "measures": []any{map[string]any{"op": "ratio", "of": []any{0, 5}}}},
		{"source": "nowhere", "chart": "bar", "measures": []any{map[string]any{"op": "count"}}},
		{"source": "opportunities", "chart": "bar", "filter": "amount >>> 3", "measures": []any{map[string]any{"op": "count"}}},
	} {
		got := mgr.do("POST", "/api/v1/reports/preview", map[string]any{"report": bad}, nil)
		if got.status != 422 && got.status != 400 {
			t.Errorf("%v: %d %s", bad, got.status, got.body)
		}
		if strings.Contains(string(got.body), "SELECT") {
			t.Errorf("SQL in an error: %s", got.body)
		}
	}
	bad := mgr.do("POST", "/api/v1/reports/preview", map[string]any{"report": map[string]any{"source": "opportunities", "chart": "bar",
		"filter": "amount >>> 3", "measures": []any{map[string]any{"op": "count"}}}}, nil).want(422)
	if _, f, _ := problem(t, bad); f["filter"] == "" {
		t.Errorf("a bad filter is not filed under filter: %s", bad.body)
	}
	// A dashboard e-mailed daily at 8 to the manager and the 华南 rep.
	srv := startReportSMTP(t, admin)
	dash := mgr.do("POST", "/api/v1/records/dashboards", map[string]any{"name": "我的看板", "schedule": "daily", "schedule_hour": 8,
		"recipients": []any{users["sales.manager"], users["rep.south"]},
		"layout":     []any{map[string]any{"report": r.reports["lead_sources"], "x": 0, "y": 0, "w": 6, "h": 4}}}, nil).want(201).json()
	mgr.do("POST", "/api/v1/records/dashboards", map[string]any{"name": "坏", "layout": []any{map[string]any{"report": r.reports["lead_sources"], "x": 10, "y": 0, "w": 6, "h": 4}}}, nil).want(422)
	r.clk.Set(time.Date(2026, 11, 3, 7, 30, 0, 0, shanghai))
	if n, err := r.app.Reports.SendDue(context.Background()); err != nil || n != 0 {
		t.Fatalf("before 8: %d %v", n, err)
	}
	r.clk.Set(time.Date(2026, 11, 3, 8, 5, 0, 0, shanghai))
	if n, err := r.app.Reports.SendDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("at 8: %d %v", n, err)
	}
	if n, _ := r.app.Reports.SendDue(context.Background()); n != 0 {
		t.Fatalf("sent twice")
	}
	if _, err := r.app.Jobs.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	mails := srv.wait(2)
	totals := map[string]string{}
	for _, m := range mails {
		if len(m.Attachments) != 1 || !strings.HasSuffix(m.Attachments[0].Name, ".xlsx") {
			t.Fatalf("attachments %+v", m.Attachments)
		}
		sheet := readXLSX(t, m.Attachments[0].Data)
		totals[m.To] = sheet[len(sheet)-1][1]
		if !strings.Contains(m.Text, "线索来源") {
			t.Errorf("text %s", m.Text)
		}
	}
	if len(totals) != 2 || totals[mailOf("rep.south")] == totals[mailOf("sales.manager")] {
		t.Errorf("each recipient should see their own total: %v", totals)
	}
	got := mgr.do("GET", "/api/v1/records/dashboards/"+dash["id"].(string), nil, nil).want(200).json()
	if got["last_sent_at"] == nil {
		t.Errorf("last_sent_at not stamped")
	}
}

// readXLSX reads the first sheet of a workbook.
func readXLSX(t *testing.T, b []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// reportSMTP is a test SMTP server the notification settings point at.
type reportSMTP struct {
	t   *testing.T
	srv *notifytest.SMTP
}

// reportMail is a received mail, decoded.
type reportMail struct {
	To          string
	Text        string
	Attachments []notifytest.Attachment
}

func startReportSMTP(t *testing.T, admin *client) *reportSMTP {
	srv := notifytest.StartSMTP(t, notifytest.Options{})
	admin.do("PUT", "/api/v1/notify/settings", map[string]any{"email_enabled": true, "smtp_host": srv.Host, "smtp_port": srv.Port,
		"smtp_tls": "none", "from_address": "tenon@factory.cn", "from_name": "Tenon"}, nil).want(200)
	return &reportSMTP{t: t, srv: srv}
}

func (s *reportSMTP) wait(n int) []reportMail {
	var out []reportMail
	for _, m := range s.srv.Wait(n) {
		d, err := notifytest.Decode(m)
		if err != nil {
			s.t.Fatal(err)
		}
		out = append(out, reportMail{To: m.To[0], Text: d.Text, Attachments: d.Attachments})
	}
	return out
}

// mailOf is a demo user's e-mail address.
func mailOf(login string) string { return login + "@demo.tenon.local" }
