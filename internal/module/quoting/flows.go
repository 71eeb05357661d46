package quoting

import (
	"context"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// The shipped approval flows are ordinary flow definitions: an
// administrator edits their thresholds, approvers and steps in the flow
// designer. Install creates each when no definition of its name exists,
// and publishes it while it is a draft that was never published — which
// fails, and is left for later, while the roles it names do not exist yet
// (a fresh database before its organisation is set up).
const (
	QuoteFlowName    = "报价审批"
	ContractFlowName = "合同审批"
	OrderFlowName    = "订单评审"
)

type obj = map[string]any

func approvalNode(id, name string, approver obj) obj {
	return obj{"id": id, "type": "approval", "name": name,
		"config": obj{"mode": "single", "approvers": []any{approver}, "on_empty": "admin"}}
}

func flowNode(id, typ, name string) obj { return obj{"id": id, "type": typ, "name": name} }

func link(from, to string) obj { return obj{"from": from, "to": to} }

func when(from, to, cond string) obj { return obj{"from": from, "to": to, "condition": cond} }

func otherwise(from, to string) obj { return obj{"from": from, "to": to, "default": true} }

func role(name string) obj { return obj{"kind": "role", "role": name} }

// shippedFlows are the definitions Install creates.
func shippedFlows() []obj {
	return []obj{
		{"name": QuoteFlowName, "entity": Quotes, "trigger": "submit", "priority": int64(100),
			"condition":   "max_discount > 10 || total_cny > 500000",
			"description": "折扣超过 10% 由销售经理（提交人的上级）审批；金额超过 50 万元另需总经理审批。Discounts over 10% go to the sales manager (the submitter's manager); totals over 500,000 CNY also to the general manager.",
			"graph": obj{"nodes": []any{
				flowNode("start", "start", "提交"),
				flowNode("discount", "condition", "折扣 > 10%?"),
				approvalNode("manager", "销售经理审批", obj{"kind": "manager"}),
				flowNode("amount", "condition", "金额 > 50 万?"),
				approvalNode("gm", "总经理审批", role("general_manager")),
				flowNode("end", "end", "结束"),
			}, "edges": []any{
				link("start", "discount"),
				when("discount", "manager", "max_discount > 10"), otherwise("discount", "amount"),
				link("manager", "amount"),
				when("amount", "gm", "total_cny > 500000"), otherwise("amount", "end"),
				link("gm", "end"),
			}}},
		{"name": ContractFlowName, "entity": Contracts, "trigger": "submit", "priority": int64(100),
			"description": "法务审核条款，财务审核付款节点。Legal reviews the terms, finance the payment milestones.",
			"graph": obj{"nodes": []any{
				flowNode("start", "start", "提交"),
				approvalNode("legal", "法务审核", role("legal")),
				approvalNode("finance", "财务审核", role("finance")),
				flowNode("end", "end", "结束"),
			}, "edges": []any{link("start", "legal"), link("legal", "finance"), link("finance", "end")}}},
		{"name": OrderFlowName, "entity": SalesOrders, "trigger": "create", "priority": int64(100),
			"description": "超出信用额度的订单先由财务审批；生产评审交期与产能。Orders over the credit limit go to finance first; production reviews delivery and capacity.",
			"graph": obj{"nodes": []any{
				flowNode("start", "start", "创建"),
				flowNode("credit", "condition", "信用冻结?"),
				approvalNode("finance", "信用审批", role("finance")),
				approvalNode("production", "生产评审", role("production")),
				flowNode("end", "end", "结束"),
			}, "edges": []any{
				link("start", "credit"),
				when("credit", "finance", "credit_hold == true"), otherwise("credit", "production"),
				link("finance", "production"), link("production", "end"),
			}}},
	}
}

// installFlows creates and publishes the shipped flows (see above).
func (m *Module) installFlows(ctx context.Context) error {
	if m.flows == nil {
		return nil
	}
	sys := access.System()
	for _, def := range shippedFlows() {
		filter := "name == " + strconv.Quote(def["name"].(string))
		var found records.Record
		for _, deleted := range []bool{false, true} {
			res, err := m.recs.List(ctx, sys, "flow_definitions", records.ListOptions{Filter: filter, PerPage: 1, Count: records.CountNone, Deleted: deleted})
			if err != nil {
				return err
			}
			if len(res.Items) > 0 {
				found = res.Items[0]
				break
			}
		}
		if found == nil {
			rec, err := m.recs.Create(ctx, sys, "flow_definitions", def)
			if err != nil {
				return err
			}
			found = rec
		}
		if found["deleted_at"] != nil || str(found["status"]) != "draft" || found["published_version"] != nil {
			continue
		}
		if err := m.publish(ctx, found.ID()); err != nil {
			return err
		}
	}
	return nil
}

// publish publishes a shipped flow in a savepoint; a flow the
// organisation cannot run yet (a role nobody defined) stays a draft.
func (m *Module) publish(ctx context.Context, id int64) error {
	err := m.db.Savepoint(ctx, func(ctx context.Context) error {
		_, err := m.recs.RunAction(ctx, access.System(), "flow_definitions", id, "publish", map[string]any{})
		return err
	})
	if ae, ok := apperr.As(err); ok && ae.Code == "flow_invalid" {
		m.log.Info("quoting: shipped flow left as a draft", "definition", id, "reason", ae.Error())
		return nil
	}
	return err
}
