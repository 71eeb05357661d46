package quoting

import (
	"net/http"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Surface is the module's HTTP routes besides the records API: the price
// lookup of the quote editor. Quotes, contracts and orders move through
// record actions (POST /api/v1/records/quotes/{id}/actions/submit|send|
// accept|reject|revise|create_contract, contracts: submit|sign|cancel,
// sales_orders: submit|cancel).
func (m *Module) Surface() httpapi.Surface { return surface{m} }

type surface struct{ m *Module }

func (s surface) Routes() []httpapi.Route {
	p := func(name, desc string) httpapi.Param { return httpapi.Param{Name: name, Description: desc} }
	return []httpapi.Route{{Method: "GET", Path: "/api/v1/quoting/price", Scope: auth.ScopeRecordsRead, Tag: "quoting",
		Summary: "The price a quote line would get: the winning price book (or the product's list price), in the currency and VAT mode asked for",
		Query: []httpapi.Param{p("product", "product id"), p("quantity", "quantity (default 1)"), p("account", "account id (customer, dealer and regional books)"),
			p("currency", "currency code (default CNY)"), p("tax_included", "true: the price with VAT (default true)"), p("tax_rate", "VAT rate in percent (default 13)")},
		Response: map[string]any{"type": "object"}, Errors: []int{400, 401, 403, 404}, Handle: s.price}}
}

// PriceView is the price lookup's answer; unit_cost only for callers who
// may see the product's standard cost.
type PriceView struct {
	Price
	Product  int64            `json:"product,string"`
	Name     string           `json:"name"`
	Unit     string           `json:"unit"`
	UnitCost *decimal.Decimal `json:"unit_cost,omitempty"`
}

func (s surface) price(w http.ResponseWriter, r *http.Request) error {
	ctx, caller := r.Context(), httpapi.Caller(r)
	if err := s.m.ensureInstalled(ctx); err != nil {
		return err
	}
	q := r.URL.Query()
	pid, err := strconv.ParseInt(q.Get("product"), 10, 64)
	if err != nil || pid <= 0 {
		return apperr.Invalid("quoting_bad_parameter", "name", "product")
	}
	// The caller must be able to read the product; what they see of it
	// decides whether the cost is shown.
	if _, err := s.m.recs.Get(ctx, caller, Products, pid, records.GetOptions{Fields: []string{"id"}}); err != nil {
		return err
	}
	dq := func(name, def string) (decimal.Decimal, error) {
		v := q.Get(name)
		if v == "" {
			v = def
		}
		d, err := decimal.NewFromString(v)
		if err != nil || d.Sign() < 0 {
			return d, apperr.Invalid("quoting_bad_parameter", "name", name)
		}
		return d, nil
	}
	qty, err := dq("quantity", "1")
	if err != nil {
		return err
	}
	rate, err := dq("tax_rate", "13")
	if err != nil {
		return err
	}
	pq := PriceQuery{Product: pid, Quantity: qty, Currency: q.Get("currency"), Date: s.m.today(), TaxRate: rate, TaxIncluded: q.Get("tax_included") != "false"}
	if pq.Currency == "" {
		pq.Currency = "CNY"
	}
	if pq.Rate, err = s.m.rate(ctx, pq.Currency); err != nil {
		return err
	}
	if a := q.Get("account"); a != "" {
		aid, err := strconv.ParseInt(a, 10, 64)
		if err != nil || aid <= 0 {
			return apperr.Invalid("quoting_bad_parameter", "name", "account")
		}
		acc, err := s.m.recs.Get(ctx, caller, Accounts, aid, records.GetOptions{Fields: []string{"region"}})
		if err != nil {
			return err
		}
		pq.Account, pq.Region = aid, str(acc["region"])
	}
	prods, err := s.m.products(ctx, []int64{pid})
	if err != nil {
		return err
	}
	pr := prods[pid]
	pq.ProductPrice, pq.HasProduct = pr.listPrice, pr.hasPrice
	books, err := s.m.books.Get(ctx)
	if err != nil {
		return err
	}
	out := PriceView{Price: books.resolve(pq), Product: pid, Name: pr.name, Unit: pr.unit}
	if pr.hasCost && !caller.RightsOn(Products).Hidden("standard_cost") && !caller.RightsOn(Quotes).Hidden("unit_cost") {
		c := cents(pr.stdCost.DivRound(pq.Rate, 16))
		out.UnitCost = &c
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}
