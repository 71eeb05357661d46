package quoting

import (
	"github.com/shopspring/decimal"
)

// Line is what the totals need of a document line.
type Line struct {
	Quantity    decimal.Decimal
	UnitPrice   decimal.Decimal
	DiscountPct decimal.Decimal
	UnitCost    decimal.Decimal
	// ListPrice is the resolved catalog price (zero: none, as for a
	// non-standard line); a net price below it counts as a discount.
	ListPrice decimal.Decimal
}

// Header is what the totals need of a document.
type Header struct {
	DiscountPct  decimal.Decimal
	Freight      decimal.Decimal
	Installation decimal.Decimal
	Training     decimal.Decimal
	TaxRate      decimal.Decimal // percent
	TaxIncluded  bool
}

// Totals are a document's computed figures (see the package documentation
// for the rounding).
type Totals struct {
	Amounts        []decimal.Decimal // per line
	Costs          []decimal.Decimal // per line
	Subtotal       decimal.Decimal
	DiscountAmount decimal.Decimal
	Net            decimal.Decimal
	Tax            decimal.Decimal
	Total          decimal.Decimal
	CostTotal      decimal.Decimal
	Margin         decimal.Decimal
	MarginPct      decimal.Decimal
	MaxDiscount    decimal.Decimal
}

var hundred = decimal.NewFromInt(100)

// cents rounds half up (away from zero) to two decimals.
func cents(d decimal.Decimal) decimal.Decimal { return d.Round(2) }

// Compute returns the totals of a document's lines and header.
func Compute(h Header, lines []Line) Totals {
	t := Totals{Amounts: make([]decimal.Decimal, len(lines)), Costs: make([]decimal.Decimal, len(lines)), MaxDiscount: h.DiscountPct}
	for i, l := range lines {
		keep := hundred.Sub(l.DiscountPct).Div(hundred)
		t.Amounts[i] = cents(l.Quantity.Mul(l.UnitPrice).Mul(keep))
		t.Subtotal = t.Subtotal.Add(t.Amounts[i])
		t.Costs[i] = cents(l.Quantity.Mul(l.UnitCost))
		t.CostTotal = t.CostTotal.Add(t.Costs[i])
		if d := lineDiscount(l); d.GreaterThan(t.MaxDiscount) {
			t.MaxDiscount = d
		}
	}
	t.DiscountAmount = cents(t.Subtotal.Mul(h.DiscountPct).Div(hundred))
	goods := t.Subtotal.Sub(t.DiscountAmount)
	charges := h.Freight.Add(h.Installation).Add(h.Training)
	factor := hundred.Add(h.TaxRate).Div(hundred)
	goodsNet := goods
	if h.TaxIncluded {
		t.Total = goods.Add(charges)
		t.Net = cents(t.Total.DivRound(factor, 16))
		t.Tax = t.Total.Sub(t.Net)
		goodsNet = cents(goods.DivRound(factor, 16))
	} else {
		t.Net = goods.Add(charges)
		t.Tax = cents(t.Net.Mul(h.TaxRate).Div(hundred))
		t.Total = t.Net.Add(t.Tax)
	}
	t.Margin = goodsNet.Sub(t.CostTotal)
	if goodsNet.Sign() != 0 {
		t.MarginPct = cents(t.Margin.Mul(hundred).DivRound(goodsNet, 16))
	}
	return t
}

// lineDiscount is a line's discount in percent: from its list price when
// it has one (so a unit price typed below the list price counts), else
// its discount_pct.
func lineDiscount(l Line) decimal.Decimal {
	if l.ListPrice.Sign() <= 0 {
		return l.DiscountPct
	}
	net := l.UnitPrice.Mul(hundred.Sub(l.DiscountPct)).Div(hundred)
	d := cents(hundred.Sub(net.Mul(hundred).DivRound(l.ListPrice, 16)))
	if d.LessThan(l.DiscountPct) {
		return l.DiscountPct
	}
	if d.Sign() < 0 {
		return decimal.Zero
	}
	return d
}
