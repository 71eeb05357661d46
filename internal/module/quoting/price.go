package quoting

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Book kinds, most specific first (the order of precedence).
var bookKinds = []string{"customer", "dealer", "regional", "list"}

// bookPrice is one item of an active price book.
type bookPrice struct {
	book        int64
	name        string
	kind        int // index in bookKinds
	currency    string
	region      string
	account     int64
	taxIncluded bool
	from, to    string // YYYY-MM-DD, "" open
	priority    int64
	minQty      decimal.Decimal
	price       decimal.Decimal
}

// bookIndex holds the items of every active price book by product, in
// order of precedence (kind, priority, valid_from, book id; then the
// largest volume break first).
type bookIndex struct{ byProduct map[int64][]bookPrice }

// loadBooks builds the index (records.Derived: rebuilt after a price book
// changes).
func (m *Module) loadBooks(ctx context.Context) (*bookIndex, error) {
	idx := &bookIndex{byProduct: map[int64][]bookPrice{}}
	sys := access.System()
	for page := 1; ; page++ {
		res, err := m.recs.List(ctx, sys, PriceBooks, records.ListOptions{Filter: "active == true", Sort: "id", Page: page, PerPage: records.MaxPerPage, Count: records.CountNone,
			Fields: []string{"name", "kind", "currency", "region", "account", "tax_included", "valid_from", "valid_to", "priority", "items"}})
		if err != nil {
			return nil, err
		}
		for _, b := range res.Items {
			kind := slices.Index(bookKinds, str(b["kind"]))
			if kind < 0 {
				continue
			}
			base := bookPrice{book: b.ID(), name: str(b["name"]), kind: kind, currency: str(b["currency"]), region: str(b["region"]),
				account: id(b["account"]), taxIncluded: b["tax_included"] == true, from: str(b["valid_from"]), to: str(b["valid_to"]), priority: num(b["priority"])}
			items, _ := b["items"].([]records.Record)
			for _, it := range items {
				p := base
				p.minQty, p.price = dec(it["min_quantity"]), dec(it["unit_price"])
				pid := id(it["product"])
				idx.byProduct[pid] = append(idx.byProduct[pid], p)
			}
		}
		if len(res.Items) < records.MaxPerPage {
			break
		}
	}
	sortBooks(idx)
	return idx, nil
}

// sortBooks orders each product's prices by precedence.
func sortBooks(idx *bookIndex) {
	for _, list := range idx.byProduct {
		slices.SortStableFunc(list, func(a, b bookPrice) int {
			switch {
			case a.kind != b.kind:
				return a.kind - b.kind
			case a.priority != b.priority:
				return cmpInt(b.priority, a.priority)
			case a.from != b.from:
				return strings.Compare(b.from, a.from)
			case a.book != b.book:
				return cmpInt(b.book, a.book)
			}
			return b.minQty.Cmp(a.minQty)
		})
	}
}

// PriceQuery is what a price depends on.
type PriceQuery struct {
	Product     int64
	Quantity    decimal.Decimal
	Currency    string
	Rate        decimal.Decimal // CNY per unit of Currency
	Account     int64
	Region      string
	Date        string // YYYY-MM-DD
	TaxRate     decimal.Decimal
	TaxIncluded bool
	// ProductPrice is the product's own list price (CNY, before VAT).
	ProductPrice decimal.Decimal
	HasProduct   bool
}

// Price is a resolved price and where it came from.
type Price struct {
	UnitPrice decimal.Decimal `json:"unit_price"`
	Source    string          `json:"source"`
	Book      int64           `json:"book,string,omitempty"`
	Found     bool            `json:"found"`
}

// resolve applies the precedence of the package documentation.
func (ix *bookIndex) resolve(q PriceQuery) Price {
	for _, p := range ix.byProduct[q.Product] {
		if p.currency != q.Currency || (p.from != "" && q.Date < p.from) || (p.to != "" && q.Date > p.to) || p.minQty.GreaterThan(q.Quantity) {
			continue
		}
		switch bookKinds[p.kind] {
		case "customer", "dealer":
			if p.account == 0 || p.account != q.Account {
				continue
			}
		case "regional":
			if p.region == "" || p.region != q.Region {
				continue
			}
		}
		price := p.price
		if p.taxIncluded != q.TaxIncluded {
			price = convertTax(price, q.TaxRate, p.taxIncluded)
		}
		src := p.name
		if p.minQty.Sign() > 0 {
			src += " ≥" + p.minQty.String()
		}
		return Price{UnitPrice: price, Source: src, Book: p.book, Found: true}
	}
	if !q.HasProduct {
		return Price{}
	}
	price := q.ProductPrice
	if q.Rate.Sign() > 0 && !q.Rate.Equal(decimal.NewFromInt(1)) {
		price = cents(price.DivRound(q.Rate, 16))
	}
	if q.TaxIncluded {
		price = convertTax(price, q.TaxRate, false)
	}
	return Price{UnitPrice: price, Source: "product", Found: true}
}

// convertTax turns a price with VAT into one without (included) or the
// other way round, rounded to the cent.
func convertTax(price, rate decimal.Decimal, included bool) decimal.Decimal {
	factor := hundred.Add(rate).Div(hundred)
	if included {
		return cents(price.DivRound(factor, 16))
	}
	return cents(price.Mul(factor))
}

// product is what lines need of a product.
type product struct {
	id                 int64
	code, name, unit   string
	listPrice, stdCost decimal.Decimal
	hasPrice, hasCost  bool
	spec               string
}

// products reads the products of ids as the system (prices and costs are
// the module's business; what the caller sees of them is decided when the
// document is read).
func (m *Module) products(ctx context.Context, ids []int64) (map[int64]product, error) {
	out := make(map[int64]product, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	res, err := m.recs.List(ctx, access.System(), Products, records.ListOptions{Filter: "id in [" + joinIDs(ids) + "]", PerPage: records.MaxPerPage, Count: records.CountNone,
		Fields: []string{"code", "name", "unit", "list_price", "standard_cost", "model"}})
	if err != nil {
		return nil, err
	}
	for _, r := range res.Items {
		p := product{id: r.ID(), code: str(r["code"]), name: str(r["name"]), unit: str(r["unit"]), spec: str(r["model"])}
		p.listPrice, p.hasPrice = r["list_price"].(decimal.Decimal)
		p.stdCost, p.hasCost = r["standard_cost"].(decimal.Decimal)
		out[p.id] = p
	}
	return out, nil
}

// rate returns the exchange rate of a currency (CNY per unit): 1 for CNY,
// the active currencies record otherwise.
func (m *Module) rate(ctx context.Context, code string) (decimal.Decimal, error) {
	if code == "" || code == "CNY" {
		return decimal.NewFromInt(1), nil
	}
	res, err := m.recs.List(ctx, access.System(), Currencies, records.ListOptions{Filter: "code == \"" + code + "\" && active == true", PerPage: 1, Count: records.CountNone, Fields: []string{"rate"}})
	if err != nil {
		return decimal.Zero, err
	}
	if len(res.Items) == 0 {
		return decimal.Zero, apperr.Fields(apperr.Field("currency", "quoting_currency_no_rate", "currency", code))
	}
	r := dec(res.Items[0]["rate"])
	if r.Sign() <= 0 {
		return decimal.Zero, apperr.Fields(apperr.Field("currency", "quoting_currency_no_rate", "currency", code))
	}
	return r, nil
}

// beforeBook checks a price book: valid_to not before valid_from, one
// price per product and break.
func beforeBook(_ context.Context, c *records.Change) error {
	if c.New == nil {
		return nil
	}
	from, to := str(c.New["valid_from"]), str(c.New["valid_to"])
	if from != "" && to != "" && to < from {
		return apperr.Fields(apperr.Field("valid_to", "quoting_book_dates"))
	}
	items, _ := c.New["items"].([]records.Record)
	seen := map[string]bool{}
	var errs []apperr.FieldError
	for i, it := range items {
		k := strconv.FormatInt(id(it["product"]), 10) + "/" + dec(it["min_quantity"]).String()
		if seen[k] {
			errs = append(errs, apperr.Field(itemPath("items", i, "min_quantity"), "quoting_book_item_repeated"))
		}
		seen[k] = true
	}
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	return nil
}
