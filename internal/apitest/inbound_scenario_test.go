package apitest

import (
	"strings"
	"testing"
	"time"
)

// TestInboundProductionScenario: an ERP pushes sales orders, an MES pushes
// work orders and their progress, the ERP pushes shipments and payments;
// each lands on the right records, linked by the external ids the other
// system used, across sources.
func TestInboundProductionScenario(t *testing.T) {
	ie := newInboundEnv(t)
	orders, osec := ie.endpoint(map[string]any{"name": "ERP 销售订单", "source": "erp", "entity": "ib_orders",
		"external_id_path": "so_no", "items_path": "orders",
		"mappings": []map[string]any{
			{"field": "order_no", "expression": "item.so_no"},
			{"field": "title", "expression": `item.customer + " " + item.so_no`},
			{"field": "amount", "expression": "item.amount"},
			{"field": "status", "expression": `"新建"`},
		}})
	mes, msec := ie.endpoint(map[string]any{"name": "MES 工单", "source": "mes", "entity": "ib_work_orders",
		"external_id_path": "mo.no",
		"mappings": []map[string]any{
			{"field": "mo_no", "expression": "item.mo.no"},
			{"field": "sales_order", "kind": "link_by_external_id", "link_source": "erp", "expression": "item.mo.so"},
			{"field": "qty", "expression": "item.mo.qty"},
			{"field": "qty_done", "expression": "item.done"},
			{"field": "status", "expression": `item.state == "FIN" ? "完工" : "生产中"`},
		}})
	ships, ssec := ie.endpoint(map[string]any{"name": "ERP 发货", "source": "erp", "entity": "ib_shipments",
		"external_id_path": "ship_no",
		"mappings": []map[string]any{
			{"field": "ship_no", "expression": "item.ship_no"},
			{"field": "sales_order", "kind": "link_by_external_id", "expression": "item.so_no"},
			{"field": "shipped_on", "expression": "item.date"},
			{"field": "tracking", "expression": "item.carrier + \":\" + item.waybill"},
		}})
	pays, psec := ie.endpoint(map[string]any{"name": "ERP 回款", "source": "erp", "entity": "ib_payments",
		"external_id_path": "pay_no",
		"mappings": []map[string]any{
			{"field": "pay_no", "expression": "item.pay_no"},
			{"field": "sales_order", "kind": "link_by_external_id", "expression": "item.so_no"},
			{"field": "orders", "kind": "link_by_external_id", "expression": "item.settles"},
			{"field": "amount", "expression": "item.amount"},
			{"field": "paid_on", "expression": "item.date"},
		}})

	res := ie.push(orders, osec, `{"orders": [
		{"so_no": "SO-1", "customer": "苏州精密", "amount": "58000.00"},
		{"so_no": "SO-2", "customer": "宁波模具", "amount": 12000.5}]}`).want(200).json()
	so := map[string]string{}
	for _, x := range res["items"].([]any) {
		it := x.(map[string]any)
		so[it["external_id"].(string)] = it["id"].(string)
	}

	// The MES starts two work orders, then reports progress and completion.
	ie.push(mes, msec, `[{"mo": {"no": "MO-1", "so": "SO-1", "qty": 100}, "done": 0, "state": "RUN"},
		{"mo": {"no": "MO-2", "so": "SO-2", "qty": 20}, "done": 5, "state": "RUN"}]`).want(200)
	ie.clock.Add(10 * time.Minute)
	ie.push(mes, msec, `{"mo": {"no": "MO-1", "so": "SO-1", "qty": 100}, "done": 60, "state": "RUN"}`).want(200)
	ie.clock.Add(10 * time.Minute)
	ie.push(mes, msec, `{"mo": {"no": "MO-1", "so": "SO-1", "qty": 100}, "done": 100, "state": "FIN"}`).want(200)
	wos := ie.list("ib_work_orders", "")
	if len(wos) != 2 {
		t.Fatalf("%d work orders", len(wos))
	}
	if w := wos[0]; w["mo_no"] != "MO-1" || w["sales_order"] != so["SO-1"] || w["qty_done"] != 100.0 || w["status"] != "完工" || w["version"] != 3.0 {
		t.Errorf("MO-1 %v", w)
	}
	if w := wos[1]; w["mo_no"] != "MO-2" || w["sales_order"] != so["SO-2"] || w["status"] != "生产中" {
		t.Errorf("MO-2 %v", w)
	}
	// The MES's ids are its own: "SO-1" is not a work order in mes, nor an
	// order known to the MES.
	ie.clock.Add(time.Minute)
	r := ie.push(mes, msec, `{"mo": {"no": "MO-3", "so": "SO-404", "qty": 1}}`).want(422)
	if got := strings.Join(fieldErrors(r), ";"); got != "items[0].sales_order inbound_link_unknown" {
		t.Errorf("unknown order: %s", got)
	}

	// Shipment, then payments (an array body); a payment settling two
	// orders through a multi-link.
	ie.push(ships, ssec, `{"ship_no": "SH-1", "so_no": "SO-1", "date": "2026-11-21", "carrier": "SF", "waybill": "SF123"}`).want(200)
	ie.push(pays, psec, `[{"pay_no": "PY-1", "so_no": "SO-1", "amount": "30000.00", "date": "2026-11-22"},
		{"pay_no": "PY-2", "so_no": "SO-2", "amount": 12000.5, "date": "2026-11-23", "settles": ["SO-1", "SO-2"]}]`).want(200)
	sh := ie.list("ib_shipments", "")
	if len(sh) != 1 || sh[0]["sales_order"] != so["SO-1"] || sh[0]["tracking"] != "SF:SF123" || sh[0]["shipped_on"] != "2026-11-21" {
		t.Errorf("shipments %v", sh)
	}
	py := ie.list("ib_payments", "")
	if len(py) != 2 || py[0]["sales_order"] != so["SO-1"] || py[0]["amount"] != "30000.00" || py[1]["sales_order"] != so["SO-2"] || py[1]["amount"] != "12000.50" {
		t.Errorf("payments %v", py)
	}
	if ls, _ := py[1]["orders"].([]any); len(ls) != 2 || ls[0] != so["SO-1"] || ls[1] != so["SO-2"] {
		t.Errorf("settled orders %v", py[1]["orders"])
	}
	// A payment for an order the ERP never sent: refused, nothing written.
	ie.clock.Add(time.Minute)
	r = ie.push(pays, psec, `[{"pay_no": "PY-3", "so_no": "SO-1", "amount": 1}, {"pay_no": "PY-4", "so_no": "SO-9", "amount": 1},
		{"pay_no": "PY-5", "so_no": "SO-1", "settles": "SO-8"}]`).want(422)
	if got := strings.Join(fieldErrors(r), ";"); got != "items[1].sales_order inbound_link_unknown;items[2].orders inbound_link_unknown" {
		t.Errorf("unknown orders: %s", got)
	}
	if n := ie.count("ib_payments", ""); n != 2 {
		t.Errorf("%d payments", n)
	}
	// The ERP re-sends PY-1 (its retry after a timeout): still one payment.
	ie.clock.Add(time.Minute)
	ie.push(pays, psec, `{"pay_no": "PY-1", "so_no": "SO-1", "amount": "30000.00", "date": "2026-11-22"}`).want(200)
	if n := ie.count("ib_payments", `pay_no == "PY-1"`); n != 1 {
		t.Errorf("%d PY-1 payments", n)
	}
	// Every record above was written by erp.bot through inbound endpoints.
	for _, e := range []string{"ib_orders", "ib_work_orders", "ib_shipments", "ib_payments"} {
		for _, rec := range ie.list(e, "") {
			if rec["created_by"] != ie.users["erp.bot"] {
				t.Errorf("%s %v created by %v", e, rec["id"], rec["created_by"])
			}
		}
	}
	// The change feed shows them with erp.bot as the actor: what a sync
	// loop skips to avoid echoing the ERP's own writes back to it.
	feed := ie.admin.do("GET", "/api/v1/changes?entity=ib_payments", nil, nil).want(200).json()
	for _, x := range feed["items"].([]any) {
		if a := x.(map[string]any)["actor"]; a != ie.users["erp.bot"] {
			t.Errorf("feed actor %v", a)
		}
	}
}
