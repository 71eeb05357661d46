package quoting

import (
	"context"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/engine/flow"
	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Milestone kinds.
var milestoneKinds = []string{"advance", "delivery", "acceptance", "retention"}

// beforeContract holds statuses to the actions and settles a draft's
// totals and payment milestones.
func (m *Module) beforeContract(ctx context.Context, c *records.Change) error {
	if c.New == nil {
		if str(c.Old["status"]) == ContractSigned && !inTransition(ctx) {
			return apperr.Conflict("quoting_document_locked", "status", ContractSigned)
		}
		return nil
	}
	if c.Op == records.OpRestore {
		return nil
	}
	if err := guard(ctx, c, ContractDraft); err != nil {
		return err
	}
	rec := c.New
	if c.Op == records.OpCreate && !inTransition(ctx) {
		rec["status"] = ContractDraft
		delete(rec, "quote")
		delete(rec, "sales_order")
	}
	if str(rec["status"]) != ContractDraft {
		return nil
	}
	if err := m.settle(ctx, rec, false); err != nil {
		return err
	}
	return settleMilestones(rec)
}

// settleMilestones checks that payment milestones add up to 100 % and
// computes their amounts; the last takes the rounding difference, so the
// amounts add up to the total exactly.
func settleMilestones(rec records.Record) error {
	ms, _ := rec["milestones"].([]records.Record)
	if len(ms) == 0 {
		return nil
	}
	total := dec(rec["total"])
	sum, paid := decimal.Zero, decimal.Zero
	for i, x := range ms {
		pct := dec(x["percent"])
		sum = sum.Add(pct)
		if i == len(ms)-1 {
			x["amount"] = total.Sub(paid)
			continue
		}
		a := cents(total.Mul(pct).Div(hundred))
		x["amount"] = a
		paid = paid.Add(a)
	}
	if !sum.Equal(hundred) {
		return apperr.Fields(apperr.Field("milestones", "quoting_milestones_sum", "sum", sum.String()))
	}
	return nil
}

// createContractAction is the quote action create_contract: a draft
// contract from an accepted quote (lines, prices, terms, a default
// 30/60/10 milestone plan); it returns the quote, whose contract field
// names the new contract.
func (m *Module) createContractAction(ctx context.Context, p *access.Principal, rec records.Record, input map[string]any) (records.Record, error) {
	if err := needStatus(rec, "create_contract", QuoteAccepted); err != nil {
		return nil, err
	}
	if rec["contract"] != nil {
		return nil, apperr.Conflict("quoting_contract_exists")
	}
	if !p.RightsOn(Contracts).Can(access.Create) {
		return nil, apperr.Forbidden("forbidden")
	}
	q, err := m.recs.Get(ctx, access.System(), Quotes, rec.ID(), records.GetOptions{})
	if err != nil {
		return nil, err
	}
	in := map[string]any{"status": ContractDraft, "quote": q.ID(), "opportunity": q["opportunity"], "title": q["title"], "owner": q["owner"],
		"lines": copyLines(q["lines"], lineFields...),
		"milestones": []any{
			map[string]any{"kind": "advance", "percent": "30"},
			map[string]any{"kind": "delivery", "percent": "60"},
			map[string]any{"kind": "retention", "percent": "10"},
		}}
	carry(q, in, headerFields...)
	ct, err := m.recs.Create(transition(ctx), asSystem(p), Contracts, in)
	if err != nil {
		return nil, err
	}
	if _, err := m.recs.Update(transition(ctx), asSystem(p), Quotes, q.ID(), map[string]any{"contract": ct.ID()}, 0); err != nil {
		return nil, err
	}
	return m.recs.Get(ctx, p, Quotes, q.ID(), records.GetOptions{})
}

// submitContract is the action submit: the contract review flow (legal,
// finance), or approval at once when no flow applies.
func (m *Module) submitContract(ctx context.Context, p *access.Principal, rec records.Record, _ map[string]any) (records.Record, error) {
	if err := needStatus(rec, "submit", ContractDraft); err != nil {
		return nil, err
	}
	return m.submit(ctx, p, Contracts, rec, map[string]any{"status": ContractApproved})
}

// contractFlow keeps a contract's status in step with its approval.
func (m *Module) contractFlow(ctx context.Context, o flow.Outcome) error {
	st := ContractDraft
	switch o.Status {
	case flow.StatusRunning:
		st = ContractPending
	case flow.StatusApproved:
		st = ContractApproved
	}
	_, err := m.flows.Write(transition(ctx), o.Actor, o.Entity, o.RecordID, map[string]any{"status": st})
	return err
}

// signContract is the action sign {"signed_on", "signed_scan"}: an
// approved contract is signed (the scan of the signed and sealed copy is
// required); the opportunity is won and, unless the settings take orders
// from quotes, the sales order is created.
func (m *Module) signContract(ctx context.Context, p *access.Principal, rec records.Record, input map[string]any) (records.Record, error) {
	if err := needStatus(rec, "sign", ContractApproved); err != nil {
		return nil, err
	}
	if str(input["signed_scan"]) == "" {
		return nil, apperr.Fields(apperr.Field("signed_scan", "required"))
	}
	on := str(input["signed_on"])
	if on == "" {
		on = m.today()
	}
	if _, err := m.setStatus(ctx, p, Contracts, rec, map[string]any{"status": ContractSigned, "signed_on": on, "signed_scan": input["signed_scan"]}); err != nil {
		return nil, err
	}
	st, err := m.settings(ctx)
	if err != nil {
		return nil, err
	}
	if st.orderFrom != "quote" && rec["sales_order"] == nil {
		full, err := m.recs.Get(ctx, access.System(), Contracts, rec.ID(), records.GetOptions{})
		if err != nil {
			return nil, err
		}
		so, err := m.createOrder(ctx, p, full, full)
		if err != nil {
			return nil, err
		}
		if _, err := m.recs.Update(transition(ctx), asSystem(p), Contracts, rec.ID(), map[string]any{"sales_order": so.ID()}, 0); err != nil {
			return nil, err
		}
		if qid := id(full["quote"]); qid != 0 {
			if _, err := m.recs.Update(transition(ctx), asSystem(p), Quotes, qid, map[string]any{"sales_order": so.ID()}, 0); err != nil {
				return nil, err
			}
		}
	}
	if err := m.winOpportunity(ctx, p, id(rec["opportunity"])); err != nil {
		return nil, err
	}
	return m.recs.Get(ctx, p, Contracts, rec.ID(), records.GetOptions{})
}

// cancelContract is the action cancel: a contract not yet signed is void.
func (m *Module) cancelContract(ctx context.Context, p *access.Principal, rec records.Record, _ map[string]any) (records.Record, error) {
	if err := needStatus(rec, "cancel", ContractDraft, ContractApproved); err != nil {
		return nil, err
	}
	return m.setStatus(ctx, p, Contracts, rec, map[string]any{"status": ContractCancelled})
}
