package apitest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// ssrfSpellings are URLs whose host is a loopback, link-local, private or
// otherwise refused address, or a local name, in the spellings a browser,
// curl or libc accept.
var ssrfSpellings = []string{
	"http://127.0.0.1/", "http://127.0.0.1:8080/hook", "http://127.0.0.1./", "http://2130706433/", "http://017700000001/",
	"http://0x7f000001/", "http://0x7f.0.0.1/", "http://0177.0.0.1/", "http://127.1/", "http://127.0.1/", "http://0x7f.1/",
	"http://0177.0.0.01/", "http://0/", "http://0.0.0.0/", "http://10.1.1/", "http://10.0.0.1/", "http://167772161/",
	"http://172.16.0.1/", "http://172.31.255.254/", "http://192.168.1.1/", "http://0300.0250.1.1/", "http://100.64.0.1/",
	"http://169.254.169.254/latest/meta-data/", "http://2852039166/", "http://0xa9fea9fe/", "http://0xa9.0xfe.0xa9.0xfe/",
	"http://169.254.43518/", "http://224.0.0.1/", "http://255.255.255.255/",
	"http://[::1]/", "http://[::]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[0:0:0:0:0:ffff:7f00:1]/",
	"http://[::ffff:169.254.169.254]/", "http://[::127.0.0.1]/", "http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::1]/",
	"http://[2002:a9fe:a9fe::1]/", "http://[fe80::1]/", "http://[fe80::1%25eth0]/", "http://[fc00::1]/", "http://[fd00:ec2::254]/",
	"http://[ff02::1]/", "http://localhost/", "http://LOCALHOST:9000/", "http://localhost./", "http://hooks.localhost/",
	"https://１２７。０。０。１/",
}

// TestWebhooksSSRFAtSave: every spelling of a refused address is refused
// when a webhook is saved (422 on url, nothing stored), public targets are
// accepted, an allow-listed target is accepted in any spelling, and rule
// call_webhook actions obey the same policy.
func TestWebhooksSSRFAtSave(t *testing.T) {
	we := newWebhooksEnv(t)
	save := func(u string) *response {
		return we.admin.do("POST", "/api/v1/records/webhooks", map[string]any{"url": u, "entity": "wh_deals",
			"events": []string{"created"}, "active": false}, nil)
	}
	for _, u := range ssrfSpellings {
		res := save(u)
		if res.status != 422 {
			t.Errorf("%s: status %d: %s", u, res.status, res.body)
			continue
		}
		errs := res.json()["errors"].([]any)
		if len(errs) != 1 || errs[0].(map[string]any)["field"] != "url" {
			t.Errorf("%s: %s", u, res.body)
		}
	}
	for _, u := range []string{"ftp://example.com/", "http://user:pw@example.com/", "http://1.2.3.256/", "http://foo.0x10/"} {
		if res := save(u); res.status != 422 {
			t.Errorf("%s: status %d", u, res.status)
		}
	}
	if n := len(we.admin.do("GET", "/api/v1/records/webhooks", nil, nil).want(200).items()); n != 0 {
		t.Fatalf("%d webhooks stored", n)
	}
	for _, u := range []string{"https://erp.example.com/tenon", "http://93.184.216.34:8080/x", "http://[2606:4700::6810:85e5]/"} {
		save(u).want(201)
	}
	// The message names the host and says what to do, in the caller's language.
	we.admin.lang = "en"
	res := save("http://0x7f.1/").want(422)
	if msg := res.json()["errors"].([]any)[0].(map[string]any)["message"].(string); !strings.Contains(msg, "0x7f.1") ||
		!strings.Contains(msg, "allow-list") {
		t.Fatalf("message %q", msg)
	}
	we.admin.lang = ""

	// Allow-listing 127.0.0.1:9000 allows it in any spelling, on that port only.
	we.allow("127.0.0.1:9000")
	for _, u := range []string{"http://127.0.0.1:9000/", "http://2130706433:9000/", "http://0x7f.1:9000/", "http://[::ffff:127.0.0.1]:9000/"} {
		save(u).want(201)
	}
	for _, u := range []string{"http://127.0.0.1:9001/", "http://127.0.0.1/", "http://localhost:9000/"} {
		save(u).want(422)
	}
	// A saved URL is checked again when a webhook is switched on.
	h := save("http://127.0.0.1:9000/").want(201).json()
	we.allow()
	we.admin.do("PATCH", "/api/v1/records/webhooks/"+h["id"].(string), map[string]any{"description": "x"}, nil).want(200)
	we.admin.do("PATCH", "/api/v1/records/webhooks/"+h["id"].(string), map[string]any{"active": true}, nil).want(422)

	// Rules: call_webhook URLs obey the same policy.
	rule := func(u string) *response {
		return we.admin.do("POST", "/api/v1/records/rules", map[string]any{"name": "r", "entity": "wh_deals", "enabled": true,
			"trigger": map[string]any{"type": "created"}, "actions": []any{map[string]any{"type": "call_webhook", "url": u,
				"secret": "0123456789abcdef"}}}, nil)
	}
	for _, u := range []string{"http://2130706433/", "http://[::ffff:169.254.169.254]/", "http://localhost:8080/"} {
		res := rule(u).want(422)
		errs := res.json()["errors"].([]any)
		if e := errs[0].(map[string]any); e["field"] != "actions[0].url" || e["code"] != "outbound_address_refused" {
			t.Fatalf("rule %s: %s", u, res.body)
		}
	}
	rule("https://erp.example.com/hook").want(201)

	// The settings: administrators only, checked, audited.
	we.c("rep.east").do("GET", "/api/v1/settings/outbound", nil, nil).want(403)
	we.c("rep.east").do("PUT", "/api/v1/settings/outbound", map[string]any{"allow": []string{"10.0.0.1"}}, nil).want(403)
	bad := we.admin.do("PUT", "/api/v1/settings/outbound", map[string]any{"allow": []string{"10.0.0.1", "http://x/", "*.corp"}}, nil).want(422)
	if errs := bad.json()["errors"].([]any); len(errs) != 2 || errs[0].(map[string]any)["field"] != "allow[1]" ||
		errs[1].(map[string]any)["field"] != "allow[2]" {
		t.Fatalf("bad entries: %s", bad.body)
	}
	we.admin.do("PUT", "/api/v1/settings/outbound", map[string]any{}, nil).want(422)
	st := we.admin.do("PUT", "/api/v1/settings/outbound", map[string]any{"allow": []string{"ERP.internal:8443", "0xa.1", "10.20.0.0/16"}}, nil).want(200).json()
	if fmt.Sprint(st["allow"]) != "[erp.internal:8443 10.0.0.1 10.20.0.0/16]" || st["updated_by"] != we.users["admin"] {
		t.Fatalf("settings: %v", st)
	}
	if got := we.admin.do("GET", "/api/v1/settings/outbound", nil, nil).want(200).json(); fmt.Sprint(got["allow"]) != fmt.Sprint(st["allow"]) {
		t.Fatalf("read back: %v", got)
	}
	audit := we.admin.do("GET", "/api/v1/audit?entity=outbound_settings", nil, nil).want(200).items()
	if len(audit) < 2 || audit[0]["actor"] != we.users["admin"] {
		t.Fatalf("audit: %v", audit)
	}
}

// TestWebhooksSSRFAtDial: the address is checked again when the
// connection is made: a webhook saved while its host was allowed is
// refused once the allow-list no longer has it, although the name
// (localhost) only becomes loopback through resolution; an allow-listed
// receiver that redirects to a refused address does not get it reached,
// in any spelling. Refused deliveries are retried like any failure and the
// refused servers see no request.
func TestWebhooksSSRFAtDial(t *testing.T) {
	we := newWebhooksEnv(t)
	target := newReceiver(t)
	_, port, _ := strings.Cut(target.hostPort(), ":")
	we.allow("localhost:" + port)
	byName := we.webhook(map[string]any{"url": "http://localhost:" + port + "/in", "events": []string{"created"}})
	we.allow() // an allow-list of nothing
	d := we.deal("admin", map[string]any{"name": "拨号检查"})
	we.work()
	ds := we.deliveries(byName["id"].(string))
	if len(ds) != 1 || ds[0]["status"] != "failed" || ds[0]["last_status"] != nil ||
		!strings.Contains(ds[0]["last_error"].(string), "loopback") || ds[0]["next_attempt_at"] == nil {
		t.Fatalf("localhost at dial: %v", ds)
	}
	if n := len(target.got()); n != 0 {
		t.Fatalf("the refused target got %d requests", n)
	}

	// A receiver on the allow-list redirects to refused targets.
	hidden := newReceiver(t)
	_, hiddenPort, _ := strings.Cut(hidden.hostPort(), ":")
	redirect := http.NewServeMux()
	redirect.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusTemporaryRedirect)
	})
	front := httptest.NewServer(redirect)
	t.Cleanup(front.Close)
	we.allow(strings.TrimPrefix(front.URL, "http://"))
	var hooks []string
	for _, to := range []string{"http://127.0.0.1:" + hiddenPort + "/", "http://[::ffff:127.0.0.1]:" + hiddenPort + "/",
		"http://2130706433:" + hiddenPort + "/", "http://localhost:" + hiddenPort + "/", "http://169.254.169.254/latest/meta-data/"} {
		h := we.webhook(map[string]any{"url": front.URL + "/?to=" + to, "events": []string{"updated"}})
		hooks = append(hooks, h["id"].(string))
	}
	we.patchDeal("admin", d["id"].(string), map[string]any{"amount": "1"})
	we.work()
	for _, h := range hooks {
		ds := we.deliveries(h)
		if len(ds) != 1 || ds[0]["status"] != "failed" || !strings.Contains(ds[0]["last_error"].(string), "address") {
			t.Fatalf("redirect: %v", ds)
		}
	}
	if n := len(hidden.got()); n != 0 {
		t.Fatalf("a redirect reached the refused server %d times", n)
	}
	// The test button says refused, and nothing more.
	res := we.admin.do("POST", "/api/v1/records/webhooks/"+hooks[0]+"/actions/test", nil, nil).want(200).json()
	if res["ok"] != false || res["reason"] != "refused" {
		t.Fatalf("test through a redirect: %v", res)
	}
}
