package sales

import (
	"context"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// beforeOpportunity keeps an opportunity consistent with its pipeline and
// holds every stage change to the gates (see the package documentation).
func (m *Module) beforeOpportunity(ctx context.Context, c *records.Change) error {
	if c.New == nil || c.Op == records.OpRestore {
		return nil
	}
	rec, old := c.New, c.Old
	now := m.now().UTC().Truncate(time.Microsecond)
	var p *Pipeline
	var err error
	if id, ok := rec["pipeline"].(int64); ok {
		if p, err = m.pipeline(ctx, id); err != nil {
			if ae, ok := apperr.As(err); ok && ae.Code == "not_found" {
				return apperr.Fields(apperr.Field("pipeline", "sales_pipeline_unknown"))
			}
			return err
		}
	} else {
		if p, err = m.defaultPipeline(ctx); err != nil {
			return err
		}
		rec["pipeline"] = p.ID
	}
	code, _ := rec["stage"].(string)
	if code == "" {
		first, ok := p.firstOf(StatusOpen)
		if !ok {
			return apperr.Fields(apperr.Field("stage", "sales_stage_unknown", "stage", ""))
		}
		code = first.Code
		rec["stage"] = code
	}
	st, ok := p.Stage(code)
	if !ok {
		return apperr.Fields(apperr.Field("stage", "sales_stage_unknown", "stage", code))
	}
	oldCode, _ := old["stage"].(string)
	oldPipeline, _ := old["pipeline"].(int64)
	moved := old == nil || oldCode != code || oldPipeline != p.ID
	if old == nil {
		m.copyFromAccount(ctx, rec)
	} else if rec["account"] != old["account"] {
		m.copyFromAccount(ctx, rec)
	}
	if moved {
		if err := m.gate(p, st, rec, old, now, c.P.Source == access.SourceSystem); err != nil {
			return err
		}
		rec["stage_changed_at"] = now
		// The probability follows the stage unless this write sets it.
		if old == nil {
			if _, set := rec["probability"]; !set {
				rec["probability"] = st.Probability
			}
		} else if equalDecimal(rec["probability"], old["probability"]) {
			rec["probability"] = st.Probability
		}
	}
	switch st.Kind {
	case StatusWon:
		rec["probability"] = decimal.NewFromInt(100)
	case StatusLost:
		rec["probability"] = decimal.Zero
	}
	rec["status"] = st.Kind
	if st.Kind == StatusOpen {
		delete(rec, "closed_at")
		delete(rec, "cycle_days")
	} else if moved || rec["closed_at"] == nil || old["status"] != st.Kind {
		rec["closed_at"] = now
	}
	if st.Kind == StatusWon {
		created, _ := rec["created_at"].(time.Time)
		closed, _ := rec["closed_at"].(time.Time)
		// A deal recorded after it closed (an import of past deals) has
		// no known cycle.
		if !created.IsZero() && !closed.IsZero() && !closed.Before(created) {
			days := decimal.NewFromInt(int64(closed.Sub(created) / time.Second)).Div(decimal.NewFromInt(86400)).Round(1)
			rec["cycle_days"] = days
		} else {
			delete(rec, "cycle_days")
		}
	} else {
		delete(rec, "cycle_days")
	}
	reached, _ := rec["stage_reached"].(int64)
	if old != nil && oldPipeline != p.ID {
		reached = 0
	}
	if int64(st.Reach) > reached {
		reached = int64(st.Reach)
	}
	if reached > 0 {
		rec["stage_reached"] = reached
	}
	return nil
}

// gate refuses entering stage st: its required fields must be filled, a
// stale key deal cannot advance, a loss needs its reason.
func (m *Module) gate(p *Pipeline, st *Stage, rec, old records.Record, now time.Time, system bool) error {
	var errs []apperr.FieldError
	for _, f := range st.Required {
		if empty(rec[f]) {
			errs = append(errs, apperr.Field(f, "sales_stage_requires", "stage", st.Name))
		}
	}
	if st.Kind == StatusLost && empty(rec["loss_reason"]) {
		errs = append(errs, apperr.Field("loss_reason", "sales_loss_reason_required"))
	}
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	if old == nil || old["key_deal"] != true || rec["key_deal"] != true {
		return nil
	}
	from, ok := p.Stage(old["stage"].(string))
	if ok && st.Kind != StatusLost && st.Reach <= from.Reach {
		return nil // not an advance
	}
	last, _ := old["updated_at"].(time.Time)
	if a, ok := old["last_activity_at"].(time.Time); ok && a.After(last) {
		last = a
	}
	if st.Kind == StatusLost || last.IsZero() || (st.Kind == StatusWon && system) {
		return nil // a win the system records (a signed contract) is a fact, not an advance to hold back
	}
	if age := now.Sub(last); age > KeyDealStaleDays*24*time.Hour {
		days := int(age / (24 * time.Hour))
		return apperr.New(apperr.ErrUnprocessable, "sales_key_deal_stale", "days", days, "limit", KeyDealStaleDays,
			"since", last.In(shanghai).Format(time.DateOnly))
	}
	return nil
}

// copyFromAccount fills region and industry from the account when empty.
func (m *Module) copyFromAccount(ctx context.Context, rec records.Record) {
	id, ok := rec["account"].(int64)
	if !ok || (!empty(rec["region"]) && !empty(rec["industry"])) {
		return
	}
	acc, err := m.recs.Get(ctx, access.System(), Accounts, id, records.GetOptions{})
	if err != nil {
		return // the link check reports a missing account
	}
	for _, f := range []string{"region", "industry"} {
		if empty(rec[f]) && !empty(acc[f]) {
			rec[f] = acc[f]
		}
	}
}

func empty(x any) bool {
	switch t := x.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case []string:
		return len(t) == 0
	case []any:
		return len(t) == 0
	case []records.Record:
		return len(t) == 0
	}
	return false
}

func equalDecimal(a, b any) bool {
	x, ok1 := a.(decimal.Decimal)
	y, ok2 := b.(decimal.Decimal)
	if !ok1 || !ok2 {
		return ok1 == ok2
	}
	return x.Equal(y)
}

// shanghai is the business time zone (no daylight saving).
var shanghai = time.FixedZone("Asia/Shanghai", 8*3600)

// moveStage is the action move_stage {"stage": code}: a write of stage,
// held to the gates by the hook.
func (m *Module) moveStage(ctx context.Context, p *access.Principal, rec records.Record, input map[string]any) (records.Record, error) {
	code, _ := input["stage"].(string)
	if code == "" {
		return nil, apperr.Fields(apperr.Field("stage", "required"))
	}
	in := map[string]any{"stage": code}
	for _, k := range []string{"loss_reason", "win_reason"} {
		if v, ok := input[k]; ok {
			in[k] = v
		}
	}
	return m.recs.Update(ctx, p, Opportunities, rec.ID(), in, 0)
}

// win is the action win {"reason"}: the pipeline's won stage.
func (m *Module) win(ctx context.Context, p *access.Principal, rec records.Record, input map[string]any) (records.Record, error) {
	return m.close(ctx, p, rec, StatusWon, map[string]any{"win_reason": input["reason"]})
}

// lose is the action lose {"loss_reason", "note"}: the pipeline's lost
// stage; the reason is required.
func (m *Module) lose(ctx context.Context, p *access.Principal, rec records.Record, input map[string]any) (records.Record, error) {
	in := map[string]any{"loss_reason": input["loss_reason"]}
	if n, ok := input["note"]; ok {
		in["loss_note"] = n
	}
	if empty(in["loss_reason"]) {
		return nil, apperr.Fields(apperr.Field("loss_reason", "sales_loss_reason_required"))
	}
	return m.close(ctx, p, rec, StatusLost, in)
}

func (m *Module) close(ctx context.Context, p *access.Principal, rec records.Record, kind string, in map[string]any) (records.Record, error) {
	pid, _ := rec["pipeline"].(int64)
	pl, err := m.pipeline(ctx, pid)
	if err != nil {
		return nil, err
	}
	st, ok := pl.firstOf(kind)
	if !ok {
		return nil, apperr.Fields(apperr.Field("stage", "sales_pipeline_needs_"+kind))
	}
	for k, v := range in {
		if v == nil {
			delete(in, k)
		}
	}
	in["stage"] = st.Code
	return m.recs.Update(ctx, p, Opportunities, rec.ID(), in, 0)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
