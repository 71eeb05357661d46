package apitest

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkQuote200Lines measures a 200-line quote of 200 catalog products
// (prices resolved from the books, costs, totals), as a rep through the
// HTTP API: saving the draft after a change (PATCH of every line, the way
// the editor saves) and printing it with the shipped quote template. It
// reports p50 and p95 in milliseconds and the PDF's size.
func BenchmarkQuote200Lines(b *testing.B) {
	q := newQuotingEnv(b)
	if err := q.app.Printing.Install(b.Context()); err != nil {
		b.Fatal(err)
	}
	var items []any
	products := make([]string, 200)
	for i := range products {
		products[i] = q.admin.do("POST", "/api/v1/records/products", map[string]any{"code": fmt.Sprintf("B-%03d", i), "name": fmt.Sprintf("自动化部件 %03d 型", i),
			"unit": "件", "list_price": fmt.Sprintf("%d.50", 100+i), "standard_cost": fmt.Sprintf("%d.25", 60+i)}, nil).want(201).json()["id"].(string)
		if i%2 == 0 {
			items = append(items, map[string]any{"product": products[i], "unit_price": fmt.Sprintf("%d", 90+i)}, map[string]any{"product": products[i], "min_quantity": "10", "unit_price": fmt.Sprintf("%d", 80+i)})
		}
	}
	q.admin.do("POST", "/api/v1/records/price_books", map[string]any{"name": "华东区域价（部件）", "kind": "regional", "currency": "CNY", "region": "华东", "items": items}, nil).want(201)
	mkLines := func(round int) []any {
		ls := make([]any, len(products))
		for i, p := range products {
			ls[i] = map[string]any{"product": p, "quantity": fmt.Sprint(1 + (i+round)%15), "discount_pct": fmt.Sprint(i % 8)}
		}
		return ls
	}
	rep := q.c("rep.east")
	qt := q.quote("rep.east", map[string]any{"opportunity": q.oppAcme, "freight": "2000", "lines": mkLines(0)})
	id := qt["id"].(string)
	var save, print []time.Duration
	size := 0
	round := 0
	for b.Loop() {
		round++
		t0 := time.Now()
		rep.do("PATCH", "/api/v1/records/quotes/"+id, map[string]any{"lines": mkLines(round)}, nil).want(200)
		t1 := time.Now()
		size = len(rep.do("GET", "/api/v1/records/quotes/"+id+"/print", nil, nil).want(200).body)
		save, print = append(save, t1.Sub(t0)), append(print, time.Since(t1))
	}
	pct := func(ds []time.Duration, p float64) float64 {
		s := slices.Clone(ds)
		slices.Sort(s)
		return float64(s[int(float64(len(s)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(pct(save, 0.5), "save_p50_ms")
	b.ReportMetric(pct(save, 0.95), "save_p95_ms")
	b.ReportMetric(pct(print, 0.5), "print_p50_ms")
	b.ReportMetric(pct(print, 0.95), "print_p95_ms")
	b.ReportMetric(float64(size), "pdf-bytes")
}
