package apitest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// BenchmarkInboundBatch is the inbound endpoints' load figure: an ERP
// pushes 10 calls of 1,000 orders each (every item mapped through five
// expressions, a link resolved by external id), first creating the
// records, then updating them all. It reports the items per second of
// each phase and the time of one call; it fails unless every call is
// accepted and every order exists once.
//
//	go test ./internal/apitest -run XXX -bench InboundBatch -benchtime 1x
func BenchmarkInboundBatch(b *testing.B) {
	for range b.N {
		inboundBatch(b)
	}
}

func inboundBatch(b *testing.B) {
	b.StopTimer()
	const calls, per = 10, 1000
	ie := newInboundEnv(b)
	ordersID, ordersSecret := ie.endpoint(map[string]any{"source": "erp", "entity": "ib_orders", "external_id_path": "so_no",
		"mappings": []map[string]any{{"field": "title", "expression": "item.so_no"}, {"field": "order_no", "expression": "item.so_no"}}})
	ie.push(ordersID, ordersSecret, `[{"so_no":"SO-1"}]`).want(200)
	id, secret := ie.endpoint(map[string]any{"source": "mes", "entity": "ib_work_orders", "external_id_path": "mo.no", "items_path": "data",
		"mappings": []map[string]any{
			{"field": "mo_no", "expression": "item.mo.no"},
			{"field": "sales_order", "kind": "link_by_external_id", "link_source": "erp", "expression": "item.mo.so"},
			{"field": "qty", "expression": "item.mo.qty"},
			{"field": "qty_done", "expression": "item.done"},
			{"field": "status", "expression": `item.state == "FIN" ? "完工" : "生产中"`},
		}})
	body := func(call int, state string) string {
		var sb strings.Builder
		sb.WriteString(`{"data":[`)
		for i := 0; i < per; i++ {
			if i > 0 {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, `{"mo":{"no":"MO-%d-%d","so":"SO-1","qty":%d},"done":%d,"state":%q}`, call, i, 100+i, i%100, state)
		}
		sb.WriteString(`]}`)
		return sb.String()
	}
	phase := func(state string) time.Duration {
		bodies := make([]string, calls)
		for c := range bodies {
			bodies[c] = body(c, state)
		}
		b.StartTimer()
		start := time.Now()
		for c := range bodies {
			ie.clock.Add(time.Second)
			ie.push(id, secret, bodies[c]).want(200)
		}
		d := time.Since(start)
		b.StopTimer()
		return d
	}
	created := phase("RUN")
	updated := phase("FIN")
	if n := ie.count("ib_work_orders", `status == "完工"`); n != calls*per {
		b.Fatalf("%d work orders done, want %d", n, calls*per)
	}
	b.ReportMetric(float64(calls*per)/created.Seconds(), "created_items/s")
	b.ReportMetric(float64(calls*per)/updated.Seconds(), "updated_items/s")
	b.ReportMetric(float64(updated.Milliseconds())/calls, "ms/update_call")
	b.Logf("%d calls of %d items: create %v, update %v", calls, per, created, updated)
}
