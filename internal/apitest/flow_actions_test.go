package apitest

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// twoLevels: the manager, then the general manager.
func twoLevels(f *flowEnv) string {
	id := f.define("两级审批", "submit", "", graph([]map[string]any{node("s", "start", "", nil),
		approval("mgr", "经理审批", "single", byKind("manager")),
		approval("gm", "总经理审批", "single", byUser(f.users["gm"])),
		node("e", "end", "", nil)}, edge("s", "mgr"), edge("mgr", "gm"), edge("gm", "e")))
	f.publish(id)
	return id
}

// TestFlowReject: rejecting to the start ends the flow as rejected (the
// record is free again and can be submitted anew); rejecting to an
// earlier node starts that node over.
func TestFlowReject(t *testing.T) {
	f := newFlowEnv(t)
	twoLevels(f)
	o := f.offer("rep.east", map[string]any{"name": "驳回测试"})
	f.submit("rep.east", o).want(201)
	f.approve("sales.manager", o)

	// Only a node the flow has passed is a target.
	inst := f.instance(o)
	if targets := inst["reject_targets"].([]any); len(targets) != 1 || targets[0].(map[string]any)["id"] != "mgr" {
		t.Fatalf("reject targets %v", targets)
	}
	gmTask := f.task("gm", o)
	for _, to := range []string{"gm", "nosuch", "s", "e"} {
		if codes := problemCodes(f.act("gm", gmTask, "reject", map[string]any{"to": to}).want(422)); !slices.Contains(codes, "flow_bad_reject_target") {
			t.Fatalf("reject to %s: %v", to, codes)
		}
	}
	f.act("gm", gmTask, "reject", map[string]any{"to": "mgr", "comment": "请经理再核价格"}).want(200)
	f.wantPending(o, "sales.manager")
	if st := f.status(o); st != "running" {
		t.Fatalf("status %s", st)
	}
	f.approve("sales.manager", o)
	f.wantPending(o, "gm")
	f.act("gm", f.task("gm", o), "reject", map[string]any{"comment": "价格太低"}).want(200)
	if st := f.status(o); st != "rejected" {
		t.Fatalf("status %s", st)
	}
	if !f.notified("rep.east", "approval.done", o) {
		t.Fatal("the submitter was not told of the rejection")
	}
	if done := f.inbox("gm", "done"); len(done) != 2 || done[0]["status"] != "rejected" {
		t.Fatalf("gm done box %v", done)
	}
	// Free again: editable, and a new submission is a new instance.
	f.c("rep.east").do("PATCH", "/api/v1/records/offers/"+o, map[string]any{"amount": "1200"}, nil).want(200)
	f.submit("rep.east", o).want(201)
	if items := f.admin.do("GET", "/api/v1/records/offers/"+o+"/approvals", nil, nil).want(200).items(); len(items) != 2 ||
		items[0]["status"] != "running" || items[1]["status"] != "rejected" {
		t.Fatalf("instances %v", items)
	}
}

// TestFlowReturnAndResubmit: returning unlocks the record for its
// submitter only; resubmitting continues at the node that returned it.
func TestFlowReturnAndResubmit(t *testing.T) {
	f := newFlowEnv(t)
	twoLevels(f)
	o := f.offer("rep.east", map[string]any{"name": "退回测试", "amount": "100"})
	f.submit("rep.east", o).want(201)
	f.approve("sales.manager", o)
	f.act("gm", f.task("gm", o), "return", map[string]any{"comment": "请补充交期"}).want(200)
	if st := f.status(o); st != "returned" {
		t.Fatalf("status %s", st)
	}
	f.noTask("gm", o)
	if !f.notified("rep.east", "approval.returned", o) {
		t.Fatal("the submitter was not told of the return")
	}
	// Only the submitter may change it now.
	res := f.admin.do("PATCH", "/api/v1/records/offers/"+o, map[string]any{"note": "admin"}, nil).want(409)
	if !strings.Contains(string(res.body), "退回") {
		t.Fatalf("returned reason: %s", res.body)
	}
	f.c("rep.east").do("DELETE", "/api/v1/records/offers/"+o, nil, nil).want(409)
	f.c("rep.east").do("PATCH", "/api/v1/records/offers/"+o, map[string]any{"note": "交期 30 天"}, nil).want(200)
	// Resubmitting continues where it was returned.
	if inst := f.submit("rep.east", o).want(200).json(); inst["status"] != "running" {
		t.Fatalf("resubmitted %v", inst)
	}
	f.wantPending(o, "gm")
	f.c("rep.east").do("PATCH", "/api/v1/records/offers/"+o, map[string]any{"note": "again"}, nil).want(409)
	f.approve("gm", o)
	inst := f.instance(o)
	if inst["status"] != "approved" {
		t.Fatalf("status %v", inst["status"])
	}
	kinds := stepKinds(inst)
	if !slices.Contains(kinds, "return") || !slices.Contains(kinds, "resubmit") {
		t.Fatalf("timeline %v", kinds)
	}
	if items := f.admin.do("GET", "/api/v1/records/offers/"+o+"/approvals", nil, nil).want(200).items(); len(items) != 1 {
		t.Fatalf("a resubmission made a new instance: %d", len(items))
	}
}

// TestFlowWithdraw: the submitter withdraws a running flow; its tasks go.
func TestFlowWithdraw(t *testing.T) {
	f := newFlowEnv(t)
	twoLevels(f)
	o := f.offer("rep.east", map[string]any{"name": "撤回测试"})
	inst := f.submit("rep.east", o).want(201).json()["id"].(string)
	f.c("rep.east").do("POST", "/api/v1/flow-instances/"+inst+"/withdraw", map[string]any{"comment": "客户取消"}, nil).want(200)
	if st := f.status(o); st != "withdrawn" {
		t.Fatalf("status %s", st)
	}
	f.noTask("sales.manager", o)
	f.c("rep.east").do("POST", "/api/v1/flow-instances/"+inst+"/withdraw", nil, nil).want(409)
	f.c("rep.east").do("PATCH", "/api/v1/records/offers/"+o, map[string]any{"note": "x"}, nil).want(200)
}

// TestFlowDelegateAndAddApprover: delegating hands the task over;
// adding an approver before waits for them, after needs them too.
func TestFlowDelegateAndAddApprover(t *testing.T) {
	f := newFlowEnv(t)
	twoLevels(f)
	u := f.users
	o := f.offer("rep.east", map[string]any{"name": "转交加签"})
	f.submit("rep.east", o).want(201)
	task := f.task("sales.manager", o)
	// Bad targets.
	f.act("sales.manager", task, "delegate", map[string]any{"to": u["sales.manager"]}).want(422)
	f.act("sales.manager", task, "delegate", map[string]any{"to": "999999"}).want(422)
	f.act("sales.manager", task, "delegate", map[string]any{}).want(422)
	f.act("sales.manager", task, "add_approver", map[string]any{"user": u["qa.lead"], "position": "middle"}).want(422)

	// Delegate to finance, who approves in the manager's place.
	res := f.act("sales.manager", task, "delegate", map[string]any{"to": u["finance"], "comment": "出差，请财务代批"}).want(200).json()
	if res["task"].(map[string]any)["status"] != "delegated" {
		t.Fatalf("delegate %v", res)
	}
	f.wantPending(o, "finance")
	if done := f.inbox("sales.manager", "done"); len(done) != 1 || done[0]["status"] != "delegated" {
		t.Fatalf("done box %v", done)
	}
	// Finance asks quality to approve first: finance waits.
	fin := f.task("finance", o)
	f.act("finance", fin, "add_approver", map[string]any{"user": u["qa.lead"], "position": "before", "comment": "请质量先看"}).want(200)
	f.wantPending(o, "qa.lead")
	f.noTask("finance", o)
	f.act("qa.lead", f.task("qa.lead", o), "add_approver", map[string]any{"user": u["finance"], "position": "after"}).want(409) // already an approver here
	f.approve("qa.lead", o)
	// Back to finance, who approves and adds the buyer after.
	f.wantPending(o, "finance")
	f.act("finance", f.task("finance", o), "add_approver", map[string]any{"user": u["buyer"], "position": "after"}).want(200)
	f.wantPending(o, "buyer")
	f.noTask("gm", o)
	f.approve("buyer", o)
	// The node is done only now.
	f.wantPending(o, "gm")
	f.approve("gm", o)
	if st := f.status(o); st != "approved" {
		t.Fatalf("status %s", st)
	}
	kinds := stepKinds(f.instance(o))
	for _, k := range []string{"delegate", "add_approver"} {
		if !slices.Contains(kinds, k) {
			t.Fatalf("timeline lacks %s: %v", k, kinds)
		}
	}
}

// TestFlowCommentWithAttachment: an approver comments with a file; whoever
// may see the flow downloads it, nobody else; nobody attaches another's
// file.
func TestFlowCommentWithAttachment(t *testing.T) {
	f := newFlowEnv(t)
	twoLevels(f)
	o := f.offer("rep.east", map[string]any{"name": "附件测试"})
	f.submit("rep.east", o).want(201)
	task := f.task("sales.manager", o)
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("价格对比"), 20)...)
	fid := upload(t, f.c("sales.manager"), "比价.pdf", pdf).want(201).json()["id"].(string)
	other := upload(t, f.c("rep.south"), "别人的.pdf", pdf).want(201).json()["id"].(string)

	f.act("sales.manager", task, "comment", map[string]any{}).want(422)
	f.act("sales.manager", task, "comment", map[string]any{"comment": "x", "attachments": []string{other}}).want(422)
	f.act("sales.manager", task, "comment", map[string]any{"comment": strings.Repeat("长", 2001)}).want(422)
	f.act("sales.manager", task, "comment", map[string]any{"comment": "附比价单", "attachments": []string{fid}}).want(200)
	f.act("sales.manager", task, "approve", map[string]any{"comment": "同意", "attachments": []string{fid}}).want(200)

	var step map[string]any
	for _, s := range f.instance(o)["steps"].([]any) {
		if sm := s.(map[string]any); sm["kind"] == "comment" {
			step = sm
		}
	}
	if step == nil || step["comment"] != "附比价单" || len(step["attachments"].([]any)) != 1 || step["attachments"].([]any)[0].(map[string]any)["id"] != fid {
		t.Fatalf("comment step %v", step)
	}
	// The submitter (who reads the record) and the approver download it;
	// a rep of another region does not.
	for _, who := range []string{"rep.east", "sales.manager", "gm"} {
		res := f.c(who).do("GET", "/api/v1/flow-attachments/"+fid, nil, nil).want(200)
		if !bytes.Equal(res.body, pdf) || res.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s downloaded %d bytes", who, len(res.body))
		}
	}
	f.c("rep.south").do("GET", "/api/v1/flow-attachments/"+fid, nil, nil).want(404)
	f.c("rep.east").do("GET", "/api/v1/flow-attachments/"+other, nil, nil).want(404)
	// Held by the record, the file is no orphan.
	refs, err := f.app.Files.Refs(t.Context(), fid)
	if err != nil || len(refs) != 1 || refs[0].Entity != "offers" {
		t.Fatalf("refs %v %v", refs, err)
	}
	// A comment on a finished task is still possible for its holder.
	f.act("sales.manager", task, "comment", map[string]any{"comment": "补充说明"}).want(200)
}
