package sales

import (
	"context"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// FollowUpRuleName names the shipped rule "a new opportunity with no
// follow-up in 3 days alerts the owner's manager" (REQUIREMENTS S4/S5).
const FollowUpRuleName = "新商机 3 天未跟进提醒上级"

// followUpRule is the shipped rule: a date trigger 3 days after creation
// (the rules engine's hourly date scan, once per opportunity), for open
// opportunities without any activity (crm sets last_activity_at when an
// activity is logged on them), notifying the owner's manager.
func followUpRule() map[string]any {
	return map[string]any{
		"name":      FollowUpRuleName,
		"entity":    Opportunities,
		"enabled":   true,
		"trigger":   map[string]any{"type": "date", "field": "created_at", "offset_days": 3},
		"condition": `status == "open" && last_activity_at == nil`,
		"actions": []any{map[string]any{"type": "notify", "to": map[string]any{"owner_manager": true},
			"title": "商机 {{name}} 创建 3 天仍未跟进",
			"body":  "负责人 {{owner.name}} 尚未记录任何跟进；金额 {{amount}}，阶段 {{stage}}。"}},
		"description": "销售模块随附的规则，可修改或停用：新商机创建 3 天后仍无任何跟进记录时提醒负责人的上级。" +
			" / Shipped with the sales module, editable: alerts the owner's manager when a new opportunity has no activity 3 days after it was created.",
	}
}

// ensureRule creates the follow-up rule unless a rule of that name exists
// (also in the recycle bin: a rule an administrator deleted stays deleted).
func (m *Module) ensureRule(ctx context.Context) error {
	if _, ok := m.recs.Registry().Get("rules"); !ok {
		return nil
	}
	sys := access.System()
	filter := "name == " + strconv.Quote(FollowUpRuleName)
	for _, deleted := range []bool{false, true} {
		res, err := m.recs.List(ctx, sys, "rules", records.ListOptions{Filter: filter, PerPage: 1, Count: records.CountNone, Deleted: deleted})
		if err != nil {
			return err
		}
		if len(res.Items) > 0 {
			return nil
		}
	}
	_, err := m.recs.Create(ctx, sys, "rules", followUpRule())
	return err
}

// beforeTarget checks a target: a person or a team, not both, not neither;
// period_start is the first day of its period. A person's target is
// owned by the person.
func (m *Module) beforeTarget(_ context.Context, c *records.Change) error {
	if c.New == nil {
		return nil
	}
	sp, user := c.New["salesperson"].(int64)
	_, dept := c.New["department"].(int64)
	if user == dept {
		return apperr.Fields(apperr.Field("salesperson", "sales_target_user_or_department"))
	}
	if user && (c.Old == nil || c.Old["salesperson"] != c.New["salesperson"]) {
		c.New["owner"] = sp // a person owns their target (the "own" scope lets them read it)
	}
	start, _ := c.New["period_start"].(string)
	period, _ := c.New["period"].(string)
	if _, err := periodRange(period, start); err != nil {
		return apperr.Fields(apperr.Field("period_start", "sales_period_start_invalid"))
	}
	return nil
}
