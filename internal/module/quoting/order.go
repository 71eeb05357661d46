package quoting

import (
	"context"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/engine/flow"
	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// openOrderStatuses are the statuses of orders that still hold credit
// (not yet shipped and invoiced, so not in the account's receivables).
var openOrderStatuses = `["pending_review", "credit_hold", "confirmed", "in_production"]`

// beforeOrder holds statuses to the actions, settles the totals of an
// order under review, and runs the credit check on creation.
func (m *Module) beforeOrder(ctx context.Context, c *records.Change) error {
	if c.New == nil || c.Op == records.OpRestore {
		return nil
	}
	if err := guard(ctx, c, OrderReview, OrderCreditHold); err != nil {
		return err
	}
	rec := c.New
	if c.Op == records.OpCreate && !inTransition(ctx) {
		rec["status"] = OrderReview
		delete(rec, "quote")
		delete(rec, "contract")
	}
	switch str(rec["status"]) {
	case OrderReview, OrderCreditHold:
	default:
		return nil
	}
	if err := m.settle(ctx, rec, false); err != nil {
		return err
	}
	return m.creditCheck(ctx, rec)
}

// creditCheck puts an order on credit hold when the account's exposure —
// its receivables, its other open orders and this order, in CNY — passes
// its credit limit. An account without a limit (empty or 0) is not
// checked. The figures are kept on the order for the approver.
func (m *Module) creditCheck(ctx context.Context, rec records.Record) error {
	aid := id(rec["account"])
	if aid == 0 {
		return nil
	}
	sys := access.System()
	acc, err := m.recs.Get(ctx, sys, Accounts, aid, records.GetOptions{Fields: []string{"credit_limit", "receivables"}})
	if err != nil {
		return apperr.Fields(apperr.Field("account", "invalid_link"))
	}
	limit := dec(acc["credit_limit"])
	exposure := dec(acc["receivables"]).Add(dec(rec["total_cny"]))
	filter := "account == " + decimal.NewFromInt(aid).String() + " && status in " + openOrderStatuses
	if rec.ID() != 0 {
		filter += " && id != " + decimal.NewFromInt(rec.ID()).String()
	}
	for page := 1; ; page++ {
		res, err := m.recs.List(ctx, sys, SalesOrders, records.ListOptions{Filter: filter, Sort: "id", Page: page, PerPage: records.MaxPerPage, Count: records.CountNone, Fields: []string{"total_cny", "paid_amount", "exchange_rate"}})
		if err != nil {
			return err
		}
		for _, o := range res.Items {
			exposure = exposure.Add(dec(o["total_cny"])).Sub(cents(dec(o["paid_amount"]).Mul(rate1(o["exchange_rate"]))))
		}
		if len(res.Items) < records.MaxPerPage {
			break
		}
	}
	exposure = exposure.Sub(cents(dec(rec["paid_amount"]).Mul(rate1(rec["exchange_rate"]))))
	rec["credit_exposure"] = exposure
	if limit.Sign() > 0 {
		rec["credit_limit"] = limit
	} else {
		delete(rec, "credit_limit")
	}
	hold := limit.Sign() > 0 && exposure.GreaterThan(limit)
	rec["credit_hold"] = hold
	if hold {
		rec["status"] = OrderCreditHold
	} else if str(rec["status"]) == OrderCreditHold {
		rec["status"] = OrderReview
	}
	return nil
}

func rate1(v any) decimal.Decimal {
	if d := dec(v); d.Sign() > 0 {
		return d
	}
	return decimal.NewFromInt(1)
}

// createOrder creates the sales order of an accepted quote or a signed
// contract (from: the document whose lines and terms it carries), by the
// system for the user; the order review flow starts on its creation.
func (m *Module) createOrder(ctx context.Context, p *access.Principal, from, contract records.Record) (records.Record, error) {
	in := map[string]any{"status": OrderReview, "opportunity": from["opportunity"], "owner": from["owner"],
		"lines": copyLines(from["lines"], lineFields...)}
	carry(from, in, headerFields...)
	carry(from, in, "delivery_date", "delivery_address")
	if contract != nil {
		in["contract"] = contract.ID()
		in["quote"] = contract["quote"]
	} else {
		in["quote"] = from.ID()
	}
	return m.recs.Create(transition(ctx), asSystem(p), SalesOrders, in)
}

// submitOrder is the action submit: the order review flow again (after it
// was withdrawn or returned), or confirmation at once when no flow
// applies.
func (m *Module) submitOrder(ctx context.Context, p *access.Principal, rec records.Record, _ map[string]any) (records.Record, error) {
	if err := needStatus(rec, "submit", OrderReview, OrderCreditHold); err != nil {
		return nil, err
	}
	if rec["credit_hold"] == true && m.flows == nil {
		return nil, apperr.Conflict("quoting_credit_hold")
	}
	return m.submit(ctx, p, SalesOrders, rec, map[string]any{"status": OrderConfirmed, "confirmed_at": m.stamp()})
}

// orderFlow keeps an order's status in step with its review: approved
// confirms it (a credit hold included: the flow's credit step decided),
// rejected cancels it.
func (m *Module) orderFlow(ctx context.Context, o flow.Outcome) error {
	var in map[string]any
	switch o.Status {
	case flow.StatusApproved:
		in = map[string]any{"status": OrderConfirmed, "confirmed_at": m.stamp()}
	case flow.StatusRejected:
		in = map[string]any{"status": OrderCancelled}
	default:
		return nil
	}
	_, err := m.flows.Write(transition(ctx), o.Actor, o.Entity, o.RecordID, in)
	return err
}

// cancelOrder is the action cancel: an order not yet shipped.
func (m *Module) cancelOrder(ctx context.Context, p *access.Principal, rec records.Record, _ map[string]any) (records.Record, error) {
	if err := needStatus(rec, "cancel", OrderReview, OrderCreditHold, OrderConfirmed); err != nil {
		return nil, err
	}
	return m.setStatus(ctx, p, SalesOrders, rec, map[string]any{"status": OrderCancelled})
}
