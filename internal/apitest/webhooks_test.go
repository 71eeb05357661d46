package apitest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/app"
)

// webhooksEnv is a Tenon with the demo organisation, a controllable clock
// and a custom entity wh_deals (name, amount, region, stage, cost) that
// sales reps may work on in their regions, with cost hidden from them.
type webhooksEnv struct {
	*env
	clock *testClock
	admin *client
	users map[string]string
}

func newWebhooksEnv(t testing.TB) *webhooksEnv {
	t.Helper()
	clk := &testClock{t: time.Date(2026, 11, 20, 9, 0, 0, 0, shanghai)}
	we := &webhooksEnv{env: openEnv(t, "tenon_webhooks", clk), clock: clk}
	we.admin = we.c("admin")
	we.users = we.userIDs()
	lbl := func(s string) map[string]string { return map[string]string{"zh-CN": s, "en": s} }
	we.admin.do("POST", "/api/v1/meta/entities", map[string]any{
		"name": "wh_deals", "label": lbl("Deals"), "title_field": "name",
		"fields": []map[string]any{
			{"name": "name", "type": "text", "required": true, "label": lbl("Name")},
			{"name": "amount", "type": "money", "label": lbl("Amount")},
			{"name": "region", "type": "select", "options_from": "regions", "label": lbl("Region")},
			{"name": "stage", "type": "select", "options": []string{"lead", "quote", "won"}, "default": "lead", "label": lbl("Stage")},
			{"name": "cost", "type": "money", "label": lbl("Cost")},
		}}, nil).want(201)
	roles := we.admin.do("GET", `/api/v1/records/roles?filter=name%20==%20"sales_rep"`, nil, nil).want(200).items()
	we.admin.do("PATCH", "/api/v1/records/roles/"+roles[0]["id"].(string), map[string]any{"permissions": []any{
		map[string]any{"entity": "wh_deals", "actions": []string{"read", "create", "update", "delete"}, "scope": "regions",
			"hidden_fields": []string{"cost"}},
	}}, nil).want(200)
	return we
}

// receiver is a webhook target: it keeps every request and answers with
// the next of its statuses (200 when none is left).
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []hookReq
	status []int
}

func newReceiver(t testing.TB, status ...int) *receiver {
	rc := &receiver{status: status}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, hookReq{header: r.Header.Clone(), body: b})
		code := 200
		if len(rc.status) > 0 {
			code, rc.status = rc.status[0], rc.status[1:]
		}
		rc.mu.Unlock()
		w.WriteHeader(code)
		_, _ = io.WriteString(w, `{"internal":"secret-internal-data from `+r.Host+`"}`)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) got() []hookReq {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.reqs)
}

func (rc *receiver) hostPort() string { return strings.TrimPrefix(rc.srv.URL, "http://") }

// allow replaces the outbound allow-list.
func (we *webhooksEnv) allow(entries ...string) {
	we.t.Helper()
	if entries == nil {
		entries = []string{}
	}
	we.admin.do("PUT", "/api/v1/settings/outbound", map[string]any{"allow": entries}, nil).want(200)
}

// webhook creates a subscription as admin (active, on wh_deals, every
// event unless body says otherwise) and returns it.
func (we *webhooksEnv) webhook(body map[string]any) map[string]any {
	we.t.Helper()
	if _, ok := body["entity"]; !ok {
		body["entity"] = "wh_deals"
	}
	if _, ok := body["events"]; !ok {
		body["events"] = []string{"created", "updated", "deleted", "restored", "stage_changed"}
	}
	return we.admin.do("POST", "/api/v1/records/webhooks", body, nil).want(201).json()
}

// deliveries lists the deliveries of a webhook, oldest first.
func (we *webhooksEnv) deliveries(hook string) []map[string]any {
	we.t.Helper()
	return we.admin.do("GET", "/api/v1/records/webhook_deliveries?sort=id&per_page=500&filter="+
		urlQuery(`webhook == "`+hook+`"`), nil, nil).want(200).items()
}

// delivery reads one delivery as admin.
func (we *webhooksEnv) delivery(id string) map[string]any {
	we.t.Helper()
	return we.admin.do("GET", "/api/v1/records/webhook_deliveries/"+id, nil, nil).want(200).json()
}

// work runs every due job by the clock.
func (we *webhooksEnv) work() int {
	we.t.Helper()
	n, err := we.app.Jobs.RunDue(context.Background())
	if err != nil {
		we.t.Fatal(err)
	}
	return n
}

func (we *webhooksEnv) deal(login string, fields map[string]any) map[string]any {
	we.t.Helper()
	return we.c(login).do("POST", "/api/v1/records/wh_deals", fields, nil).want(201).json()
}

func (we *webhooksEnv) patchDeal(login, id string, fields map[string]any) {
	we.t.Helper()
	we.c(login).do("PATCH", "/api/v1/records/wh_deals/"+id, fields, nil).want(200)
}

func urlQuery(s string) string {
	r := strings.NewReplacer(" ", "%20", `"`, "%22", "=", "%3D", "&", "%26")
	return r.Replace(s)
}

// signatureOK checks a request's Tenon-Signature as a receiver does:
// t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>.
func signatureOK(r hookReq, secret string) bool {
	sig := r.header.Get("Tenon-Signature")
	ts, v1, ok := strings.Cut(strings.TrimPrefix(sig, "t="), ",v1=")
	if !strings.HasPrefix(sig, "t=") || !ok {
		return false
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(r.body)))
	return hmac.Equal([]byte(v1), []byte(hex.EncodeToString(mac.Sum(nil))))
}

// verify checks a request's signature and headers and returns its body.
func verify(t testing.TB, r hookReq, secret string) map[string]any {
	t.Helper()
	if !signatureOK(r, secret) {
		t.Fatalf("signature %q does not verify", r.header.Get("Tenon-Signature"))
	}
	var body map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	if r.header.Get("Tenon-Delivery") != body["id"] || r.header.Get("Tenon-Event") != body["event"] ||
		r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v for body %v", r.header, body)
	}
	return body
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestWebhooksDeliverSignedEvents: each kind of write becomes a signed
// delivery of its own event, logged as a webhook_deliveries record; the
// receiver verifies the signature; a stage change is also stage_changed;
// the secret is generated; inactive subscriptions and the engine's own
// entities send nothing; only administrators manage webhooks.
func TestWebhooksDeliverSignedEvents(t *testing.T) {
	we := newWebhooksEnv(t)
	rc := newReceiver(t)
	we.allow(rc.hostPort())
	hook := we.webhook(map[string]any{"url": rc.srv.URL + "/tenon", "description": "ERP"})
	secret := hook["secret"].(string)
	if len(secret) < 40 || !strings.HasPrefix(secret, "whsec_") || hook["active"] != true || hook["owner"] != we.users["admin"] {
		t.Fatalf("webhook: %v", hook)
	}
	other := we.webhook(map[string]any{"url": rc.srv.URL + "/other", "active": false})
	id := hook["id"].(string)

	d := we.deal("admin", map[string]any{"name": "五轴加工中心", "amount": "200000", "region": "华东", "cost": "150000",
		"owner": we.users["rep.east"]})
	ds := we.deliveries(id)
	if len(ds) != 1 || ds[0]["status"] != "pending" || ds[0]["event"] != "created" || ds[0]["record_id"] != d["id"] ||
		ds[0]["entity"] != "wh_deals" || ds[0]["attempts"] != float64(0) {
		t.Fatalf("pending delivery: %v", ds)
	}
	if len(rc.got()) != 0 {
		t.Fatal("sent inside the write")
	}
	we.work()
	reqs := rc.got()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	body := verify(t, reqs[0], secret)
	if fmt.Sprint(keys(body)) != "[changes entity event id occurred_at record]" || body["id"] != ds[0]["id"] ||
		body["event"] != "created" || body["entity"] != "wh_deals" || body["occurred_at"] != "2026-11-20T09:00:00+08:00" {
		t.Fatalf("body: %v", body)
	}
	rec := body["record"].(map[string]any)
	if rec["id"] != d["id"] || rec["name"] != "五轴加工中心" || rec["amount"] != "200000.00" || rec["cost"] != "150000.00" ||
		rec["owner"] != we.users["rep.east"] || len(body["changes"].(map[string]any)) != 0 {
		t.Fatalf("record: %v", body)
	}
	if reqs[0].header.Get("Tenon-Webhook") != id || reqs[0].header.Get("User-Agent") != "Tenon-Webhooks/1" {
		t.Fatalf("headers: %v", reqs[0].header)
	}
	got := we.delivery(ds[0]["id"].(string))
	if got["status"] != "succeeded" || got["attempts"] != float64(1) || got["last_status"] != float64(200) ||
		got["delivered_at"] == nil || got["next_attempt_at"] != nil || got["last_error"] != nil {
		t.Fatalf("delivered: %v", got)
	}

	// An update of the stage is updated and stage_changed, with the changes.
	we.clock.Add(time.Minute)
	we.patchDeal("rep.east", d["id"].(string), map[string]any{"stage": "quote", "amount": "210000"})
	we.patchDeal("rep.east", d["id"].(string), map[string]any{"name": "五轴加工中心（改）"})
	we.c("rep.east").do("DELETE", "/api/v1/records/wh_deals/"+d["id"].(string), nil, nil).want(204)
	we.c("rep.east").do("POST", "/api/v1/records/wh_deals/"+d["id"].(string)+"/restore", nil, nil).want(200)
	we.work()
	var events []string
	for _, r := range rc.got()[1:] {
		b := verify(t, r, secret)
		events = append(events, b["event"].(string))
		switch b["event"] {
		case "stage_changed", "updated":
			ch := b["changes"].(map[string]any)
			if b["record"].(map[string]any)["name"] == "五轴加工中心" {
				if fmt.Sprint(keys(ch)) != "[amount stage]" || ch["stage"].(map[string]any)["old"] != "lead" ||
					ch["stage"].(map[string]any)["new"] != "quote" || ch["amount"].(map[string]any)["new"] != "210000.00" {
					t.Fatalf("changes: %v", ch)
				}
			} else if fmt.Sprint(keys(ch)) != "[name]" || b["event"] != "updated" {
				t.Fatalf("rename: %v", b)
			}
		case "deleted":
			if b["record"].(map[string]any)["deleted_at"] == nil {
				t.Fatalf("deleted: %v", b)
			}
		}
	}
	if fmt.Sprint(events) != "[updated stage_changed updated deleted restored]" {
		t.Fatalf("events %v", events)
	}
	for _, dl := range we.deliveries(id) {
		if dl["status"] != "succeeded" {
			t.Fatalf("delivery %v", dl)
		}
	}
	if n := len(we.deliveries(other["id"].(string))); n != 0 {
		t.Fatalf("an inactive webhook got %d deliveries", n)
	}

	// A subscription to updates only; the engine's own entities cannot be
	// subscribed to; reps manage no webhooks and see no deliveries.
	only := we.webhook(map[string]any{"url": rc.srv.URL + "/u", "events": []string{"stage_changed"}})
	we.patchDeal("admin", d["id"].(string), map[string]any{"amount": "1"})
	we.patchDeal("admin", d["id"].(string), map[string]any{"stage": "won"})
	if ds := we.deliveries(only["id"].(string)); len(ds) != 1 || ds[0]["event"] != "stage_changed" {
		t.Fatalf("stage_changed only: %v", ds)
	}
	for _, ent := range []string{"webhooks", "webhook_deliveries", "no_such_entity"} {
		res := we.admin.do("POST", "/api/v1/records/webhooks", map[string]any{"url": rc.srv.URL, "entity": ent,
			"events": []string{"created"}}, nil).want(422)
		if c := problemCodes(res); fmt.Sprint(c) != "[webhook_entity_unknown]" {
			t.Fatalf("%s: %v", ent, c)
		}
	}
	res := we.admin.do("POST", "/api/v1/records/webhooks", map[string]any{"url": rc.srv.URL, "entity": "wh_deals",
		"events": []string{"created"}, "secret": "too-short"}, nil).want(422)
	if c := problemCodes(res); fmt.Sprint(c) != "[webhook_secret_short]" {
		t.Fatalf("short secret: %v", c)
	}
	we.c("rep.east").do("GET", "/api/v1/records/webhooks", nil, nil).want(403)
	we.c("rep.east").do("GET", "/api/v1/records/webhook_deliveries", nil, nil).want(403)
	we.c("rep.east").do("POST", "/api/v1/records/webhooks", map[string]any{"url": rc.srv.URL, "entity": "wh_deals",
		"events": []string{"created"}}, nil).want(403)
	// Rotating the secret: clearing it generates a new one.
	rotated := we.admin.do("PATCH", "/api/v1/records/webhooks/"+id, map[string]any{"secret": ""}, nil).want(200).json()
	if s, _ := rotated["secret"].(string); len(s) < 40 || s == secret {
		t.Fatalf("rotated secret %q", s)
	}
}

// TestWebhooksOwnerRights: a subscription sends what its owner may see:
// nothing for records outside the owner's data scope, never a field hidden
// from the owner (in the record or the changes), no update event when
// only hidden fields changed, nothing once the owner is inactive. An owner
// who cannot read the entity is refused when the webhook is saved.
func TestWebhooksOwnerRights(t *testing.T) {
	we := newWebhooksEnv(t)
	rc := newReceiver(t)
	we.allow(rc.hostPort())
	repHook := we.webhook(map[string]any{"url": rc.srv.URL + "/rep", "owner": we.users["rep.east"]})
	adminHook := we.webhook(map[string]any{"url": rc.srv.URL + "/admin"})
	res := we.admin.do("POST", "/api/v1/records/webhooks", map[string]any{"url": rc.srv.URL, "entity": "wh_deals",
		"events": []string{"created"}, "owner": we.users["prod.lead"]}, nil).want(422)
	if c := problemCodes(res); fmt.Sprint(c) != "[webhook_owner_cannot_read]" {
		t.Fatalf("owner without read: %v", c)
	}

	east := we.deal("admin", map[string]any{"name": "华东单", "amount": "100", "region": "华东", "cost": "60"})
	south := we.deal("admin", map[string]any{"name": "华南单", "amount": "100", "region": "华南", "cost": "60"})
	we.patchDeal("admin", east["id"].(string), map[string]any{"cost": "70"})                  // hidden from the rep only
	we.patchDeal("admin", east["id"].(string), map[string]any{"cost": "80", "amount": "120"}) // both
	we.patchDeal("admin", south["id"].(string), map[string]any{"amount": "130"})
	we.work()

	byPath := map[string][]map[string]any{}
	for _, r := range rc.got() {
		var b map[string]any
		if err := json.Unmarshal(r.body, &b); err != nil {
			t.Fatal(err)
		}
		secret := repHook["secret"].(string)
		path := "rep"
		if r.header.Get("Tenon-Webhook") == adminHook["id"] {
			secret, path = adminHook["secret"].(string), "admin"
		}
		verify(t, r, secret)
		byPath[path] = append(byPath[path], b)
	}
	if n := len(byPath["admin"]); n != 5 {
		t.Fatalf("the admin's webhook got %d deliveries, want 5", n)
	}
	rep := byPath["rep"]
	if len(rep) != 2 || rep[0]["event"] != "created" || rep[1]["event"] != "updated" {
		t.Fatalf("the rep's webhook got %v", rep)
	}
	for _, b := range rep {
		recd := b["record"].(map[string]any)
		if recd["id"] != east["id"] {
			t.Fatalf("a record outside the owner's scope was sent: %v", b)
		}
		if _, leaked := recd["cost"]; leaked {
			t.Fatalf("a hidden field was sent: %v", recd)
		}
		if strings.Contains(fmt.Sprint(b), "60") || strings.Contains(fmt.Sprint(b["changes"]), "cost") {
			t.Fatalf("a hidden value was sent: %v", b)
		}
	}
	if ch := rep[1]["changes"].(map[string]any); fmt.Sprint(keys(ch)) != "[amount]" {
		t.Fatalf("changes %v", ch)
	}
	if n := len(we.deliveries(repHook["id"].(string))); n != 2 {
		t.Fatalf("%d deliveries logged for the rep's webhook", n)
	}

	// The owner's rights are those of now: another region becomes visible.
	we.admin.do("PATCH", "/api/v1/records/users/"+we.users["rep.east"], map[string]any{"regions": []string{"华东", "华南"}}, nil).want(200)
	we.clock.Add(time.Minute)
	we.patchDeal("admin", south["id"].(string), map[string]any{"amount": "140"})
	if ds := we.deliveries(repHook["id"].(string)); len(ds) != 3 || ds[2]["record_id"] != south["id"] {
		t.Fatalf("after widening the owner's regions: %v", ds)
	}
	// An inactive owner's subscriptions send nothing.
	we.admin.do("PATCH", "/api/v1/records/users/"+we.users["rep.east"], map[string]any{"active": false}, nil).want(200)
	we.patchDeal("admin", east["id"].(string), map[string]any{"amount": "150"})
	if ds := we.deliveries(repHook["id"].(string)); len(ds) != 3 {
		t.Fatalf("an inactive owner's webhook: %v", ds)
	}
}

// TestWebhooksRetryOverRestart: a failed delivery is retried with
// back-off; Tenon stops and starts again on the same database, and the
// delivery goes out with the same id; one that keeps failing is retried
// for 24 hours and then dead.
func TestWebhooksRetryOverRestart(t *testing.T) {
	we := newWebhooksEnv(t)
	flaky := newReceiver(t, 503)
	down := newReceiver(t, slices.Repeat([]int{500}, 100)...)
	we.allow(flaky.hostPort(), down.hostPort())
	hook := we.webhook(map[string]any{"url": flaky.srv.URL, "events": []string{"created"}})
	dead := we.webhook(map[string]any{"url": down.srv.URL, "events": []string{"updated"}})
	d := we.deal("admin", map[string]any{"name": "重启", "region": "华东"})
	start := we.clock.Now()
	we.work()
	ds := we.deliveries(hook["id"].(string))
	if len(ds) != 1 || ds[0]["status"] != "failed" || ds[0]["attempts"] != float64(1) || ds[0]["last_status"] != float64(503) ||
		ds[0]["last_error"] != "HTTP 503" || ds[0]["next_attempt_at"] == nil {
		t.Fatalf("after a 503: %v", ds)
	}
	next, _ := time.Parse(time.RFC3339, ds[0]["next_attempt_at"].(string))
	if wait := next.Sub(start); wait < 20*time.Second || wait > 30*time.Second {
		t.Fatalf("first back-off %v", wait)
	}
	deliveryID := ds[0]["id"].(string)

	// Restart on the same database.
	we.stop()
	ctx := context.Background()
	a, err := app.Open(ctx, we.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	we.env = &env{t: t, app: a, srv: httptest.NewServer(a.API.Handler()), cfg: we.cfg, clients: map[string]*client{}}
	t.Cleanup(we.stop)
	we.admin = we.c("admin")
	if n := we.work(); n != 0 {
		t.Fatalf("%d jobs ran before their time", n)
	}
	we.clock.Add(30 * time.Second)
	if n := we.work(); n != 1 {
		t.Fatalf("%d jobs ran after the back-off", n)
	}
	reqs := flaky.got()
	if len(reqs) != 2 || reqs[0].header.Get("Tenon-Delivery") != deliveryID || reqs[1].header.Get("Tenon-Delivery") != deliveryID ||
		!bytes.Equal(reqs[0].body, reqs[1].body) {
		t.Fatalf("the retry after the restart: %d requests", len(reqs))
	}
	verify(t, reqs[1], hook["secret"].(string))
	got := we.delivery(deliveryID)
	if got["status"] != "succeeded" || got["attempts"] != float64(2) || got["last_status"] != float64(200) || got["last_error"] != nil {
		t.Fatalf("after the retry: %v", got)
	}

	// 24 hours of failures, then dead.
	we.patchDeal("admin", d["id"].(string), map[string]any{"amount": "5"})
	event := we.clock.Now()
	for range 40 {
		we.work()
		we.clock.Add(time.Hour)
	}
	dd := we.deliveries(dead["id"].(string))
	if len(dd) != 1 || dd[0]["status"] != "dead" || dd[0]["next_attempt_at"] != nil || dd[0]["last_error"] != "HTTP 500" {
		t.Fatalf("after 24 h: %v", dd)
	}
	calls := down.got()
	n := len(calls)
	if n < 10 || n > 30 || dd[0]["attempts"] != float64(n) {
		t.Fatalf("%d calls, %v attempts", n, dd[0]["attempts"])
	}
	last, _ := time.Parse(time.RFC3339, dd[0]["updated_at"].(string))
	if span := last.Sub(event); span < 24*time.Hour || span > 25*time.Hour {
		t.Fatalf("retried for %v", span)
	}
	for _, c := range calls {
		if c.header.Get("Tenon-Delivery") != dd[0]["id"] {
			t.Fatal("a retry changed the delivery id")
		}
	}
	we.clock.Add(48 * time.Hour)
	we.work()
	if len(down.got()) != n {
		t.Fatal("a dead delivery was retried")
	}
}

// TestWebhooksReplayAndTest: replay sends the same payload with the same
// id again (and retries it again); the delivery log cannot be edited; the
// test button sends a signed ping and answers only ok, or not ok with a
// generic reason, never what the target said.
func TestWebhooksReplayAndTest(t *testing.T) {
	we := newWebhooksEnv(t)
	rc := newReceiver(t)
	bad := newReceiver(t, slices.Repeat([]int{500}, 10)...)
	we.allow(rc.hostPort(), bad.hostPort())
	hook := we.webhook(map[string]any{"url": rc.srv.URL, "events": []string{"created"}})
	we.deal("admin", map[string]any{"name": "重放"})
	we.work()
	ds := we.deliveries(hook["id"].(string))
	did := ds[0]["id"].(string)
	we.clock.Add(time.Hour)
	replayed := we.admin.do("POST", "/api/v1/records/webhook_deliveries/"+did+"/actions/replay", nil, nil).want(200).json()
	if replayed["id"] != did || replayed["status"] != "pending" {
		t.Fatalf("replay: %v", replayed)
	}
	we.work()
	reqs := rc.got()
	if len(reqs) != 2 || !bytes.Equal(reqs[0].body, reqs[1].body) || reqs[1].header.Get("Tenon-Delivery") != did {
		t.Fatalf("replayed request: %d", len(reqs))
	}
	verify(t, reqs[1], hook["secret"].(string))
	if reqs[0].header.Get("Tenon-Signature") == reqs[1].header.Get("Tenon-Signature") {
		t.Fatal("the replay was not signed at its own time")
	}
	if got := we.delivery(did); got["status"] != "succeeded" || got["attempts"] != float64(2) {
		t.Fatalf("after the replay: %v", got)
	}
	if n := len(we.deliveries(hook["id"].(string))); n != 1 {
		t.Fatalf("the replay made %d deliveries", n)
	}
	// The log is written by the engine only; reps may not replay.
	for _, r := range []*response{
		we.admin.do("PATCH", "/api/v1/records/webhook_deliveries/"+did, map[string]any{"status": "dead"}, nil),
		we.admin.do("POST", "/api/v1/records/webhook_deliveries", map[string]any{"webhook": hook["id"], "event": "created",
			"entity": "wh_deals", "status": "pending"}, nil),
	} {
		if r.want(403).json()["code"] != "webhook_delivery_readonly" {
			t.Fatalf("edit: %s", r.body)
		}
	}
	we.c("rep.east").do("POST", "/api/v1/records/webhook_deliveries/"+did+"/actions/replay", nil, nil).want(403)
	we.admin.do("POST", "/api/v1/records/webhook_deliveries/999999/actions/replay", nil, nil).want(404)

	// Replaying a failed delivery sends it now instead of at its next attempt.
	failing := we.webhook(map[string]any{"url": bad.srv.URL, "events": []string{"created"}})
	we.deal("admin", map[string]any{"name": "失败"})
	we.work()
	fd := we.deliveries(failing["id"].(string))[0]
	if fd["status"] != "failed" {
		t.Fatalf("failing: %v", fd)
	}
	we.admin.do("POST", "/api/v1/records/webhook_deliveries/"+fd["id"].(string)+"/actions/replay", nil, nil).want(200)
	if n := we.work(); n != 1 || len(bad.got()) != 2 {
		t.Fatalf("replay of a failed delivery: %d jobs, %d calls", n, len(bad.got()))
	}
	we.clock.Add(10 * time.Minute) // the cancelled retry never runs; the replay's own retry does
	we.work()
	if got := we.delivery(fd["id"].(string)); got["attempts"] != float64(len(bad.got())) || len(bad.got()) != 3 {
		t.Fatalf("after the replay's retry: %v, %d calls", got, len(bad.got()))
	}

	// The test button.
	test := func(hookID string) map[string]any {
		return we.admin.do("POST", "/api/v1/records/webhooks/"+hookID+"/actions/test", nil, nil).want(200).json()
	}
	if res := test(hook["id"].(string)); fmt.Sprint(res) != "map[ok:true]" {
		t.Fatalf("test: %v", res)
	}
	ping := rc.got()[len(rc.got())-1]
	b := verify(t, ping, hook["secret"].(string))
	if b["event"] != "ping" || !strings.HasPrefix(b["id"].(string), "ping_") || b["record"] != nil || b["entity"] != "wh_deals" {
		t.Fatalf("ping: %v", b)
	}
	res := we.admin.do("POST", "/api/v1/records/webhooks/"+failing["id"].(string)+"/actions/test", nil, nil).want(200)
	if j := res.json(); j["ok"] != false || j["reason"] != "rejected" || strings.Contains(string(res.body), "secret-internal-data") ||
		strings.Contains(string(res.body), "500") {
		t.Fatalf("a refused test: %s", res.body)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	we.allow(rc.hostPort(), bad.hostPort(), strings.TrimPrefix(closedURL, "http://"))
	gone := we.webhook(map[string]any{"url": closedURL, "events": []string{"created"}, "active": false})
	if j := test(gone["id"].(string)); j["ok"] != false || j["reason"] != "unreachable" {
		t.Fatalf("an unreachable test: %v", j)
	}
	we.allow(bad.hostPort())
	if j := test(hook["id"].(string)); j["ok"] != false || j["reason"] != "refused" || j["message"] == "" {
		t.Fatalf("a refused target: %v", j)
	}
	we.c("rep.east").do("POST", "/api/v1/records/webhooks/"+hook["id"].(string)+"/actions/test", nil, nil).want(403)
	we.admin.do("POST", "/api/v1/records/webhooks/999999/actions/test", nil, nil).want(404)
}
