package apitest

import (
	"sync"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/module/leadpool"
)

// TestLeadPoolClaimReturn: reps see the company-wide pool and their
// regions' pools only, and in them only leads they may read; claiming
// respects the pool's cap and, when two people claim one lead at once,
// one wins and the other gets 409; returning needs a reason; a manager
// assigns a pooled lead, a rep may not.
func TestLeadPoolClaimReturn(t *testing.T) {
	pe := newPoolEnv(t)
	u := pe.users
	var east []string
	for _, c := range []string{"东一", "东二", "东三", "东四"} {
		east = append(east, idOf(pe.capture(map[string]any{"company": c, "region": "华东"})))
	}
	southLead := idOf(pe.capture(map[string]any{"company": "南一", "region": "华南"}))
	northLead := idOf(pe.capture(map[string]any{"company": "北一", "region": "华北"}))

	pools := func(login string) map[string]float64 {
		out := map[string]float64{}
		for _, p := range pe.c(login).do("GET", "/api/v1/lead-pools", nil, nil).want(200).items() {
			out[p["name"].(string)] = p["count"].(float64)
		}
		return out
	}
	if got := pools("rep.east"); len(got) != 2 || got["华东公海"] != 4 || got["全公司公海"] != 0 {
		t.Fatalf("rep.east's pools %v", got)
	}
	if got := pools("rep.south"); len(got) != 2 || got["华南公海"] != 1 {
		t.Fatalf("rep.south's pools %v", got)
	}
	if got := pools("admin"); len(got) != 3 || got["全公司公海"] != 1 {
		t.Fatalf("admin's pools %v", got)
	}
	// Region isolation: another region's pool does not exist for a rep,
	// nor do its leads.
	pe.c("rep.south").do("GET", "/api/v1/lead-pools/"+pe.pools["华东"]+"/leads", nil, nil).want(404)
	pe.action("rep.south", east[0], "claim", nil).want(404)
	items := pe.c("rep.east").do("GET", "/api/v1/lead-pools/"+pe.pools["华东"]+"/leads", nil, nil).want(200).items()
	if len(items) != 4 {
		t.Fatalf("华东 pool as rep.east: %d leads", len(items))
	}
	// The company-wide pool shows a rep only the leads of their regions.
	if items := pe.c("rep.south").do("GET", "/api/v1/lead-pools/"+pe.pools["all"]+"/leads", nil, nil).want(200).items(); len(items) != 0 {
		t.Fatalf("rep.south sees 华北 leads in the company pool: %v", items)
	}
	// Hidden fields stay hidden in a pool.
	pe.role("sales_rep", []any{map[string]any{"entity": "leads", "actions": []string{"read", "create", "update"}, "scope": "regions",
		"hidden_fields": []string{"phone"}}})
	pe.admin.do("PATCH", "/api/v1/records/leads/"+east[0], map[string]any{"phone": "13800000000"}, nil).want(200)
	for _, it := range pe.c("rep.east").do("GET", "/api/v1/lead-pools/"+pe.pools["华东"]+"/leads", nil, nil).want(200).items() {
		if _, ok := it["phone"]; ok {
			t.Fatalf("a hidden field in the pool: %v", it)
		}
	}

	// Cap 2: the third claim is refused with the cap.
	for _, l := range east[:2] {
		got := pe.action("rep.east", l, "claim", nil).want(200).json()
		if got["owner"] != u["rep.east"] || got["pool"] != nil || got["status"] != "assigned" {
			t.Fatalf("claimed lead %v", got)
		}
	}
	res := pe.action("rep.east", east[2], "claim", nil).want(422).json()
	if res["code"] != "leadpool_claim_cap" {
		t.Fatalf("past the cap: %v", res)
	}
	if c := pe.c("rep.east").do("GET", "/api/v1/lead-pools", nil, nil).want(200).json()["claimed"]; c != float64(2) {
		t.Fatalf("claimed %v", c)
	}
	// Returning needs a reason; then a place under the cap is free again.
	pe.action("rep.east", east[0], "return", map[string]any{"reason": "  "}).want(422)
	pe.action("rep.east2", east[0], "return", map[string]any{"reason": "不是我的"}).want(403)
	got := pe.action("rep.east", east[0], "return", map[string]any{"reason": "客户暂无需求"}).want(200).json()
	if got["pool"] != pe.pools["华东"] || got["return_reason"] != "客户暂无需求" || got["status"] != "new" {
		t.Fatalf("returned lead %v", got)
	}
	pe.action("rep.east", east[0], "return", map[string]any{"reason": "again"}).want(409)
	pe.action("rep.east", east[2], "claim", nil).want(200)
	pe.action("rep.east", east[3], "claim", nil).want(422)

	// Two people claim one lead at once: one wins, the other gets 409.
	for range 3 {
		l := idOf(pe.capture(map[string]any{"company": "争抢", "region": "华东"}))
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i, login := range []string{"rep.east2", "sales.manager"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = pe.action(login, l, "claim", nil).status
			}()
		}
		wg.Wait()
		if !(codes[0] == 200 && codes[1] == 409 || codes[0] == 409 && codes[1] == 200) {
			t.Fatalf("concurrent claims: %v", codes)
		}
		pe.admin.do("DELETE", "/api/v1/records/leads/"+l, nil, nil).want(204)
	}

	// Assign: a manager gives a pooled lead to a rep (task + notification);
	// a rep may not.
	pe.action("rep.east2", east[3], "assign", map[string]any{"user": u["rep.east"]}).want(403) // rep.east heads the team; rep.east2 manages nobody
	pe.action("sales.manager", east[3], "assign", map[string]any{"user": u["rep.east2"]}).want(200)
	if l := pe.lead(east[3]); l["owner"] != u["rep.east2"] || l["pool"] != nil {
		t.Fatalf("assigned lead %v", l)
	}
	if len(pe.tasksOf("rep.east2", east[3])) != 1 || len(pe.inbox("rep.east2", leadpool.KindAssigned)) == 0 {
		t.Fatal("no task or notification for an assigned lead")
	}
	_, _ = southLead, northLead
}

// TestLeadPoolRecycle: leads with no follow-up for the pool's days return
// to it on the hourly run, their former owners are told, and the run is
// idempotent.
func TestLeadPoolRecycle(t *testing.T) {
	pe := newPoolEnv(t)
	u := pe.users
	pe.rule(map[string]any{"name": "华东", "regions": []string{"华东"}, "assignees": []string{u["rep.east"]}})
	stale := idOf(pe.capture(map[string]any{"company": "久未跟进", "region": "华东"}))
	followed := idOf(pe.capture(map[string]any{"company": "有跟进", "region": "华东"}))
	closed := idOf(pe.capture(map[string]any{"company": "已作废", "region": "华东"}))
	pe.admin.do("PATCH", "/api/v1/records/leads/"+closed, map[string]any{"status": "disqualified"}, nil).want(200)

	pe.clock.Add(6 * 24 * time.Hour)
	pe.admin.do("PATCH", "/api/v1/records/leads/"+followed, map[string]any{"last_followup_at": pe.clock.Now().Format(time.RFC3339)}, nil).want(200)
	pe.work()
	if l := pe.lead(stale); l["pool"] != nil {
		t.Fatalf("recycled before 7 days: %v", l)
	}
	pe.clock.Add(25 * time.Hour) // 7 days and 1 hour after the assignment
	pe.work()
	l := pe.lead(stale)
	if l["pool"] != pe.pools["华东"] || l["status"] != "new" || l["return_reason"] == nil || l["pooled_at"] == nil {
		t.Fatalf("stale lead after 7 days: %v", l)
	}
	if f := pe.lead(followed); f["pool"] != nil {
		t.Fatalf("a followed-up lead was recycled: %v", f)
	}
	if c := pe.lead(closed); c["pool"] != nil {
		t.Fatalf("a disqualified lead was recycled: %v", c)
	}
	if n := pe.inbox("rep.east", leadpool.KindRecycled); len(n) != 1 || n[0]["record_id"] != stale {
		t.Fatalf("recycle notifications %v", n)
	}
	pe.clock.Add(time.Hour)
	pe.work()
	if n := pe.inbox("rep.east", leadpool.KindRecycled); len(n) != 1 {
		t.Fatalf("the second run notified again: %v", n)
	}
	pe.clock.Add(6 * 24 * time.Hour) // the followed-up lead's 7 days are over
	pe.work()
	if f := pe.lead(followed); f["pool"] != pe.pools["华东"] {
		t.Fatalf("followed-up lead after 7 days without follow-up: %v", f)
	}
}

// TestLeadPoolKPIs: lead figures over the leads the caller may read.
func TestLeadPoolKPIs(t *testing.T) {
	pe := newPoolEnv(t)
	mk := func(region, source, status string, minutes any) {
		l := idOf(pe.capture(map[string]any{"company": "K", "region": region, "source": source}))
		patch := map[string]any{"status": status}
		if minutes != nil {
			patch["first_response_minutes"] = minutes
		}
		pe.admin.do("PATCH", "/api/v1/records/leads/"+l, patch, nil).want(200)
	}
	mk("华东", "web_form", "working", 30)
	mk("华东", "web_form", "converted", 90)
	mk("华东", "trade_show", "disqualified", nil)
	mk("华南", "referral", "converted", 10)
	kpi := func(login string) map[string]any {
		return pe.c(login).do("GET", "/api/v1/lead-pools/kpis?from=2026-03-01&to=2026-03-02", nil, nil).want(200).json()
	}
	all := kpi("admin")
	if all["total"] != float64(4) || all["valid"] != float64(3) || all["converted"] != float64(2) ||
		all["conversion_rate"] != 0.5 || all["valid_rate"] != 0.75 || all["avg_first_response_minutes"] != float64(130)/3 {
		t.Fatalf("admin KPIs %v", all)
	}
	east := kpi("rep.east")
	src := map[string]float64{}
	for _, s := range east["by_source"].([]any) {
		m := s.(map[string]any)
		src[m["source"].(string)] = m["count"].(float64)
	}
	if east["total"] != float64(3) || src["web_form"] != 2 || src["trade_show"] != 1 || len(src) != 2 || east["avg_first_response_minutes"] != float64(60) {
		t.Fatalf("rep.east KPIs %v", east)
	}
	pe.c("admin").do("GET", "/api/v1/lead-pools/kpis?from=2026-03-05&to=2026-03-01", nil, nil).want(400)
}
