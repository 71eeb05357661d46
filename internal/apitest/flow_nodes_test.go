package apitest

import (
	"strings"
	"testing"
)

// TestFlowApproverKinds: every way of naming an approver, one node each,
// for an offer submitted by rep.east2 (department 华东销售组, whose head
// is rep.east; manager sales.manager, whose manager is gm).
func TestFlowApproverKinds(t *testing.T) {
	f := newFlowEnv(t)
	f.publish(f.define("审批人类型", "submit", "", graph([]map[string]any{
		node("s", "start", "", nil),
		approval("user", "指定用户", "single", byUser(f.users["finance"])),
		approval("role", "角色", "single", map[string]any{"kind": "role", "role": "quality"}),
		approval("field", "字段", "single", map[string]any{"kind": "field", "field": "reviewer"}),
		approval("owner", "负责人字段", "single", map[string]any{"kind": "field", "field": "owner"}),
		approval("mgr", "直属上级", "single", byKind("manager")),
		approval("head", "部门负责人", "single", byKind("department_head")),
		approval("chain", "逐级审批", "sequential", map[string]any{"kind": "manager_chain", "levels": 2}),
		node("e", "end", "", nil),
	}, edge("s", "user"), edge("user", "role"), edge("role", "field"), edge("field", "owner"), edge("owner", "mgr"),
		edge("mgr", "head"), edge("head", "chain"), edge("chain", "e"))))
	o := f.offer("rep.east2", map[string]any{"name": "审批人测试", "reviewer": f.users["buyer"]})
	f.submit("rep.east2", o).want(201)
	// Approvers without any right on offers still see and act on their
	// task (being the assignee is the permission).
	for _, who := range []string{"finance", "qa.lead", "buyer", "rep.east2", "sales.manager", "rep.east", "sales.manager", "gm"} {
		f.wantPending(o, who)
		if who == "rep.east2" {
			// The owner field names the submitter herself.
			f.approve(who, o)
			continue
		}
		it := f.inbox(who, "pending")
		if len(it) != 1 || it[0]["title"] != "审批人测试" {
			t.Fatalf("%s's inbox: %v", who, it)
		}
		f.approve(who, o)
	}
	if st := f.status(o); st != "approved" {
		t.Fatalf("status %s", st)
	}
	// The chain was sequential: gm's task was queued until the manager approved.
	var chain []string
	for _, tk := range f.instance(o)["tasks"].([]any) {
		tm := tk.(map[string]any)
		if tm["node"].(map[string]any)["id"] == "chain" {
			chain = append(chain, f.login(tm["assignee"].(string))+":"+tm["status"].(string))
		}
	}
	if strings.Join(chain, ",") != "sales.manager:approved,gm:approved" {
		t.Fatalf("chain %v", chain)
	}

	// A department head who submits goes to the head above: rep.east
	// heads 华东销售组, so 销售部's head (sales.manager) approves.
	f.publish(f.define("部门负责人", "submit", "", graph([]map[string]any{node("s", "start", "", nil),
		approval("head", "部门负责人", "single", byKind("department_head")), node("e", "end", "", nil)}, edge("s", "head"), edge("head", "e"))))
	o2 := f.offer("rep.east", map[string]any{"name": "负责人提交"})
	defs := f.admin.do("GET", `/api/v1/records/flow_definitions?filter=name%20==%20"部门负责人"`, nil, nil).want(200).items()
	f.c("rep.east").do("POST", "/api/v1/records/offers/"+o2+"/submit", map[string]any{"definition": defs[0]["id"]}, nil).want(201)
	f.wantPending(o2, "sales.manager")
}

// TestFlowNoApprover: when nobody resolves, the node goes to the
// administrators by default, or is skipped when it says so.
func TestFlowNoApprover(t *testing.T) {
	f := newFlowEnv(t)
	skip := approval("skip", "上级（无则跳过）", "single", byKind("manager"))
	skip["config"].(map[string]any)["on_empty"] = "skip"
	f.publish(f.define("无审批人", "submit", "", graph([]map[string]any{node("s", "start", "", nil),
		skip, approval("admin", "上级（无则管理员）", "single", byKind("manager")), node("e", "end", "", nil)},
		edge("s", "skip"), edge("skip", "admin"), edge("admin", "e"))))
	// gm has no manager: submitting an offer of gm's own resolves nobody.
	f.admin.do("PATCH", "/api/v1/records/roles/"+f.role("general_manager"), map[string]any{"permissions": []any{
		map[string]any{"entity": "offers", "actions": []string{"read", "create", "update"}, "scope": "all"}}}, nil).want(200)
	o := f.offer("gm", map[string]any{"name": "总经理自己的"})
	f.submit("gm", o).want(201)
	f.wantPending(o, "admin")
	kinds := stepKinds(f.instance(o))
	if kinds[1] != "skip" {
		t.Fatalf("first node not skipped: %v", kinds)
	}
	f.approve("admin", o)
	if st := f.status(o); st != "approved" {
		t.Fatalf("status %s", st)
	}
}

func (f *flowEnv) role(name string) string {
	f.t.Helper()
	return f.admin.do("GET", `/api/v1/records/roles?filter=name%20==%20"`+name+`"`, nil, nil).want(200).items()[0]["id"].(string)
}

// TestFlowModes: any-one (或签) ends at the first approval; all (会签)
// needs everyone; single is one approver; sequential goes in order.
func TestFlowModes(t *testing.T) {
	f := newFlowEnv(t)
	u := f.users
	f.publish(f.define("方式", "submit", "", graph([]map[string]any{node("s", "start", "", nil),
		approval("one", "单人", "single", byUser(u["finance"])),
		approval("any", "或签", "any", byUser(u["buyer"], u["qa.lead"])),
		approval("all", "会签", "all", byUser(u["prod.lead"], u["service.eng"]), byUser(u["finance"])),
		approval("seq", "依次", "sequential", byUser(u["gm"], u["buyer"])),
		node("e", "end", "", nil)},
		edge("s", "one"), edge("one", "any"), edge("any", "all"), edge("all", "seq"), edge("seq", "e"))))
	o := f.offer("rep.east", map[string]any{"name": "方式测试"})
	f.submit("rep.east", o).want(201)
	f.wantPending(o, "finance")
	f.approve("finance", o)

	f.wantPending(o, "buyer", "qa.lead")
	f.approve("qa.lead", o)
	f.noTask("buyer", o) // cancelled: one approval was enough
	var cancelled bool
	for _, tk := range f.instance(o)["tasks"].([]any) {
		tm := tk.(map[string]any)
		if tm["node"].(map[string]any)["id"] == "any" && f.login(tm["assignee"].(string)) == "buyer" {
			cancelled = tm["status"] == "cancelled"
		}
	}
	if !cancelled {
		t.Fatal("the other any-one task was not cancelled")
	}

	f.wantPending(o, "prod.lead", "service.eng", "finance")
	f.approve("service.eng", o)
	f.approve("finance", o)
	f.wantPending(o, "prod.lead")
	f.approve("prod.lead", o)

	f.wantPending(o, "gm")
	f.noTask("buyer", o)
	f.approve("gm", o)
	f.wantPending(o, "buyer")
	f.approve("buyer", o)
	if st := f.status(o); st != "approved" {
		t.Fatalf("status %s", st)
	}
}

// TestFlowParallel: a split runs its branches at the same time; the join
// waits for all of them. A branch may hold a CC and an automatic action.
func TestFlowParallel(t *testing.T) {
	f := newFlowEnv(t)
	u := f.users
	f.publish(f.define("并行", "submit", "", graph([]map[string]any{node("s", "start", "", nil),
		node("split", "split", "并行分支", nil),
		approval("fin", "财务", "single", byUser(u["finance"])),
		approval("qa", "质量", "single", byUser(u["qa.lead"])),
		node("cc", "cc", "抄送采购", map[string]any{"recipients": []any{byUser(u["buyer"])}}),
		node("note", "action", "备注", map[string]any{"set": map[string]any{"note": "质量已审"}}),
		node("join", "join", "汇聚", nil),
		approval("gm", "总经理", "single", byUser(u["gm"])),
		node("e", "end", "", nil)},
		edge("s", "split"), edge("split", "fin"), edge("split", "qa"), edge("fin", "cc"), edge("cc", "join"),
		edge("qa", "note"), edge("note", "join"), edge("join", "gm"), edge("gm", "e"))))
	o := f.offer("rep.east", map[string]any{"name": "并行测试"})
	f.submit("rep.east", o).want(201)
	f.wantPending(o, "finance", "qa.lead")
	if cur := f.instance(o)["current"].([]any); len(cur) != 2 {
		t.Fatalf("current nodes %v", cur)
	}
	f.approve("qa.lead", o)
	f.wantPending(o, "finance") // the join waits for the other branch
	rec := f.admin.do("GET", "/api/v1/records/offers/"+o, nil, nil).want(200).json()
	if rec["note"] != "质量已审" {
		t.Fatalf("the branch's action did not run: %v", rec["note"])
	}
	f.noTask("gm", o)
	f.approve("finance", o)
	if len(f.inbox("buyer", "cc")) != 1 {
		t.Fatal("the branch's CC is missing")
	}
	f.wantPending(o, "gm")
	f.approve("gm", o)
	if st := f.status(o); st != "approved" {
		t.Fatalf("status %s", st)
	}
}
