package apitest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/module/demo"
	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// TestSalesDemoHistory loads the demo company and checks that its history
// holds together: deals are created before their activities and closed
// after them, the sales-cycle report has realistic averages by product
// line and region, lead follow-ups come after the lead, and the pools'
// recycling finds nothing stale on the demo's first day.
func TestSalesDemoHistory(t *testing.T) {
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, shanghai)
	clk := &testClock{t: now}
	e := openEnv(t, "tenon_demo_history", clk)
	ctx := context.Background()
	if err := demo.LoadCompany(ctx, e.app.Records, clk); err != nil {
		t.Fatal(err)
	}
	if !clk.Now().Equal(now) {
		t.Fatalf("the clock is left at %v, want %v", clk.Now(), now)
	}
	all := func(entity, filter string) []records.Record {
		t.Helper()
		var out []records.Record
		err := e.app.Records.Each(ctx, access.System(), entity, records.EachOptions{ListOptions: records.ListOptions{Filter: filter, Sort: "id"}},
			func(batch []records.Record) error { out = append(out, batch...); return nil })
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	at := func(r records.Record, f string) time.Time { x, _ := r[f].(time.Time); return x }

	// Deals: created before they close, closed within the past year; a
	// won deal knows its cycle.
	opps := map[int64]records.Record{}
	closed := 0
	for _, o := range all("opportunities", "") {
		opps[o.ID()] = o
		created := at(o, "created_at")
		if created.After(now) || created.Before(now.AddDate(-2, 0, 0)) {
			t.Errorf("opportunity %d created %v", o.ID(), created)
		}
		if o["status"] == "open" {
			continue
		}
		closed++
		c := at(o, "closed_at")
		if !c.After(created) || c.After(now) || c.Before(now.AddDate(-1, 0, 0)) {
			t.Errorf("opportunity %d: created %v, closed %v", o.ID(), created, c)
		}
		if d, ok := o["cycle_days"].(decimal.Decimal); o["status"] == "won" && (!ok || !d.IsPositive()) {
			t.Errorf("won opportunity %d: cycle_days %v", o.ID(), o["cycle_days"])
		}
	}
	if closed < 50 {
		t.Errorf("%d closed deals", closed)
	}

	// Activities fall between a deal's creation and its close, and after
	// the lead they follow up.
	leads := map[int64]records.Record{}
	for _, l := range all("leads", "") {
		leads[l.ID()] = l
	}
	onDeals, onLeads := 0, 0
	for _, a := range all("activities", "") {
		when := at(a, "occurred_at")
		if when.After(now) || when.Before(now.AddDate(0, -15, 0)) {
			t.Errorf("activity %d occurred %v", a.ID(), when)
		}
		if oid, ok := a["opportunity"].(int64); ok {
			onDeals++
			o := opps[oid]
			if when.Before(at(o, "created_at")) || (o["status"] != "open" && when.After(at(o, "closed_at"))) {
				t.Errorf("activity %d at %v on opportunity %d created %v, closed %v", a.ID(), when, oid, o["created_at"], o["closed_at"])
			}
		}
		if lid, ok := a["lead"].(int64); ok {
			onLeads++
			if when.Before(at(leads[lid], "created_at")) {
				t.Errorf("activity %d at %v on lead %d created %v", a.ID(), when, lid, leads[lid]["created_at"])
			}
		}
	}
	if onDeals < 300 || onLeads < 300 {
		t.Errorf("activities on deals %d, on leads %d", onDeals, onLeads)
	}

	// The sales cycle: every product line and region, 20 to 200 days on
	// average, a service deal quicker than an automation line.
	avg := map[string]float64{}
	for _, by := range []string{"product_line", "region"} {
		items := e.c("gm").do("GET", "/api/v1/sales/cycle?group_by="+by, nil, nil).want(200).json()["items"].([]any)
		if len(items) < 3 {
			t.Errorf("cycle by %s: %v", by, items)
		}
		for _, x := range items {
			row := x.(map[string]any)
			days, _ := strconv.ParseFloat(row["avg_days"].(string), 64)
			if row["won"].(float64) < 1 || days < 20 || days > 200 {
				t.Errorf("cycle by %s: %v", by, row)
			}
			avg[row["key"].(string)] = days
		}
		t.Logf("cycle by %s: %v", by, items)
	}
	if !(avg["service"] < avg["automation"]) {
		t.Errorf("service %.1f days, automation %.1f", avg["service"], avg["automation"])
	}

	// Nothing is stale for the pools on the demo's first day.
	if n, err := e.app.LeadPool.Recycle(ctx); err != nil || n != 0 {
		t.Errorf("recycled %d leads (%v)", n, err)
	}
}
