package apitest

import (
	"testing"
)

// BenchmarkPrint200Lines prints a record with 200 sub-table rows through
// the HTTP route (read with the caller's rights, evaluate, lay out about
// nine A4 pages, subset the font, audit the print) and reports the PDF's
// size.
func BenchmarkPrint200Lines(b *testing.B) {
	x := newPrintEnv(b)
	id := x.order(200)
	x.template("订单模板", printBody, true)
	rep := x.c("rep.east")
	size := 0
	for b.Loop() {
		size = len(rep.do("GET", "/api/v1/records/pr_orders/"+id+"/print", nil, nil).want(200).body)
	}
	b.ReportMetric(float64(size), "pdf-bytes")
}
