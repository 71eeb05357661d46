package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// QuotingDeps are what the quote-to-order demo needs besides the records
// service: deciding approvals as the approvers would, and storing the
// scan of a signed contract.
type QuotingDeps struct {
	// Approve approves every pending task of the record's running flow, as
	// each task's assignee, until the flow ends.
	Approve func(ctx context.Context, entity string, id int64) error
	// Scan stores a signed contract's scan for a user and returns its id.
	Scan func(ctx context.Context, name string, user int64) (string, error)
}

// LoadQuoting adds the quote-to-order business to the demo company: two
// foreign currencies, a catalog of machines, automation, parts and
// services, price books (the list, a region, a dealer, export prices in
// USD, volume breaks), and quotes in every status — drafts, quotes waiting
// for the sales manager's approval, approved, sent, accepted, rejected and
// expired ones, a revised quote — with their contracts (awaiting legal,
// signed) and the sales orders of the signed ones.
// Everything goes through the module's actions and approval flows, as
// the users would. It does nothing when products exist already; it needs
// LoadCompany's opportunities and the quoting module's flows.
func LoadQuoting(ctx context.Context, recs *records.Service, clk Clock, deps QuotingDeps) error {
	if _, ok := recs.Registry().Get("quotes"); !ok {
		return nil
	}
	sys := access.System()
	if n, err := recs.Count(ctx, sys, "products", ""); err != nil || n > 0 {
		return err
	}
	start := clk.Now()
	defer clk.Set(start)
	q := &quoteGen{recs: recs, sys: sys, deps: deps, clk: clk, now: start}
	for _, step := range []func(context.Context) error{q.catalog, q.books, q.quotes} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

type quoteGen struct {
	recs     *records.Service
	sys      *access.Principal
	deps     QuotingDeps
	clk      Clock
	now      time.Time
	products map[string]string // code → id
}

func (q *quoteGen) create(ctx context.Context, p *access.Principal, entity string, in map[string]any) (records.Record, error) {
	r, err := q.recs.Create(ctx, p, entity, in)
	if err != nil {
		return nil, fmt.Errorf("demo %s: %w", entity, err)
	}
	return r, nil
}

// demoProducts: code, name, kind, product line, model, unit, list price,
// standard cost, lead time (days), safety stock.
var demoProducts = [][10]string{
	{"ZB-6332", "数控折弯机", "finished", "equipment", "WE67K-160/3200", "台", "368000", "221000", "45", "0"},
	{"JG-3015", "光纤激光切割机", "finished", "equipment", "LF3015 3kW", "台", "520000", "338000", "60", "0"},
	{"JX-0610", "六轴焊接机器人工作站", "finished", "automation", "RW-1400", "套", "286000", "171600", "50", "0"},
	{"SL-1200", "自动上下料机械手", "finished", "automation", "SL-1200", "套", "98000", "58800", "30", "0"},
	{"YZ-80", "液压站总成", "semi", "parts", "HP-80", "台", "26500", "15900", "20", "4"},
	{"MJ-M20", "折弯上模 88°", "spare", "parts", "M20-88", "套", "4800", "2400", "10", "20"},
	{"MF-150", "液压密封件包", "spare", "parts", "MF-150", "包", "860", "390", "7", "100"},
	{"SV-INST", "安装调试服务", "finished", "service", "", "次", "12000", "6000", "0", "0"},
	{"SV-TRN", "操作培训（3 天）", "finished", "service", "", "次", "8000", "3500", "0", "0"},
	{"GB-Q235", "Q235 钢板 δ6", "raw", "other", "1500×6000", "吨", "4300", "4100", "5", "30"},
}

func (q *quoteGen) catalog(ctx context.Context) error {
	for _, c := range [][3]string{{"USD", "美元", "7.10"}, {"EUR", "欧元", "7.75"}} {
		if _, err := q.create(ctx, q.sys, "currencies", map[string]any{"code": c[0], "name": c[1], "rate": c[2], "rate_date": q.now.Format(time.DateOnly)}); err != nil {
			return err
		}
	}
	q.products = map[string]string{}
	for _, p := range demoProducts {
		in := map[string]any{"code": p[0], "name": p[1], "kind": p[2], "product_line": p[3], "unit": p[5], "list_price": p[6],
			"standard_cost": p[7], "lead_time_days": p[8], "safety_stock": p[9], "revision": "A",
			"parameters": []any{map[string]any{"name": "型号", "value": p[4]}}}
		if p[4] != "" {
			in["model"] = p[4]
		}
		r, err := q.create(ctx, q.sys, "products", in)
		if err != nil {
			return err
		}
		q.products[p[0]] = fmt.Sprint(r.ID())
	}
	return nil
}

func (q *quoteGen) item(code, price string, minQty ...string) map[string]any {
	it := map[string]any{"product": q.products[code], "unit_price": price}
	if len(minQty) > 0 {
		it["min_quantity"] = minQty[0]
	}
	return it
}

func (q *quoteGen) books(ctx context.Context) error {
	dealer, err := q.recs.List(ctx, q.sys, "accounts", records.ListOptions{Filter: `region == "华东"`, Sort: "id", PerPage: 1, Count: records.CountNone})
	if err != nil || len(dealer.Items) == 0 {
		return err
	}
	year := q.now.Format("2006")
	books := []map[string]any{
		{"name": year + " 标准价目表", "kind": "list", "currency": "CNY", "valid_from": year + "-01-01", "valid_to": year + "-12-31",
			"description": "备件阶梯价：折弯上模 10 套起、密封件包 50 包起",
			"items":       []any{q.item("MJ-M20", "4800"), q.item("MJ-M20", "4300", "10"), q.item("MF-150", "860"), q.item("MF-150", "720", "50")}},
		{"name": "华南区域价", "kind": "regional", "currency": "CNY", "region": "华南",
			"items": []any{q.item("ZB-6332", "358000"), q.item("JG-3015", "505000")}},
		{"name": "经销商价（" + fmt.Sprint(dealer.Items[0]["name"]) + "）", "kind": "dealer", "currency": "CNY", "account": dealer.Items[0].ID(),
			"items": []any{q.item("ZB-6332", "330000"), q.item("SL-1200", "86000")}},
		{"name": "出口价（USD）", "kind": "list", "currency": "USD", "tax_included": false,
			"items": []any{q.item("ZB-6332", "52800"), q.item("JG-3015", "74500"), q.item("JX-0610", "41000")}},
	}
	for _, b := range books {
		if _, err := q.create(ctx, q.sys, "price_books", b); err != nil {
			return err
		}
	}
	return nil
}

// as is the system acting for a user (the flows take the user as the
// submitter, so the user's manager approves).
func as(user any) *access.Principal {
	id, _ := user.(int64)
	return access.SystemFor(id)
}

// plan is one demo quote: its lines (code, quantity, discount) and how far
// it goes.
type plan struct {
	lines    [][3]string
	discount string // header discount
	to       string // draft, pending, approved, sent, accepted, rejected, expired, revised, contract_pending, signed
}

var plans = []plan{
	{[][3]string{{"ZB-6332", "1", "0"}, {"MJ-M20", "4", "0"}}, "0", "draft"},
	{[][3]string{{"SL-1200", "2", "5"}, {"SV-INST", "1", "0"}}, "0", "draft"},
	{[][3]string{{"JG-3015", "1", "15"}, {"SV-TRN", "1", "0"}}, "0", "pending"},
	{[][3]string{{"JX-0610", "2", "12"}}, "0", "pending"},
	{[][3]string{{"ZB-6332", "1", "5"}, {"SV-INST", "1", "0"}}, "0", "approved"},
	{[][3]string{{"SL-1200", "3", "0"}, {"MF-150", "60", "0"}}, "3", "sent"},
	{[][3]string{{"ZB-6332", "2", "8"}}, "0", "rejected"},
	{[][3]string{{"YZ-80", "4", "0"}}, "0", "expired"},
	{[][3]string{{"JG-3015", "1", "6"}, {"SV-INST", "1", "0"}, {"SV-TRN", "1", "0"}}, "0", "revised"},
	{[][3]string{{"SL-1200", "1", "0"}, {"MJ-M20", "12", "0"}}, "0", "accepted"},
	{[][3]string{{"ZB-6332", "1", "5"}, {"SV-INST", "1", "0"}}, "0", "contract_pending"},
	{[][3]string{{"JX-0610", "1", "8"}, {"SV-TRN", "1", "0"}}, "0", "signed"},
	{[][3]string{{"ZB-6332", "2", "0"}, {"MJ-M20", "10", "0"}}, "2", "signed"},
}

func (q *quoteGen) quotes(ctx context.Context) error {
	opps, err := q.recs.List(ctx, q.sys, "opportunities", records.ListOptions{Filter: `status == "open"`, Sort: "-amount", PerPage: len(plans), Count: records.CountNone,
		Fields: []string{"name", "owner", "account", "created_at"}})
	if err != nil {
		return err
	}
	for i, opp := range opps.Items {
		if err := q.quote(ctx, opp, plans[i], i); err != nil {
			return err
		}
	}
	return nil
}

// quote makes the n-th quote: requested a day after its opportunity came
// in (at most 40 days ago, at least 8), submitted, approved and sent some
// hours apart, and the later steps a day apart, on the demo's clock.
func (q *quoteGen) quote(ctx context.Context, opp records.Record, pl plan, n int) error {
	owner := as(opp["owner"])
	at := q.now.AddDate(0, 0, -40)
	if c, ok := opp["created_at"].(time.Time); ok && c.AddDate(0, 0, 1).After(at) {
		at = c.AddDate(0, 0, 1)
	}
	if limit := q.now.AddDate(0, 0, -8); at.After(limit) {
		at = limit
	}
	step := func(hours int) { at = at.Add(time.Duration(hours) * time.Hour); q.clk.Set(at) }
	step(0)
	var ls []any
	for _, l := range pl.lines {
		ls = append(ls, map[string]any{"product": q.products[l[0]], "quantity": l[1], "discount_pct": l[2]})
	}
	in := map[string]any{"opportunity": opp.ID(), "owner": opp["owner"], "discount_pct": pl.discount, "lines": ls,
		"delivery_terms": "合同生效后 45 天内交货，到厂交货", "payment_terms": "预付 30%，发货前 60%，质保金 10%"}
	if pl.to == "expired" {
		in["valid_until"] = q.now.AddDate(0, 0, -3).Format(time.DateOnly)
	}
	qt, err := q.create(ctx, owner, "quotes", in)
	if err != nil {
		return err
	}
	id := qt.ID()
	act := func(entity string, rid int64, name string, in map[string]any) (records.Record, error) {
		r, err := q.recs.RunAction(ctx, owner, entity, rid, name, in)
		if err != nil {
			return nil, fmt.Errorf("demo %s %s: %w", entity, name, err)
		}
		return r, nil
	}
	if pl.to == "draft" {
		return nil
	}
	step(2 + n*7%30)
	sub, err := act("quotes", id, "submit", nil)
	if err != nil {
		return err
	}
	switch pl.to {
	case "pending", "approved", "expired":
		return nil
	}
	// Large quotes need the managers' approval before they go out.
	if sub["status"] == "pending_approval" {
		step(3 + n*11%40)
		if err := q.deps.Approve(ctx, "quotes", id); err != nil {
			return err
		}
	}
	if pl.to == "revised" {
		_, err := act("quotes", id, "revise", nil)
		return err
	}
	step(1 + n*5%20)
	if _, err := act("quotes", id, "send", map[string]any{"channel": "manual"}); err != nil || pl.to == "sent" {
		return err
	}
	if pl.to == "rejected" {
		_, err := act("quotes", id, "reject", map[string]any{"reason": "客户选择了价格更低的竞品"})
		return err
	}
	step(24)
	if _, err := act("quotes", id, "accept", nil); err != nil || pl.to == "accepted" {
		return err
	}
	withContract, err := act("quotes", id, "create_contract", nil)
	if err != nil {
		return err
	}
	ct, _ := withContract["contract"].(int64)
	step(24)
	if _, err := act("contracts", ct, "submit", nil); err != nil || pl.to == "contract_pending" {
		return err
	}
	step(24)
	if err := q.deps.Approve(ctx, "contracts", ct); err != nil {
		return err
	}
	scan, err := q.deps.Scan(ctx, "合同扫描件.pdf", owner.UserID)
	if err != nil {
		return err
	}
	step(24)
	_, err = act("contracts", ct, "sign", map[string]any{"signed_scan": scan, "signed_on": at.In(meta.Shanghai).Format(time.DateOnly)})
	return err
}
