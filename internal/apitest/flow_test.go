package apitest

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// flowEnv is a Tenon with the demo organisation, a controllable clock and
// the custom entity "offers" that the flow scenarios approve.
type flowEnv struct {
	*env
	clock *testClock
	admin *client
	users map[string]string // login → id
}

// newFlowEnv starts a fresh Tenon whose clock only moves when the test
// says so.
func newFlowEnv(t *testing.T) *flowEnv {
	t.Helper()
	clk := &testClock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	f := &flowEnv{env: openEnv(t, "tenon_flow", clk), clock: clk}
	f.admin = f.c("admin")
	f.users = f.userIDs()
	f.setupOffers()
	return f
}

// setupOffers creates the custom entity offers: reps keep their own,
// managers, the general manager and finance read all of them; the other
// approvers (quality, purchasing) have no right on offers at all.
func (f *flowEnv) setupOffers() {
	f.admin.do("POST", "/api/v1/meta/entities", map[string]any{
		"name": "offers", "label": map[string]string{"zh-CN": "报价申请", "en": "Offers"}, "title_field": "name",
		"fields": []map[string]any{
			{"name": "name", "type": "text", "required": true},
			{"name": "amount", "type": "money"},
			{"name": "max_discount", "type": "percent"},
			{"name": "reviewer", "type": "user"},
			{"name": "stage", "type": "select", "options": []string{"draft", "approved", "rejected"}, "default": "draft"},
			{"name": "note", "type": "text"},
			{"name": "doc", "type": "file"},
		},
	}, nil).want(201)
	grant := func(role string, perms ...map[string]any) {
		r := f.admin.do("GET", `/api/v1/records/roles?filter=name%20==%20"`+role+`"`, nil, nil).want(200).items()[0]
		list := []any{}
		if cur, ok := r["permissions"].([]any); ok {
			list = cur
		}
		for _, p := range perms {
			list = append(list, p)
		}
		f.admin.do("PATCH", "/api/v1/records/roles/"+r["id"].(string), map[string]any{"permissions": list}, nil).want(200)
	}
	grant("sales_rep", map[string]any{"entity": "offers", "actions": []string{"read", "create", "update", "delete"}, "scope": "own"})
	for _, role := range []string{"sales_manager", "general_manager", "finance"} {
		grant(role, map[string]any{"entity": "offers", "actions": []string{"read"}, "scope": "all"})
	}
}

// Graph builders.

func node(id, typ, name string, cfg map[string]any) map[string]any {
	n := map[string]any{"id": id, "type": typ, "name": name}
	if cfg != nil {
		n["config"] = cfg
	}
	return n
}

func approval(id, name, mode string, approvers ...map[string]any) map[string]any {
	list := make([]any, len(approvers))
	for i, a := range approvers {
		list[i] = a
	}
	return node(id, "approval", name, map[string]any{"mode": mode, "approvers": list})
}

func edge(from, to string) map[string]any { return map[string]any{"from": from, "to": to} }

func cond(from, to, expr string) map[string]any {
	return map[string]any{"from": from, "to": to, "condition": expr}
}

func dflt(from, to string) map[string]any {
	return map[string]any{"from": from, "to": to, "default": true}
}

func graph(nodes []map[string]any, edges ...map[string]any) map[string]any {
	return map[string]any{"nodes": nodes, "edges": edges}
}

func byUser(ids ...string) map[string]any { return map[string]any{"kind": "user", "users": ids} }

func byKind(kind string) map[string]any { return map[string]any{"kind": kind} }

// define saves a draft definition as the administrator and returns its id.
func (f *flowEnv) define(name, trigger, condition string, g map[string]any) string {
	f.t.Helper()
	body := map[string]any{"name": name, "entity": "offers", "trigger": trigger, "graph": g}
	if condition != "" {
		body["condition"] = condition
	}
	return f.admin.do("POST", "/api/v1/records/flow_definitions", body, nil).want(201).json()["id"].(string)
}

// publish publishes a definition and returns the version published.
func (f *flowEnv) publish(id string) float64 {
	f.t.Helper()
	res := f.admin.do("POST", "/api/v1/flow-definitions/"+id+"/publish", nil, nil).want(200).json()
	if res["status"] != "published" {
		f.t.Fatalf("publish: %v", res)
	}
	return res["published_version"].(float64)
}

// offer creates an offer as a user and returns its id.
func (f *flowEnv) offer(login string, fields map[string]any) string {
	f.t.Helper()
	return f.c(login).do("POST", "/api/v1/records/offers", fields, nil).want(201).json()["id"].(string)
}

func (f *flowEnv) submit(login, offer string) *response {
	f.t.Helper()
	return f.c(login).do("POST", "/api/v1/records/offers/"+offer+"/submit", nil, nil)
}

// inbox lists a box of a user's approvals.
func (f *flowEnv) inbox(login, box string) []map[string]any {
	f.t.Helper()
	return f.c(login).do("GET", "/api/v1/approvals?box="+box, nil, nil).want(200).items()
}

// task returns the id of the user's pending task on an offer, failing
// when there is none.
func (f *flowEnv) task(login, offer string) string {
	f.t.Helper()
	for _, it := range f.inbox(login, "pending") {
		if it["record_id"] == offer && it["entity"] == "offers" {
			return it["id"].(string)
		}
	}
	f.t.Fatalf("%s has no pending task on offer %s", login, offer)
	return ""
}

// noTask fails when the user has a pending task on the offer.
func (f *flowEnv) noTask(login, offer string) {
	f.t.Helper()
	for _, it := range f.inbox(login, "pending") {
		if it["record_id"] == offer {
			f.t.Fatalf("%s unexpectedly has a pending task on offer %s: %v", login, offer, it)
		}
	}
}

// pendingOn lists the logins with a pending task on the offer.
func (f *flowEnv) pendingOn(offer string) []string {
	f.t.Helper()
	inst := f.instance(offer)
	var out []string
	for _, t := range inst["tasks"].([]any) {
		tm := t.(map[string]any)
		if tm["status"] == "pending" {
			out = append(out, f.login(tm["assignee"].(string)))
		}
	}
	return out
}

func (f *flowEnv) login(id string) string {
	for l, u := range f.users {
		if u == id {
			return l
		}
	}
	return "#" + id
}

// act performs an action on a task as a user.
func (f *flowEnv) act(login, task, action string, body map[string]any) *response {
	f.t.Helper()
	var b any
	if body != nil {
		b = body
	}
	return f.c(login).do("POST", "/api/v1/approvals/"+task+"/"+action, b, nil)
}

// approve approves the user's pending task on the offer.
func (f *flowEnv) approve(login, offer string) {
	f.t.Helper()
	f.act(login, f.task(login, offer), "approve", map[string]any{"comment": "同意"}).want(200)
}

// instance is the offer's newest flow instance, as the administrator sees it.
func (f *flowEnv) instance(offer string) map[string]any {
	f.t.Helper()
	items := f.admin.do("GET", "/api/v1/records/offers/"+offer+"/approvals", nil, nil).want(200).items()
	if len(items) == 0 {
		f.t.Fatalf("offer %s has no flow instance", offer)
	}
	return items[0]
}

func (f *flowEnv) status(offer string) string {
	f.t.Helper()
	return f.instance(offer)["status"].(string)
}

// wantPending checks exactly who may act on the offer now.
func (f *flowEnv) wantPending(offer string, logins ...string) {
	f.t.Helper()
	got := f.pendingOn(offer)
	if strings.Join(got, ",") != strings.Join(logins, ",") {
		f.t.Fatalf("pending on offer %s: %v, want %v", offer, got, logins)
	}
}

// stepKinds lists the kinds of the instance's timeline.
func stepKinds(inst map[string]any) []string {
	var out []string
	for _, s := range inst["steps"].([]any) {
		out = append(out, s.(map[string]any)["kind"].(string))
	}
	return out
}

// problemCodes lists the codes of a 422's field errors.
func problemCodes(r *response) []string {
	var out []string
	if errs, ok := r.json()["errors"].([]any); ok {
		for _, e := range errs {
			out = append(out, e.(map[string]any)["code"].(string))
		}
	}
	return out
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("id %q: %v", s, err)
	}
	return id
}

// notified reports whether the user's inbox has a notification of the
// kind about the record.
func (f *flowEnv) notified(login, kind, record string) bool {
	f.t.Helper()
	for _, n := range f.c(login).do("GET", "/api/v1/notifications?limit=100", nil, nil).want(200).items() {
		if n["kind"] == kind && n["record_id"] == record {
			return true
		}
	}
	return false
}
