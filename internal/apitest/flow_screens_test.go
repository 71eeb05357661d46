package apitest

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// What the approval screens rely on: problems of a definition name their
// node or edge by path, reasons and statuses come translated, attachments
// carry their names, a record says whether its caller may submit it.

// problemsAt maps each code of a 422 to the fields it was reported under.
func problemsAt(r *response) map[string][]string {
	out := map[string][]string{}
	for _, e := range r.json()["errors"].([]any) {
		m := e.(map[string]any)
		out[m["code"].(string)] = append(out[m["code"].(string)], m["field"].(string))
	}
	return out
}

// TestFlowProblemPaths: validate and publish report each problem under the
// path of its node ("graph.nodes.<id>") or edge ("graph.edges.<id>", or its
// position without an id), the whole graph's under "graph", with messages
// in the caller's language and no English reason in zh-CN.
func TestFlowProblemPaths(t *testing.T) {
	f := newFlowEnv(t)
	bad := graph([]map[string]any{
		node("s", "start", "", nil),
		node("a", "approval", "二级审批", map[string]any{"mode": "any", "approvers": []any{map[string]any{"kind": "user"}}}),
		node("c", "condition", "金额判断", nil),
		approval("u", "未知用户", "single", byUser("999999")),
		node("e", "end", "", nil), node("e2", "end", "", nil),
	},
		map[string]any{"id": "to-a", "from": "s", "to": "a"}, edge("a", "c"),
		map[string]any{"id": "big", "from": "c", "to": "u", "condition": "amount >>> 1"}, dflt("c", "e"), edge("u", "e"), edge("e2", "s"))
	id := f.define("路径", "submit", "", bad)
	for _, path := range []string{"/validate", "/publish"} {
		res := f.admin.do("POST", "/api/v1/flow-definitions/"+id+path, nil, nil).want(422)
		at := problemsAt(res)
		for code, field := range map[string]string{
			"flow_approver_no_users": "graph.nodes.a",
			"flow_bad_expression":    "graph.edges.big",
			"flow_duplicate_end":     "graph",
			"flow_start_incoming":    "graph.nodes.s",
			"flow_end_outgoing":      "graph.nodes.e2",
		} {
			if !slices.Contains(at[code], field) {
				t.Errorf("%s: %s under %v, want %s", path, code, at[code], field)
			}
		}
		if strings.Contains(string(res.body), "no users") || !strings.Contains(string(res.body), "节点「二级审批」的审批人设置无效：没有选择用户") {
			t.Errorf("%s: zh-CN body %s", path, res.body)
		}
	}
	en := f.admin.do("POST", "/api/v1/flow-definitions/"+id+"/validate", nil, map[string]string{"Accept-Language": "en"}).want(422)
	if !strings.Contains(string(en.body), "Node “二级审批” has an invalid approver: no users are chosen") {
		t.Errorf("en body %s", en.body)
	}
	// A user who does not exist is found by the database check, at its node.
	ok := graph([]map[string]any{node("s", "start", "", nil), approval("u", "U", "single", byUser("999999")), node("e", "end", "", nil)},
		edge("s", "u"), edge("u", "e"))
	res := f.admin.do("POST", "/api/v1/flow-definitions/"+f.define("用户", "submit", "", ok)+"/validate", nil, nil).want(422)
	if at := problemsAt(res); !slices.Equal(at["flow_unknown_user"], []string{"graph.nodes.u"}) {
		t.Errorf("unknown user at %v", at)
	}
	// Edges without an id are named by position; a bad config's reason is translated.
	noID := graph([]map[string]any{node("s", "start", "", nil),
		node("a", "approval", "A", map[string]any{"approvers": []any{map[string]any{"kind": "manager"}}, "colour": "red"}),
		node("e", "end", "", nil)}, edge("s", "a"), edge("a", "e"), edge("a", "zz"))
	res = f.admin.do("POST", "/api/v1/flow-definitions/"+f.define("无编号", "submit", "", noID)+"/validate", nil, nil).want(422)
	at := problemsAt(res)
	if !slices.Equal(at["flow_bad_edge"], []string{"graph.edges[2]"}) || !slices.Equal(at["flow_bad_config"], []string{"graph.nodes.a"}) {
		t.Errorf("paths %v", at)
	}
	if !strings.Contains(string(res.body), "未知的键 colour") {
		t.Errorf("config reason %s", res.body)
	}
}

// TestFlowStatusesTranslated: acting on a finished task or flow names its
// status in the caller's language.
func TestFlowStatusesTranslated(t *testing.T) {
	f := newFlowEnv(t)
	twoLevels(f)
	o := f.offer("rep.east", map[string]any{"name": "状态"})
	f.submit("rep.east", o).want(201)
	task := f.task("sales.manager", o)
	f.approve("sales.manager", o)
	res := f.act("sales.manager", task, "approve", nil).want(409)
	if !strings.Contains(string(res.body), "此审批任务当前不能处理（已同意）") {
		t.Errorf("zh %s", res.body)
	}
	res = f.c("sales.manager").do("POST", "/api/v1/approvals/"+task+"/approve", nil, map[string]string{"Accept-Language": "en"}).want(409)
	if !strings.Contains(string(res.body), "cannot be acted on now (it is approved)") {
		t.Errorf("en %s", res.body)
	}
	inst := f.instance(o)["id"].(string)
	f.c("rep.east").do("POST", "/api/v1/flow-instances/"+inst+"/withdraw", nil, nil).want(200)
	res = f.c("rep.east").do("POST", "/api/v1/flow-instances/"+inst+"/withdraw", nil, nil).want(409)
	if !strings.Contains(string(res.body), "审批流程已不在进行中（已撤回）") {
		t.Errorf("withdrawn %s", res.body)
	}
}

// TestFlowAttachmentInfo: tasks, steps and the history show attachments
// with their names; actions still take file ids.
func TestFlowAttachmentInfo(t *testing.T) {
	f := newFlowEnv(t)
	twoLevels(f)
	o := f.offer("rep.east", map[string]any{"name": "附件信息"})
	f.submit("rep.east", o).want(201)
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 100)...)
	fid := upload(t, f.c("sales.manager"), "比价.pdf", pdf).want(201).json()["id"].(string)
	res := f.act("sales.manager", f.task("sales.manager", o), "approve", map[string]any{"comment": "同意", "attachments": []string{fid}}).want(200)
	want := func(where string, list any) {
		t.Helper()
		l, _ := list.([]any)
		if len(l) != 1 {
			t.Fatalf("%s: %v", where, list)
		}
		a := l[0].(map[string]any)
		if a["id"] != fid || a["name"] != "比价.pdf" || a["size"] != float64(len(pdf)) || a["content_type"] != "application/pdf" {
			t.Fatalf("%s: %v", where, a)
		}
	}
	want("act response", res.json()["task"].(map[string]any)["attachments"])
	inst := f.instance(o)
	for _, s := range inst["steps"].([]any) {
		if sm := s.(map[string]any); sm["kind"] == "approve" {
			want("step", sm["attachments"])
		}
	}
	for _, tk := range inst["tasks"].([]any) {
		if tm := tk.(map[string]any); tm["status"] == "approved" {
			want("task", tm["attachments"])
		}
	}
	done := f.inbox("sales.manager", "done")
	if len(done) != 1 {
		t.Fatalf("done %v", done)
	}
	want("inbox", done[0]["attachments"])
	found := false
	for _, h := range f.c("rep.east").do("GET", "/api/v1/records/offers/"+o+"/history", nil, nil).want(200).items() {
		if h["action"] == "flow.approve" {
			found = true
			want("history", h["changes"].(map[string]any)["flow_attachments"].(map[string]any)["new"])
		}
	}
	if !found {
		t.Fatal("no flow.approve in the history")
	}
}

// TestFlowCanSubmit: the record's approvals say whether the caller may
// submit it, and which flow that starts.
func TestFlowCanSubmit(t *testing.T) {
	f := newFlowEnv(t)
	can := func(login, offer string) (bool, any) {
		t.Helper()
		res := f.c(login).do("GET", "/api/v1/records/offers/"+offer+"/approvals", nil, nil).want(200).json()
		return res["can_submit"].(bool), res["submit_flow"]
	}
	small := f.offer("rep.east", map[string]any{"name": "小单", "amount": "10"})
	big := f.offer("rep.east", map[string]any{"name": "大单", "amount": "50000"})
	if ok, fl := can("rep.east", big); ok || fl != nil {
		t.Fatalf("no flow published: %v %v", ok, fl)
	}
	def := f.define("大额审批", "submit", "amount > 1000", graph([]map[string]any{node("s", "start", "", nil),
		approval("mgr", "经理审批", "single", byKind("manager")), node("e", "end", "", nil)}, edge("s", "mgr"), edge("mgr", "e")))
	// A draft applies to nothing; a flow triggered on create is no submit flow.
	if ok, _ := can("rep.east", big); ok {
		t.Fatal("a draft applies")
	}
	f.publish(f.define("创建时", "create", "", graph([]map[string]any{node("s", "start", "", nil), node("e", "end", "", nil)}, edge("s", "e"))))
	if ok, _ := can("rep.east", small); ok {
		t.Fatal("a create flow offered for submission")
	}
	f.publish(def)
	if ok, fl := can("rep.east", big); !ok || fl.(map[string]any)["name"] != "大额审批" || fl.(map[string]any)["id"] != def {
		t.Fatalf("big: %v %v", ok, fl)
	}
	if ok, _ := can("rep.east", small); ok {
		t.Fatal("the condition does not hold for the small offer")
	}
	f.submit("rep.east", small).want(409)
	// Whoever may only read the record may not submit it.
	if ok, _ := can("sales.manager", big); ok {
		t.Fatal("a reader may submit")
	}
	if ok, _ := can("admin", big); !ok {
		t.Fatal("the administrator may submit")
	}
	// Running: nobody; returned: its submitter only.
	f.submit("rep.east", big).want(201)
	if ok, _ := can("rep.east", big); ok {
		t.Fatal("may submit a running record")
	}
	f.act("sales.manager", f.task("sales.manager", big), "return", map[string]any{"comment": "改"}).want(200)
	if ok, fl := can("rep.east", big); !ok || fl.(map[string]any)["name"] != "大额审批" {
		t.Fatalf("returned, submitter: %v %v", ok, fl)
	}
	if ok, _ := can("admin", big); ok {
		t.Fatal("returned, another user may submit")
	}
	f.submit("rep.east", big).want(200)
}
