package apitest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/module/crm"
)

// The public web-to-lead endpoint: no sign-in, JSON or form-encoded, a
// honeypot, limits per sender and per form, the form's region and
// campaign on the lead.
func TestCRMWebForm(t *testing.T) {
	x := newCRMEnv(t)
	camp := x.mk(x.admin, "campaigns", map[string]any{"name": "2026 华南工业展", "kind": "trade_show", "status": "active"})
	form := x.mk(x.admin, "web_forms", map[string]any{"name": "官网询价", "region": "华南", "campaign": camp["id"],
		"thank_you": "感谢垂询", "per_ip_per_hour": 2, "per_form_per_hour": 100, "lead_owner": x.users["rep.south"]})
	key := form["key"].(string)
	if len(key) < 16 || form["source"] != "web_form" || form["active"] != true {
		t.Fatalf("form %v", form)
	}
	anon := x.anon()
	path := "/api/v1/public/forms/" + key
	res := anon.do("POST", path, map[string]any{"company": "深圳市华强电子有限公司", "contact_name": "周先生", "phone": "13500002222",
		"requirement": "询价 SMT 产线", "status": "converted", "owner": "1"}, map[string]string{"Content-Type": "application/json"}).want(201).json()
	if res["ok"] != true || res["message"] != "感谢垂询" {
		t.Fatalf("answer %v", res)
	}
	leads := x.admin.do("GET", "/api/v1/records/leads?filter=web_form%20==%20\""+form["id"].(string)+"\"", nil, nil).want(200).items()
	if len(leads) != 1 {
		t.Fatalf("%d leads", len(leads))
	}
	l := leads[0]
	if l["source"] != "web_form" || l["region"] != "华南" || l["campaign"] != camp["id"] || l["company_norm"] != "深圳市华强电子" ||
		l["owner"] != x.users["rep.south"] || l["requirement"] != "询价 SMT 产线" {
		t.Fatalf("lead %v", l)
	}
	// The lead's region puts it in the 华南 rep's scope, not the 华东 one's.
	x.c("rep.south").do("GET", "/api/v1/records/leads/"+l["id"].(string), nil, nil).want(200)
	x.c("rep.east").do("GET", "/api/v1/records/leads/"+l["id"].(string), nil, nil).want(404)

	// The honeypot: answered as usual, nothing stored, not counted.
	anon.do("POST", path, map[string]any{"company": "机器人", "website_url": "http://spam"}, map[string]string{"Content-Type": "application/json"}).want(201)
	// Form-encoded, from a plain HTML form: a small page.
	page := anon.do("POST", path, "company=%E5%B9%BF%E5%B7%9E%E6%9C%BA%E6%A2%B0&email=a%40b.cn",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}).want(201)
	if !strings.Contains(string(page.body), "感谢垂询") || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") {
		t.Fatalf("page %s", page.body)
	}
	if page.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("no CORS header")
	}
	n := len(x.admin.do("GET", "/api/v1/records/leads?filter=web_form%20==%20\""+form["id"].(string)+"\"", nil, nil).want(200).items())
	if n != 2 {
		t.Fatalf("%d leads after honeypot and form post", n)
	}
	// Per address: 2 an hour.
	p := anon.do("POST", path, map[string]any{"company": "第三次"}, map[string]string{"Content-Type": "application/json"}).want(429).json()
	if p["code"] != "crm_form_rate_limited" {
		t.Fatalf("problem %v", p)
	}
	x.clk.Add(61 * time.Minute)
	anon.do("POST", path, map[string]any{"company": "一小时后"}, map[string]string{"Content-Type": "application/json"}).want(201)

	// Per form, whatever the address: one submission is counted in this
	// window already, so two more reach the limit of three.
	x.admin.do("PATCH", "/api/v1/records/web_forms/"+form["id"].(string), map[string]any{"per_form_per_hour": 3, "per_ip_per_hour": 10}, nil).want(200)
	ctx := context.Background()
	for i, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		_, err := x.app.CRM.Submit(ctx, key, crm.Submission{Values: map[string]string{"company": "客户" + ip}, IP: ip})
		if (i < 2) != (err == nil) {
			t.Fatalf("submission %d from %s: %v", i, ip, err)
		}
	}

	// Bad bodies; unknown and inactive forms.
	anon.do("POST", path, "<xml/>", map[string]string{"Content-Type": "text/xml"}).want(400)
	anon.do("POST", "/api/v1/public/forms/nope-nope-nope", map[string]any{"company": "x"}, map[string]string{"Content-Type": "application/json"}).want(404)
	x.admin.do("PATCH", "/api/v1/records/web_forms/"+form["id"].(string), map[string]any{"active": false}, nil).want(200)
	x.clk.Add(2 * time.Hour)
	anon.do("POST", path, map[string]any{"company": "停用后"}, map[string]string{"Content-Type": "application/json"}).want(404)
	anon.do("GET", path+"/embed.js", nil, nil).want(404)
	x.admin.do("PATCH", "/api/v1/records/web_forms/"+form["id"].(string), map[string]any{"active": true}, nil).want(200)
	js := anon.do("GET", path+"/embed.js", nil, nil).want(200)
	if !strings.Contains(string(js.body), `"key":"`+key+`"`) || !strings.Contains(string(js.body), "website_url") ||
		!strings.HasPrefix(js.header.Get("Content-Type"), "application/javascript") {
		t.Fatalf("embed.js %s", js.body)
	}
	// A lead missing its company is refused with the field named.
	prob := anon.do("POST", path, map[string]any{"phone": "13500002222"}, map[string]string{"Content-Type": "application/json"}).want(422).json()
	if !strings.Contains(string(mustJSON(prob)), "company") {
		t.Fatalf("problem %v", prob)
	}
}
