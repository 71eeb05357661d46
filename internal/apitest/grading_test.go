package apitest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
)

// gradingEnv is a Tenon with the grading module started and a clock.
type gradingEnv struct {
	*env
	clk *testClock
	t   *testing.T
}

func newGradingEnv(t *testing.T, name string) *gradingEnv {
	clk := &testClock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, shanghai)}
	e := openEnv(t, name, clk)
	if err := e.app.Grading.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &gradingEnv{env: e, clk: clk, t: t}
}

func (g *gradingEnv) account(name string, in map[string]any) string {
	g.t.Helper()
	body := map[string]any{"name": name, "region": "华东"}
	for k, v := range in {
		body[k] = v
	}
	return g.c("admin").do("POST", "/api/v1/records/accounts", body, nil).want(201).json()["id"].(string)
}

// won records a won deal of the account closed at the given time.
func (g *gradingEnv) won(acc, amount string, closed time.Time) {
	g.t.Helper()
	ctx := context.Background()
	r, err := g.app.Records.Create(ctx, access.System(), "opportunities", map[string]any{"name": "设备订单 " + amount,
		"account": acc, "amount": amount, "stage": "won"})
	if err != nil {
		g.t.Fatal(err)
	}
	if _, err := g.app.Records.Update(ctx, access.System(), "opportunities", r.ID(), map[string]any{"closed_at": closed.Format(time.RFC3339)}, 0); err != nil {
		g.t.Fatal(err)
	}
}

func (g *gradingEnv) run() {
	g.t.Helper()
	if _, err := g.app.Jobs.RunDue(context.Background()); err != nil {
		g.t.Fatal(err)
	}
}

func (g *gradingEnv) get(acc string) map[string]any {
	g.t.Helper()
	return g.c("admin").do("GET", "/api/v1/records/accounts/"+acc, nil, nil).want(200).json()
}

func (g *gradingEnv) want(acc string, want map[string]any) {
	g.t.Helper()
	got := g.get(acc)
	for k, v := range want {
		if fmt.Sprint(got[k]) != fmt.Sprint(v) {
			g.t.Errorf("%s: %s = %v, want %v", got["name"], k, got[k], v)
		}
	}
}

// TestGradingDefaultRules grades accounts by each branch of the shipped
// rules, with the value score, health and the payment terms that follow.
func TestGradingDefaultRules(t *testing.T) {
	g := newGradingEnv(t, "tenon_grading")
	now := g.clk.Now()
	rules := g.c("admin").do("GET", "/api/v1/records/grade_rules?sort=priority", nil, nil).want(200).items()
	if len(rules) != 3 || rules[0]["grade"] != "a" || rules[2]["condition"] != nil && rules[2]["condition"] != "" {
		t.Fatalf("shipped rules: %v", rules)
	}
	// Start again: the rules are not added twice, nor after being deleted.
	if err := g.app.Grading.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(g.c("admin").do("GET", "/api/v1/records/grade_rules", nil, nil).want(200).items()); n != 3 {
		t.Fatalf("rules after a second start: %d", n)
	}

	aPurchases := g.account("上海浦江重工有限公司", nil)
	g.won(aPurchases, "1800000", now.AddDate(0, -2, 0))
	g.won(aPurchases, "1200000", now.AddDate(0, -11, 0))
	g.won(aPurchases, "5000000", now.AddDate(-1, -1, 0)) // more than a year ago: not this year's
	aYears := g.account("无锡华光电气股份有限公司", map[string]any{"first_deal_on": "2023-06-01"})
	bOrder := g.account("宁波东海精密机械有限公司", nil)
	g.won(bOrder, "500000", now.AddDate(0, -1, 0))
	bGrowth := g.account("杭州新锐自动化有限公司", nil)
	g.won(bGrowth, "300000", now.AddDate(0, -15, 0))
	g.won(bGrowth, "370000", now.AddDate(0, -3, 0)) // +23 %
	cFlat := g.account("常州恒通五金制品有限公司", nil)
	g.won(cFlat, "300000", now.AddDate(0, -15, 0))
	g.won(cFlat, "330000", now.AddDate(0, -3, 0))                                   // +10 %
	cNone := g.account("南通海达贸易有限公司", map[string]any{"first_deal_on": "2023-06-02"}) // a day short of 3 years
	g.run()

	g.want(aPurchases, map[string]any{"grade": "a", "payment_terms_days": 60, "annual_purchases": "3000000.00",
		"value_score": 84, "health": "at_risk"}) // 50 (amount) + 30 (payments) + 4 (one year of cooperation)
	g.want(aYears, map[string]any{"grade": "a", "payment_terms_days": 60, "value_score": 12, "annual_purchases": "0.00"})
	g.want(bOrder, map[string]any{"grade": "b", "payment_terms_days": 60})
	g.want(bGrowth, map[string]any{"grade": "b", "payment_terms_days": 60})
	g.want(cFlat, map[string]any{"grade": "c", "payment_terms_days": 30})
	g.want(cNone, map[string]any{"grade": "c", "payment_terms_days": 30, "value_score": 8})

	// An activity makes the account healthy.
	g.c("admin").do("POST", "/api/v1/records/activities", map[string]any{"kind": "visit", "subject": "拜访设备部",
		"account": cNone, "occurred_at": now.Add(-time.Hour).Format(time.RFC3339)}, nil).want(201)
	g.run()
	g.want(cNone, map[string]any{"health": "healthy"})

	// Terms follow the grade while they are the grade's default; terms set
	// by hand stay.
	g.c("admin").do("PATCH", "/api/v1/records/accounts/"+bOrder, map[string]any{"payment_terms_days": 45}, nil).want(200)
	g.won(cFlat, "2700000", now.AddDate(0, 0, -1))
	g.won(bOrder, "2600000", now.AddDate(0, 0, -1))
	g.run()
	g.want(cFlat, map[string]any{"grade": "a", "payment_terms_days": 60})
	g.want(bOrder, map[string]any{"grade": "a", "payment_terms_days": 45})

	// An administrator edits a rule; regrade recomputes one account now
	// (terms that are not the previous grade's default stay).
	var cRule string
	for _, r := range rules {
		if r["grade"] == "c" {
			cRule = r["id"].(string)
		}
	}
	g.c("admin").do("PATCH", "/api/v1/records/grade_rules/"+cRule, map[string]any{"payment_terms_days": 15}, nil).want(200)
	g.c("admin").do("PATCH", "/api/v1/records/accounts/"+cNone, map[string]any{"grade": "b"}, nil).want(200)
	res := g.c("admin").do("POST", "/api/v1/records/accounts/"+cNone+"/actions/regrade", map[string]any{}, nil).want(200).json()
	if res["grade"] != "c" || fmt.Sprint(res["payment_terms_days"]) != "30" {
		t.Errorf("regrade: %v, %v", res["grade"], res["payment_terms_days"])
	}
	// A condition must compile over the metrics.
	g.c("admin").do("POST", "/api/v1/records/grade_rules", map[string]any{"name": "坏规则", "grade": "b", "priority": 5,
		"condition": "revenue > 1"}, nil).want(422)
	g.c("admin").do("POST", "/api/v1/records/grade_rules", map[string]any{"name": "坏规则", "grade": "b", "priority": 5,
		"condition": "max_order + 1"}, nil).want(422)
	// Reps read the rules but may not change them, nor recompute.
	g.c("rep.east").do("GET", "/api/v1/records/grade_rules", nil, nil).want(200)
	g.c("rep.east").do("PATCH", "/api/v1/records/grade_rules/"+cRule, map[string]any{"payment_terms_days": 90}, nil).want(403)
	g.c("rep.east").do("POST", "/api/v1/grading/recompute", nil, nil).want(403)
	g.c("admin").do("POST", "/api/v1/grading/recompute", nil, nil).want(202)
	g.run()
}

// TestGradingNightly moves the clock: the nightly job, run by its
// schedule, ages purchases out of the year and interactions out of 90 days.
func TestGradingNightly(t *testing.T) {
	g := newGradingEnv(t, "tenon_grading_nightly")
	now := g.clk.Now()
	acc := g.account("上海浦江重工有限公司", nil)
	g.won(acc, "3200000", now.AddDate(0, -1, 0))
	g.c("admin").do("POST", "/api/v1/records/activities", map[string]any{"kind": "call", "subject": "回访",
		"account": acc, "occurred_at": now.Add(-time.Hour).Format(time.RFC3339)}, nil).want(201)
	g.run()
	g.want(acc, map[string]any{"grade": "a", "health": "healthy", "payment_terms_days": 60})

	// 100 days later the nightly run finds no recent interaction.
	g.clk.Add(100 * 24 * time.Hour)
	g.run()
	g.want(acc, map[string]any{"grade": "a", "health": "at_risk"})

	// A year on, the purchases have left the window: C, and the terms
	// follow since they were A's default.
	g.clk.Add(270 * 24 * time.Hour)
	g.run()
	g.want(acc, map[string]any{"grade": "c", "payment_terms_days": 30, "annual_purchases": "0.00"})
}
