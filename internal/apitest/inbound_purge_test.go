package apitest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/engine/inbound"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
)

// TestInboundPurge: the hourly job forgets signatures once their timestamp
// has left the window (a replay is then refused as stale), old rate-limit
// windows, and call log rows older than 30 days.
func TestInboundPurge(t *testing.T) {
	ie := newInboundEnv(t)
	ctx := context.Background()
	if err := ie.app.Inbound.Start(ctx); err != nil {
		t.Fatal(err)
	}
	id, secret := ie.orderEndpoint(nil)
	body := `{"order_no":"SO-1"}`
	sent := ie.clock.Now()
	ie.push(id, secret, body).want(200)
	count := func(table string) int {
		var n int
		if err := ie.app.DB.QueryRow(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	purge := func() {
		if _, err := ie.app.Jobs.Enqueue(ctx, inbound.KindPurge, nil, jobs.EnqueueOptions{}); err != nil {
			t.Fatal(err)
		}
		ie.work()
	}
	purge()
	if count("inbound_signatures") != 1 || count("inbound_hits") != 1 {
		t.Fatalf("purged too early: %d signatures, %d hits", count("inbound_signatures"), count("inbound_hits"))
	}
	ie.clock.Add(6 * time.Minute)
	purge()
	if n := count("inbound_signatures"); n != 0 {
		t.Errorf("%d signatures after the window", n)
	}
	// Without its signature row the old request is still refused: stale.
	if r := ie.pushAt(id, secret, body, sent).want(401); !strings.Contains(string(r.body), "inbound_unauthorized") {
		t.Errorf("refusal %s", r.body)
	}
	if reason := ie.calls(id)[0]["error"].(map[string]any)["reason"]; reason != "stale" {
		t.Errorf("reason %v", reason)
	}
	ie.clock.Add(2 * time.Hour)
	purge()
	if n := count("inbound_hits"); n != 0 {
		t.Errorf("%d rate-limit windows after two hours", n)
	}
	ie.push(id, secret, `{"order_no":"SO-2"}`).want(200)
	ie.clock.Add(29 * 24 * time.Hour)
	purge()
	if n := len(ie.calls(id)); n != 3 {
		t.Errorf("%d calls kept within 30 days", n)
	}
	ie.clock.Add(23 * time.Hour) // 30 days and an hour after the first call, 29 days 23 hours after the last
	purge()
	if got := ie.calls(id); len(got) != 1 || got[0]["created"] != 1.0 {
		t.Errorf("calls after 30 days %v", got)
	}
	// The schedule exists for the serve loop.
	var schedules int
	if err := ie.app.DB.QueryRow(ctx, `SELECT COUNT(*) FROM job_schedules WHERE name = ?`, inbound.KindPurge).Scan(&schedules); err != nil || schedules != 1 {
		t.Errorf("schedule %d %v", schedules, err)
	}
}

// TestInboundEvalBudget: mappings that read the whole payload for each of
// many items exceed the call's evaluation budget: refused, nothing written.
func TestInboundEvalBudget(t *testing.T) {
	ie := newInboundEnv(t)
	id, secret := ie.endpoint(map[string]any{"source": "erp", "entity": "ib_orders", "external_id_path": "no", "items_path": "items",
		"mappings": []map[string]any{
			{"field": "title", "expression": `item.no + "/" + string(len(payload.items))`},
			{"field": "note", "expression": `payload.batch + string(len(payload.items))`},
		}})
	items := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`{"no":"SO-%d","text":"%s"}`, i, strings.Repeat("x", 130))
		}
		return `{"batch":"B","items":[` + strings.Join(parts, ",") + `]}`
	}
	res := ie.push(id, secret, items(100)).want(200).json()
	if res["created"] != 100.0 {
		t.Fatalf("result %v", res)
	}
	if got := ie.list("ib_orders", `order_no == nil && title == "SO-7/100"`); len(got) != 1 || got[0]["note"] != "B100" {
		t.Errorf("SO-7 %v", got)
	}
	r := ie.push(id, secret, items(1000)).want(422)
	if c := r.json()["code"]; c != "inbound_eval_cut_off" {
		t.Errorf("code %v", c)
	}
	if n := ie.count("ib_orders", ""); n != 100 {
		t.Errorf("%d orders after a cut-off call", n)
	}
}
