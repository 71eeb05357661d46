package quoting

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// settle fills a document's lines from the catalog and computes its
// totals in place (quotes, contracts and sales orders alike). With resolve,
// catalog lines get their list price from the price books (quotes); the
// others keep the prices they were given.
func (m *Module) settle(ctx context.Context, rec records.Record, resolve bool) error {
	currency := str(rec["currency"])
	if currency == "" {
		currency = "CNY"
		rec["currency"] = currency
	}
	rate, err := m.rate(ctx, currency)
	if err != nil {
		return err
	}
	rec["exchange_rate"] = rate
	lines, _ := rec["lines"].([]records.Record)
	ids := make([]int64, 0, len(lines))
	for _, l := range lines {
		if pid := id(l["product"]); pid != 0 {
			ids = append(ids, pid)
		}
	}
	prods, err := m.products(ctx, ids)
	if err != nil {
		return err
	}
	h := Header{DiscountPct: dec(rec["discount_pct"]), Freight: dec(rec["freight"]), Installation: dec(rec["installation"]),
		Training: dec(rec["training"]), TaxRate: dec(rec["tax_rate"]), TaxIncluded: rec["tax_included"] == true}
	q := PriceQuery{Currency: currency, Rate: rate, Account: id(rec["account"]), Date: m.today(), TaxRate: h.TaxRate, TaxIncluded: h.TaxIncluded}
	if q.Account != 0 {
		// The document takes the account's region (the reps' data scope).
		if acc, err := m.recs.Get(ctx, access.System(), Accounts, q.Account, records.GetOptions{Fields: []string{"region"}}); err == nil {
			q.Region = str(acc["region"])
			if q.Region != "" {
				rec["region"] = q.Region
			} else {
				delete(rec, "region")
			}
		}
	}
	var books *bookIndex
	if resolve {
		if books, err = m.books.Get(ctx); err != nil {
			return err
		}
	}
	var errs []apperr.FieldError
	in := make([]Line, len(lines))
	for i, l := range lines {
		pid := id(l["product"])
		p, known := prods[pid]
		switch {
		case pid != 0 && !known:
			errs = append(errs, apperr.Field(itemPath("lines", i, "product"), "quoting_product_unknown"))
			continue
		case pid == 0 && l["non_standard"] != true && resolve:
			errs = append(errs, apperr.Field(itemPath("lines", i, "product"), "quoting_line_needs_product"))
			continue
		case pid == 0 && str(l["description"]) == "":
			errs = append(errs, apperr.Field(itemPath("lines", i, "description"), "required"))
			continue
		}
		if known {
			setIfEmpty(l, "description", p.name)
			setIfEmpty(l, "unit", p.unit)
			setIfEmpty(l, "spec", p.spec)
			if p.hasCost {
				l["unit_cost"] = cents(p.stdCost.DivRound(rate, 16))
			}
			if resolve {
				q.Product, q.Quantity, q.ProductPrice, q.HasProduct = pid, dec(l["quantity"]), p.listPrice, p.hasPrice
				pr := books.resolve(q)
				if pr.Found {
					l["list_price"] = pr.UnitPrice
					l["price_source"] = pr.Source
				} else {
					delete(l, "list_price")
					l["price_source"] = ""
				}
			}
		}
		if l["unit_price"] == nil {
			lp, ok := l["list_price"].(decimal.Decimal)
			if !ok {
				errs = append(errs, apperr.Field(itemPath("lines", i, "unit_price"), "required"))
				continue
			}
			l["unit_price"] = lp
		}
		if l["discount_pct"] == nil {
			l["discount_pct"] = decimal.Zero
		}
		in[i] = Line{Quantity: dec(l["quantity"]), UnitPrice: dec(l["unit_price"]), DiscountPct: dec(l["discount_pct"]),
			UnitCost: dec(l["unit_cost"]), ListPrice: dec(l["list_price"])}
	}
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	t := Compute(h, in)
	for i, l := range lines {
		l["amount"], l["cost"] = t.Amounts[i], t.Costs[i]
	}
	rec["subtotal"], rec["discount_amount"], rec["net_amount"], rec["tax_amount"], rec["total"] = t.Subtotal, t.DiscountAmount, t.Net, t.Tax, t.Total
	rec["total_cny"] = cents(t.Total.Mul(rate))
	rec["cost_total"], rec["margin"], rec["margin_pct"] = t.CostTotal, t.Margin, t.MarginPct
	if resolve { // quotes: approval routes by it
		rec["max_discount"] = t.MaxDiscount
	}
	return nil
}

func setIfEmpty(r records.Record, k, v string) {
	if str(r[k]) == "" && v != "" {
		r[k] = v
	}
}

// today is the date in China.
func (m *Module) today() string { return m.now().In(meta.Shanghai).Format(time.DateOnly) }

// stamp is the time recorded on a document.
func (m *Module) stamp() time.Time { return m.now().UTC().Truncate(time.Microsecond) }

// guard refuses changes a client may not make to a document: its status
// (only the actions and the approval flow change it) and anything of a
// document no longer editable in its status.
func guard(ctx context.Context, c *records.Change, editable ...string) error {
	if inTransition(ctx) || c.P.Source == access.SourceFlow {
		return nil
	}
	if c.Op == records.OpCreate {
		return nil
	}
	old := str(c.Old["status"])
	if str(c.New["status"]) != old {
		return apperr.Fields(apperr.Field("status", "quoting_status_by_action"))
	}
	for _, s := range editable {
		if old == s {
			return nil
		}
	}
	return apperr.Conflict("quoting_document_locked", "status", old)
}

// copyLines copies document lines for another document (without row ids).
func copyLines(v any, fields ...string) []any {
	rows, _ := v.([]records.Record)
	out := make([]any, 0, len(rows))
	for _, r := range rows {
		n := map[string]any{}
		for _, f := range fields {
			if x, ok := r[f]; ok && x != nil {
				n[f] = x
			}
		}
		out = append(out, n)
	}
	return out
}

// lineFields are the line fields carried from a quote to a contract and
// an order.
var lineFields = []string{"product", "description", "spec", "unit", "quantity", "list_price", "unit_price", "discount_pct", "unit_cost", "price_source", "delivery_date"}

// headerFields are the header fields carried likewise.
var headerFields = []string{"account", "contact", "currency", "tax_rate", "tax_included", "discount_pct", "freight", "installation", "training", "delivery_terms", "payment_terms"}

// carry copies the header fields of a document into an input map.
func carry(from records.Record, to map[string]any, fields ...string) {
	for _, f := range fields {
		if x, ok := from[f]; ok && x != nil {
			to[f] = x
		}
	}
}

// asSystem is the system acting for a user (documents the module creates
// on its own, such as the sales order of a signed contract).
func asSystem(p *access.Principal) *access.Principal { return access.SystemFor(p.UserID) }
