package apitest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/app"
	"github.com/tenon-crm/tenon/internal/platform/access"
)

// TestFlowTimers: a node's time limit reminds the approver before the due
// time and escalates to their manager at it, on the controllable clock;
// acting cancels the timers.
func TestFlowTimers(t *testing.T) {
	f := newFlowEnv(t)
	ctx := t.Context()
	limited := approval("mgr", "限时审批", "single", byKind("manager"))
	cfg := limited["config"].(map[string]any)
	cfg["time_limit_hours"], cfg["remind_before_hours"], cfg["escalate"] = 24, 4, true
	f.publish(f.define("限时", "submit", "", graph([]map[string]any{node("s", "start", "", nil), limited, node("e", "end", "", nil)},
		edge("s", "mgr"), edge("mgr", "e"))))
	o := f.offer("rep.east", map[string]any{"name": "限时单"})
	f.submit("rep.east", o).want(201)
	pending := f.inbox("sales.manager", "pending")
	due, err := time.Parse(time.RFC3339, pending[0]["due_at"].(string))
	if err != nil || !due.Equal(f.clock.Now().Add(24*time.Hour)) {
		t.Fatalf("due %v (%v)", pending[0]["due_at"], err)
	}
	run := func() {
		t.Helper()
		if _, err := f.app.Jobs.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	count := func(kind string) int {
		n := 0
		for _, s := range stepKinds(f.instance(o)) {
			if s == kind {
				n++
			}
		}
		return n
	}
	run()
	if count("remind") != 0 {
		t.Fatal("reminded too early")
	}
	f.clock.Add(19*time.Hour + 59*time.Minute)
	run()
	if count("remind") != 0 {
		t.Fatal("reminded before 20 h")
	}
	f.clock.Add(2 * time.Minute)
	run()
	if count("remind") != 1 || !f.notified("sales.manager", "approval.reminder", o) {
		t.Fatalf("no reminder at 20 h: %v", stepKinds(f.instance(o)))
	}
	f.wantPending(o, "sales.manager")
	// At the due time the task goes to the manager's manager.
	f.clock.Add(4 * time.Hour)
	run()
	f.wantPending(o, "gm")
	if count("escalate") != 1 || !f.notified("gm", "approval.escalated", o) {
		t.Fatalf("no escalation: %v", stepKinds(f.instance(o)))
	}
	var escalated bool
	for _, tk := range f.instance(o)["tasks"].([]any) {
		tm := tk.(map[string]any)
		if f.login(tm["assignee"].(string)) == "sales.manager" {
			escalated = tm["status"] == "escalated"
		}
	}
	if !escalated {
		t.Fatal("the overdue task is not marked escalated")
	}
	// The escalated task stays in its first approver's done box, marked so.
	if done := f.inbox("sales.manager", "done"); len(done) != 1 || done[0]["status"] != "escalated" || done[0]["record_id"] != o {
		t.Fatalf("sales.manager's done box %v", done)
	}
	// gm's task has a fresh limit; approving cancels its timers.
	gmTask := f.task("gm", o)
	f.approve("gm", o)
	var open int
	if err := f.app.DB.QueryRow(ctx, `SELECT COUNT(*) FROM jobs WHERE unique_key = ? AND status IN ('queued', 'running')`, "task:"+gmTask).Scan(&open); err != nil {
		t.Fatal(err)
	}
	if open != 0 {
		t.Fatalf("%d timers left for an approved task", open)
	}
	f.clock.Add(48 * time.Hour)
	run()
	if count("remind") != 1 || count("escalate") != 1 || f.status(o) != "approved" {
		t.Fatalf("timers ran after approval: %v", stepKinds(f.instance(o)))
	}

	// An approver without a manager keeps the overdue task; the timeline
	// says the escalation found no one.
	top := approval("gm", "总经理限时", "single", byUser(f.users["gm"]))
	tc := top["config"].(map[string]any)
	tc["time_limit_hours"], tc["escalate"] = 2, true
	def := f.define("总经理限时", "submit", "", graph([]map[string]any{node("s", "start", "", nil), top, node("e", "end", "", nil)},
		edge("s", "gm"), edge("gm", "e")))
	f.publish(def)
	o2 := f.offer("rep.east", map[string]any{"name": "无上级"})
	f.c("rep.east").do("POST", "/api/v1/records/offers/"+o2+"/submit", map[string]any{"definition": def}, nil).want(201)
	f.clock.Add(3 * time.Hour)
	run()
	f.wantPending(o2, "gm")
	steps := f.instance(o2)["steps"].([]any)
	last := steps[len(steps)-1].(map[string]any)
	if last["kind"] != "escalate" || last["data"].(map[string]any)["status"] != "no_manager" {
		t.Fatalf("last step %v", last)
	}
}

// TestFlowVersioning: publishing v2 leaves a running v1 instance on v1;
// new instances take v2; a disabled flow starts nothing new.
func TestFlowVersioning(t *testing.T) {
	f := newFlowEnv(t)
	one := graph([]map[string]any{node("s", "start", "", nil), approval("mgr", "经理审批", "single", byKind("manager")), node("e", "end", "", nil)},
		edge("s", "mgr"), edge("mgr", "e"))
	def := f.define("版本", "submit", "", one)
	f.publish(def)
	a := f.offer("rep.east", map[string]any{"name": "旧版本单"})
	if v := f.submit("rep.east", a).want(201).json()["version"].(float64); v != 1 {
		t.Fatalf("version %v", v)
	}
	two := graph([]map[string]any{node("s", "start", "", nil), approval("mgr", "经理审批", "single", byKind("manager")),
		approval("gm", "总经理审批", "single", byUser(f.users["gm"])), node("e", "end", "", nil)},
		edge("s", "mgr"), edge("mgr", "gm"), edge("gm", "e"))
	f.admin.do("PATCH", "/api/v1/records/flow_definitions/"+def, map[string]any{"graph": two}, nil).want(200)
	// Editing does not publish: a new instance still runs v1.
	if v := f.publish(def); v != 2 {
		t.Fatalf("published version %v", v)
	}
	b := f.offer("rep.east", map[string]any{"name": "新版本单"})
	if v := f.submit("rep.east", b).want(201).json()["version"].(float64); v != 2 {
		t.Fatalf("version %v", v)
	}
	// The v1 instance ends after the manager, as v1 says.
	f.approve("sales.manager", a)
	if st := f.status(a); st != "approved" {
		t.Fatalf("v1 instance %s", st)
	}
	f.noTask("gm", a)
	f.approve("sales.manager", b)
	f.wantPending(b, "gm")

	versions := f.admin.do("GET", "/api/v1/flow-definitions/"+def+"/versions", nil, nil).want(200).items()
	if len(versions) != 2 || versions[0]["version"].(float64) != 2 || versions[1]["version"].(float64) != 1 {
		t.Fatalf("versions %v", versions)
	}
	if n := len(versions[1]["graph"].(map[string]any)["nodes"].([]any)); n != 3 {
		t.Fatalf("v1 graph has %d nodes", n)
	}
	// Disabled: nothing new starts; the running instance goes on.
	f.admin.do("PATCH", "/api/v1/records/flow_definitions/"+def, map[string]any{"status": "disabled"}, nil).want(200)
	c := f.offer("rep.east", map[string]any{"name": "停用后"})
	f.submit("rep.east", c).want(409)
	f.approve("gm", b)
	if st := f.status(b); st != "approved" {
		t.Fatalf("status %s", st)
	}
	// Enabled again, it runs its published version.
	f.admin.do("PATCH", "/api/v1/records/flow_definitions/"+def, map[string]any{"status": "published"}, nil).want(200)
	if v := f.submit("rep.east", c).want(201).json()["version"].(float64); v != 2 {
		t.Fatalf("version %v", v)
	}
	// The entity is fixed once published.
	f.admin.do("PATCH", "/api/v1/records/flow_definitions/"+def, map[string]any{"entity": "users"}, nil).want(422)
}

// TestFlowDefinitionRefusals: an invalid definition is refused with every
// reason; the guards on saving a definition.
func TestFlowDefinitionRefusals(t *testing.T) {
	f := newFlowEnv(t)
	bad := graph([]map[string]any{
		node("s", "start", "", nil), node("s2", "start", "", nil),
		node("a", "approval", "无人审批", map[string]any{"mode": "single", "approvers": []any{}}),
		node("c", "condition", "无默认", nil),
		approval("x", "孤立", "single", byKind("manager")),
		approval("l1", "死循环1", "single", byKind("manager")),
		approval("l2", "死循环2", "single", byKind("manager")),
		node("j", "join", "孤立汇聚", nil),
		approval("u", "未知用户", "single", byUser("999999")),
		approval("r", "未知角色", "single", map[string]any{"kind": "role", "role": "nosuch"}),
		node("e", "end", "", nil), node("e2", "end", "", nil),
	},
		edge("s", "a"), edge("s2", "a"), edge("a", "c"), cond("c", "l1", "amount >>> 1"), cond("c", "j", "amount > 5"),
		edge("l1", "l2"), edge("l2", "l1"), edge("j", "u"), edge("u", "r"), edge("r", "e"), edge("x", "e"))
	id := f.define("错误流程", "submit", "", bad)
	for _, path := range []string{"/validate", "/publish"} {
		res := f.admin.do("POST", "/api/v1/flow-definitions/"+id+path, nil, nil).want(422)
		codes := problemCodes(res)
		for _, want := range []string{"flow_duplicate_start", "flow_duplicate_end", "flow_no_approver", "flow_no_default_branch",
			"flow_bad_expression", "flow_unreachable_node", "flow_join_inputs"} {
			if !slices.Contains(codes, want) {
				t.Errorf("%s: no %s in %v", path, want, codes)
			}
		}
	}
	// Nothing was published.
	if rec := f.admin.do("GET", "/api/v1/records/flow_definitions/"+id, nil, nil).want(200).json(); rec["status"] != "draft" || rec["published_version"] != nil {
		t.Fatalf("after a refused publish: %v", rec)
	}
	if v := f.admin.do("GET", "/api/v1/flow-definitions/"+id+"/versions", nil, nil).want(200).items(); len(v) != 0 {
		t.Fatalf("versions %v", v)
	}

	// One refusal at a time, for the cases the big graph cannot show.
	for _, tc := range []struct {
		name string
		g    map[string]any
		want string
	}{
		{"no exit", graph([]map[string]any{node("s", "start", "", nil), node("c", "condition", "", nil),
			approval("a", "A", "single", byKind("manager")), approval("b", "B", "single", byKind("manager")), node("e", "end", "", nil)},
			edge("s", "c"), cond("c", "a", "amount > 1"), dflt("c", "e"), edge("a", "b"), edge("b", "a")), "flow_no_exit"},
		{"missing start", graph([]map[string]any{approval("a", "A", "single", byKind("manager")), node("e", "end", "", nil)}, edge("a", "e")), "flow_missing_start"},
		{"missing end", graph([]map[string]any{node("s", "start", "", nil), approval("a", "A", "single", byKind("manager"))}, edge("s", "a")), "flow_missing_end"},
		{"join without split", graph([]map[string]any{node("s", "start", "", nil), node("c", "condition", "", nil),
			approval("a", "A", "single", byKind("manager")), approval("b", "B", "single", byKind("manager")), node("j", "join", "", nil), node("e", "end", "", nil)},
			edge("s", "c"), cond("c", "a", "amount > 1"), dflt("c", "b"), edge("a", "j"), edge("b", "j"), edge("j", "e")), "flow_join_without_split"},
		{"unknown user", graph([]map[string]any{node("s", "start", "", nil), approval("a", "A", "single", byUser("999999")), node("e", "end", "", nil)},
			edge("s", "a"), edge("a", "e")), "flow_unknown_user"},
		{"unknown role", graph([]map[string]any{node("s", "start", "", nil), approval("a", "A", "single", map[string]any{"kind": "role", "role": "nosuch"}),
			node("e", "end", "", nil)}, edge("s", "a"), edge("a", "e")), "flow_unknown_role"},
	} {
		id := f.define(tc.name, "submit", "", tc.g)
		if codes := problemCodes(f.admin.do("POST", "/api/v1/flow-definitions/"+id+"/publish", nil, nil).want(422)); !slices.Contains(codes, tc.want) {
			t.Errorf("%s: want %s, got %v", tc.name, tc.want, codes)
		}
	}

	good := f.define("正确", "submit", "amount > 0", graph([]map[string]any{node("s", "start", "", nil),
		approval("a", "A", "single", byKind("manager")), node("e", "end", "", nil)}, edge("s", "a"), edge("a", "e")))
	if res := f.admin.do("POST", "/api/v1/flow-definitions/"+good+"/validate", nil, nil).want(200).json(); res["valid"] != true {
		t.Fatalf("validate %v", res)
	}
	f.admin.do("POST", "/api/v1/records/flow_definitions/"+good+"/actions/validate", nil, nil).want(200)
	// Only someone who may update definitions publishes.
	f.c("rep.east").do("POST", "/api/v1/flow-definitions/"+good+"/publish", nil, nil).want(403)
	f.c("sales.manager").do("POST", "/api/v1/flow-definitions/"+good+"/validate", nil, nil).want(403)
	f.admin.do("POST", "/api/v1/flow-definitions/999999/publish", nil, nil).want(404)

	// Saving: publishing only through publish; a known entity; a valid
	// condition; a graph that decodes; the version is the engine's.
	post := func(body map[string]any) *response {
		return f.admin.do("POST", "/api/v1/records/flow_definitions", body, nil)
	}
	base := func() map[string]any { return map[string]any{"name": "x", "entity": "offers", "trigger": "submit"} }
	for _, tc := range []struct {
		key  string
		val  any
		code string
	}{
		{"status", "published", "flow_publish_required"},
		{"entity", "nosuch", "flow_unknown_entity"},
		{"entity", "flow_definitions", "flow_unknown_entity"},
		{"condition", "amount >", "flow_bad_condition"},
		{"graph", map[string]any{"nodes": "x"}, "flow_bad_graph"},
		{"published_version", 3, "read_only"},
		{"trigger", "sometimes", "invalid_option"},
	} {
		b := base()
		b[tc.key] = tc.val
		if codes := problemCodes(post(b).want(422)); !slices.Contains(codes, tc.code) {
			t.Errorf("%s=%v: want %s, got %v", tc.key, tc.val, tc.code, codes)
		}
	}
	f.admin.do("PATCH", "/api/v1/records/flow_definitions/"+good, map[string]any{"status": "published"}, nil).want(422)
	f.admin.do("PATCH", "/api/v1/records/flow_definitions/"+good, map[string]any{"published_version": 1}, nil).want(422)
	f.publish(good)
	f.admin.do("PATCH", "/api/v1/records/flow_definitions/"+good, map[string]any{"published_version": 7}, nil).want(422)
}

// TestFlowLockAcrossProcesses: a flow published and started by another
// process locks the record here once this process has refreshed its set
// of entities with flows (Run does every few seconds).
func TestFlowLockAcrossProcesses(t *testing.T) {
	f := newFlowEnv(t)
	ctx := t.Context()
	o := f.offer("rep.east", map[string]any{"name": "跨进程"})
	// This process has looked at offers and found no flow.
	f.c("rep.east").do("PATCH", "/api/v1/records/offers/"+o, map[string]any{"note": "1"}, nil).want(200)

	cfg := f.app.Cfg
	cfg.DataDir = t.TempDir()
	other, err := app.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Meta.Load(ctx); err != nil {
		t.Fatal(err)
	}
	def := f.define("另一进程", "submit", "", graph([]map[string]any{node("s", "start", "", nil),
		approval("a", "经理审批", "single", byKind("manager")), node("e", "end", "", nil)}, edge("s", "a"), edge("a", "e")))
	sys := access.System()
	if _, err := other.Flow.Publish(ctx, sys, mustID(t, def)); err != nil {
		t.Fatal(err)
	}
	p, err := other.Access.Principal(ctx, mustID(t, f.users["rep.east"]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Flow.Start(ctx, p, "offers", mustID(t, o), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.app.Flow.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	f.c("rep.east").do("PATCH", "/api/v1/records/offers/"+o, map[string]any{"note": "2"}, nil).want(409)
}

// TestFlowOpenAPI: the engine's routes are in the OpenAPI document and
// their schema references resolve.
func TestFlowOpenAPI(t *testing.T) {
	e := newEnv(t)
	doc := e.anon().do("GET", "/api/v1/openapi.json", nil, nil).want(200).json()
	paths := doc["paths"].(map[string]any)
	for _, p := range []string{"/api/v1/approvals", "/api/v1/approvals/{task}/approve", "/api/v1/approvals/{task}/add_approver",
		"/api/v1/records/{entity}/{id}/submit", "/api/v1/records/{entity}/{id}/approvals", "/api/v1/flow-instances/{id}/withdraw",
		"/api/v1/flow-definitions/{id}/publish", "/api/v1/flow-definitions/{id}/validate", "/api/v1/flow-attachments/{file}"} {
		if paths[p] == nil {
			t.Errorf("openapi lacks %s", p)
		}
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	var walk func(x any)
	walk = func(x any) {
		switch v := x.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok {
				if name := strings.TrimPrefix(r, "#/components/schemas/"); schemas[name] == nil {
					t.Errorf("unresolved $ref %s", r)
				}
			}
			for _, y := range v {
				walk(y)
			}
		case []any:
			for _, y := range v {
				walk(y)
			}
		}
	}
	walk(doc)
}
