package apitest

import (
	"slices"
	"strings"
	"testing"
)

// discountFlow: the direct manager approves; above 500,000 the general
// manager too; the reviewer named on the offer gets a copy; the offer is
// marked approved by an automatic action.
func discountFlow() map[string]any {
	return graph([]map[string]any{
		node("start", "start", "提交", nil),
		approval("mgr", "直属上级审批", "single", byKind("manager")),
		node("big", "condition", "金额判断", nil),
		approval("gm", "总经理审批", "single", map[string]any{"kind": "role", "role": "general_manager"}),
		node("cc", "cc", "抄送评审人", map[string]any{"recipients": []any{map[string]any{"kind": "field", "field": "reviewer"}}}),
		node("mark", "action", "标记已批准", map[string]any{"set": map[string]any{"stage": "approved"}}),
		node("end", "end", "结束", nil),
	},
		edge("start", "mgr"), edge("mgr", "big"),
		cond("big", "gm", "amount > 500000"), dflt("big", "cc"),
		edge("gm", "cc"), edge("cc", "mark"), edge("mark", "end"))
}

// TestFlowDiscountApproval walks a two-level discount approval through the
// API: the trigger condition, the edit lock, the inbox boxes, a condition
// branch, a CC, an automatic action, the timeline and the history.
func TestFlowDiscountApproval(t *testing.T) {
	f := newFlowEnv(t)
	def := f.define("报价折扣审批", "submit", "max_discount > 10", discountFlow())
	// A draft applies to nothing.
	small := f.offer("rep.east", map[string]any{"name": "小折扣", "amount": "1000", "max_discount": "15"})
	if !strings.Contains(string(f.submit("rep.east", small).want(409).body), "没有适用") {
		t.Fatal("a draft flow applied")
	}
	if v := f.publish(def); v != 1 {
		t.Fatalf("version %v", v)
	}
	// The condition does not hold: nothing to approve.
	low := f.offer("rep.east", map[string]any{"name": "低折扣", "amount": "1000", "max_discount": "5"})
	f.submit("rep.east", low).want(409)

	big := f.offer("rep.east", map[string]any{"name": "苏州精密 大单", "amount": "600000", "max_discount": "15",
		"reviewer": f.users["rep.east2"]})
	// Only someone who may update the record submits it.
	f.submit("rep.east2", big).want(404)
	inst := f.submit("rep.east", big).want(201).json()
	if inst["status"] != "running" || inst["flow"] != "报价折扣审批" || inst["version"].(float64) != 1 || inst["title"] != "苏州精密 大单" {
		t.Fatalf("instance %v", inst)
	}
	f.submit("rep.east", big).want(409) // one flow at a time

	// The edit lock: 409 naming the flow, for the owner and the admin alike.
	for _, c := range []*client{f.c("rep.east"), f.admin} {
		res := c.do("PATCH", "/api/v1/records/offers/"+big, map[string]any{"amount": "1"}, nil).want(409)
		if p := res.json(); p["detail"] == nil || !strings.Contains(p["detail"].(string), "报价折扣审批") {
			t.Fatalf("lock reason: %s", res.body)
		}
		c.do("DELETE", "/api/v1/records/offers/"+big, nil, nil).want(409)
	}
	f.c("rep.east").lang = "en"
	if res := f.c("rep.east").do("PATCH", "/api/v1/records/offers/"+big, map[string]any{"note": "x"}, nil).want(409); !strings.Contains(string(res.body), "under approval") {
		t.Fatalf("english lock reason: %s", res.body)
	}
	f.c("rep.east").lang = ""

	// The manager's inbox shows the record's title and entity.
	pending := f.inbox("sales.manager", "pending")
	if len(pending) != 1 || pending[0]["title"] != "苏州精密 大单" || pending[0]["entity"] != "offers" ||
		pending[0]["node"].(map[string]any)["name"] != "直属上级审批" {
		t.Fatalf("manager inbox: %v", pending)
	}
	f.wantPending(big, "sales.manager")
	// Nobody else acts on the task: it does not exist for them.
	task := pending[0]["id"].(string)
	for _, who := range []string{"rep.east", "rep.east2", "gm"} {
		f.act(who, task, "approve", nil).want(404)
	}
	f.act("sales.manager", task, "approve", map[string]any{"comment": "同意，价格合理"}).want(200)
	f.act("sales.manager", task, "approve", nil).want(409) // done already

	// 600,000 > 500,000: the general manager approves next.
	f.wantPending(big, "gm")
	f.approve("gm", big)

	// Approved: the action set the stage through the flow despite the lock.
	if st := f.status(big); st != "approved" {
		t.Fatalf("status %s", st)
	}
	rec := f.c("rep.east").do("GET", "/api/v1/records/offers/"+big, nil, nil).want(200).json()
	if rec["stage"] != "approved" {
		t.Fatalf("stage %v", rec["stage"])
	}
	// The lock is gone.
	f.c("rep.east").do("PATCH", "/api/v1/records/offers/"+big, map[string]any{"note": "已批"}, nil).want(200)

	// Boxes: done for the approvers, cc for the reviewer.
	if done := f.inbox("sales.manager", "done"); len(done) != 1 || done[0]["status"] != "approved" || done[0]["comment"] != "同意，价格合理" {
		t.Fatalf("manager done box: %v", done)
	}
	if len(f.inbox("sales.manager", "pending")) != 0 {
		t.Fatal("pending box not empty")
	}
	if cc := f.inbox("rep.east2", "cc"); len(cc) != 1 || cc[0]["record_id"] != big {
		t.Fatalf("cc box: %v", cc)
	}
	// The timeline shows each step in order.
	kinds := stepKinds(f.instance(big))
	want := []string{"submit", "assign", "approve", "node_done", "branch", "assign", "approve", "node_done", "cc", "action", "end"}
	if strings.Join(kinds, ",") != strings.Join(want, ",") {
		t.Fatalf("timeline %v", kinds)
	}
	// The submitter sees it on the record; someone who cannot read the
	// record does not.
	if items := f.c("rep.east").do("GET", "/api/v1/records/offers/"+big+"/approvals", nil, nil).want(200).items(); len(items) != 1 {
		t.Fatalf("record approvals: %v", items)
	}
	f.c("rep.south").do("GET", "/api/v1/records/offers/"+big+"/approvals", nil, nil).want(404)
	// The record's history (its timeline in the UI) has the flow's steps,
	// through "flow", and the automatic action's change.
	hist := f.c("rep.east").do("GET", "/api/v1/records/offers/"+big+"/history", nil, nil).want(200).items()
	var actions []string
	flowUpdate := false
	for _, h := range hist {
		actions = append(actions, h["action"].(string))
		if h["action"] == "update" && h["source"] == "flow" {
			if ch := h["changes"].(map[string]any); ch["stage"] != nil {
				flowUpdate = true
			}
		}
	}
	for _, a := range []string{"flow.submit", "flow.assign", "flow.approve", "flow.cc", "flow.action", "flow.end"} {
		if !slices.Contains(actions, a) {
			t.Errorf("history lacks %s: %v", a, actions)
		}
	}
	if !flowUpdate {
		t.Errorf("history lacks the flow's update of stage: %v", actions)
	}
	// Notifications reached the people concerned (the record's link only
	// shows to those who may read it; the title names it for everyone).
	for login, kind := range map[string]string{"sales.manager": "approval.pending", "gm": "approval.pending", "rep.east2": "approval.cc", "rep.east": "approval.done"} {
		found := false
		for _, n := range f.c(login).do("GET", "/api/v1/notifications", nil, nil).want(200).items() {
			if n["kind"] == kind && strings.Contains(n["title"].(string), "苏州精密 大单") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s got no %s notification", login, kind)
		}
	}

	// Below 500,000 the general manager is not asked.
	mid := f.offer("rep.east", map[string]any{"name": "中单", "amount": "200000", "max_discount": "12"})
	f.submit("rep.east", mid).want(201)
	f.approve("sales.manager", mid)
	if st := f.status(mid); st != "approved" {
		t.Fatalf("status %s", st)
	}
	f.noTask("gm", mid)
}

// TestFlowTriggers: flows that start by themselves when a record is
// created or updated and their condition holds, in the same transaction.
func TestFlowTriggers(t *testing.T) {
	f := newFlowEnv(t)
	simple := graph([]map[string]any{node("s", "start", "", nil), approval("a", "经理审批", "single", byKind("manager")), node("e", "end", "", nil)},
		edge("s", "a"), edge("a", "e"))
	f.publish(f.define("大额新建", "create", "amount >= 1000000", simple))
	f.publish(f.define("高折扣修改", "update", "max_discount > 20", simple))

	small := f.offer("rep.east", map[string]any{"name": "小单", "amount": "100"})
	items := f.admin.do("GET", "/api/v1/records/offers/"+small+"/approvals", nil, nil).want(200).items()
	if len(items) != 0 {
		t.Fatalf("a flow started for a small offer: %v", items)
	}
	huge := f.offer("rep.east", map[string]any{"name": "巨单", "amount": "2000000"})
	if inst := f.instance(huge); inst["flow"] != "大额新建" || inst["status"] != "running" {
		t.Fatalf("create trigger: %v", inst)
	}
	f.c("rep.east").do("PATCH", "/api/v1/records/offers/"+huge, map[string]any{"note": "x"}, nil).want(409)

	// An update that makes the condition hold starts the update flow.
	f.c("rep.east").do("PATCH", "/api/v1/records/offers/"+small, map[string]any{"max_discount": "10"}, nil).want(200)
	if n := len(f.admin.do("GET", "/api/v1/records/offers/"+small+"/approvals", nil, nil).want(200).items()); n != 0 {
		t.Fatal("the update flow started below its threshold")
	}
	f.c("rep.east").do("PATCH", "/api/v1/records/offers/"+small, map[string]any{"max_discount": "25"}, nil).want(200)
	if inst := f.instance(small); inst["flow"] != "高折扣修改" || inst["status"] != "running" {
		t.Fatalf("update trigger: %v", inst)
	}
	f.approve("sales.manager", small)
	if st := f.status(small); st != "approved" {
		t.Fatalf("status %s", st)
	}

	// The Go API the rule engine calls: start a given flow on a record.
	sub := f.define("规则启动", "submit", "", simple)
	f.publish(sub)
	other := f.offer("rep.east2", map[string]any{"name": "规则单", "amount": "10"})
	defID, recID := mustID(t, sub), mustID(t, other)
	p, err := f.app.Access.Principal(t.Context(), mustID(t, f.users["rep.east2"]))
	if err != nil {
		t.Fatal(err)
	}
	id, err := f.app.Flow.Start(t.Context(), p, "offers", recID, defID)
	if err != nil || id == 0 {
		t.Fatalf("Start: %d %v", id, err)
	}
	if _, err := f.app.Flow.Start(t.Context(), p, "offers", recID, defID); err == nil {
		t.Fatal("a second start was accepted")
	}
	f.wantPending(other, "sales.manager")
}

// TestFlowPermissions: only the assignee acts; inboxes are personal (an
// administrator may look at anyone's); withdrawing is the submitter's.
func TestFlowPermissions(t *testing.T) {
	f := newFlowEnv(t)
	f.publish(f.define("审批", "submit", "", graph([]map[string]any{node("s", "start", "", nil),
		approval("a", "经理审批", "single", byKind("manager")), node("e", "end", "", nil)}, edge("s", "a"), edge("a", "e"))))
	o := f.offer("rep.east", map[string]any{"name": "权限测试"})
	f.submit("rep.east", o).want(201)
	task := f.task("sales.manager", o)

	for _, who := range []string{"rep.east", "rep.east2", "gm", "admin"} {
		f.act(who, task, "approve", nil).want(404)
		f.act(who, task, "reject", nil).want(404)
		f.act(who, task, "comment", map[string]any{"comment": "x"}).want(404)
	}
	f.act("sales.manager", "999999", "approve", nil).want(404)
	f.act("sales.manager", "abc", "approve", nil).want(404)
	f.act("sales.manager", task, "approve", map[string]any{"bogus": 1}).want(400)

	// A rep cannot list another user's approvals; an administrator can.
	f.c("rep.east").do("GET", "/api/v1/approvals?assignee="+f.users["sales.manager"], nil, nil).want(403)
	f.c("rep.east").do("GET", "/api/v1/approvals?assignee=all", nil, nil).want(403)
	if items := f.admin.do("GET", "/api/v1/approvals?assignee="+f.users["sales.manager"], nil, nil).want(200).items(); len(items) != 1 {
		t.Fatalf("admin view: %v", items)
	}
	if items := f.admin.do("GET", "/api/v1/approvals?assignee=all", nil, nil).want(200).items(); len(items) != 1 {
		t.Fatalf("admin view of all: %v", items)
	}
	if len(f.inbox("rep.east", "pending")) != 0 {
		t.Fatal("the submitter has the manager's task")
	}
	f.c("rep.east").do("GET", "/api/v1/approvals?box=nosuch", nil, nil).want(400)
	f.c("rep.east").do("GET", "/api/v1/approvals?per_page=501", nil, nil).want(400)

	// Withdrawing: the manager may see the instance but not withdraw it; a
	// rep of another region cannot even see it.
	inst := f.instance(o)["id"].(string)
	f.c("sales.manager").do("POST", "/api/v1/flow-instances/"+inst+"/withdraw", nil, nil).want(403)
	f.c("rep.south").do("POST", "/api/v1/flow-instances/"+inst+"/withdraw", nil, nil).want(404)
	f.c("rep.south").do("GET", "/api/v1/flow-instances/"+inst, nil, nil).want(404)
	// The approver sees the instance through their task.
	f.c("sales.manager").do("GET", "/api/v1/flow-instances/"+inst, nil, nil).want(200)
}
