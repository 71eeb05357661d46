package apitest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// shanghai is UTC+8 (Asia/Shanghai has no daylight saving).
var shanghai = time.FixedZone("CST", 8*3600)

// rulesEnv is a Tenon with the demo organisation, a controllable clock,
// and three custom entities the rules scenarios work on: rl_accounts,
// rl_deals (linked to an account) and rl_orders (linked to a deal).
type rulesEnv struct {
	*env
	clock *testClock
	admin *client
	users map[string]string // login → id
}

// newRulesEnv starts a fresh Tenon at 2026-11-20 09:00 Shanghai time.
func newRulesEnv(t testing.TB) *rulesEnv {
	t.Helper()
	clk := &testClock{t: time.Date(2026, 11, 20, 9, 0, 0, 0, shanghai)}
	re := &rulesEnv{env: openEnv(t, "tenon_rules", clk), clock: clk}
	if err := re.app.Rules.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	re.admin = re.c("admin")
	re.users = re.userIDs()
	re.setupEntities()
	return re
}

func (re *rulesEnv) setupEntities() {
	re.t.Helper()
	lbl := func(s string) map[string]string { return map[string]string{"zh-CN": s, "en": s} }
	re.admin.do("POST", "/api/v1/meta/entities", map[string]any{
		"name": "rl_accounts", "label": lbl("Accounts"), "title_field": "name",
		"fields": []map[string]any{
			{"name": "name", "type": "text", "required": true, "label": lbl("Name")},
			{"name": "grade", "type": "select", "options": []string{"A", "B", "C"}, "label": lbl("Grade")},
			{"name": "note", "type": "text", "label": lbl("Note")},
			{"name": "deals_won", "type": "integer", "label": lbl("Deals won")},
		}}, nil).want(201)
	re.admin.do("POST", "/api/v1/meta/entities", map[string]any{
		"name": "rl_deals", "label": lbl("Deals"), "title_field": "name",
		"fields": []map[string]any{
			{"name": "name", "type": "text", "required": true, "label": lbl("Name")},
			{"name": "amount", "type": "money", "label": lbl("Amount")},
			{"name": "region", "type": "select", "options_from": "regions", "label": lbl("Region")},
			{"name": "status", "type": "select", "options": []string{"new", "qualified", "won", "lost"}, "default": "new", "label": lbl("Status")},
			{"name": "priority", "type": "text", "label": lbl("Priority")},
			{"name": "note", "type": "long_text", "label": lbl("Note")},
			{"name": "counter", "type": "integer", "label": lbl("Counter")},
			{"name": "account", "type": "link", "target": "rl_accounts", "label": lbl("Account")},
			{"name": "approver", "type": "user", "label": lbl("Approver")},
			{"name": "end_date", "type": "date", "label": lbl("End date")},
			{"name": "code", "type": "text", "label": lbl("Code")},
		}}, nil).want(201)
	re.admin.do("POST", "/api/v1/meta/entities", map[string]any{
		"name": "rl_orders", "label": lbl("Orders"), "title_field": "title",
		"fields": []map[string]any{
			{"name": "title", "type": "text", "required": true, "label": lbl("Title")},
			{"name": "deal", "type": "link", "target": "rl_deals", "label": lbl("Deal")},
			{"name": "amount", "type": "money", "label": lbl("Amount")},
			{"name": "region", "type": "text", "label": lbl("Region")},
		}}, nil).want(201)
	roles := re.admin.do("GET", `/api/v1/records/roles?filter=name%20==%20"sales_rep"`, nil, nil).want(200).items()
	perms := []any{
		map[string]any{"entity": "rl_deals", "actions": []string{"read", "create", "update", "delete"}, "scope": "regions"},
		map[string]any{"entity": "rl_accounts", "actions": []string{"read"}, "scope": "all"},
	}
	re.admin.do("PATCH", "/api/v1/records/roles/"+roles[0]["id"].(string), map[string]any{"permissions": perms}, nil).want(200)
}

// rule creates an enabled rule on rl_deals (unless body says otherwise)
// and returns its id.
func (re *rulesEnv) rule(body map[string]any) string {
	re.t.Helper()
	if _, ok := body["entity"]; !ok {
		body["entity"] = "rl_deals"
	}
	if _, ok := body["enabled"]; !ok {
		body["enabled"] = true
	}
	if _, ok := body["name"]; !ok {
		body["name"] = "rule"
	}
	return re.admin.do("POST", "/api/v1/records/rules", body, nil).want(201).json()["id"].(string)
}

// work runs every due job (rule runs, scans, webhook calls) by the clock.
func (re *rulesEnv) work() int {
	re.t.Helper()
	n, err := re.app.Jobs.RunDue(context.Background())
	if err != nil {
		re.t.Fatal(err)
	}
	return n
}

// runs is a rule's run log, newest first.
func (re *rulesEnv) runs(id string, query ...string) []map[string]any {
	re.t.Helper()
	q := ""
	if len(query) > 0 {
		q = "?" + strings.Join(query, "&")
	}
	return re.admin.do("GET", "/api/v1/rules/"+id+"/runs"+q, nil, nil).want(200).items()
}

// outcomes lists the outcomes of a rule's runs, sorted (a matched run is
// logged when its job has run, after the runs skipped meanwhile).
func (re *rulesEnv) outcomes(id string) []string {
	re.t.Helper()
	var out []string
	for _, r := range re.runs(id, "limit=500") {
		out = append(out, r["outcome"].(string))
	}
	sort.Strings(out)
	return out
}

// deal creates a deal as login and returns it.
func (re *rulesEnv) deal(login string, fields map[string]any) map[string]any {
	re.t.Helper()
	return re.c(login).do("POST", "/api/v1/records/rl_deals", fields, nil).want(201).json()
}

// get reads a record as admin.
func (re *rulesEnv) get(entity, id string) map[string]any {
	re.t.Helper()
	return re.admin.do("GET", "/api/v1/records/"+entity+"/"+id, nil, nil).want(200).json()
}

func (re *rulesEnv) patch(entity, id string, fields map[string]any) map[string]any {
	re.t.Helper()
	return re.admin.do("PATCH", "/api/v1/records/"+entity+"/"+id, fields, nil).want(200).json()
}

// count counts rows of a table (a system table the API does not list).
func (re *rulesEnv) count(query string, args ...any) int {
	re.t.Helper()
	var n int
	if err := re.app.DB.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		re.t.Fatal(err)
	}
	return n
}

func wantOutcomes(t testing.TB, got []string, want ...string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
}

// TestRulesEventTriggers: created, updated, field changed, status
// entered and deleted each fire on their writes only; the condition sees
// the record and the acting user; skipped runs are logged too.
func TestRulesEventTriggers(t *testing.T) {
	re := newRulesEnv(t)
	big := re.rule(map[string]any{"trigger": map[string]any{"type": "created"},
		"condition": `amount > 500000 && region == "华东" && user.login != "admin"`,
		"actions":   []any{map[string]any{"type": "set_fields", "values": map[string]any{"priority": "high"}}}})
	upd := re.rule(map[string]any{"trigger": map[string]any{"type": "updated"},
		"actions": []any{map[string]any{"type": "set_fields", "expressions": map[string]any{"counter": "(counter ?? 0) + 1"}}}})
	changed := re.rule(map[string]any{"trigger": map[string]any{"type": "field_changed", "fields": []string{"amount"}},
		"actions": []any{map[string]any{"type": "set_fields", "expressions": map[string]any{"note": `"amount " + string(old.amount) + " -> " + string(amount)`}}}})
	won := re.rule(map[string]any{"trigger": map[string]any{"type": "status_entered", "field": "status", "value": "won"},
		"actions": []any{map[string]any{"type": "set_fields", "values": map[string]any{"code": "WON"}}}})
	deleted := re.rule(map[string]any{"trigger": map[string]any{"type": "deleted"},
		"actions": []any{map[string]any{"type": "create_record", "entity": "rl_orders",
			"expressions": map[string]any{"title": `"deleted: " + name`, "amount": "amount"}}}})

	d1 := re.deal("rep.east", map[string]any{"name": "大单", "amount": "600000", "region": "华东"})
	d2 := re.deal("admin", map[string]any{"name": "管理员的大单", "amount": "600000", "region": "华东"})
	d3 := re.deal("rep.east", map[string]any{"name": "小单", "amount": "1000", "region": "华东"})
	re.work()
	if p := re.get("rl_deals", d1["id"].(string))["priority"]; p != "high" {
		t.Fatalf("created rule did not set priority: %v", p)
	}
	for _, d := range []map[string]any{d2, d3} {
		if p := re.get("rl_deals", d["id"].(string))["priority"]; p != nil {
			t.Fatalf("created rule ran on %s: %v", d["name"], p)
		}
	}
	wantOutcomes(t, re.outcomes(big), "matched", "skipped", "skipped")
	// The rule's own write (priority) is an update: the updated rule ran on
	// d1, and its own write would run it again: the loop guard stops that.
	wantOutcomes(t, re.outcomes(upd), "loop_stopped", "matched")
	if c := re.get("rl_deals", d1["id"].(string))["counter"]; c != float64(1) {
		t.Fatalf("counter %v", c)
	}

	// A change of amount: updated and field_changed fire; status untouched.
	re.c("rep.east").do("PATCH", "/api/v1/records/rl_deals/"+d3["id"].(string), map[string]any{"amount": "2000"}, nil).want(200)
	re.work()
	got := re.get("rl_deals", d3["id"].(string))
	if got["note"] != "amount 1000 -> 2000" || got["code"] != nil {
		t.Fatalf("after the amount change: %v", got)
	}
	wantOutcomes(t, re.outcomes(changed), "matched")
	if len(re.runs(won)) != 0 {
		t.Fatal("status_entered fired without the status changing")
	}
	// Entering won fires once; staying won does not fire again.
	re.patch("rl_deals", d3["id"].(string), map[string]any{"status": "won"})
	re.work()
	re.patch("rl_deals", d3["id"].(string), map[string]any{"name": "小单（已赢）"})
	re.work()
	if c := re.get("rl_deals", d3["id"].(string))["code"]; c != "WON" {
		t.Fatalf("status_entered: code %v", c)
	}
	wantOutcomes(t, re.outcomes(won), "matched")
	wantOutcomes(t, re.outcomes(changed), "matched") // amount did not change again

	re.admin.do("DELETE", "/api/v1/records/rl_deals/"+d2["id"].(string), nil, nil).want(204)
	re.work()
	orders := re.admin.do("GET", "/api/v1/records/rl_orders", nil, nil).want(200).items()
	if len(orders) != 1 || orders[0]["title"] != "deleted: 管理员的大单" || orders[0]["amount"] != "600000.00" {
		t.Fatalf("deleted rule: %v", orders)
	}
	wantOutcomes(t, re.outcomes(deleted), "matched")

	// The audit trail says the rule made its changes.
	hist := re.admin.do("GET", "/api/v1/records/rl_deals/"+d1["id"].(string)+"/history", nil, nil).want(200).body
	if !strings.Contains(string(hist), `"source":"rule"`) {
		t.Fatalf("history lacks source rule: %s", hist)
	}
}

// hookServer records the requests an outbound call or a robot sends.
type hookServer struct {
	mu     sync.Mutex
	reqs   []hookReq
	status []int // answers in turn; 200 when used up
	srv    *httptest.Server
}

type hookReq struct {
	header http.Header
	body   []byte
}

func newHookServer(t testing.TB, status ...int) *hookServer {
	h := &hookServer{status: status}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.reqs = append(h.reqs, hookReq{header: r.Header.Clone(), body: b})
		code := 200
		if len(h.status) > 0 {
			code, h.status = h.status[0], h.status[1:]
		}
		h.mu.Unlock()
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"errcode":0,"code":0}`))
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookServer) got() []hookReq {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookReq(nil), h.reqs...)
}

// TestRulesActions: every action kind, each checked by its effect; a
// condition reading through links (account.grade, account.owner.login).
func TestRulesActions(t *testing.T) {
	re := newRulesEnv(t)
	acc := re.admin.do("POST", "/api/v1/records/rl_accounts", map[string]any{"name": "苏州精密", "grade": "A",
		"owner": re.users["rep.east"]}, nil).want(201).json()
	accB := re.admin.do("POST", "/api/v1/records/rl_accounts", map[string]any{"name": "杭州模具", "grade": "B"}, nil).want(201).json()
	target := newHookServer(t)
	robot := newHookServer(t)
	re.admin.do("PUT", "/api/v1/notify/settings", map[string]any{"robots_allow_private": true}, nil).want(200)
	re.admin.do("PUT", "/api/v1/settings/outbound", map[string]any{"allow": []string{strings.TrimPrefix(target.srv.URL, "http://")}}, nil).want(200)
	channel := re.admin.do("POST", "/api/v1/records/notify_channels", map[string]any{"name": "销售群", "kind": "wecom",
		"webhook_url": robot.srv.URL + "/robot"}, nil).want(201).json()["id"].(string)
	flowDef := re.admin.do("POST", "/api/v1/records/flow_definitions", map[string]any{"name": "大单审批", "entity": "rl_deals",
		"trigger": "submit", "graph": graph([]map[string]any{
			node("start", "start", "提交", nil),
			approval("mgr", "经理审批", "single", byUser(re.users["sales.manager"])),
			node("end", "end", "结束", nil)}, edge("start", "mgr"), edge("mgr", "end"))}, nil).want(201).json()["id"].(string)
	re.admin.do("POST", "/api/v1/flow-definitions/"+flowDef+"/publish", nil, nil).want(200)

	secret := "0123456789abcdef-secret"
	rid := re.rule(map[string]any{"name": "A级客户大单",
		"trigger":   map[string]any{"type": "status_entered", "field": "status", "value": "qualified"},
		"condition": `account.grade == "A" && account.owner.login == "rep.east" && amount >= 100000`,
		"actions": []any{
			map[string]any{"type": "set_fields", "values": map[string]any{"priority": "A级"},
				"expressions": map[string]any{"end_date": `add_days(today(), 30)`}},
			map[string]any{"type": "create_record", "entity": "rl_orders", "values": map[string]any{"region": "华东"},
				"expressions": map[string]any{"title": `"订单-" + name`, "deal": "id", "amount": "amount * 1.13"}},
			map[string]any{"type": "update_linked", "link": "account", "expressions": map[string]any{
				"note": `"最近大单 " + name`, "deals_won": "(target.deals_won ?? 0) + 1"}},
			map[string]any{"type": "notify", "to": map[string]any{"owner": true, "owner_manager": true, "roles": []string{"general_manager"}},
				"robot": channel, "title": "大单：{{name}}", "body": "金额 {{amount}} 元，客户 {{account.grade}} 级"},
			map[string]any{"type": "call_webhook", "url": target.srv.URL + "/erp", "secret": secret, "fields": []string{"name", "amount"}},
			map[string]any{"type": "start_flow", "definition": flowDef},
			map[string]any{"type": "create_task", "title": "跟进 {{name}}", "description": "金额 {{amount}}",
				"due": "add_days(now(), 3)", "priority": "high", "assignee": "approver"},
		}})
	d := re.deal("rep.east", map[string]any{"name": "五轴加工中心", "amount": "200000", "region": "华东", "account": acc["id"],
		"approver": re.users["rep.east2"]})
	other := re.deal("rep.east", map[string]any{"name": "B级客户", "amount": "200000", "region": "华东", "account": accB["id"]})
	re.c("rep.east").do("PATCH", "/api/v1/records/rl_deals/"+d["id"].(string), map[string]any{"status": "qualified"}, nil).want(200)
	re.c("rep.east").do("PATCH", "/api/v1/records/rl_deals/"+other["id"].(string), map[string]any{"status": "qualified"}, nil).want(200)
	re.work()
	runs := re.runs(rid)
	wantOutcomes(t, re.outcomes(rid), "matched", "skipped")
	var run map[string]any
	for _, r := range runs {
		if r["outcome"] == "matched" {
			run = r
		}
	}
	if run["record_id"] != d["id"] || run["trigger"] != "status_entered" || len(run["actions"].([]any)) != 7 {
		t.Fatalf("run: %v", run)
	}

	got := re.get("rl_deals", d["id"].(string))
	if got["priority"] != "A级" || got["end_date"] != "2026-12-20" {
		t.Fatalf("set_fields: %v", got)
	}
	orders := re.admin.do("GET", "/api/v1/records/rl_orders", nil, nil).want(200).items()
	if len(orders) != 1 || orders[0]["title"] != "订单-五轴加工中心" || orders[0]["deal"] != d["id"] ||
		orders[0]["amount"] != "226000.00" || orders[0]["region"] != "华东" || orders[0]["owner"] != re.users["rep.east"] {
		t.Fatalf("create_record: %v", orders)
	}
	a := re.get("rl_accounts", acc["id"].(string))
	if a["note"] != "最近大单 五轴加工中心" || a["deals_won"] != float64(1) {
		t.Fatalf("update_linked: %v", a)
	}
	// notify: the owner, the owner's manager and the general managers.
	for _, login := range []string{"rep.east", "sales.manager", "gm"} {
		items := re.c(login).do("GET", "/api/v1/notifications", nil, nil).want(200).items()
		found := false
		for _, it := range items {
			if it["title"] == "大单：五轴加工中心" && it["body"] == "金额 200000 元，客户 A 级" {
				found = true
			}
		}
		if !found {
			t.Fatalf("%s has no rule notification: %v", login, items)
		}
	}
	if items := re.c("rep.south").do("GET", "/api/v1/notifications", nil, nil).want(200).items(); len(items) != 0 {
		t.Fatalf("rep.south notified: %v", items)
	}
	// the robot message and the signed webhook call went out after the commit.
	if r := robot.got(); len(r) != 1 || !strings.Contains(string(r[0].body), "大单：五轴加工中心") {
		t.Fatalf("robot: %v", r)
	}
	calls := target.got()
	if len(calls) != 1 {
		t.Fatalf("webhook calls: %d", len(calls))
	}
	sig := calls[0].header.Get("Tenon-Signature")
	var ts string
	if _, err := fmt.Sscanf(sig, "t=%s", &ts); err != nil || !strings.Contains(sig, ",v1=") {
		t.Fatalf("signature header %q", sig)
	}
	ts = strings.SplitN(strings.TrimPrefix(sig, "t="), ",", 2)[0]
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(calls[0].body)))
	if want := "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil)); sig != want {
		t.Fatalf("signature %q, want %q", sig, want)
	}
	var body map[string]any
	if err := json.Unmarshal(calls[0].body, &body); err != nil {
		t.Fatal(err)
	}
	rec := body["record"].(map[string]any)
	if body["event"] != "status_entered" || body["entity"] != "rl_deals" || rec["name"] != "五轴加工中心" || rec["amount"] != "200000.00" {
		t.Fatalf("webhook body: %v", body)
	}
	if _, leaked := rec["approver"]; leaked {
		t.Fatalf("webhook sent a field it was not asked to: %v", rec)
	}
	if calls[0].header.Get("Tenon-Delivery") == "" {
		t.Fatal("no delivery id")
	}
	// start_flow: the manager has the approval; the record is locked.
	pending := re.c("sales.manager").do("GET", "/api/v1/approvals?box=pending", nil, nil).want(200).items()
	if len(pending) != 1 || pending[0]["record_id"] != d["id"] {
		t.Fatalf("start_flow: pending %v", pending)
	}
	// create_task: owned by the deal's approver, about the deal.
	tasks := re.admin.do("GET", "/api/v1/records/tasks", nil, nil).want(200).items()
	if len(tasks) != 1 || tasks[0]["title"] != "跟进 五轴加工中心" || tasks[0]["owner"] != re.users["rep.east2"] ||
		tasks[0]["related_entity"] != "rl_deals" || tasks[0]["related_id"] != d["id"] || tasks[0]["priority"] != "high" ||
		!strings.HasPrefix(tasks[0]["due_at"].(string), "2026-11-23T09:00") {
		t.Fatalf("create_task: %v", tasks)
	}
	// After delivery the run log says so.
	for _, r := range re.runs(rid) {
		if r["outcome"] != "matched" {
			continue
		}
		acts := r["actions"].([]any)
		if st := acts[4].(map[string]any)["status"]; st != "delivered" {
			t.Fatalf("webhook action status %v", st)
		}
	}
}

// TestRulesOwnerAssignment: fixed, round-robin (persisted turn, fair under
// concurrent runs), least-loaded by open records, and by rule.
func TestRulesOwnerAssignment(t *testing.T) {
	re := newRulesEnv(t)
	u := re.users
	assign := func(code string, a map[string]any) string {
		a["type"] = "assign_owner"
		return re.rule(map[string]any{"trigger": map[string]any{"type": "created"}, "condition": `code == "` + code + `"`, "actions": []any{a}})
	}
	assign("fx", map[string]any{"strategy": "fixed", "user": u["rep.south"]})
	assign("rr", map[string]any{"strategy": "round_robin", "users": []string{u["rep.east"], u["rep.east2"], u["sales.manager"]}})
	assign("ll", map[string]any{"strategy": "least_loaded", "users": []string{u["rep.east"], u["rep.east2"]}, "open": `status != "lost"`})
	assign("br", map[string]any{"strategy": "by_rule", "default": u["rep.east2"], "rules": []any{
		map[string]any{"when": "amount > 1000000", "user": u["gm"]},
		map[string]any{"when": `region == "华北"`, "user": u["sales.manager"]}}})
	owner := func(d map[string]any) string { return re.get("rl_deals", d["id"].(string))["owner"].(string) }
	mk := func(code string, extra map[string]any) map[string]any {
		f := map[string]any{"name": code, "code": code, "region": "华东", "amount": "100"}
		for k, v := range extra {
			f[k] = v
		}
		return re.deal("admin", f)
	}

	fx := mk("fx", nil)
	var rr []map[string]any
	for range 6 {
		rr = append(rr, mk("rr", nil))
	}
	re.work()
	if owner(fx) != u["rep.south"] {
		t.Fatalf("fixed: %v", owner(fx))
	}
	want := []string{u["rep.east"], u["rep.east2"], u["sales.manager"]}
	for i, d := range rr {
		if owner(d) != want[i%3] {
			t.Fatalf("round robin #%d: %s, want %s", i, owner(d), want[i%3])
		}
	}

	// rep.east has two open deals; rep.east2 one open and three lost.
	for _, o := range []struct {
		user, status string
	}{{"rep.east", "new"}, {"rep.east", "qualified"}, {"rep.east2", "new"}, {"rep.east2", "lost"}, {"rep.east2", "lost"}, {"rep.east2", "lost"}} {
		re.deal("admin", map[string]any{"name": "load", "owner": u[o.user], "status": o.status})
	}
	x := mk("ll", nil)
	re.work()
	y := mk("ll", nil)
	re.work()
	if owner(x) != u["rep.east2"] || owner(y) != u["rep.east"] {
		t.Fatalf("least loaded: %s then %s", owner(x), owner(y))
	}

	big := mk("br", map[string]any{"amount": "2000000"})
	north := mk("br", map[string]any{"region": "华北"})
	other := mk("br", nil)
	re.work()
	if owner(big) != u["gm"] || owner(north) != u["sales.manager"] || owner(other) != u["rep.east2"] {
		t.Fatalf("by rule: %s %s %s", owner(big), owner(north), owner(other))
	}

	// Concurrent runs share the turn: twelve deals, three users, four each.
	assign("rr2", map[string]any{"strategy": "round_robin", "users": []string{u["rep.east"], u["rep.east2"], u["rep.south"]}})
	var ids []string
	for range 12 {
		ids = append(ids, mk("rr2", nil)["id"].(string))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- re.app.Jobs.Run(ctx) }()
	deadline := time.Now().Add(time.Minute)
	for re.count(`SELECT COUNT(*) FROM jobs WHERE kind = 'rules.run' AND status <> 'done'`) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("rule runs did not finish")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, id := range ids {
		per[re.get("rl_deals", id)["owner"].(string)]++
	}
	if per[u["rep.east"]] != 4 || per[u["rep.east2"]] != 4 || per[u["rep.south"]] != 4 {
		t.Fatalf("concurrent round robin: %v", per)
	}
}

// TestRulesLoopGuard: a rule re-triggered by its own write on the same
// record stops at once; a chain of new records stops at the depth limit.
func TestRulesLoopGuard(t *testing.T) {
	re := newRulesEnv(t)
	self := re.rule(map[string]any{"trigger": map[string]any{"type": "field_changed", "fields": []string{"counter"}},
		"actions": []any{map[string]any{"type": "set_fields", "expressions": map[string]any{"counter": "counter + 1"}}}})
	d := re.deal("admin", map[string]any{"name": "loop", "counter": 0})
	re.patch("rl_deals", d["id"].(string), map[string]any{"counter": 1})
	re.work()
	if c := re.get("rl_deals", d["id"].(string))["counter"]; c != float64(2) {
		t.Fatalf("counter %v, want 2 (one rule run)", c)
	}
	wantOutcomes(t, re.outcomes(self), "loop_stopped", "matched")
	stopped := re.runs(self, "outcome=loop_stopped")
	if e := stopped[0]["error"].(map[string]any); e["code"] != "rule_loop_repeat" || stopped[0]["depth"] != float64(1) {
		t.Fatalf("loop run: %v", stopped[0])
	}

	chain := re.rule(map[string]any{"trigger": map[string]any{"type": "created"}, "condition": `code == "chain"`,
		"actions": []any{map[string]any{"type": "create_record", "entity": "rl_deals", "values": map[string]any{"code": "chain"},
			"expressions": map[string]any{"name": `name + "+"`}}}})
	re.deal("admin", map[string]any{"name": "c", "code": "chain"})
	for re.work() > 0 {
	}
	if n := re.count(`SELECT COUNT(*) FROM r_rl_deals WHERE code = 'chain'`); n != 9 {
		t.Fatalf("chain made %d deals, want 9 (the first and eight by the rule)", n)
	}
	wantOutcomes(t, re.outcomes(chain), "loop_stopped", "matched", "matched", "matched", "matched", "matched", "matched", "matched", "matched")
	stopped = re.runs(chain, "outcome=loop_stopped")
	if e := stopped[0]["error"].(map[string]any); e["code"] != "rule_loop_depth" || stopped[0]["depth"] != float64(8) {
		t.Fatalf("depth stop: %v", stopped[0])
	}
}

// TestRulesLimits: a rule too big or too expensive is refused when saved,
// naming the field and the problem; a running evaluation over its budget
// is cut off and logged.
func TestRulesLimits(t *testing.T) {
	re := newRulesEnv(t)
	refuse := func(body map[string]any, field, code string) {
		t.Helper()
		body["entity"], body["name"] = "rl_deals", "x"
		if _, ok := body["actions"]; !ok {
			body["actions"] = []any{map[string]any{"type": "set_fields", "values": map[string]any{"priority": "x"}}}
		}
		if _, ok := body["trigger"]; !ok {
			body["trigger"] = map[string]any{"type": "created"}
		}
		res := re.admin.do("POST", "/api/v1/records/rules", body, nil).want(422).json()
		for _, e := range res["errors"].([]any) {
			fe := e.(map[string]any)
			if fe["field"] == field && fe["code"] == code {
				return
			}
		}
		t.Fatalf("want %s on %s: %v", code, field, res["errors"])
	}
	terms := func(term string, n int) string { return strings.TrimSuffix(strings.Repeat(term+" || ", n), " || ") }
	refuse(map[string]any{"condition": `name != "` + strings.Repeat("长", 1400) + `"`}, "condition", "rule_expression_too_large")
	refuse(map[string]any{"condition": terms("amount > 1", 90)}, "condition", "rule_expression_too_large")
	refuse(map[string]any{"condition": terms(`upper(name) contains "X"`, 50)}, "condition", "rule_expression_too_costly")
	costly := terms(`upper(name) contains "X"`, 35) // about 850 each: six are over the rule's total
	exprs := map[string]any{}
	for _, f := range []string{"name", "priority", "note", "code", "region", "status"} {
		exprs[f] = costly + ` ? "a" : "b"`
	}
	refuse(map[string]any{"actions": []any{map[string]any{"type": "set_fields", "expressions": exprs}}}, "actions", "rule_too_costly")
	refuse(map[string]any{"condition": `account.owner.manager.login == "gm"`}, "condition", "rule_path_invalid")
	refuse(map[string]any{"condition": `amount.x == 1`}, "condition", "rule_path_invalid")
	refuse(map[string]any{"condition": `nosuch > 1`}, "condition", "bad_expression")
	refuse(map[string]any{"condition": `map([1], # + 1) == 1`}, "condition", "bad_expression")
	refuse(map[string]any{"trigger": map[string]any{"type": "field_changed", "fields": []string{"nosuch"}}}, "trigger.fields", "rule_field_unknown")
	refuse(map[string]any{"trigger": map[string]any{"type": "created", "fields": []string{"name"}}}, "trigger.fields", "rule_key_unused")
	refuse(map[string]any{"trigger": map[string]any{"type": "schedule", "cron": "every day"}}, "trigger.cron", "rule_trigger_invalid")
	refuse(map[string]any{"actions": []any{map[string]any{"type": "set_fields", "values": map[string]any{"amount": "abc"}}}}, "actions[0].values.amount", "not_decimal")
	refuse(map[string]any{"actions": []any{map[string]any{"type": "call_webhook", "url": "ftp://erp.local/x", "secret": "0123456789abcdef"}}},
		"actions[0].url", "rule_url_invalid")
	refuse(map[string]any{"actions": []any{map[string]any{"type": "assign_owner", "strategy": "fixed", "user": "999999"}}},
		"actions[0].user", "rule_user_unknown")
	refuse(map[string]any{"trigger": map[string]any{"type": "webhook"},
		"actions": []any{map[string]any{"type": "set_fields", "values": map[string]any{"priority": "x"}}}}, "actions[0].type", "rule_record_required")

	// A payload large enough to exceed the step budget: the evaluation is
	// cut off and the run logged as failed; nothing is created.
	id := re.rule(map[string]any{"trigger": map[string]any{"type": "webhook"}, "condition": `len(payload.items) > 0`,
		"actions": []any{map[string]any{"type": "create_record", "entity": "rl_orders", "values": map[string]any{"title": "x"}}}})
	token := re.get("rules", id)["hook_token"].(string)
	items := strings.TrimSuffix(strings.Repeat("1,", 25000), ",")
	re.anon().do("POST", "/api/v1/rules/"+id+"/hook", `{"items":[`+items+`]}`, map[string]string{"X-Tenon-Token": token}).want(202)
	re.anon().do("POST", "/api/v1/rules/"+id+"/hook", `{"items":[1]}`, map[string]string{"X-Tenon-Token": token}).want(202)
	re.work()
	wantOutcomes(t, re.outcomes(id), "failed", "matched")
	failed := re.runs(id, "outcome=failed")[0]
	if e := failed["error"].(map[string]any); e["code"] != "rule_eval_cut_off" {
		t.Fatalf("cut off run: %v", failed)
	}
	if n := re.count(`SELECT COUNT(*) FROM r_rl_orders`); n != 1 {
		t.Fatalf("%d orders, want the one of the small payload", n)
	}
}

// TestRulesTestMode: testing a rule against a record says whether it would
// run and what each action would do, and changes nothing: no record, task,
// notification, job, run log row or assignment turn.
func TestRulesTestMode(t *testing.T) {
	re := newRulesEnv(t)
	u := re.users
	id := re.rule(map[string]any{"enabled": false, "trigger": map[string]any{"type": "status_entered", "field": "status", "value": "won"},
		"condition": `amount > 500000 && region == "华东"`,
		"actions": []any{
			map[string]any{"type": "set_fields", "values": map[string]any{"priority": "high"}, "expressions": map[string]any{"note": `"赢单 " + name`}},
			map[string]any{"type": "assign_owner", "strategy": "round_robin", "users": []string{u["rep.east"], u["rep.east2"]}},
			map[string]any{"type": "notify", "to": map[string]any{"owner": true}, "title": "赢单 {{name}}"},
			map[string]any{"type": "call_webhook", "url": "https://erp.example.com/hook", "secret": "0123456789abcdef"},
			map[string]any{"type": "create_task", "title": "回款 {{name}}", "assignee": "owner"},
		}})
	d := re.deal("rep.east", map[string]any{"name": "测试单", "amount": "600000", "region": "华东", "status": "won"})
	re.work()
	before := re.get("rl_deals", d["id"].(string))
	jobs := re.count(`SELECT COUNT(*) FROM jobs`)
	test := func(body map[string]any) map[string]any {
		return re.admin.do("POST", "/api/v1/rules/"+id+"/test", body, nil).want(200).json()
	}
	res := test(map[string]any{"record_id": d["id"]})
	if res["would_run"] != true || res["trigger"].(map[string]any)["matches"] != true || res["condition"].(map[string]any)["matches"] != true {
		t.Fatalf("test: %v", res)
	}
	acts := res["actions"].([]any)
	if len(acts) != 5 {
		t.Fatalf("actions: %v", acts)
	}
	detail := func(i int) map[string]any { return acts[i].(map[string]any)["detail"].(map[string]any) }
	if v := detail(0)["values"].(map[string]any); v["priority"] != "high" || v["note"] != "赢单 测试单" {
		t.Fatalf("set_fields would: %v", detail(0))
	}
	if detail(1)["user"] != u["rep.east"] {
		t.Fatalf("assign would: %v", detail(1))
	}
	if to := detail(2)["to"].([]any); len(to) != 1 || to[0] != u["rep.east"] || detail(2)["title"] != "赢单 测试单" {
		t.Fatalf("notify would: %v", detail(2))
	}
	if detail(3)["url"] != "https://erp.example.com/hook" || detail(3)["body"].(map[string]any)["record"].(map[string]any)["name"] != "测试单" {
		t.Fatalf("webhook would: %v", detail(3))
	}
	if detail(4)["title"] != "回款 测试单" {
		t.Fatalf("task would: %v", detail(4))
	}
	// Nothing changed; the next test picks the same user.
	res = test(map[string]any{"record_id": d["id"]})
	if res["actions"].([]any)[1].(map[string]any)["detail"].(map[string]any)["user"] != u["rep.east"] {
		t.Fatal("a test moved the round-robin turn")
	}
	after := re.get("rl_deals", d["id"].(string))
	if after["version"] != before["version"] || after["priority"] != nil {
		t.Fatalf("the record changed: %v", after)
	}
	if n := re.count(`SELECT COUNT(*) FROM jobs`); n != jobs {
		t.Fatalf("jobs %d → %d", jobs, n)
	}
	for _, q := range []string{`SELECT COUNT(*) FROM r_tasks`, `SELECT COUNT(*) FROM notifications`, `SELECT COUNT(*) FROM rule_runs`,
		`SELECT COUNT(*) FROM rule_counters`} {
		if n := re.count(q); n != 0 {
			t.Fatalf("%s: %d", q, n)
		}
	}

	// The trigger and the condition are reported as they stand.
	small := re.deal("rep.east", map[string]any{"name": "小单", "amount": "10", "region": "华东"})
	res = test(map[string]any{"record_id": small["id"]})
	if res["would_run"] != false || res["trigger"].(map[string]any)["matches"] != false || res["condition"].(map[string]any)["matches"] != false {
		t.Fatalf("small: %v", res)
	}
	res = test(map[string]any{"record_id": d["id"], "old": map[string]any{"status": "won"}})
	if res["trigger"].(map[string]any)["matches"] != false || res["trigger"].(map[string]any)["basis"] != "old_values" {
		t.Fatalf("already won: %v", res["trigger"])
	}
	// A failing action is reported, still changing nothing.
	bad := re.rule(map[string]any{"enabled": false, "trigger": map[string]any{"type": "created"},
		"actions": []any{map[string]any{"type": "set_fields", "expressions": map[string]any{"amount": `"not a number"`}}}})
	res = re.admin.do("POST", "/api/v1/rules/"+bad+"/test", map[string]any{"record_id": d["id"]}, nil).want(200).json()
	if e, _ := res["error"].(map[string]any); e == nil || e["action"] != float64(0) || e["type"] != "set_fields" {
		t.Fatalf("failing action: %v", res)
	}

	// An unsaved rule is checked as on save, then tested.
	draft := map[string]any{"entity": "rl_deals", "trigger": map[string]any{"type": "created"}, "condition": `region == "华东"`,
		"actions": []any{map[string]any{"type": "set_fields", "values": map[string]any{"code": "D"}}}}
	res = re.admin.do("POST", "/api/v1/rules/test", map[string]any{"rule": draft, "record_id": d["id"]}, nil).want(200).json()
	if res["would_run"] != true || res["rule"] != nil {
		t.Fatalf("draft: %v", res)
	}
	draft["condition"] = `nosuch == 1`
	re.admin.do("POST", "/api/v1/rules/test", map[string]any{"rule": draft, "record_id": d["id"]}, nil).want(422)
	re.admin.do("POST", "/api/v1/rules/"+id+"/test", map[string]any{}, nil).want(422)
	re.admin.do("POST", "/api/v1/rules/"+id+"/test", map[string]any{"record_id": "999999"}, nil).want(404)
	if n := re.count(`SELECT COUNT(*) FROM rule_runs`); n != 0 {
		t.Fatalf("tests logged %d runs", n)
	}
}

// TestRulesDisabled: a disabled rule does nothing; enabling and disabling
// through a records PATCH takes effect for the next write.
func TestRulesDisabled(t *testing.T) {
	re := newRulesEnv(t)
	id := re.rule(map[string]any{"enabled": false, "trigger": map[string]any{"type": "created"},
		"actions": []any{map[string]any{"type": "set_fields", "values": map[string]any{"priority": "p"}}}})
	a := re.deal("admin", map[string]any{"name": "a"})
	re.work()
	if re.get("rl_deals", a["id"].(string))["priority"] != nil || len(re.runs(id)) != 0 {
		t.Fatal("a disabled rule ran")
	}
	re.patch("rules", id, map[string]any{"enabled": true})
	b := re.deal("admin", map[string]any{"name": "b"})
	// Disabled after the write, before the run: the run is skipped.
	c := re.deal("admin", map[string]any{"name": "c"})
	re.work()
	if re.get("rl_deals", b["id"].(string))["priority"] != "p" || re.get("rl_deals", c["id"].(string))["priority"] != "p" {
		t.Fatal("an enabled rule did not run")
	}
	d := re.deal("admin", map[string]any{"name": "d"})
	re.patch("rules", id, map[string]any{"enabled": false})
	re.work()
	if re.get("rl_deals", d["id"].(string))["priority"] != nil {
		t.Fatal("a run went ahead after its rule was disabled")
	}
	skipped := re.runs(id, "outcome=skipped")
	if len(skipped) != 1 || skipped[0]["error"].(map[string]any)["code"] != "rule_not_active" {
		t.Fatalf("skipped: %v", skipped)
	}
	re.deal("admin", map[string]any{"name": "e"})
	re.work()
	if n := len(re.runs(id)); n != 3 {
		t.Fatalf("%d runs, want 3", n)
	}
}

// TestRulesRunLog: one row per run, newest first, paged and filtered,
// errors in the reader's language; old rows are purged by the daily job.
func TestRulesRunLog(t *testing.T) {
	re := newRulesEnv(t)
	id := re.rule(map[string]any{"trigger": map[string]any{"type": "created"}, "condition": `amount > 100`,
		"actions": []any{map[string]any{"type": "set_fields", "expressions": map[string]any{"amount": "amount / (amount - 1000)"}}}})
	for _, amt := range []string{"50", "500", "1000"} {
		re.deal("admin", map[string]any{"name": "n" + amt, "amount": amt})
	}
	re.work()
	all := re.runs(id)
	wantOutcomes(t, re.outcomes(id), "failed", "matched", "skipped")
	for _, r := range all {
		if r["rule"] != id || r["entity"] != "rl_deals" || r["trigger"] != "created" || r["record_id"] == nil || r["at"] != "2026-11-20T09:00:00+08:00" {
			t.Fatalf("run row: %v", r)
		}
	}
	failed := re.runs(id, "outcome=failed")
	if len(failed) != 1 || failed[0]["error"].(map[string]any)["type"] != "set_fields" {
		t.Fatalf("failed: %v", failed)
	}
	zh := failed[0]["error"].(map[string]any)["message"].(string)
	en := re.admin
	en.lang = "en"
	enMsg := re.runs(id, "outcome=failed")[0]["error"].(map[string]any)["message"].(string)
	en.lang = ""
	if !strings.Contains(zh, "第 1 个动作") || !strings.Contains(enMsg, "Action 1 (set_fields) failed") {
		t.Fatalf("messages: %q / %q", zh, enMsg)
	}
	page := re.admin.do("GET", "/api/v1/rules/"+id+"/runs?limit=2", nil, nil).want(200).json()
	if len(page["items"].([]any)) != 2 || page["next_before"] == nil {
		t.Fatalf("page: %v", page)
	}
	rest := re.runs(id, "limit=2", "before="+page["next_before"].(string))
	if len(rest) != 1 || rest[0]["id"] == page["items"].([]any)[1].(map[string]any)["id"] {
		t.Fatalf("next page: %v", rest)
	}
	re.admin.do("GET", "/api/v1/rules/"+id+"/runs?outcome=nope", nil, nil).want(400)
	re.admin.do("GET", "/api/v1/rules/999999/runs", nil, nil).want(404)

	// The daily purge (03:30) keeps a month: the next night nothing goes;
	// 31 days on, the old rows go and a new one stays.
	re.clock.Set(time.Date(2026, 11, 21, 3, 30, 30, 0, shanghai))
	re.work()
	if n := len(re.runs(id)); n != 3 {
		t.Fatalf("%d runs after the first purge", n)
	}
	re.clock.Set(time.Date(2026, 12, 22, 3, 0, 0, 0, shanghai))
	re.deal("admin", map[string]any{"name": "later", "amount": "50"})
	re.work() // the run, then the purge that was due since 12-21 03:30
	if runs := re.runs(id); len(runs) != 1 || runs[0]["outcome"] != "skipped" || runs[0]["at"] != "2026-12-22T03:00:00+08:00" {
		t.Fatalf("after the purge: %v", runs)
	}
}

// TestRulesPermissions: only administrators, or roles granted the rules
// entity, read and manage rules, their run logs and tests.
func TestRulesPermissions(t *testing.T) {
	re := newRulesEnv(t)
	id := re.rule(map[string]any{"trigger": map[string]any{"type": "created"},
		"actions": []any{map[string]any{"type": "set_fields", "values": map[string]any{"priority": "p"}}}})
	d := re.deal("rep.east", map[string]any{"name": "x", "region": "华东"})
	body := map[string]any{"name": "r", "entity": "rl_deals", "trigger": map[string]any{"type": "created"},
		"actions": []any{map[string]any{"type": "set_fields", "values": map[string]any{"priority": "p"}}}}
	rep := re.c("rep.east")
	rep.do("POST", "/api/v1/records/rules", body, nil).want(403)
	rep.do("GET", "/api/v1/records/rules", nil, nil).want(403)
	rep.do("GET", "/api/v1/records/rules/"+id, nil, nil).want(403)
	rep.do("PATCH", "/api/v1/records/rules/"+id, map[string]any{"enabled": false}, nil).want(403)
	rep.do("GET", "/api/v1/rules/"+id+"/runs", nil, nil).want(403)
	rep.do("POST", "/api/v1/rules/"+id+"/test", map[string]any{"record_id": d["id"]}, nil).want(403)
	rep.do("POST", "/api/v1/rules/test", map[string]any{"rule": body, "record_id": d["id"]}, nil).want(403)

	grant := func(actions ...string) {
		roles := re.admin.do("GET", `/api/v1/records/roles?filter=name%20==%20"sales_manager"`, nil, nil).want(200).items()
		re.admin.do("PATCH", "/api/v1/records/roles/"+roles[0]["id"].(string), map[string]any{"permissions": []any{
			map[string]any{"entity": "rules", "actions": actions, "scope": "all"},
			map[string]any{"entity": "rl_deals", "actions": []string{"read"}, "scope": "all"}}}, nil).want(200)
	}
	mgr := re.c("sales.manager")
	grant("read")
	mgr.do("GET", "/api/v1/records/rules/"+id, nil, nil).want(200)
	mgr.do("GET", "/api/v1/rules/"+id+"/runs", nil, nil).want(200)
	mgr.do("POST", "/api/v1/records/rules", body, nil).want(403)
	mgr.do("POST", "/api/v1/rules/"+id+"/test", map[string]any{"record_id": d["id"]}, nil).want(403)
	grant("read", "create", "update")
	created := mgr.do("POST", "/api/v1/records/rules", body, nil).want(201).json()
	mgr.do("POST", "/api/v1/rules/"+created["id"].(string)+"/test", map[string]any{"record_id": d["id"]}, nil).want(200)
	mgr.do("POST", "/api/v1/rules/test", map[string]any{"rule": body, "record_id": d["id"]}, nil).want(200)
	mgr.do("PATCH", "/api/v1/records/rules/"+created["id"].(string), map[string]any{"enabled": true}, nil).want(200)
}

// TestRulesLinkedAndRecipients: update_linked through the records that
// link here; notify named users and a user field, e-mail left out.
func TestRulesLinkedAndRecipients(t *testing.T) {
	re := newRulesEnv(t)
	acc := re.admin.do("POST", "/api/v1/records/rl_accounts", map[string]any{"name": "宁波注塑", "grade": "B"}, nil).want(201).json()
	var deals []string
	for i := range 3 {
		deals = append(deals, re.deal("admin", map[string]any{"name": "d" + strconv.Itoa(i), "account": acc["id"],
			"approver": re.users["rep.east2"]})["id"].(string))
	}
	other := re.deal("admin", map[string]any{"name": "other"})["id"].(string)
	id := re.rule(map[string]any{"entity": "rl_accounts", "trigger": map[string]any{"type": "field_changed", "fields": []string{"grade"}},
		"condition": `grade == "A" && old.grade != "A"`,
		"actions": []any{map[string]any{"type": "update_linked", "entity": "rl_deals", "field": "account",
			"expressions": map[string]any{"priority": `"客户升级 " + grade`, "counter": "(target.counter ?? 0) + 10"}}}})
	re.patch("rl_accounts", acc["id"].(string), map[string]any{"grade": "A"})
	re.work()
	for _, d := range deals {
		if g := re.get("rl_deals", d); g["priority"] != "客户升级 A" || g["counter"] != float64(10) {
			t.Fatalf("linked deal: %v", g)
		}
	}
	if g := re.get("rl_deals", other); g["priority"] != nil {
		t.Fatalf("unlinked deal changed: %v", g)
	}
	run := re.runs(id)[0]
	if got := run["actions"].([]any)[0].(map[string]any)["detail"].(map[string]any)["records"].([]any); len(got) != 3 {
		t.Fatalf("update_linked detail: %v", run)
	}

	n := re.rule(map[string]any{"trigger": map[string]any{"type": "updated"}, "condition": `name == "通知"`,
		"actions": []any{map[string]any{"type": "notify", "channels": []string{"in_app"},
			"to": map[string]any{"users": []string{re.users["finance"]}, "fields": []string{"approver"}}, "title": "{{name}} 已更新"}}})
	re.patch("rl_deals", deals[0], map[string]any{"name": "通知"})
	re.work()
	for _, login := range []string{"finance", "rep.east2"} {
		items := re.c(login).do("GET", "/api/v1/notifications", nil, nil).want(200).items()
		if len(items) != 1 || items[0]["title"] != "通知 已更新" {
			t.Fatalf("%s: %v", login, items)
		}
	}
	if to := re.runs(n)[0]["actions"].([]any)[0].(map[string]any)["detail"].(map[string]any)["to"].([]any); len(to) != 2 {
		t.Fatalf("recipients: %v", to)
	}
}
