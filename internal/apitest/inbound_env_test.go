package apitest

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/signature"
)

// inboundEnv is a Tenon with the demo organisation, a controllable clock,
// the custom entities an ERP and an MES push to (ib_orders, and
// ib_work_orders, ib_shipments and ib_payments linked to an order), and an
// integration user erp.bot whose role may read, create and update them but
// not see an order's cost.
type inboundEnv struct {
	*env
	clock *testClock
	admin *client
	users map[string]string // login → id
	role  string            // the integration role's id
}

// newInboundEnv starts a fresh Tenon at 2026-11-20 09:00 Shanghai time.
func newInboundEnv(t testing.TB) *inboundEnv {
	t.Helper()
	clk := &testClock{t: time.Date(2026, 11, 20, 9, 0, 0, 0, shanghai)}
	ie := &inboundEnv{env: openEnv(t, "tenon_inbound", clk), clock: clk}
	ie.admin = ie.c("admin")
	ie.setup()
	ie.users = ie.userIDs()
	return ie
}

func (ie *inboundEnv) setup() {
	ie.t.Helper()
	lbl := func(s string) map[string]string { return map[string]string{"zh-CN": s, "en": s} }
	entity := func(name, title string, fields ...map[string]any) {
		ie.admin.do("POST", "/api/v1/meta/entities", map[string]any{"name": name, "label": lbl(name), "title_field": title,
			"fields": fields}, nil).want(201)
	}
	f := func(name, typ string, kv ...any) map[string]any {
		m := map[string]any{"name": name, "type": typ, "label": lbl(name)}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	entity("ib_orders", "title",
		f("order_no", "text"), f("title", "text", "required", true),
		f("status", "select", "options", []string{"新建", "生产中", "完工", "已发货", "已回款"}),
		f("qty_done", "integer"), f("amount", "money"), f("shipped_on", "date"), f("cost", "money"),
		f("note", "text"), f("total_qty", "rollup", "source", "lines", "op", "sum", "of", "qty"),
		f("lines", "subtable", "fields", []map[string]any{f("code", "text"), f("qty", "decimal")}))
	entity("ib_work_orders", "mo_no",
		f("mo_no", "text", "required", true), f("sales_order", "link", "target", "ib_orders"), f("qty", "integer"),
		f("qty_done", "integer"), f("status", "select", "options", []string{"生产中", "完工"}))
	entity("ib_shipments", "ship_no",
		f("ship_no", "text", "required", true), f("sales_order", "link", "target", "ib_orders"), f("shipped_on", "date"),
		f("tracking", "text"))
	entity("ib_payments", "pay_no",
		f("pay_no", "text", "required", true), f("sales_order", "link", "target", "ib_orders"), f("amount", "money"),
		f("paid_on", "date"), f("orders", "multi_link", "target", "ib_orders"))
	grant := func(entity string, hidden ...string) map[string]any {
		g := map[string]any{"entity": entity, "actions": []string{"read", "create", "update"}, "scope": "all"}
		if len(hidden) > 0 {
			g["hidden_fields"] = hidden
		}
		return g
	}
	ie.role = ie.admin.do("POST", "/api/v1/records/roles", map[string]any{"name": "integration", "title": "Integration",
		"permissions": []any{grant("ib_orders", "cost"), grant("ib_work_orders"), grant("ib_shipments"), grant("ib_payments")}},
		nil).want(201).json()["id"].(string)
	ie.admin.do("POST", "/api/v1/records/users", map[string]any{"login": "erp.bot", "name": "ERP", "active": true,
		"roles": []string{ie.role}}, nil).want(201)
}

// endpoint creates an active endpoint (as admin, running as erp.bot unless
// body says otherwise) and returns its id and secret.
func (ie *inboundEnv) endpoint(body map[string]any) (string, string) {
	ie.t.Helper()
	if _, ok := body["name"]; !ok {
		body["name"] = "endpoint"
	}
	if _, ok := body["run_as"]; !ok {
		body["run_as"] = ie.users["erp.bot"]
	}
	rec := ie.admin.do("POST", "/api/v1/records/inbound_endpoints", body, nil).want(201).json()
	return rec["id"].(string), rec["secret"].(string)
}

// push signs body with secret at the clock's time and posts it to the
// endpoint, as the ERP would.
func (ie *inboundEnv) push(id, secret, body string) *response {
	ie.t.Helper()
	return ie.pushAt(id, secret, body, ie.clock.Now())
}

func (ie *inboundEnv) pushAt(id, secret, body string, at time.Time) *response {
	ie.t.Helper()
	return ie.anon().do("POST", "/api/v1/inbound/"+id, body,
		map[string]string{"Tenon-Signature": signature.Sign(secret, at, []byte(body)), "Content-Type": "application/json"})
}

// list returns an entity's records as admin, by filter, sorted by id.
func (ie *inboundEnv) list(entity, filter string) []map[string]any {
	ie.t.Helper()
	q := "/api/v1/records/" + entity + "?per_page=500&sort=id"
	if filter != "" {
		q += "&filter=" + url.QueryEscape(filter)
	}
	return ie.admin.do("GET", q, nil, nil).want(200).items()
}

func (ie *inboundEnv) get(entity, id string) map[string]any {
	ie.t.Helper()
	return ie.admin.do("GET", "/api/v1/records/"+entity+"/"+id, nil, nil).want(200).json()
}

// calls returns an endpoint's call log, newest first.
func (ie *inboundEnv) calls(id string, query ...string) []map[string]any {
	ie.t.Helper()
	q := ""
	if len(query) > 0 {
		q = "?" + strings.Join(query, "&")
	}
	return ie.admin.do("GET", "/api/v1/inbound/"+id+"/calls"+q, nil, nil).want(200).items()
}

// work runs every due job by the clock.
func (ie *inboundEnv) work() {
	ie.t.Helper()
	if _, err := ie.app.Jobs.RunDue(context.Background()); err != nil {
		ie.t.Fatal(err)
	}
}

// fieldErrors lists a problem's errors as "field code", sorted.
func fieldErrors(r *response) []string {
	var out []string
	errs, _ := r.json()["errors"].([]any)
	for _, x := range errs {
		m := x.(map[string]any)
		out = append(out, fmt.Sprint(m["field"], " ", m["code"]))
	}
	sort.Strings(out)
	return out
}

// count counts an entity's live records by filter, as the system.
func (ie *inboundEnv) count(entity, filter string) int {
	ie.t.Helper()
	n, err := ie.app.Records.Count(context.Background(), access.System(), entity, filter)
	if err != nil {
		ie.t.Fatal(err)
	}
	return int(n)
}

// signAt is the Tenon-Signature header of body signed with secret at t.
func signAt(secret string, t time.Time, body string) string {
	return signature.Sign(secret, t, []byte(body))
}
