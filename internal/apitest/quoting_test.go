package apitest

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/notify/notifytest"
)

// quotingEnv is a Tenon with the demo organisation (its permission matrix
// covers quotes, contracts and orders), the sales defaults and the quoting
// flows installed, a clock at 2026-11-02 09:00 Shanghai, and a catalog:
// a machine (list price 100,000, cost 60,000) and a spare part (2,000 /
// 1,200), a regional 华东 price for the machine (95,000 before VAT) and a
// customer price book for the first account with a volume break.
type quotingEnv struct {
	*env
	admin                 *client
	users                 map[string]string
	machine, part         string
	acme, south           string // accounts in 华东 and 华南
	oppAcme, oppSouth     string
	creditAccount, oppCre string
}

func newQuotingEnv(t testing.TB) *quotingEnv {
	t.Helper()
	clk := &testClock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, shanghai)}
	q := &quotingEnv{env: openEnv(t, "tenon_quoting", clk)}
	ctx := context.Background()
	if err := q.app.Sales.Install(ctx); err != nil {
		t.Fatal(err)
	}
	if err := q.app.Quoting.Install(ctx); err != nil {
		t.Fatal(err)
	}
	q.admin = q.c("admin")
	q.users = q.userIDs()
	mk := func(entity string, in map[string]any) string {
		return q.admin.do("POST", "/api/v1/records/"+entity, in, nil).want(201).json()["id"].(string)
	}
	q.machine = mk("products", map[string]any{"code": "M-100", "name": "数控折弯机 WE67K", "unit": "台", "list_price": "100000", "standard_cost": "60000", "lead_time_days": 45})
	q.part = mk("products", map[string]any{"code": "S-200", "name": "液压密封件", "kind": "spare", "unit": "套", "list_price": "2000", "standard_cost": "1200"})
	q.acme = mk("accounts", map[string]any{"name": "苏州精密机械有限公司", "region": "华东", "industry": "machinery"})
	q.south = mk("accounts", map[string]any{"name": "东莞五金制品厂", "region": "华南", "industry": "machinery"})
	q.creditAccount = mk("accounts", map[string]any{"name": "无锡重工股份有限公司", "region": "华东", "industry": "machinery",
		"credit_limit": "300000", "receivables": "150000"})
	mk("price_books", map[string]any{"name": "华东区域价", "kind": "regional", "currency": "CNY", "region": "华东",
		"items": []any{map[string]any{"product": q.machine, "unit_price": "95000"}}})
	mk("price_books", map[string]any{"name": "东莞五金专属价", "kind": "customer", "currency": "CNY", "account": q.south, "tax_included": true,
		"items": []any{map[string]any{"product": q.machine, "unit_price": "105000"}, map[string]any{"product": q.machine, "min_quantity": "5", "unit_price": "99000"}}})
	opp := func(account, owner string) string {
		return mk("opportunities", map[string]any{"name": "折弯机项目", "account": account, "amount": "300000", "expected_close": "2026-12-31", "owner": q.users[owner]})
	}
	q.oppAcme, q.oppSouth, q.oppCre = opp(q.acme, "rep.east"), opp(q.south, "rep.south"), opp(q.creditAccount, "rep.east")
	return q
}

func (q *quotingEnv) quote(as string, in map[string]any) map[string]any {
	q.t.Helper()
	return q.c(as).do("POST", "/api/v1/records/quotes", in, nil).want(201).json()
}

func (q *quotingEnv) act(as, entity, id, action string, in map[string]any) *response {
	q.t.Helper()
	if in == nil {
		in = map[string]any{}
	}
	return q.c(as).do("POST", "/api/v1/records/"+entity+"/"+id+"/actions/"+action, in, nil)
}

func (q *quotingEnv) get(as, entity, id string) map[string]any {
	q.t.Helper()
	return q.c(as).do("GET", "/api/v1/records/"+entity+"/"+id, nil, nil).want(200).json()
}

// approve approves the login's pending task on a record; it fails when
// there is none.
func (q *quotingEnv) approve(login, entity, id string) {
	q.t.Helper()
	for _, it := range q.c(login).do("GET", "/api/v1/approvals?box=pending", nil, nil).want(200).items() {
		if it["record_id"] == id && it["entity"] == entity {
			q.c(login).do("POST", "/api/v1/approvals/"+it["id"].(string)+"/approve", map[string]any{"comment": "同意"}, nil).want(200)
			return
		}
	}
	q.t.Fatalf("%s has no pending task on %s %s", login, entity, id)
}

func (q *quotingEnv) hasTask(login, entity, id string) bool {
	q.t.Helper()
	for _, it := range q.c(login).do("GET", "/api/v1/approvals?box=pending", nil, nil).want(200).items() {
		if it["record_id"] == id && it["entity"] == entity {
			return true
		}
	}
	return false
}

func line(product, qty string, extra ...string) map[string]any {
	l := map[string]any{"product": product, "quantity": qty}
	for i := 0; i+1 < len(extra); i += 2 {
		l[extra[i]] = extra[i+1]
	}
	return l
}

func lines(rec map[string]any) []map[string]any {
	var out []map[string]any
	for _, x := range rec["lines"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

func wantFields(t *testing.T, what string, rec map[string]any, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got, _ := rec[k].(string); got != v {
			t.Errorf("%s: %s = %v, want %s", what, k, rec[k], v)
		}
	}
}

func TestQuotingPricesAndTotals(t *testing.T) {
	q := newQuotingEnv(t)
	// A rep's quote from an opportunity: the account, title and VAT come
	// from the opportunity and the settings; the machine gets the 华东
	// regional price (95,000 before VAT → 107,350 with 13 % VAT).
	qt := q.quote("rep.east", map[string]any{"opportunity": q.oppAcme, "freight": "1500.5", "discount_pct": "2",
		"lines": []any{line(q.machine, "2"), line(q.part, "3", "discount_pct", "5", "unit_price", "2260.1")}})
	wantFields(t, "quote", qt, map[string]string{"account": q.acme, "title": "折弯机项目", "status": "draft", "currency": "CNY", "tax_rate": "13.00", "region": "华东"})
	if !strings.HasPrefix(qt["number"].(string), "QT-202611-") {
		t.Fatalf("number %v", qt["number"])
	}
	ls := lines(qt)
	wantFields(t, "machine line", ls[0], map[string]string{"list_price": "107350.00", "unit_price": "107350.00", "amount": "214700.00", "price_source": "华东区域价", "unit": "台", "description": "数控折弯机 WE67K"})
	// 3 × 2260.1 × 0.95 = 6441.285 → 6441.29
	wantFields(t, "part line", ls[1], map[string]string{"list_price": "2260.00", "amount": "6441.29", "price_source": "product"})
	// subtotal 221141.29, 2 % = 4422.83, goods 216718.46 + freight 1500.5 = 218218.96 with VAT
	// net 218218.96 / 1.13 = 193114.12, tax 25104.84
	wantFields(t, "totals", qt, map[string]string{"subtotal": "221141.29", "discount_amount": "4422.83", "total": "218218.96", "net_amount": "193114.12", "tax_amount": "25104.84", "max_discount": "5.00"})
	// Cost and margin never reach the rep.
	for _, k := range []string{"cost_total", "margin", "margin_pct"} {
		if _, ok := qt[k]; ok {
			t.Fatalf("the rep sees %s", k)
		}
	}
	for _, l := range ls {
		if _, ok := l["unit_cost"]; ok {
			t.Fatalf("the rep sees a line's unit cost: %v", l)
		}
	}
	// The sales manager does: goods without VAT 216718.46 / 1.13 = 191786.25; cost 120000 + 3600.
	full := q.get("sales.manager", "quotes", qt["id"].(string))
	wantFields(t, "manager's view", full, map[string]string{"cost_total": "123600.00", "margin": "68186.25", "margin_pct": "35.55"})
	// Neither list, filter, export nor history gives the rep the margin.
	q.c("rep.east").do("GET", "/api/v1/records/quotes?filter="+url.QueryEscape("margin > 0"), nil, nil).want(400)
	q.c("rep.east").do("GET", "/api/v1/records/quotes?sort=-margin", nil, nil).want(400)
	for _, it := range q.c("rep.east").do("GET", "/api/v1/records/quotes?fields=number,margin", nil, nil).want(200).items() {
		if _, ok := it["margin"]; ok {
			t.Fatal("list gives the margin")
		}
	}
	hist := string(q.c("rep.east").do("GET", "/api/v1/records/quotes/"+qt["id"].(string)+"/history", nil, nil).want(200).body)
	if strings.Contains(hist, "68186.25") || strings.Contains(hist, "123600") || strings.Contains(hist, "unit_cost") {
		t.Fatalf("history leaks cost or margin: %s", hist)
	}
	// A rep cannot type a cost either.
	q.c("rep.east").do("PATCH", "/api/v1/records/quotes/"+qt["id"].(string), map[string]any{"margin": "1"}, nil).want(400)

	// The customer book of 东莞五金 (prices with VAT) wins over everything,
	// and its volume break applies from 5 machines.
	sq := q.quote("rep.south", map[string]any{"opportunity": q.oppSouth, "lines": []any{line(q.machine, "4"), line(q.machine, "5")}})
	ls = lines(sq)
	wantFields(t, "customer price", ls[0], map[string]string{"unit_price": "105000.00", "price_source": "东莞五金专属价"})
	wantFields(t, "volume break", ls[1], map[string]string{"unit_price": "99000.00", "price_source": "东莞五金专属价 ≥5"})
	// The other region's rep cannot see it.
	q.c("rep.east").do("GET", "/api/v1/records/quotes/"+sq["id"].(string), nil, nil).want(404)

	// Bad input: a line without a product (and not non-standard), an
	// unknown currency.
	res := q.c("rep.east").do("POST", "/api/v1/records/quotes", map[string]any{"opportunity": q.oppAcme, "lines": []any{map[string]any{"quantity": "1", "description": "x"}}}, nil).want(422)
	if _, f, _ := problem(t, res); f["lines[0].product"] != "quoting_line_needs_product" {
		t.Fatalf("fields %v", f)
	}
	res = q.c("rep.east").do("POST", "/api/v1/records/quotes", map[string]any{"opportunity": q.oppAcme, "currency": "USD", "lines": []any{line(q.part, "1")}}, nil).want(422)
	if _, f, _ := problem(t, res); f["currency"] != "quoting_currency_no_rate" {
		t.Fatalf("fields %v", f)
	}
	// With a USD rate the product's CNY price is converted.
	q.admin.do("POST", "/api/v1/records/currencies", map[string]any{"code": "USD", "name": "美元", "rate": "7.1"}, nil).want(201)
	uq := q.quote("rep.east", map[string]any{"opportunity": q.oppAcme, "currency": "USD", "tax_included": false, "lines": []any{line(q.part, "1")}})
	wantFields(t, "USD", lines(uq)[0], map[string]string{"unit_price": "281.69"}) // 2000 / 7.1
	wantFields(t, "USD total", uq, map[string]string{"total": "318.31", "total_cny": "2260.00"})
}

func TestQuotingApprovalRouting(t *testing.T) {
	q := newQuotingEnv(t)
	id := func(r map[string]any) string { return r["id"].(string) }
	// Within the thresholds: approved on submit, no flow.
	small := q.quote("rep.east", map[string]any{"opportunity": q.oppAcme, "lines": []any{line(q.part, "2", "discount_pct", "10")}})
	got := q.act("rep.east", "quotes", id(small), "submit", nil).want(200).json()
	wantFields(t, "small", got, map[string]string{"status": "approved"})

	// A unit price 15 % under the list price is a 15 % discount: the sales
	// manager (the rep's manager) approves; the quote is locked meanwhile.
	cut := q.quote("rep.east", map[string]any{"opportunity": q.oppAcme, "lines": []any{line(q.part, "2", "unit_price", "1921")}})
	wantFields(t, "cut", cut, map[string]string{"max_discount": "15.00"})
	got = q.act("rep.east", "quotes", id(cut), "submit", nil).want(200).json()
	wantFields(t, "submitted", got, map[string]string{"status": "pending_approval"})
	res := q.c("rep.east").do("PATCH", "/api/v1/records/quotes/"+id(cut), map[string]any{"notes": "改一下"}, nil).want(409)
	if code, _, _ := problem(t, res); code != "flow_record_locked" {
		t.Fatalf("code %s", code)
	}
	if q.hasTask("gm", "quotes", id(cut)) {
		t.Fatal("the general manager has a task on a small quote")
	}
	q.approve("sales.manager", "quotes", id(cut))
	wantFields(t, "approved", q.get("rep.east", "quotes", id(cut)), map[string]string{"status": "approved"})

	// Over 500,000: the general manager too (after the manager when the
	// discount also passes 10 %).
	big := q.quote("rep.east", map[string]any{"opportunity": q.oppAcme, "lines": []any{line(q.machine, "6", "discount_pct", "12")}})
	q.act("rep.east", "quotes", id(big), "submit", nil).want(200)
	if q.hasTask("gm", "quotes", id(big)) {
		t.Fatal("the general manager decides before the sales manager")
	}
	q.approve("sales.manager", "quotes", id(big))
	wantFields(t, "after the manager", q.get("rep.east", "quotes", id(big)), map[string]string{"status": "pending_approval"})
	q.approve("gm", "quotes", id(big))
	wantFields(t, "after the gm", q.get("rep.east", "quotes", id(big)), map[string]string{"status": "approved"})

	// Over 500,000 with no discount: the general manager only.
	plain := q.quote("rep.east", map[string]any{"opportunity": q.oppAcme, "lines": []any{line(q.machine, "5")}})
	q.act("rep.east", "quotes", id(plain), "submit", nil).want(200)
	if q.hasTask("sales.manager", "quotes", id(plain)) {
		t.Fatal("the sales manager has a task on an undiscounted quote")
	}
	q.approve("gm", "quotes", id(plain))

	// A rejection sends the quote back to draft.
	rej := q.quote("rep.east", map[string]any{"opportunity": q.oppAcme, "lines": []any{line(q.part, "1", "discount_pct", "30")}})
	q.act("rep.east", "quotes", id(rej), "submit", nil).want(200)
	for _, it := range q.c("sales.manager").do("GET", "/api/v1/approvals?box=pending", nil, nil).want(200).items() {
		if it["record_id"] == id(rej) {
			q.c("sales.manager").do("POST", "/api/v1/approvals/"+it["id"].(string)+"/reject", map[string]any{"comment": "折扣太大"}, nil).want(200)
		}
	}
	wantFields(t, "rejected", q.get("rep.east", "quotes", id(rej)), map[string]string{"status": "draft"})

	// Statuses move only through actions; an approved quote is read only.
	res = q.c("rep.east").do("PATCH", "/api/v1/records/quotes/"+id(small), map[string]any{"status": "accepted"}, nil).want(422)
	if _, f, _ := problem(t, res); f["status"] != "quoting_status_by_action" {
		t.Fatalf("fields %v", f)
	}
	res = q.c("rep.east").do("PATCH", "/api/v1/records/quotes/"+id(small), map[string]any{"notes": "x"}, nil).want(409)
	if code, _, _ := problem(t, res); code != "quoting_document_locked" {
		t.Fatalf("code %s", code)
	}

	// Revising keeps the old version read only and starts a new draft.
	rev := q.act("rep.east", "quotes", id(small), "revise", nil).want(200).json()
	wantFields(t, "revision", rev, map[string]string{"status": "draft", "previous_quote": id(small)})
	if rev["revision"] != float64(2) && rev["revision"] != "2" {
		t.Fatalf("revision %v", rev["revision"])
	}
	wantFields(t, "old", q.get("rep.east", "quotes", id(small)), map[string]string{"superseded_by": id(rev)})
	for _, a := range []string{"revise", "accept", "send", "reject"} {
		res = q.act("rep.east", "quotes", id(small), a, map[string]any{"reason": "价格", "channel": "manual"}).want(409)
		if code, _, _ := problem(t, res); code != "quoting_quote_superseded" {
			t.Fatalf("%s: code %s", a, code)
		}
	}
}

func TestQuotingContractAndOrder(t *testing.T) {
	q := newQuotingEnv(t)
	id := func(r map[string]any) string { return r["id"].(string) }
	qt := q.quote("rep.east", map[string]any{"opportunity": q.oppAcme, "lines": []any{line(q.machine, "1"), line(q.part, "2")},
		"delivery_terms": "到厂交货", "payment_terms": "30/60/10"})
	q.act("rep.east", "quotes", id(qt), "submit", nil).want(200)
	q.act("rep.east", "quotes", id(qt), "create_contract", nil).want(409) // not accepted yet
	q.act("rep.east", "quotes", id(qt), "send", map[string]any{"channel": "manual"}).want(200)
	got := q.act("rep.east", "quotes", id(qt), "accept", nil).want(200).json()
	wantFields(t, "accepted", got, map[string]string{"status": "accepted"})
	withContract := q.act("rep.east", "quotes", id(qt), "create_contract", nil).want(200).json()
	ct := q.get("rep.east", "contracts", withContract["contract"].(string))
	wantFields(t, "contract", ct, map[string]string{"status": "draft", "quote": id(qt), "account": q.acme, "total": qt["total"].(string)})
	if !strings.HasPrefix(ct["number"].(string), "HT-202611-") {
		t.Fatalf("number %v", ct["number"])
	}
	ms := ct["milestones"].([]any)
	if len(ms) != 3 {
		t.Fatalf("milestones %v", ms)
	}
	// Milestones must add up to 100 %.
	res := q.c("rep.east").do("PATCH", "/api/v1/records/contracts/"+id(ct), map[string]any{"milestones": []any{
		map[string]any{"kind": "advance", "percent": "30"}, map[string]any{"kind": "delivery", "percent": "60"}}}, nil).want(422)
	if _, f, _ := problem(t, res); f["milestones"] != "quoting_milestones_sum" {
		t.Fatalf("fields %v", f)
	}
	// Legal, then finance.
	q.act("rep.east", "contracts", id(ct), "submit", nil).want(200)
	if q.hasTask("finance", "contracts", id(ct)) {
		t.Fatal("finance before legal")
	}
	q.approve("legal", "contracts", id(ct))
	q.approve("finance", "contracts", id(ct))
	wantFields(t, "approved", q.get("rep.east", "contracts", id(ct)), map[string]string{"status": "approved"})
	res = q.act("rep.east", "contracts", id(ct), "sign", map[string]any{"signed_on": "2026-11-05"}).want(422)
	if _, f, _ := problem(t, res); f["signed_scan"] != "required" {
		t.Fatalf("fields %v", f)
	}
	scan := upload(t, q.c("rep.east"), "合同扫描件.pdf", []byte("%PDF-1.4 signed")).want(201).json()["id"].(string)
	signed := q.act("rep.east", "contracts", id(ct), "sign", map[string]any{"signed_on": "2026-11-05", "signed_scan": scan}).want(200).json()
	wantFields(t, "signed", signed, map[string]string{"status": "signed", "signed_on": "2026-11-05"})
	so := q.get("sales.manager", "sales_orders", signed["sales_order"].(string))
	wantFields(t, "order", so, map[string]string{"status": "pending_review", "contract": id(ct), "quote": id(qt), "account": q.acme,
		"total": qt["total"].(string), "delivery_terms": "到厂交货"})
	if !strings.HasPrefix(so["number"].(string), "SO-202611-") || len(lines(so)) != 2 {
		t.Fatalf("order %v", so)
	}
	wantFields(t, "quote after signing", q.get("rep.east", "quotes", id(qt)), map[string]string{"sales_order": id(so), "contract": id(ct)})
	wantFields(t, "won", q.get("rep.east", "opportunities", q.oppAcme), map[string]string{"status": "won"})
	// The order review: production confirms.
	q.approve("prod.lead", "sales_orders", id(so))
	wantFields(t, "confirmed", q.get("rep.east", "sales_orders", id(so)), map[string]string{"status": "confirmed"})
	// The rep reads the order of their region without its margin.
	if _, ok := q.get("rep.east", "sales_orders", id(so))["margin"]; ok {
		t.Fatal("the rep sees the order's margin")
	}
}

func TestQuotingCreditHoldAndOrdersFromQuotes(t *testing.T) {
	q := newQuotingEnv(t)
	id := func(r map[string]any) string { return r["id"].(string) }
	// This company takes orders from accepted quotes.
	st := q.admin.do("GET", "/api/v1/records/quoting_settings", nil, nil).want(200).items()
	if len(st) != 1 {
		t.Fatalf("settings %v", st)
	}
	q.admin.do("PATCH", "/api/v1/records/quoting_settings/"+id(st[0]), map[string]any{"order_from": "quote"}, nil).want(200)
	q.admin.do("POST", "/api/v1/records/quoting_settings", map[string]any{"name": "第二条"}, nil).want(409)

	// Receivables 150,000 + this order 214,700 > the limit of 300,000.
	qt := q.quote("rep.east", map[string]any{"opportunity": q.oppCre, "lines": []any{line(q.machine, "2")}})
	q.act("rep.east", "quotes", id(qt), "submit", nil).want(200)
	acc := q.act("rep.east", "quotes", id(qt), "accept", nil).want(200).json()
	so := q.get("finance", "sales_orders", acc["sales_order"].(string))
	wantFields(t, "held", so, map[string]string{"status": "credit_hold", "credit_exposure": "364700.00", "credit_limit": "300000.00"})
	if so["credit_hold"] != true {
		t.Fatalf("credit_hold %v", so["credit_hold"])
	}
	wantFields(t, "won", q.get("rep.east", "opportunities", q.oppCre), map[string]string{"status": "won"})
	// Finance decides the credit first, then production reviews.
	if q.hasTask("prod.lead", "sales_orders", id(so)) {
		t.Fatal("production before the credit approval")
	}
	q.approve("finance", "sales_orders", id(so))
	q.approve("prod.lead", "sales_orders", id(so))
	wantFields(t, "confirmed", q.get("finance", "sales_orders", id(so)), map[string]string{"status": "confirmed"})

	// A second order for the account: the first counts as open exposure.
	q2 := q.quote("rep.east", map[string]any{"opportunity": q.oppCre, "lines": []any{line(q.part, "1")}})
	q.act("rep.east", "quotes", id(q2), "submit", nil).want(200)
	acc = q.act("rep.east", "quotes", id(q2), "accept", nil).want(200).json()
	wantFields(t, "second", q.get("finance", "sales_orders", acc["sales_order"].(string)), map[string]string{"status": "credit_hold", "credit_exposure": "366960.00"})
	// Under review the order is locked; afterwards its status moves only
	// through actions.
	q.c("sales.manager").do("PATCH", "/api/v1/records/sales_orders/"+acc["sales_order"].(string), map[string]any{"notes": "x"}, nil).want(409)
	q.c("sales.manager").do("PATCH", "/api/v1/records/sales_orders/"+id(so), map[string]any{"status": "shipped"}, nil).want(422)
}

func TestQuotingSendByEmail(t *testing.T) {
	q := newQuotingEnv(t)
	if err := q.app.Printing.Install(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := notifytest.StartSMTP(t, notifytest.Options{})
	q.admin.do("PUT", "/api/v1/notify/settings", map[string]any{"email_enabled": true, "smtp_host": srv.Host, "smtp_port": srv.Port,
		"smtp_tls": "none", "from_address": "sales@factory.cn", "from_name": "精密机床"}, nil).want(200)
	qt := q.quote("rep.east", map[string]any{"opportunity": q.oppAcme, "lines": []any{line(q.machine, "1"), line(q.part, "2")}})
	id := qt["id"].(string)
	q.act("rep.east", "quotes", id, "send", map[string]any{"to": "buyer@acme.cn"}).want(409) // not approved yet
	q.act("rep.east", "quotes", id, "submit", nil).want(200)
	res := q.act("rep.east", "quotes", id, "send", nil).want(422) // no contact e-mail: "to" is needed
	if _, f, _ := problem(t, res); f["to"] != "required" {
		t.Fatalf("fields %v", f)
	}
	q.act("rep.east", "quotes", id, "send", map[string]any{"to": "not an address"}).want(422)
	sent := q.act("rep.east", "quotes", id, "send", map[string]any{"to": "采购部 <buyer@acme.cn>", "message": "请查收报价。"}).want(200).json()
	wantFields(t, "sent", sent, map[string]string{"status": "sent", "sent_to": "buyer@acme.cn"})
	if _, err := q.app.Jobs.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	m := srv.Wait(1)[0]
	dm, err := notifytest.Decode(m)
	if err != nil {
		t.Fatal(err)
	}
	if m.To[0] != "buyer@acme.cn" || !strings.Contains(dm.Subject, sent["number"].(string)) || !strings.Contains(dm.Text, "请查收报价") {
		t.Fatalf("mail %+v", dm)
	}
	if strings.Contains(dm.Text, "http") {
		t.Fatalf("a customer's mail links into Tenon: %s", dm.Text)
	}
	if len(dm.Attachments) != 1 || dm.Attachments[0].ContentType != "application/pdf" || !strings.HasPrefix(string(dm.Attachments[0].Data), "%PDF") ||
		!strings.HasSuffix(dm.Attachments[0].Name, ".pdf") {
		t.Fatalf("attachments %+v", dm.Attachments)
	}
}

func TestQuotingReviewsExportAndExpiry(t *testing.T) {
	q := newQuotingEnv(t)
	id := func(r map[string]any) string { return r["id"].(string) }
	// A non-standard line opens an engineering review task (once), and the
	// quote cannot be submitted until it is done.
	qt := q.quote("rep.east", map[string]any{"opportunity": q.oppAcme, "lines": []any{line(q.machine, "1"),
		map[string]any{"non_standard": true, "description": "加长工作台 4000mm（非标）", "quantity": "1", "unit_price": "56000"}}})
	wantFields(t, "non-standard line", lines(qt)[1], map[string]string{"amount": "56000.00"})
	q.c("rep.east").do("PATCH", "/api/v1/records/quotes/"+id(qt), map[string]any{"notes": "客户要求加长"}, nil).want(200)
	tasks := q.admin.do("GET", "/api/v1/records/tasks?filter="+url.QueryEscape(`related_entity == "quotes" && related_id == "`+id(qt)+`"`), nil, nil).want(200).items()
	if len(tasks) != 1 || !strings.Contains(tasks[0]["title"].(string), "加长工作台") || tasks[0]["owner"] != q.users["rep.east"] {
		t.Fatalf("review tasks %v", tasks)
	}
	res := q.act("rep.east", "quotes", id(qt), "submit", nil).want(409)
	if code, _, _ := problem(t, res); code != "quoting_review_open" {
		t.Fatalf("code %s", code)
	}
	q.admin.do("PATCH", "/api/v1/records/tasks/"+id(tasks[0]), map[string]any{"status": "done"}, nil).want(200)
	q.act("rep.east", "quotes", id(qt), "submit", nil).want(200)

	// The rep's export has neither cost nor margin; the manager's has both.
	repCSV := string(q.c("rep.east").do("GET", "/api/v1/records/quotes/export?format=csv", nil, nil).want(200).body)
	mgrCSV := string(q.c("sales.manager").do("GET", "/api/v1/records/quotes/export?format=csv", nil, nil).want(200).body)
	for _, label := range []string{"毛利", "成本合计"} {
		if strings.Contains(repCSV, label) || !strings.Contains(mgrCSV, label) {
			t.Fatalf("export column %s: rep %v, manager %v", label, strings.Contains(repCSV, label), strings.Contains(mgrCSV, label))
		}
	}

	// Approved quotes past their validity expire (the daily job).
	old := q.quote("rep.east", map[string]any{"opportunity": q.oppAcme, "valid_until": "2026-11-01", "lines": []any{line(q.part, "1")}})
	q.act("rep.east", "quotes", id(old), "submit", nil).want(200)
	res = q.act("rep.east", "quotes", id(old), "accept", nil).want(409)
	if code, _, _ := problem(t, res); code != "quoting_quote_expired" {
		t.Fatalf("code %s", code)
	}
	if n, err := q.app.Quoting.ExpireQuotes(context.Background()); err != nil || n != 1 {
		t.Fatalf("expired %d, %v", n, err)
	}
	wantFields(t, "expired", q.get("rep.east", "quotes", id(old)), map[string]string{"status": "expired"})
	wantFields(t, "still approved", q.get("rep.east", "quotes", id(qt)), map[string]string{"status": "approved"})
}

// TestQuotingWebhookWithoutMargin: a webhook owned by a rep carries the
// rep's view of a quote: no cost or margin, in the record or its lines.
func TestQuotingWebhookWithoutMargin(t *testing.T) {
	q := newQuotingEnv(t)
	hook := q.admin.do("POST", "/api/v1/records/webhooks", map[string]any{"url": "https://erp.example.com/tenon", "entity": "quotes",
		"events": []string{"created"}, "owner": q.users["rep.east"]}, nil).want(201).json()
	q.quote("rep.east", map[string]any{"opportunity": q.oppAcme, "lines": []any{line(q.machine, "1")}})
	ds := q.admin.do("GET", "/api/v1/records/webhook_deliveries?filter="+url.QueryEscape(`webhook == "`+hook["id"].(string)+`"`), nil, nil).want(200).items()
	if len(ds) != 1 {
		t.Fatalf("deliveries %v", ds)
	}
	payload := fmt.Sprint(ds[0])
	if !strings.Contains(payload, "数控折弯机") || !strings.Contains(payload, "107350") {
		t.Fatalf("the delivery lacks the quote: %s", payload)
	}
	for _, secret := range []string{"margin", "unit_cost", "cost_total", "60000"} {
		if strings.Contains(payload, secret) {
			t.Fatalf("the rep's webhook carries %s: %s", secret, payload)
		}
	}
}
