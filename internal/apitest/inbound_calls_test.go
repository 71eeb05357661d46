package apitest

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/signature"
)

// orderEndpoint is an ERP endpoint writing ib_orders by order_no.
func (ie *inboundEnv) orderEndpoint(extra map[string]any) (string, string) {
	ie.t.Helper()
	body := map[string]any{"name": "ERP orders", "source": "erp", "entity": "ib_orders", "external_id_path": "order_no",
		"mappings": []map[string]any{
			{"field": "title", "expression": `item.title ?? ("订单 " + item.order_no)`},
			{"field": "order_no", "expression": "item.order_no"},
			{"field": "qty_done", "expression": "item.qty_done"},
			{"field": "status", "expression": `item.status == "FIN" ? "完工" : "生产中"`},
		}}
	for k, v := range extra {
		body[k] = v
	}
	return ie.endpoint(body)
}

// TestInboundSignature: a signed call lands; a wrong secret, a stale or
// future timestamp, a replay, a malformed header, an inactive and an
// unknown endpoint all get the same 401, and the call log tells an
// administrator which was which.
func TestInboundSignature(t *testing.T) {
	ie := newInboundEnv(t)
	id, secret := ie.orderEndpoint(nil)
	if len(secret) < 43 {
		t.Fatalf("generated secret %q", secret)
	}
	body := `{"order_no":"SO-1","qty_done":5,"status":"RUN"}`
	res := ie.push(id, secret, body).want(200).json()
	items := res["items"].([]any)
	if res["created"] != 1.0 || res["updated"] != 0.0 || len(items) != 1 {
		t.Fatalf("result %v", res)
	}
	item := items[0].(map[string]any)
	if item["external_id"] != "SO-1" || item["created"] != true {
		t.Fatalf("item %v", item)
	}
	order := ie.get("ib_orders", item["id"].(string))
	if order["title"] != "订单 SO-1" || order["qty_done"] != 5.0 || order["status"] != "生产中" {
		t.Fatalf("order %v", order)
	}

	var refusals [][]byte
	refused := func(r *response) {
		t.Helper()
		r.want(401)
		refusals = append(refusals, r.body)
	}
	// The same request again is a replay.
	refused(ie.push(id, secret, body))
	// A wrong secret, a changed body, a stale or future timestamp.
	refused(ie.push(id, strings.Repeat("x", 43), `{"order_no":"SO-1","qty_done":6}`))
	b2 := `{"order_no":"SO-1","qty_done":7}`
	sig := signature.Sign(secret, ie.clock.Now(), []byte(b2))
	refused(ie.anon().do("POST", "/api/v1/inbound/"+id, `{"order_no":"SO-1","qty_done":70}`, map[string]string{"Tenon-Signature": sig}))
	refused(ie.pushAt(id, secret, b2, ie.clock.Now().Add(-5*time.Minute-time.Second)))
	refused(ie.pushAt(id, secret, b2, ie.clock.Now().Add(5*time.Minute+time.Second)))
	// Malformed and missing headers.
	refused(ie.anon().do("POST", "/api/v1/inbound/"+id, b2, map[string]string{"Tenon-Signature": "v1=abc"}))
	refused(ie.anon().do("POST", "/api/v1/inbound/"+id, b2, nil))
	// An unknown endpoint, and a path that is no id at all.
	refused(ie.push("987654", secret, b2))
	refused(ie.push("x1", secret, b2))
	// An inactive endpoint, even correctly signed.
	ie.admin.do("PATCH", "/api/v1/records/inbound_endpoints/"+id, map[string]any{"active": false}, nil).want(200)
	refused(ie.push(id, secret, b2))
	for i, b := range refusals {
		if !bytes.Equal(b, refusals[0]) {
			t.Errorf("refusal %d differs: %s vs %s", i, b, refusals[0])
		}
	}
	if strings.Contains(string(refusals[0]), "stale") || strings.Contains(string(refusals[0]), "replay") {
		t.Errorf("the refusal reveals its reason: %s", refusals[0])
	}
	if n := ie.count("ib_orders", ""); n != 1 {
		t.Errorf("%d orders after refused calls", n)
	}
	if got := ie.get("ib_orders", item["id"].(string))["qty_done"]; got != 5.0 {
		t.Errorf("qty_done %v after refused calls", got)
	}

	// The call log, newest first: the reasons, never shown to the caller.
	var reasons []string
	for _, c := range ie.calls(id) {
		r := fmt.Sprint(c["status"])
		if e, ok := c["error"].(map[string]any); ok {
			r += " " + fmt.Sprint(e["reason"])
			if e["message"] == "" || e["code"] != "inbound_unauthorized" {
				t.Errorf("error %v", e)
			}
		}
		reasons = append(reasons, r)
	}
	want := []string{"401 inactive", "401 malformed", "401 malformed", "401 stale", "401 stale", "401 bad_signature",
		"401 bad_signature", "401 replay", "200"}
	if strings.Join(reasons, ",") != strings.Join(want, ",") {
		t.Errorf("call log %v, want %v", reasons, want)
	}
	ok := ie.calls(id, "status=ok")
	if len(ok) != 1 || ok[0]["created"] != 1.0 || ok[0]["items"] != 1.0 || ok[0]["remote_addr"] != "127.0.0.1" {
		t.Errorf("ok calls %v", ok)
	}
	en := ie.admin
	en.lang = "en"
	first := en.do("GET", "/api/v1/inbound/"+id+"/calls?status=failed&limit=1", nil, nil).want(200).json()
	if msg := first["items"].([]any)[0].(map[string]any)["error"].(map[string]any)["message"]; msg != "Refused: the endpoint is inactive" {
		t.Errorf("message %v", msg)
	}
	if first["next_before"] == nil {
		t.Error("no next_before on a partial page")
	}
	en.lang = ""
	// The log is for whoever may read the endpoint: administrators here.
	if st := ie.c("rep.east").do("GET", "/api/v1/inbound/"+id+"/calls", nil, nil).status; st != http.StatusForbidden {
		t.Errorf("a rep reads the call log: %d", st)
	}
	ie.admin.do("GET", "/api/v1/inbound/"+id+"/calls?status=maybe", nil, nil).want(400)

	// Active again, a freshly signed call goes through (the same body at a
	// new time is a new request).
	ie.admin.do("PATCH", "/api/v1/records/inbound_endpoints/"+id, map[string]any{"active": true}, nil).want(200)
	ie.clock.Add(time.Second)
	if r := ie.push(id, secret, body).want(200).json(); r["updated"] != 1.0 {
		t.Errorf("re-signed %v", r)
	}
	// rotate_secret: the old secret stops working.
	rot := ie.admin.do("POST", "/api/v1/records/inbound_endpoints/"+id+"/actions/rotate_secret", map[string]any{}, nil).want(200).json()
	ie.clock.Add(time.Second)
	ie.push(id, secret, body).want(401)
	ie.push(id, rot["secret"].(string), body).want(200)
}

// TestInboundThrottling: an endpoint's rate limit counts its verified calls
// per minute; an address that keeps failing signature checks is throttled
// whatever it sends, until the minute ends.
func TestInboundThrottling(t *testing.T) {
	ie := newInboundEnv(t)
	ie.clock.Set(time.Date(2026, 11, 20, 9, 0, 0, 0, shanghai))
	id, secret := ie.orderEndpoint(map[string]any{"rate_limit": 3})
	for i := 0; i < 3; i++ {
		ie.push(id, secret, fmt.Sprintf(`{"order_no":"SO-%d"}`, i)).want(200)
	}
	r := ie.push(id, secret, `{"order_no":"SO-9"}`).want(429)
	if r.header.Get("Retry-After") != "60" {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	if n := ie.count("ib_orders", ""); n != 3 {
		t.Errorf("%d orders", n)
	}
	ie.clock.Add(time.Minute)
	ie.push(id, secret, `{"order_no":"SO-9"}`).want(200)
	// Throttled calls are not logged.
	if n := len(ie.calls(id)); n != 4 {
		t.Errorf("%d calls logged", n)
	}

	// 30 refused calls from one address in a minute, then even a good
	// call from it waits for the next minute.
	ie.clock.Add(time.Minute)
	for i := 0; i < 30; i++ {
		ie.push(id, "wrong-secret-wrong-secret-wrong-secret", fmt.Sprintf(`{"order_no":"X-%d"}`, i)).want(401)
	}
	ie.push(id, secret, `{"order_no":"SO-10"}`).want(429)
	ie.push("987654", secret, `{"order_no":"SO-10"}`).want(429)
	ie.clock.Add(time.Minute)
	ie.push(id, secret, `{"order_no":"SO-10"}`).want(200)
}

// TestInboundLimits: the body size, the number of items, a body that is
// not JSON and items that are not where items_path says.
func TestInboundLimits(t *testing.T) {
	ie := newInboundEnv(t)
	id, secret := ie.orderEndpoint(map[string]any{"items_path": "data.items"})
	big := `{"data":{"items":[{"order_no":"SO-1","title":"` + strings.Repeat("x", 2<<20) + `"}]}}`
	if c := ie.push(id, secret, big).want(413).json()["code"]; c != "body_too_large" {
		t.Errorf("code %v", c)
	}
	var b strings.Builder
	b.WriteString(`{"data":{"items":[`)
	for i := 0; i < 1001; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"order_no":"SO-%d"}`, i)
	}
	b.WriteString(`]}}`)
	if c := ie.push(id, secret, b.String()).want(413).json()["code"]; c != "inbound_too_many_items" {
		t.Errorf("code %v", c)
	}
	ie.push(id, secret, `{"data": [1,`).want(400)
	ie.push(id, secret, `"text"`).want(400)
	r := ie.push(id, secret, `{"data":{"list":[]}}`).want(422)
	if got := fieldErrors(r); strings.Join(got, ";") != "items_path inbound_items_not_found" {
		t.Errorf("errors %v", got)
	}
	ie.push(id, secret, `{"data":{"items":[]}}`).want(200)
	if n := ie.count("ib_orders", ""); n != 0 {
		t.Errorf("%d orders", n)
	}
	var statuses []string
	for _, c := range ie.calls(id) {
		statuses = append(statuses, fmt.Sprint(c["status"]))
	}
	// The 413 of the body size is answered before the call is verified:
	// not logged.
	if strings.Join(statuses, ",") != "200,422,400,400,413" {
		t.Errorf("logged %v", statuses)
	}
	// A verified call that was refused cannot be replayed either.
	ie.push(id, secret, `"text"`).want(401)
}
