package apitest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestInboundMappings: items found at items_path, each mapped with
// expressions over item and payload (exact numbers, dates, a sub-table, a
// computed status), upserted by external id: pushed twice, the orders are
// updated in place; the writes are erp.bot's, audited as "inbound".
func TestInboundMappings(t *testing.T) {
	ie := newInboundEnv(t)
	id, secret := ie.endpoint(map[string]any{"name": "ERP orders", "source": "erp", "entity": "ib_orders",
		"external_id_path": "header.no", "items_path": "data.orders",
		"mappings": []map[string]any{
			{"field": "order_no", "expression": "item.header.no"},
			{"field": "title", "expression": `item.header.customer + " " + string(item.header.no)`},
			{"field": "status", "expression": `item.state == "FIN" ? "完工" : (item.state == "SHIP" ? "已发货" : "生产中")`},
			{"field": "qty_done", "expression": "item.done"},
			{"field": "amount", "expression": "round(item.net * 1.13, 2)"},
			{"field": "shipped_on", "expression": "item.ship_date"},
			{"field": "lines", "expression": "item.lines"},
			{"field": "note", "expression": `"批次 " + payload.batch`, "clear_when_nil": true},
		}})
	body := func(batch string, done1 int, state1 string) string {
		return fmt.Sprintf(`{"batch": %q, "data": {"orders": [
			{"header": {"no": "SO-1", "customer": "苏州精密"}, "state": %q, "done": %d, "net": 1000.10,
			 "ship_date": "2026-11-25", "lines": [{"code": "A-1", "qty": 2.5}, {"code": 7, "qty": 10}]},
			{"header": {"no": "SO-2", "customer": "宁波模具"}, "state": "FIN", "done": 100, "net": 250},
			{"header": {"no": 3, "customer": "无锡机床"}, "state": "SHIP", "done": 0, "net": 0.01}]}}`, batch, state1, done1)
	}
	res := ie.push(id, secret, body("B-1", 40, "RUN")).want(200).json()
	if res["created"] != 3.0 || res["updated"] != 0.0 {
		t.Fatalf("result %v", res)
	}
	ids := map[string]string{}
	for _, x := range res["items"].([]any) {
		it := x.(map[string]any)
		ids[it["external_id"].(string)] = it["id"].(string)
	}
	o1 := ie.get("ib_orders", ids["SO-1"])
	checks := map[string]any{"order_no": "SO-1", "title": "苏州精密 SO-1", "status": "生产中", "qty_done": 40.0,
		"amount": "1130.11", "shipped_on": "2026-11-25", "note": "批次 B-1", "total_qty": "12.5000"}
	for k, want := range checks {
		if o1[k] != want {
			t.Errorf("SO-1 %s = %#v, want %#v", k, o1[k], want)
		}
	}
	lines := o1["lines"].([]any)
	if len(lines) != 2 || lines[1].(map[string]any)["code"] != "7" || lines[0].(map[string]any)["qty"] != "2.5000" {
		t.Errorf("lines %v", lines)
	}
	o2, o3 := ie.get("ib_orders", ids["SO-2"]), ie.get("ib_orders", ids["3"])
	if o2["status"] != "完工" || o2["amount"] != "282.50" || o2["shipped_on"] != nil {
		t.Errorf("SO-2 %v", o2)
	}
	if o3["status"] != "已发货" || o3["amount"] != "0.01" || o3["order_no"] != "3" {
		t.Errorf("3 %v", o3)
	}
	// Owned and created by erp.bot, audited as inbound.
	if o1["owner"] != ie.users["erp.bot"] || o1["created_by"] != ie.users["erp.bot"] {
		t.Errorf("owner %v created_by %v", o1["owner"], o1["created_by"])
	}
	hist := ie.admin.do("GET", "/api/v1/records/ib_orders/"+ids["SO-1"]+"/history", nil, nil).want(200).items()
	if len(hist) != 1 || hist[0]["source"] != "inbound" || hist[0]["actor"] != ie.users["erp.bot"] {
		t.Errorf("history %v", hist)
	}

	// Pushed again with progress: the same records, updated; a nil value
	// leaves a field alone, except with clear_when_nil.
	ie.clock.Add(time.Minute)
	res = ie.push(id, secret, strings.Replace(body("B-1", 100, "FIN"), `"batch": "B-1", `, "", 1)).want(200).json()
	if res["created"] != 0.0 || res["updated"] != 3.0 {
		t.Fatalf("second push %v", res)
	}
	for _, x := range res["items"].([]any) {
		it := x.(map[string]any)
		if ids[it["external_id"].(string)] != it["id"] || it["created"] != false {
			t.Errorf("item %v", it)
		}
	}
	o1 = ie.get("ib_orders", ids["SO-1"])
	if o1["status"] != "完工" || o1["qty_done"] != 100.0 || o1["version"] != 2.0 || o1["note"] != nil || o1["shipped_on"] != "2026-11-25" {
		t.Errorf("SO-1 after the second push %v", o1)
	}
	if n := ie.count("ib_orders", ""); n != 3 {
		t.Errorf("%d orders", n)
	}

	// A body that is a bare array of items, and a single object.
	id2, secret2 := ie.endpoint(map[string]any{"source": "erp", "entity": "ib_orders", "external_id_path": "no",
		"mappings": []map[string]any{{"field": "title", "expression": "item.title"}, {"field": "order_no", "expression": "item.no"}}})
	res = ie.push(id2, secret2, `[{"no": "SO-1", "title": "改名"}, {"no": "SO-4", "title": "新单"}]`).want(200).json()
	if res["created"] != 1.0 || res["updated"] != 1.0 {
		t.Errorf("array push %v", res)
	}
	if got := ie.get("ib_orders", ids["SO-1"])["title"]; got != "改名" {
		t.Errorf("SO-1 title %v: the same source and id is the same record", got)
	}
	ie.push(id2, secret2, `{"no": "SO-5", "title": "单个"}`).want(200)
	if n := ie.count("ib_orders", ""); n != 5 {
		t.Errorf("%d orders", n)
	}
	// An unchanged push changes nothing (no new version). (Sub-table rows
	// are matched by id, so a mapped sub-table is replaced on each push.)
	ie.clock.Add(time.Minute)
	ie.push(id2, secret2, `{"no": "SO-5", "title": "单个"}`).want(200)
	if v := ie.list("ib_orders", `order_no == "SO-5"`)[0]["version"]; v != 1.0 {
		t.Errorf("version %v after an unchanged push", v)
	}
}

// TestInboundAllOrNone: a call with a bad item writes nothing; the 422
// names each bad item's index and field; the log keeps the errors; the
// corrected call then lands whole.
func TestInboundAllOrNone(t *testing.T) {
	ie := newInboundEnv(t)
	id, secret := ie.orderEndpoint(nil)
	ie.push(id, secret, `{"order_no":"SO-1","qty_done":1}`).want(200)
	ie.clock.Add(time.Second)
	bad := `[{"order_no":"SO-1","qty_done":2},
		{"order_no":"SO-2","qty_done":"many"},
		{"qty_done":3},
		{"order_no":"SO-4","qty_done":4,"title":""},
		"not an object",
		{"order_no":"SO-6","qty_done":6}]`
	r := ie.push(id, secret, bad).want(422)
	p := r.json()
	if p["code"] != "inbound_items_failed" {
		t.Errorf("code %v", p["code"])
	}
	want := []string{"items[1].qty_done not_integer", "items[2].order_no inbound_external_id_missing",
		"items[3].title required", "items[4] not_object"}
	if got := fieldErrors(r); strings.Join(got, ";") != strings.Join(want, ";") {
		t.Errorf("errors %v, want %v", got, want)
	}
	if n := ie.count("ib_orders", ""); n != 1 {
		t.Errorf("%d orders: a refused call wrote", n)
	}
	if q := ie.list("ib_orders", "")[0]["qty_done"]; q != 1.0 {
		t.Errorf("SO-1 qty_done %v: a refused call wrote", q)
	}
	log := ie.calls(id)[0]
	e := log["error"].(map[string]any)
	if log["status"] != 422.0 || e["code"] != "inbound_items_failed" || len(e["fields"].([]any)) != 4 || log["items"] != 6.0 {
		t.Errorf("log %v", log)
	}
	if !strings.Contains(e["message"].(string), "4") {
		t.Errorf("message %v", e["message"])
	}
	// Corrected, the same call lands whole.
	ie.clock.Add(time.Second)
	good := `[{"order_no":"SO-1","qty_done":2},{"order_no":"SO-2","qty_done":5},{"order_no":"SO-6","qty_done":6}]`
	res := ie.push(id, secret, good).want(200).json()
	if res["created"] != 2.0 || res["updated"] != 1.0 {
		t.Errorf("result %v", res)
	}
	// A unique index refusal (409 inside) is an item error too, and the
	// other items' writes are rolled back with it.
	ie.admin.do("POST", "/api/v1/meta/entities/ib_orders/fields", map[string]any{"name": "erp_ref", "type": "text", "unique": true,
		"label": map[string]string{"zh-CN": "ERP", "en": "ERP"}}, nil).want(201)
	id2, secret2 := ie.endpoint(map[string]any{"source": "erp", "entity": "ib_orders", "external_id_path": "no",
		"mappings": []map[string]any{{"field": "title", "expression": "item.no"}, {"field": "erp_ref", "expression": "item.ref"}}})
	r = ie.push(id2, secret2, `[{"no":"SO-7","ref":"R-1"},{"no":"SO-8","ref":"R-1"}]`).want(422)
	if got := fieldErrors(r); strings.Join(got, ";") != "items[1].erp_ref taken" {
		t.Errorf("errors %v", got)
	}
	if n := ie.count("ib_orders", ""); n != 3 {
		t.Errorf("%d orders", n)
	}
}

// TestInboundRunAsRights: the writes are the run_as user's: a field hidden
// from them cannot be mapped (422 when saved) or written (422 naming the
// item and field when their rights change later); a record outside their
// scope is not found; only administrators let an endpoint run as someone
// else.
func TestInboundRunAsRights(t *testing.T) {
	ie := newInboundEnv(t)
	base := func(mappings ...map[string]any) map[string]any {
		return map[string]any{"name": "ERP", "source": "erp", "entity": "ib_orders", "external_id_path": "no", "run_as": ie.users["erp.bot"],
			"mappings": append([]map[string]any{{"field": "title", "expression": "item.no"}}, mappings...)}
	}
	r := ie.admin.do("POST", "/api/v1/records/inbound_endpoints", base(map[string]any{"field": "cost", "expression": "item.cost"}), nil).want(422)
	if got := fieldErrors(r); strings.Join(got, ";") != "mappings[1].field inbound_field_not_writable" {
		t.Errorf("errors %v", got)
	}
	id, secret := ie.endpoint(base(map[string]any{"field": "note", "expression": "item.note"}))
	ie.push(id, secret, `{"no":"SO-1","note":"ok"}`).want(200)

	// erp.bot loses the right to see note: the call is refused naming it.
	perms := []any{
		map[string]any{"entity": "ib_orders", "actions": []string{"read", "create", "update"}, "scope": "own", "hidden_fields": []string{"cost", "note"}},
	}
	ie.admin.do("PATCH", "/api/v1/records/roles/"+ie.role, map[string]any{"permissions": perms}, nil).want(200)
	ie.app.Access.Invalidate()
	ie.clock.Add(time.Second)
	r = ie.push(id, secret, `[{"no":"SO-1","note":"x"},{"no":"SO-2"},{"no":"SO-3","note":"y"}]`).want(422)
	if got := fieldErrors(r); strings.Join(got, ";") != "items[0].note inbound_field_not_writable;items[2].note inbound_field_not_writable" {
		t.Errorf("errors %v", got)
	}
	// Without note, fine: a nil value is not written.
	ie.clock.Add(time.Second)
	ie.push(id, secret, `[{"no":"SO-1"},{"no":"SO-2"}]`).want(200)
	if got := ie.list("ib_orders", `title == "SO-1"`)[0]["note"]; got != "ok" {
		t.Errorf("note %v", got)
	}

	// Scope own: an order the admin upserted under the same source and id
	// is outside erp.bot's scope: not found, nothing written.
	ie.admin.do("PUT", "/api/v1/records/ib_orders/by-external-id/erp/SO-9", map[string]any{"title": "admin's"}, nil).want(201)
	ie.clock.Add(time.Second)
	r = ie.push(id, secret, `[{"no":"SO-10"},{"no":"SO-9"}]`).want(422)
	if got := fieldErrors(r); strings.Join(got, ";") != "items[1] not_found" {
		t.Errorf("errors %v", got)
	}
	if n := ie.count("ib_orders", `title == "SO-10"`); n != 0 {
		t.Errorf("SO-10 written by a refused call")
	}

	// The endpoint's own checks when saved: run_as must be able to write.
	ie.admin.do("PATCH", "/api/v1/records/roles/"+ie.role, map[string]any{"permissions": []any{
		map[string]any{"entity": "ib_orders", "actions": []string{"read"}, "scope": "all"}}}, nil).want(200)
	ie.app.Access.Invalidate()
	r = ie.admin.do("POST", "/api/v1/records/inbound_endpoints", base(), nil).want(422)
	if got := fieldErrors(r); strings.Join(got, ";") != "run_as inbound_run_as_cannot_write" {
		t.Errorf("errors %v", got)
	}
	// An inactive run_as: calls are refused with 422 (the caller is
	// verified), saving too.
	ie.admin.do("PATCH", "/api/v1/records/users/"+ie.users["erp.bot"], map[string]any{"active": false}, nil).want(200)
	ie.clock.Add(time.Second)
	r = ie.push(id, secret, `{"no":"SO-1"}`).want(422)
	if got := fieldErrors(r); strings.Join(got, ";") != "run_as inbound_run_as_inactive" {
		t.Errorf("errors %v", got)
	}

	// Someone granted the entity who is not an administrator may only
	// have endpoints run as themselves.
	ie.admin.do("PATCH", "/api/v1/records/roles/"+ie.role, map[string]any{"permissions": []any{
		map[string]any{"entity": "ib_orders", "actions": []string{"read", "create", "update"}, "scope": "all"},
		map[string]any{"entity": "inbound_endpoints", "actions": []string{"read", "create", "update"}, "scope": "all"}}}, nil).want(200)
	ie.admin.do("PATCH", "/api/v1/records/users/"+ie.users["rep.east"], map[string]any{"roles": []string{ie.role}}, nil).want(200)
	ie.app.Access.Invalidate()
	rep := ie.c("rep.east")
	r = rep.do("POST", "/api/v1/records/inbound_endpoints", base(), nil).want(422)
	if got := fieldErrors(r); strings.Join(got, ";") != "run_as inbound_run_as_admin_only" {
		t.Errorf("errors %v", got)
	}
	own := base()
	delete(own, "run_as")
	rec := rep.do("POST", "/api/v1/records/inbound_endpoints", own, nil).want(201).json()
	if rec["run_as"] != ie.users["rep.east"] {
		t.Errorf("run_as %v, want the creator", rec["run_as"])
	}
	rep.do("PATCH", "/api/v1/records/inbound_endpoints/"+id, map[string]any{"name": "mine now"}, nil).want(422)
	// A sales rep without the grant does not see endpoints at all.
	ie.c("rep.south").do("GET", "/api/v1/records/inbound_endpoints", nil, nil).want(403)
}

// TestInboundEndpointChecks: an endpoint is checked when saved.
func TestInboundEndpointChecks(t *testing.T) {
	ie := newInboundEnv(t)
	ok := func() map[string]any {
		return map[string]any{"name": "E", "source": "erp", "entity": "ib_payments", "external_id_path": "no",
			"run_as": ie.users["erp.bot"], "mappings": []map[string]any{{"field": "pay_no", "expression": "item.no"}}}
	}
	with := func(k string, v any) map[string]any { b := ok(); b[k] = v; return b }
	maps := func(ms ...map[string]any) map[string]any { return with("mappings", ms) }
	cases := []struct {
		name string
		body map[string]any
		want string
	}{
		{"unknown entity", with("entity", "nope"), "entity inbound_entity_unknown"},
		{"itself", with("entity", "inbound_endpoints"), "entity inbound_entity_unknown"},
		{"bad path", with("external_id_path", "a..b"), "external_id_path inbound_path_invalid"},
		{"bad items path", with("items_path", ".x"), "items_path inbound_path_invalid"},
		{"bad source", with("source", "e r p"), "source pattern_mismatch"},
		{"short secret", with("secret", "short"), "secret inbound_secret_short"},
		{"no mappings", with("mappings", []any{}), "mappings required"},
		{"unknown field", maps(map[string]any{"field": "nope", "expression": "1"}), "mappings[0].field inbound_field_unknown"},
		{"system field", maps(map[string]any{"field": "id", "expression": "1"}), "mappings[0].field inbound_field_unknown"},
		{"twice", maps(map[string]any{"field": "pay_no", "expression": "1"}, map[string]any{"field": "pay_no", "expression": "2"}),
			"mappings[1].field duplicate_name"},
		{"link kind on text", maps(map[string]any{"field": "pay_no", "kind": "link_by_external_id", "expression": "item.x"}),
			"mappings[0].kind inbound_link_kind_invalid"},
		{"link source unused", maps(map[string]any{"field": "pay_no", "link_source": "mes", "expression": "item.x"}),
			"mappings[0].link_source inbound_link_source_unused"},
		{"bad expression", maps(map[string]any{"field": "pay_no", "expression": "item.x +"}), "mappings[0].expression bad_expression"},
		{"unknown variable", maps(map[string]any{"field": "pay_no", "expression": "record.x"}), "mappings[0].expression bad_expression"},
		{"loop", maps(map[string]any{"field": "pay_no", "expression": "map(item.list, # + 1)"}), "mappings[0].expression bad_expression"},
		{"too large", maps(map[string]any{"field": "pay_no", "expression": strings.Repeat("1 + ", 300) + "1"}),
			"mappings[0].expression inbound_expression_too_large"},
	}
	for _, c := range cases {
		r := ie.admin.do("POST", "/api/v1/records/inbound_endpoints", c.body, nil)
		if r.status != 422 {
			t.Errorf("%s: status %d %s", c.name, r.status, r.body)
			continue
		}
		if got := strings.Join(fieldErrors(r), ";"); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	rollup := ie.admin.do("POST", "/api/v1/records/inbound_endpoints", map[string]any{"name": "E", "source": "erp", "entity": "ib_orders",
		"external_id_path": "no", "mappings": []map[string]any{{"field": "title", "expression": "item.no"}, {"field": "total_qty", "expression": "1"}}}, nil).want(422)
	if got := strings.Join(fieldErrors(rollup), ";"); got != "mappings[1].field inbound_field_not_writable" {
		t.Errorf("rollup: %s", got)
	}
	// A good one, with a given secret, and deleting a mapped field later
	// makes its calls fail with the problem named.
	b := ok()
	b["secret"] = strings.Repeat("s", 32)
	b["mappings"] = []map[string]any{{"field": "pay_no", "expression": "item.no"}, {"field": "paid_on", "expression": "item.day"}}
	rec := ie.admin.do("POST", "/api/v1/records/inbound_endpoints", b, nil).want(201).json()
	if rec["secret"] != strings.Repeat("s", 32) || rec["active"] != true {
		t.Errorf("endpoint %v", rec)
	}
	id := rec["id"].(string)
	ie.push(id, strings.Repeat("s", 32), `{"no":"PY-1","day":"2026-11-20"}`).want(200)
	ie.admin.do("DELETE", "/api/v1/meta/entities/ib_payments/fields/paid_on", nil, nil).want(204)
	ie.clock.Add(time.Second)
	r := ie.push(id, strings.Repeat("s", 32), `{"no":"PY-2","day":"2026-11-20"}`).want(422)
	if p := r.json(); p["code"] != "inbound_endpoint_invalid" || strings.Join(fieldErrors(r), ";") != "mappings[1].field inbound_field_unknown" {
		t.Errorf("problem %s", r.body)
	}
}

// TestInboundTestMode: a payload run through an endpoint without a
// signature, rolled back: the result or the errors, nothing written.
func TestInboundTestMode(t *testing.T) {
	ie := newInboundEnv(t)
	id, _ := ie.orderEndpoint(nil)
	res := ie.admin.do("POST", "/api/v1/inbound/"+id+"/test", `[{"order_no":"SO-1","qty_done":3},{"order_no":"SO-2"}]`, nil).want(200).json()
	if res["dry_run"] != true || res["created"] != 2.0 {
		t.Errorf("test %v", res)
	}
	r := ie.admin.do("POST", "/api/v1/inbound/"+id+"/test", `[{"order_no":"SO-1","qty_done":"x"}]`, nil).want(422)
	if got := strings.Join(fieldErrors(r), ";"); got != "items[0].qty_done not_integer" {
		t.Errorf("errors %s", got)
	}
	if n := ie.count("ib_orders", ""); n != 0 {
		t.Errorf("%d orders after test runs", n)
	}
	if n := len(ie.calls(id)); n != 0 {
		t.Errorf("test runs logged: %d", n)
	}
	ie.c("rep.east").do("POST", "/api/v1/inbound/"+id+"/test", `{}`, nil).want(403)
}
