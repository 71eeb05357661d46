package apitest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/module/leadpool"
	"github.com/tenon-crm/tenon/internal/platform/access"
)

// TestLeadPoolAssignByRule: new leads nobody took on are matched against
// the active rules in priority order by region, product line and industry;
// round robin takes turns, least loaded picks the one with fewest open
// leads; each assignment creates a follow-up task and a notification; a
// lead no rule takes goes to its region's pool, else the company-wide one;
// a lead a user creates stays theirs.
func TestLeadPoolAssignByRule(t *testing.T) {
	pe := newPoolEnv(t)
	u := pe.users
	var salesE string
	for _, d := range pe.admin.do("GET", `/api/v1/records/departments?filter=code%20==%20"SALES-E"`, nil, nil).want(200).items() {
		salesE = d["id"].(string)
	}
	pe.rule(map[string]any{"name": "华东自动化", "priority": 10, "regions": []string{"华东"}, "product_lines": []string{"automation"},
		"assignees": []string{u["rep.east2"]}, "method": "round_robin", "follow_up_hours": 8})
	rr := pe.rule(map[string]any{"name": "华东团队", "priority": 20, "regions": []string{"华东"}, "department": salesE, "method": "round_robin"})
	pe.rule(map[string]any{"name": "医疗行业", "priority": 30, "industries": []string{"medical"}, "assignees": []string{u["rep.south"]},
		"method": "least_loaded"})
	pe.rule(map[string]any{"name": "停用规则", "priority": 1, "active": false, "assignees": []string{u["gm"]}})
	pe.admin.do("POST", "/api/v1/records/lead_assignment_rules", map[string]any{"name": "无人", "priority": 1}, nil).want(422)

	// Region + product line: the first matching rule by priority.
	a := pe.capture(map[string]any{"company": "甲自动化", "region": "华东", "product_line": "automation", "industry": "machinery"})
	la := pe.lead(a)
	if la["owner"] != u["rep.east2"] || la["status"] != "assigned" || la["assigned_at"] == nil || la["pool"] != nil {
		t.Fatalf("lead a: %v", la)
	}
	tasks := pe.tasksOf("rep.east2", a)
	if len(tasks) != 1 {
		t.Fatalf("follow-up tasks %v", tasks)
	}
	due, _ := time.Parse(time.RFC3339, tasks[0]["due_at"].(string))
	if want := pe.clock.Now().Add(8 * time.Hour); !due.Equal(want) {
		t.Fatalf("task due %v, want %v", due, want)
	}
	if n := pe.inbox("rep.east2", leadpool.KindAssigned); len(n) != 1 || n[0]["record_id"] != idOf(a) {
		t.Fatalf("notifications %v", n)
	}

	// Round robin over the team's active members, in id order, in turn.
	var got []any
	for _, c := range []string{"乙", "丙", "丁", "戊"} {
		got = append(got, pe.lead(pe.capture(map[string]any{"company": c, "region": "华东", "product_line": "equipment"}))["owner"])
	}
	want := []any{u["rep.east"], u["rep.east2"], u["rep.east"], u["rep.east2"]}
	if u["rep.east"] > u["rep.east2"] {
		want = []any{u["rep.east2"], u["rep.east"], u["rep.east2"], u["rep.east"]}
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("round robin %v, want %v", got, want)
		}
	}
	// An inactive member is skipped.
	pe.admin.do("PATCH", "/api/v1/records/users/"+u["rep.east2"], map[string]any{"active": false}, nil).want(200)
	for range 2 {
		if o := pe.lead(pe.capture(map[string]any{"company": "己", "region": "华东"}))["owner"]; o != u["rep.east"] {
			t.Fatalf("inactive member got a lead: %v", o)
		}
	}
	pe.admin.do("PATCH", "/api/v1/records/users/"+u["rep.east2"], map[string]any{"active": true}, nil).want(200)

	// Industry, any region; least loaded (a single candidate here).
	if o := pe.lead(pe.capture(map[string]any{"company": "医院", "region": "华北", "industry": "medical"}))["owner"]; o != u["rep.south"] {
		t.Fatalf("industry rule: owner %v", o)
	}
	// No rule: the region's pool, else the company-wide pool.
	south := pe.lead(pe.capture(map[string]any{"company": "南方厂", "region": "华南", "industry": "food"}))
	north := pe.lead(pe.capture(map[string]any{"company": "北方厂", "region": "华北", "industry": "food"}))
	if south["pool"] != pe.pools["华南"] || south["status"] != "new" || south["pooled_at"] == nil || south["owner"] != nil {
		t.Fatalf("unmatched 华南 lead: %v", south)
	}
	if north["pool"] != pe.pools["all"] {
		t.Fatalf("unmatched 华北 lead: %v", north)
	}

	// Least loaded: rep.east holds more open leads than rep.east2.
	pe.rule(map[string]any{"name": "食品负载", "priority": 5, "industries": []string{"food"}, "regions": []string{"华东"},
		"assignees": []string{u["rep.east"], u["rep.east2"]}, "method": "least_loaded"})
	load := func(login string) int {
		f := `owner == ` + u[login] + ` && pool == nil && status != "converted" && status != "disqualified"`
		return len(pe.admin.do("GET", "/api/v1/records/leads?per_page=500&filter="+urlEsc(f), nil, nil).want(200).items())
	}
	for range 3 {
		e, e2 := load("rep.east"), load("rep.east2")
		o := pe.lead(pe.capture(map[string]any{"company": "食品厂", "region": "华东", "industry": "food"}))["owner"]
		if e > e2 && o != u["rep.east2"] || e2 > e && o != u["rep.east"] {
			t.Fatalf("least loaded: loads %d/%d, went to %v", e, e2, o)
		}
	}

	// Import without an owner column: the uploader is only the default owner.
	p, err := pe.app.Access.Principal(context.Background(), mustID(t, u["rep.east"]))
	if err != nil {
		t.Fatal(err)
	}
	imp := p.WithSource(access.SourceImport)
	rec, err := pe.app.Records.Create(context.Background(), imp, "leads", map[string]any{"company": "导入厂", "region": "华东", "product_line": "automation"})
	if err != nil {
		t.Fatal(err)
	}
	if o := pe.lead(rec)["owner"]; o != u["rep.east2"] {
		t.Fatalf("imported lead owner %v", o)
	}
	// A lead a user creates stays theirs; the capture option routes it.
	mine := pe.c("rep.east").do("POST", "/api/v1/records/leads", map[string]any{"company": "自己的", "region": "华东", "product_line": "automation"}, nil).want(201).json()
	if mine["owner"] != u["rep.east"] || mine["status"] != "new" {
		t.Fatalf("a rep's own lead: %v", mine)
	}
	routed, err := pe.app.Records.Create(leadpool.WithRules(context.Background()), p, "leads", map[string]any{"company": "请分配", "region": "华东", "product_line": "automation"})
	if err != nil {
		t.Fatal(err)
	}
	if o := pe.lead(routed)["owner"]; o != u["rep.east2"] {
		t.Fatalf("WithRules lead owner %v", o)
	}
	// assign_by_rules on an existing lead: its owner may ask.
	pe.action("rep.east", mine, "assign_by_rules", nil).want(200)
	if o := pe.lead(mine)["owner"]; o != u["rep.east2"] {
		t.Fatalf("assign_by_rules owner %v", o)
	}

	// Concurrent creates take turns without skipping or repeating.
	before := pe.admin.do("GET", "/api/v1/records/lead_assignment_rules/"+rr, nil, nil).want(200).json()["rr_position"].(float64)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := pe.app.Records.Create(context.Background(), access.System(), "leads", map[string]any{"company": "并发", "region": "华东", "product_line": "parts"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	after := pe.admin.do("GET", "/api/v1/records/lead_assignment_rules/"+rr, nil, nil).want(200).json()["rr_position"].(float64)
	counts := map[any]int{}
	for _, l := range pe.admin.do("GET", "/api/v1/records/leads?per_page=100&filter="+urlEsc(`company == "并发"`), nil, nil).want(200).items() {
		counts[l["owner"]]++
	}
	if after-before != 10 || counts[u["rep.east"]] != 5 || counts[u["rep.east2"]] != 5 {
		t.Fatalf("concurrent round robin: position %v → %v, owners %v", before, after, counts)
	}
}
