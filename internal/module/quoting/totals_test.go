package quoting

import (
	"testing"

	"github.com/shopspring/decimal"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestComputeAwkward(t *testing.T) {
	cases := []struct {
		name                          string
		h                             Header
		lines                         []Line
		subtotal, disc, net, tax, tot string
		costTotal, margin, marginPct  string
		maxDisc                       string
	}{
		{name: "0.1 + 0.2 without VAT",
			h:        Header{TaxRate: d("13")},
			lines:    []Line{{Quantity: d("1"), UnitPrice: d("0.1")}, {Quantity: d("1"), UnitPrice: d("0.2")}},
			subtotal: "0.3", disc: "0", net: "0.3", tax: "0.04", tot: "0.34", costTotal: "0", margin: "0.3", marginPct: "100", maxDisc: "0"},
		{name: "VAT included, header discount and charges",
			h: Header{TaxRate: d("13"), TaxIncluded: true, DiscountPct: d("5"), Freight: d("800"), Installation: d("1200"), Training: d("500")},
			lines: []Line{{Quantity: d("2"), UnitPrice: d("185000"), DiscountPct: d("12"), UnitCost: d("98000.55"), ListPrice: d("185000")},
				{Quantity: d("3.5"), UnitPrice: d("1999.99"), UnitCost: d("1200")}},
			// 2 × 185000 × 0.88 = 325600; 3.5 × 1999.99 = 6999.965 → 6999.97
			subtotal: "332599.97", disc: "16630", net: "281831.83", tax: "36638.14", tot: "318469.97",
			// total 318469.97 / 1.13 = 281831.83; goods 315969.97 / 1.13 = 279619.44; cost 196001.10 + 4200
			costTotal: "200201.1", margin: "79418.34", marginPct: "28.4", maxDisc: "12"},
		{name: "a unit price typed under the list price counts as a discount",
			h:        Header{TaxRate: d("13"), DiscountPct: d("3")},
			lines:    []Line{{Quantity: d("1"), UnitPrice: d("80"), ListPrice: d("100")}},
			subtotal: "80", disc: "2.4", net: "77.6", tax: "10.09", tot: "87.69", costTotal: "0", margin: "77.6", marginPct: "100", maxDisc: "20"},
		{name: "large amounts stay exact",
			h:        Header{TaxRate: d("13")},
			lines:    []Line{{Quantity: d("1000"), UnitPrice: d("9999999.99"), UnitCost: d("1234567.89")}},
			subtotal: "9999999990", disc: "0", net: "9999999990", tax: "1299999998.7", tot: "11299999988.7",
			costTotal: "1234567890", margin: "8765432100", marginPct: "87.65", maxDisc: "0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Compute(c.h, c.lines)
			for _, x := range []struct {
				what string
				got  decimal.Decimal
				want string
			}{{"subtotal", got.Subtotal, c.subtotal}, {"discount", got.DiscountAmount, c.disc}, {"net", got.Net, c.net}, {"tax", got.Tax, c.tax},
				{"total", got.Total, c.tot}, {"cost", got.CostTotal, c.costTotal}, {"margin", got.Margin, c.margin}, {"margin %", got.MarginPct, c.marginPct},
				{"max discount", got.MaxDiscount, c.maxDisc}} {
				if !x.got.Equal(d(x.want)) {
					t.Errorf("%s = %s, want %s", x.what, x.got, x.want)
				}
			}
			if !got.Net.Add(got.Tax).Equal(got.Total) {
				t.Errorf("net %s + tax %s != total %s", got.Net, got.Tax, got.Total)
			}
		})
	}
}

func TestComputeManyLines(t *testing.T) {
	lines := make([]Line, 1000)
	for i := range lines {
		lines[i] = Line{Quantity: d("3"), UnitPrice: d("0.1"), DiscountPct: d("33.33")}
	}
	got := Compute(Header{TaxRate: d("13")}, lines)
	// each line: 0.3 × 0.6667 = 0.20001 → 0.20
	if !got.Subtotal.Equal(d("200")) || !got.Tax.Equal(d("26")) || !got.Total.Equal(d("226")) {
		t.Fatalf("got %s / %s / %s", got.Subtotal, got.Tax, got.Total)
	}
}

func TestResolvePrecedence(t *testing.T) {
	const acme, other = int64(7), int64(8)
	mk := func(book int64, kind string, prio int64, from string, minQty, price string) bookPrice {
		k := 0
		for i, x := range bookKinds {
			if x == kind {
				k = i
			}
		}
		p := bookPrice{book: book, name: kind, kind: k, currency: "CNY", priority: prio, from: from, minQty: d(minQty), price: d(price)}
		switch kind {
		case "customer", "dealer":
			p.account = acme
		case "regional":
			p.region = "华东"
		}
		return p
	}
	all := []bookPrice{
		mk(1, "list", 0, "", "0", "100"), mk(1, "list", 0, "", "10", "90"),
		mk(2, "regional", 0, "", "0", "95"),
		mk(3, "dealer", 0, "", "0", "80"),
		mk(4, "customer", 0, "", "0", "85"),
		mk(5, "list", 5, "", "0", "99"), // a list book with a higher priority
		mk(6, "list", 9, "2027-01-01", "0", "70"),
	}
	q := func(account int64, region, qty, date string) PriceQuery {
		return PriceQuery{Product: 1, Quantity: d(qty), Currency: "CNY", Rate: d("1"), Account: account, Region: region, Date: date, TaxRate: d("13"),
			ProductPrice: d("120"), HasProduct: true}
	}
	cases := []struct {
		name  string
		books []bookPrice
		q     PriceQuery
		want  string
		book  int64
	}{
		{"customer book beats dealer, regional and list", all, q(acme, "华东", "1", "2026-11-23"), "85", 4},
		{"dealer book without a customer book", drop(all, 4), q(acme, "华东", "1", "2026-11-23"), "80", 3},
		{"regional book for the account's region", drop(all, 3, 4), q(other, "华东", "1", "2026-11-23"), "95", 2},
		{"another region: the list book with the higher priority", drop(all, 3, 4), q(other, "华南", "1", "2026-11-23"), "99", 5},
		{"a book not yet valid is skipped", drop(all, 3, 4, 2), q(other, "华南", "1", "2026-11-23"), "99", 5},
		{"once valid it wins by priority", drop(all, 3, 4, 2), q(other, "华南", "1", "2027-01-02"), "70", 6},
		{"volume break within a book", drop(all, 2, 3, 4, 5, 6), q(other, "", "12", "2026-11-23"), "90", 1},
		{"under the break", drop(all, 2, 3, 4, 5, 6), q(other, "", "9.5", "2026-11-23"), "100", 1},
		{"no book: the product's price", nil, q(other, "", "1", "2026-11-23"), "135.6", 0}, // 120 + 13 % VAT (prices with VAT)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ix := &bookIndex{byProduct: map[int64][]bookPrice{}}
			ix.byProduct[1] = c.books
			sortBooks(ix)
			qq := c.q
			if c.book == 0 {
				qq.TaxIncluded = true
			}
			got := ix.resolve(qq)
			if !got.UnitPrice.Equal(d(c.want)) || got.Book != c.book {
				t.Fatalf("got %s from book %d (%s), want %s from %d", got.UnitPrice, got.Book, got.Source, c.want, c.book)
			}
		})
	}
}

func drop(all []bookPrice, books ...int64) []bookPrice {
	var out []bookPrice
next:
	for _, b := range all {
		for _, x := range books {
			if b.book == x {
				continue next
			}
		}
		out = append(out, b)
	}
	return out
}

func TestResolveCurrencyAndVAT(t *testing.T) {
	ix := &bookIndex{byProduct: map[int64][]bookPrice{1: {{book: 1, name: "USD", currency: "USD", kind: 3, price: d("100"), taxIncluded: false}}}}
	q := PriceQuery{Product: 1, Quantity: d("1"), Currency: "USD", Rate: d("7.1"), Date: "2026-11-23", TaxRate: d("13"), TaxIncluded: true, ProductPrice: d("710"), HasProduct: true}
	if got := ix.resolve(q); !got.UnitPrice.Equal(d("113")) {
		t.Fatalf("a USD book's price without VAT in a quote with VAT: %s", got.UnitPrice)
	}
	q.Currency = "EUR"
	q.Rate = d("7.75")
	q.TaxIncluded = false
	if got := ix.resolve(q); !got.UnitPrice.Equal(d("91.61")) || got.Source != "product" {
		t.Fatalf("no EUR book: the product's CNY price at the rate: %s (%s)", got.UnitPrice, got.Source)
	}
}
