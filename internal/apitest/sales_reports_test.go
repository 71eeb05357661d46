package apitest

import (
	"fmt"
	"net/url"
	"testing"
	"time"
)

// salesFixture creates, by the clock:
//
//	2026-10-01 09:00  A 华东 rep.east   100,000 → 报价 (60%)    expected 2026-11-20
//	                  B 华东 rep.east2  200,000 → 商务谈判 (80%) expected 2026-12-05
//	                  C 华南 rep.south   50,000 → 方案设计 (40%) expected 2026-11-25
//	                  D 华东 rep.east   300,000 equipment (won 2026-11-02 09:00: 32 days)
//	                  F 华东 rep.east    70,000 lost at once (price)
//	2026-10-17 09:00  E 华南 rep.south   80,000 automation (won 2026-11-02 09:00: 16 days)
//
// and three leads (two 华东, one 华南). The clock ends at 2026-11-02 09:00.
func salesFixture(t *testing.T, se *salesEnv) map[string]string {
	t.Helper()
	east, south := se.account("苏州精工机械有限公司", "华东"), se.account("佛山华南重工有限公司", "华南")
	ids := map[string]string{}
	mk := func(key, as, account, amount string, extra map[string]any) {
		in := map[string]any{"name": "商机" + key, "account": account, "amount": amount}
		for k, v := range extra {
			in[k] = v
		}
		ids[key] = se.opp(as, in)["id"].(string)
	}
	mk("A", "rep.east", east, "100000", map[string]any{"expected_close": "2026-11-20"})
	se.action("rep.east", ids["A"], "move_stage", map[string]any{"stage": "quotation"}).want(200)
	mk("B", "rep.east2", east, "200000", map[string]any{"expected_close": "2026-12-05"})
	se.action("rep.east2", ids["B"], "move_stage", map[string]any{"stage": "negotiation"}).want(200)
	mk("C", "rep.south", south, "50000", map[string]any{"expected_close": "2026-11-25"})
	se.action("rep.south", ids["C"], "move_stage", map[string]any{"stage": "solution"}).want(200)
	mk("D", "rep.east", east, "300000", map[string]any{"product_line": "equipment", "expected_close": "2026-10-20"})
	mk("F", "rep.east", east, "70000", nil)
	se.action("rep.east", ids["F"], "lose", map[string]any{"loss_reason": "price"}).want(200)
	for i, reg := range []string{"华东", "华东", "华南"} {
		se.admin.do("POST", "/api/v1/records/leads", map[string]any{"company": fmt.Sprintf("线索公司%d", i), "region": reg}, nil).want(201)
	}
	se.clock.Set(time.Date(2026, 10, 17, 9, 0, 0, 0, shanghai))
	mk("E", "rep.south", south, "80000", map[string]any{"product_line": "automation", "expected_close": "2026-10-30"})
	se.clock.Set(time.Date(2026, 11, 2, 9, 0, 0, 0, shanghai))
	se.action("rep.east", ids["D"], "win", map[string]any{"reason": "交期"}).want(200)
	se.action("rep.south", ids["E"], "win", map[string]any{}).want(200)
	return ids
}

type fcRow struct {
	period           string
	open             float64
	amount, weighted string
	won              float64
	wonAmount        string
}

func wantForecast(t *testing.T, who string, got map[string]any, rows ...fcRow) {
	t.Helper()
	list := got["rows"].([]any)
	if len(list) != len(rows) {
		t.Fatalf("%s: %d periods, want %d: %v", who, len(list), len(rows), got)
	}
	for i, w := range rows {
		r := list[i].(map[string]any)
		g := fcRow{r["period"].(string), r["open"].(float64), r["amount"].(string), r["weighted"].(string), r["won"].(float64), r["won_amount"].(string)}
		if g != w {
			t.Fatalf("%s: period %d = %+v, want %+v", who, i, g, w)
		}
	}
}

// TestSalesForecastAttainment checks the forecast, the targets'
// attainment, the funnel and the cycle against figures worked out by hand,
// for a manager and for a 华南 rep, who sees only 华南.
func TestSalesForecastAttainment(t *testing.T) {
	se := newSalesEnv(t)
	salesFixture(t, se)
	q := "/api/v1/sales/forecast?period=month&from=2026-11-01&to=2027-01-01"
	// Nov: A 100,000×60% + C 50,000×40% = 80,000 weighted; won D 300,000 + E 80,000.
	// Dec: B 200,000×80% = 160,000.
	wantForecast(t, "manager", se.c("sales.manager").do("GET", q, nil, nil).want(200).json(),
		fcRow{"2026-11", 2, "150000.00", "80000.00", 2, "380000.00"},
		fcRow{"2026-12", 1, "200000.00", "160000.00", 0, "0.00"})
	wantForecast(t, "rep.south", se.c("rep.south").do("GET", q, nil, nil).want(200).json(),
		fcRow{"2026-11", 1, "50000.00", "20000.00", 1, "80000.00"},
		fcRow{"2026-12", 0, "0.00", "0.00", 0, "0.00"})
	wantForecast(t, "manager by quarter", se.c("sales.manager").do("GET", "/api/v1/sales/forecast?period=quarter&from=2026-10-01&to=2027-01-01", nil, nil).want(200).json(),
		fcRow{"2026-Q4", 3, "350000.00", "240000.00", 2, "380000.00"})
	// One owner, one team (华东销售组: rep.east and rep.east2).
	wantForecast(t, "rep.east only", se.c("sales.manager").do("GET", q+"&user="+se.users["rep.east"], nil, nil).want(200).json(),
		fcRow{"2026-11", 1, "100000.00", "60000.00", 1, "300000.00"},
		fcRow{"2026-12", 0, "0.00", "0.00", 0, "0.00"})

	// Targets of November 2026.
	depts := map[string]string{}
	for _, d := range se.admin.do("GET", "/api/v1/records/departments?per_page=100", nil, nil).want(200).items() {
		depts[d["code"].(string)] = d["id"].(string)
	}
	for _, tg := range []map[string]any{
		{"salesperson": se.users["rep.east"], "amount": "400000"},
		{"salesperson": se.users["rep.south"], "amount": "100000"},
		{"department": depts["SALES-E"], "amount": "1000000"},
		{"department": depts["SALES"], "amount": "2000000"},
		{"department": depts["SALES"], "amount": "500000", "product_line": "automation"},
	} {
		tg["period"], tg["period_start"] = "month", "2026-11-01"
		se.c("sales.manager").do("POST", "/api/v1/records/sales_targets", tg, nil).want(201)
	}
	se.c("sales.manager").do("POST", "/api/v1/records/sales_targets", map[string]any{"period": "month", "period_start": "2026-11-02",
		"amount": "1", "salesperson": se.users["rep.east"]}, nil).want(422)
	se.c("sales.manager").do("POST", "/api/v1/records/sales_targets", map[string]any{"period": "month", "period_start": "2026-11-01",
		"amount": "1"}, nil).want(422)
	type att struct{ name, won, attainment string }
	attainment := func(as, extra string) []att {
		var out []att
		for _, x := range se.c(as).do("GET", "/api/v1/sales/attainment?period=month&period_start=2026-11-01"+extra, nil, nil).want(200).json()["items"].([]any) {
			r := x.(map[string]any)
			out = append(out, att{r["name"].(string), r["won"].(string), r["attainment"].(string)})
		}
		return out
	}
	got := attainment("sales.manager", "")
	exp := []att{{"张伟", "300000.00", "0.7500"}, {"刘洋", "80000.00", "0.8000"}, {"华东销售组", "300000.00", "0.3000"},
		{"销售部", "380000.00", "0.1900"}, {"销售部", "80000.00", "0.1600"}}
	if fmt.Sprint(got) != fmt.Sprint(exp) {
		t.Fatalf("attainment = %v, want %v", got, exp)
	}
	if got := attainment("sales.manager", "&department="+depts["SALES-S"]); fmt.Sprint(got) != fmt.Sprint([]att{{"刘洋", "80000.00", "0.8000"}}) {
		t.Fatalf("华南 team's attainment = %v", got)
	}
	if got := attainment("rep.south", ""); fmt.Sprint(got) != fmt.Sprint([]att{{"刘洋", "80000.00", "0.8000"}}) {
		t.Fatalf("rep.south's attainment = %v", got)
	}

	// Funnel of 2026: 6 opportunities; reached: 需求确认 6, 技术交流 5 (all
	// but F), 方案设计 5, 报价 4 (A, B, D, E), 投标 3, 谈判 3, 合同审核 2 (the
	// wins), won 2, lost 1.
	f := se.c("sales.manager").do("GET", "/api/v1/sales/funnel?from=2026-01-01&to=2027-01-01", nil, nil).want(200).json()
	var counts []float64
	var names []string
	for _, s := range f["stages"].([]any) {
		counts = append(counts, s.(map[string]any)["count"].(float64))
		names = append(names, fmt.Sprint(s.(map[string]any)["name"], "/", s.(map[string]any)["name_en"]))
	}
	// The shipped pipeline names its stages in both languages.
	if names[0] != "需求确认/Requirements" || names[6] != "合同审核/Contract review" {
		t.Fatalf("funnel stage names = %v", names)
	}
	if fmt.Sprint(f["leads"], f["opportunities"], counts, f["won"], f["lost"]) != "3 6 [6 5 5 4 3 3 2] 2 1" {
		t.Fatalf("funnel = %v %v %v %v %v", f["leads"], f["opportunities"], counts, f["won"], f["lost"])
	}
	f = se.c("rep.south").do("GET", "/api/v1/sales/funnel?from=2026-01-01&to=2027-01-01", nil, nil).want(200).json()
	counts = nil
	for _, s := range f["stages"].([]any) {
		counts = append(counts, s.(map[string]any)["count"].(float64))
	}
	if fmt.Sprint(f["leads"], f["opportunities"], counts, f["won"], f["lost"]) != "<nil> 2 [2 2 2 1 1 1 1] 1 0" {
		t.Fatalf("rep.south's funnel = %v %v %v %v %v", f["leads"], f["opportunities"], counts, f["won"], f["lost"])
	}

	// Cycle: D 32 days (华东, equipment), E 16 days (华南, automation).
	cyc := func(as, by string) string {
		var out []string
		for _, x := range se.c(as).do("GET", "/api/v1/sales/cycle?group_by="+by, nil, nil).want(200).json()["items"].([]any) {
			r := x.(map[string]any)
			out = append(out, fmt.Sprint(r["key"], ":", r["won"], ":", r["avg_days"]))
		}
		return fmt.Sprint(out)
	}
	want(t, "cycle by region", cyc("sales.manager", "region"), "[华东:1:32.0 华南:1:16.0]")
	want(t, "cycle by product line", cyc("sales.manager", "product_line"), "[automation:1:16.0 equipment:1:32.0]")
	want(t, "rep.south's cycle", cyc("rep.south", "region"), "[华南:1:16.0]")
}

// TestSalesBoard: totals per column, cards, more pages, and a 华南 rep who
// sees nothing of 华东.
func TestSalesBoard(t *testing.T) {
	se := newSalesEnv(t)
	ids := salesFixture(t, se)
	type col struct {
		count            float64
		amount, weighted string
		cards            int
	}
	board := func(as, query string) (map[string]col, map[string]any) {
		j := se.c(as).do("GET", "/api/v1/sales/board"+query, nil, nil).want(200).json()
		out := map[string]col{}
		for _, x := range j["columns"].([]any) {
			c := x.(map[string]any)
			code := c["stage"].(map[string]any)["code"].(string)
			out[code] = col{c["count"].(float64), c["amount"].(string), c["weighted"].(string), len(c["items"].([]any))}
		}
		return out, j
	}
	b, j := board("sales.manager", "")
	if len(j["columns"].([]any)) != 9 || j["pipeline"].(map[string]any)["name"] != "设备销售流程" {
		t.Fatalf("board of the default pipeline: %v", j["pipeline"])
	}
	for code, w := range map[string]col{
		"requirement": {0, "0.00", "0.00", 0}, "quotation": {1, "100000.00", "60000.00", 1}, "solution": {1, "50000.00", "20000.00", 1},
		"negotiation": {1, "200000.00", "160000.00", 1}, "won": {2, "380000.00", "380000.00", 2}, "lost": {1, "70000.00", "0.00", 1},
	} {
		if b[code] != w {
			t.Fatalf("manager's column %s = %+v, want %+v", code, b[code], w)
		}
	}
	b, j = board("rep.south", "")
	for code, w := range map[string]col{
		"quotation": {0, "0.00", "0.00", 0}, "solution": {1, "50000.00", "20000.00", 1}, "negotiation": {0, "0.00", "0.00", 0},
		"won": {1, "80000.00", "80000.00", 1}, "lost": {0, "0.00", "0.00", 0},
	} {
		if b[code] != w {
			t.Fatalf("rep.south's column %s = %+v, want %+v", code, b[code], w)
		}
	}
	for _, x := range j["columns"].([]any) {
		for _, it := range x.(map[string]any)["items"].([]any) {
			if r := it.(map[string]any)["region"]; r != "华南" {
				t.Fatalf("rep.south sees a card of %v", r)
			}
		}
	}
	// A filter narrows the totals; a page of one card has more.
	b, _ = board("sales.manager", `?per_stage=1&filter=`+url.QueryEscape(`owner == `+se.users["rep.east"]))
	want(t, "rep.east's won", b["won"], col{1, "300000.00", "300000.00", 1})
	more := se.c("sales.manager").do("GET", "/api/v1/sales/board/won?per_stage=1&page=2", nil, nil).want(200).json()
	if len(more["items"].([]any)) != 1 || more["more"] != false {
		t.Fatalf("second page of won: %v", more)
	}
	// The won column only keeps the last 90 days.
	se.clock.Add(100 * 24 * time.Hour)
	b, _ = board("sales.manager", "")
	want(t, "won after 100 days", b["won"].count, float64(0))
	_ = ids
}
