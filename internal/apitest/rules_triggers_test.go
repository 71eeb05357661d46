package apitest

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/app"
)

// TestRulesSchedule: a scheduled rule's scan runs the actions on the
// records matching the condition when its cron fires, at most its limit
// per run; its schedule follows the rule (disabled, deleted).
func TestRulesSchedule(t *testing.T) {
	re := newRulesEnv(t)
	id := re.rule(map[string]any{"trigger": map[string]any{"type": "schedule", "cron": "0 8 * * *", "limit": 2},
		"condition": `status == "new" && amount > 1000`,
		"actions":   []any{map[string]any{"type": "set_fields", "values": map[string]any{"status": "qualified"}}}})
	var match []string
	for i := range 3 {
		match = append(match, re.deal("admin", map[string]any{"name": "m" + strconv.Itoa(i), "amount": "5000"})["id"].(string))
	}
	small := re.deal("admin", map[string]any{"name": "small", "amount": "10"})["id"].(string)
	schedules := func() map[string]bool {
		out := map[string]bool{}
		for _, s := range re.admin.do("GET", "/api/v1/jobs/schedules", nil, nil).want(200).items() {
			out[s["name"].(string)] = s["enabled"].(bool)
		}
		return out
	}
	if !schedules()["rules.rule."+id] {
		t.Fatalf("no schedule for the rule: %v", schedules())
	}
	re.work() // 09:00: not due
	if len(re.runs(id)) != 0 {
		t.Fatal("the scan ran before its time")
	}
	re.clock.Set(time.Date(2026, 11, 21, 8, 0, 30, 0, shanghai))
	re.work()
	status := func() (q int) {
		for _, d := range match {
			if re.get("rl_deals", d)["status"] == "qualified" {
				q++
			}
		}
		return q
	}
	if q := status(); q != 2 {
		t.Fatalf("%d deals qualified on the first run, want the limit 2", q)
	}
	var scan map[string]any
	for _, r := range re.runs(id) {
		if r["record_id"] == nil {
			scan = r
		}
	}
	detail := scan["actions"].([]any)[0].(map[string]any)["detail"].(map[string]any)
	if scan["outcome"] != "matched" || detail["matched"] != float64(2) || detail["capped"] != true || detail["queued"] != float64(2) {
		t.Fatalf("scan summary: %v", scan)
	}
	re.clock.Set(time.Date(2026, 11, 22, 8, 0, 30, 0, shanghai))
	re.work()
	if q := status(); q != 3 || re.get("rl_deals", small)["status"] != "new" {
		t.Fatalf("second run: %d qualified, small %v", q, re.get("rl_deals", small)["status"])
	}
	// Disabled: no schedule; enabled again: back; deleted: gone.
	re.patch("rules", id, map[string]any{"enabled": false})
	if _, ok := schedules()["rules.rule."+id]; ok {
		t.Fatal("a disabled rule keeps its schedule")
	}
	re.patch("rules", id, map[string]any{"enabled": true})
	if !schedules()["rules.rule."+id] {
		t.Fatal("an enabled rule has no schedule")
	}
	re.admin.do("DELETE", "/api/v1/records/rules/"+id, nil, nil).want(204)
	if _, ok := schedules()["rules.rule."+id]; ok {
		t.Fatal("a deleted rule keeps its schedule")
	}
}

// TestRulesDateTrigger: "30 days before the end date" runs once per record
// on the day it falls on, however often the hourly scan looks.
func TestRulesDateTrigger(t *testing.T) {
	re := newRulesEnv(t)
	id := re.rule(map[string]any{"name": "续约提醒", "trigger": map[string]any{"type": "date", "field": "end_date", "offset_days": -30},
		"actions": []any{map[string]any{"type": "create_task", "title": "续约 {{name}}", "assignee": "owner"}}})
	today := re.deal("admin", map[string]any{"name": "今天", "end_date": "2026-12-20", "owner": re.users["rep.east"]})
	tomorrow := re.deal("admin", map[string]any{"name": "明天", "end_date": "2026-12-21", "owner": re.users["rep.east"]})
	re.deal("admin", map[string]any{"name": "以后", "end_date": "2027-01-01"})
	titles := func() []string {
		var out []string
		for _, tk := range re.admin.do("GET", "/api/v1/records/tasks?sort=id", nil, nil).want(200).items() {
			out = append(out, tk["title"].(string))
		}
		return out
	}
	re.clock.Set(time.Date(2026, 11, 20, 10, 0, 30, 0, shanghai)) // the hourly scan is due
	re.work()
	wantOutcomes(t, titles(), "续约 今天")
	re.clock.Add(time.Hour)
	re.work()
	wantOutcomes(t, titles(), "续约 今天") // once per record and date
	re.clock.Set(time.Date(2026, 11, 21, 0, 0, 30, 0, shanghai))
	re.work()
	wantOutcomes(t, titles(), "续约 今天", "续约 明天")
	n := 0
	for _, r := range re.runs(id, "limit=100") {
		if rec, ok := r["record_id"].(string); ok {
			if rec != today["id"] && rec != tomorrow["id"] {
				t.Fatalf("ran on %s", rec)
			}
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d record runs, want 2", n)
	}
}

// TestRulesInboundWebhook: a public endpoint per rule with a secret token;
// wrong tokens and unknown rules get the same 404; the payload reaches the
// condition and the mapping; the record is found by a field; calls are
// rate-limited; the token can be rotated.
func TestRulesInboundWebhook(t *testing.T) {
	re := newRulesEnv(t)
	id := re.rule(map[string]any{"trigger": map[string]any{"type": "webhook", "match_field": "code", "match_key": "order_no"},
		"condition": `payload.status == "shipped"`,
		"actions": []any{map[string]any{"type": "set_fields", "expressions": map[string]any{"note": `"发货 " + payload.tracking`}},
			map[string]any{"type": "create_record", "entity": "rl_orders", "expressions": map[string]any{"title": `"发货单 " + payload.tracking`,
				"amount": "payload.amount", "deal": "id"}}}})
	rule := re.get("rules", id)
	token := rule["hook_token"].(string)
	if len(token) < 24 {
		t.Fatalf("token %q", token)
	}
	d := re.deal("admin", map[string]any{"name": "出货", "code": "SO-1"})
	anon := re.anon()
	hook := func(rid, tok, body string) *response {
		return anon.do("POST", "/api/v1/rules/"+rid+"/hook", body, map[string]string{"X-Tenon-Token": tok})
	}
	flipped := "x"
	if token[0] == 'x' {
		flipped = "y"
	}
	wrong := hook(id, flipped+token[1:], `{"order_no":"SO-1"}`).want(404).body
	missing := hook("987654", token, `{"order_no":"SO-1"}`).want(404).body
	none := hook(id, "", `{"order_no":"SO-1"}`).want(404).body
	if string(wrong) != string(missing) || string(wrong) != string(none) {
		t.Fatalf("refusals differ: %s / %s / %s", wrong, missing, none)
	}
	hook(id, token, `[1,2]`).want(400)
	res := hook(id, token, `{"order_no":"SO-1","status":"shipped","tracking":"SF123","amount":"88.50"}`).want(202).json()
	if res["accepted"] != true || res["record"] != d["id"] {
		t.Fatalf("accepted: %v", res)
	}
	hook(id, token, `{"order_no":"SO-1","status":"pending"}`).want(202)
	hook(id, token, `{"order_no":"SO-404","status":"shipped"}`).want(202)
	re.work()
	if n := re.get("rl_deals", d["id"].(string))["note"]; n != "发货 SF123" {
		t.Fatalf("note %v", n)
	}
	orders := re.admin.do("GET", "/api/v1/records/rl_orders", nil, nil).want(200).items()
	if len(orders) != 1 || orders[0]["amount"] != "88.50" || orders[0]["deal"] != d["id"] {
		t.Fatalf("orders %v", orders)
	}
	wantOutcomes(t, re.outcomes(id), "matched", "skipped", "skipped")

	// Rate limit: 60 calls a minute per rule, refused calls included.
	throttled := false
	for range 60 {
		if st := hook(id, token, `{"order_no":"SO-1","status":"pending"}`).status; st == 429 {
			throttled = true
			break
		}
	}
	if !throttled {
		t.Fatal("no 429 after 60 calls in a minute")
	}
	re.clock.Add(time.Minute)
	hook(id, token, `{"order_no":"SO-1","status":"pending"}`).want(202)

	// A rotated token replaces the old one.
	rotated := re.admin.do("POST", "/api/v1/records/rules/"+id+"/actions/rotate_token", nil, nil).want(200).json()
	hook(id, token, `{}`).want(404)
	hook(id, rotated["hook_token"].(string), `{"order_no":"SO-1"}`).want(202)
	// A disabled rule answers like an unknown one.
	re.patch("rules", id, map[string]any{"enabled": false})
	if b := hook(id, rotated["hook_token"].(string), `{"order_no":"SO-1"}`).want(404).body; string(b) != string(missing) {
		t.Fatalf("disabled: %s", b)
	}
}

// TestRulesOutboundWebhookRetries: a failing target is retried with
// back-off until it answers; a final refusal fails the run in the log.
func TestRulesOutboundWebhookRetries(t *testing.T) {
	re := newRulesEnv(t)
	flaky := newHookServer(t, 500, 503)
	gone := newHookServer(t, 410)
	re.admin.do("PUT", "/api/v1/settings/outbound", map[string]any{"allow": []string{strings.TrimPrefix(flaky.srv.URL, "http://"),
		strings.TrimPrefix(gone.srv.URL, "http://")}}, nil).want(200)
	call := func(url string) map[string]any {
		return map[string]any{"type": "call_webhook", "url": url, "secret": "0123456789abcdef"}
	}
	ok := re.rule(map[string]any{"trigger": map[string]any{"type": "created"}, "condition": `code == "a"`, "actions": []any{call(flaky.srv.URL)}})
	bad := re.rule(map[string]any{"trigger": map[string]any{"type": "created"}, "condition": `code == "b"`, "actions": []any{call(gone.srv.URL)}})
	re.deal("admin", map[string]any{"name": "a", "code": "a"})
	re.deal("admin", map[string]any{"name": "b", "code": "b"})
	re.work()
	if len(flaky.got()) != 1 || len(gone.got()) != 1 {
		t.Fatalf("first attempts: %d, %d", len(flaky.got()), len(gone.got()))
	}
	for range 2 {
		re.clock.Add(2 * time.Minute)
		re.work()
	}
	calls := flaky.got()
	if len(calls) != 3 || calls[0].header.Get("Tenon-Delivery") != calls[2].header.Get("Tenon-Delivery") {
		t.Fatalf("retries: %d calls", len(calls))
	}
	if len(gone.got()) != 1 {
		t.Fatal("a 410 was retried")
	}
	okRun := re.runs(ok)[0]
	if okRun["outcome"] != "matched" || okRun["actions"].([]any)[0].(map[string]any)["status"] != "delivered" {
		t.Fatalf("delivered run: %v", okRun)
	}
	badRun := re.runs(bad)[0]
	if badRun["outcome"] != "failed" || badRun["error"].(map[string]any)["code"] != "rule_webhook_failed" {
		t.Fatalf("failed run: %v", badRun)
	}
}

// TestRulesSurviveRestart: a run queued by a write is a durable job: the
// process stops before it runs, and the next process runs it.
func TestRulesSurviveRestart(t *testing.T) {
	re := newRulesEnv(t)
	id := re.rule(map[string]any{"trigger": map[string]any{"type": "field_changed", "fields": []string{"amount"}},
		"actions": []any{map[string]any{"type": "set_fields", "values": map[string]any{"priority": "重新评估"}}}})
	d := re.deal("admin", map[string]any{"name": "重启", "amount": "100"})
	re.patch("rl_deals", d["id"].(string), map[string]any{"amount": "200"})
	if n := re.count(`SELECT COUNT(*) FROM jobs WHERE kind = 'rules.run' AND status = 'queued'`); n != 1 {
		t.Fatalf("%d queued runs", n)
	}
	re.stop()

	ctx := context.Background()
	a, err := app.Open(ctx, re.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	re.env = &env{t: t, app: a, srv: httptest.NewServer(a.API.Handler()), cfg: re.cfg, clients: map[string]*client{}}
	t.Cleanup(re.stop)
	re.admin = re.c("admin")
	if n := re.work(); n == 0 {
		t.Fatal("nothing ran after the restart")
	}
	if p := re.get("rl_deals", d["id"].(string))["priority"]; p != "重新评估" {
		t.Fatalf("priority %v after restart", p)
	}
	wantOutcomes(t, re.outcomes(id), "matched")
}
