package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// TestInput is the body of a test: the record to test against (required
// when the rule works on records, unless an inbound payload finds it),
// optional values before a change (API form) for the change triggers, an
// optional inbound payload, and, for POST /api/v1/rules/test, the unsaved
// rule itself.
type TestInput struct {
	RecordID json.RawMessage `json:"record_id,omitempty"`
	Old      json.RawMessage `json:"old,omitempty"`
	Payload  json.RawMessage `json:"payload,omitempty"`
	Rule     *Draft          `json:"rule,omitempty"`
}

// Draft is an unsaved rule, as the fields of a rules record.
type Draft struct {
	Name        string          `json:"name,omitempty"`
	Entity      string          `json:"entity"`
	Enabled     bool            `json:"enabled,omitempty"`
	Trigger     json.RawMessage `json:"trigger"`
	Condition   string          `json:"condition,omitempty"`
	Actions     json.RawMessage `json:"actions"`
	Description string          `json:"description,omitempty"`
	HookToken   string          `json:"hook_token,omitempty"`
}

// TestResult says whether the rule would run on the record now and what
// each action would do. Nothing is changed: the actions run in a
// transaction that is rolled back.
type TestResult struct {
	Rule      *string        `json:"rule"`
	Record    *string        `json:"record_id"`
	Trigger   TriggerCheck   `json:"trigger"`
	Condition ConditionCheck `json:"condition"`
	WouldRun  bool           `json:"would_run"`
	Actions   []actionResult `json:"actions"`
	Error     *RunError      `json:"error"`
}

// TriggerCheck is whether the trigger fires for the record. Matches is
// nil when the test cannot tell (a field change without old values).
// Basis says what it was decided on: always, old_values, current_value,
// today, needs_old.
type TriggerCheck struct {
	Type    string `json:"type"`
	Matches *bool  `json:"matches"`
	Basis   string `json:"basis"`
}

// ConditionCheck is the condition's result on the record.
type ConditionCheck struct {
	Source  string    `json:"source"`
	Matches bool      `json:"matches"`
	Error   *RunError `json:"error,omitempty"`
}

// errRollback ends a test's transaction.
var errRollback = errors.New("rules: test transaction rolled back")

// Test runs a saved rule in test mode for p, who must be allowed to
// change rules.
func (e *Engine) Test(ctx context.Context, p *access.Principal, ruleID int64, in TestInput) (*TestResult, error) {
	if !p.RightsOn(Entity).Can(access.Update) {
		return nil, apperr.Forbidden("action_not_allowed", "action", access.Update, "entity", Entity)
	}
	if in.Rule != nil {
		return nil, apperr.Invalid("unknown_field", "field", "rule")
	}
	rec, err := e.recs.Get(ctx, p, Entity, ruleID, records.GetOptions{})
	if err != nil {
		return nil, err
	}
	r, err := e.ruleFromRecord(ctx, rec, false)
	if err != nil {
		return nil, err
	}
	res, err := e.test(ctx, p, r, in)
	if err == nil {
		id := itoa64(ruleID)
		res.Rule = &id
	}
	return res, err
}

// TestDraft runs an unsaved rule in test mode for p, who must be allowed
// to create rules. The rule is checked as it would be when saved.
func (e *Engine) TestDraft(ctx context.Context, p *access.Principal, in TestInput) (*TestResult, error) {
	if !p.RightsOn(Entity).Can(access.Create) {
		return nil, apperr.Forbidden("action_not_allowed", "action", access.Create, "entity", Entity)
	}
	if in.Rule == nil {
		return nil, apperr.Fields(apperr.Field("rule", "required"))
	}
	d := in.Rule
	r := &Rule{Name: d.Name, Entity: d.Entity, Enabled: d.Enabled, token: d.HookToken}
	r, err := e.compileRule(ctx, r, d.Trigger, strings.TrimSpace(d.Condition), d.Actions, true)
	if err != nil {
		return nil, err
	}
	return e.test(ctx, p, r, in)
}

func (e *Engine) test(ctx context.Context, p *access.Principal, r *Rule, in TestInput) (*TestResult, error) {
	res := &TestResult{Actions: []actionResult{}, Trigger: TriggerCheck{Type: r.Trigger.Type}}
	var recID int64
	if len(in.RecordID) > 0 && string(in.RecordID) != "null" {
		var raw any
		dec := json.NewDecoder(bytes.NewReader(in.RecordID))
		dec.UseNumber()
		if err := dec.Decode(&raw); err != nil {
			return nil, apperr.Fields(apperr.Field("record_id", "invalid_id"))
		}
		id, ok := meta.ParseID(raw)
		if !ok {
			return nil, apperr.Fields(apperr.Field("record_id", "invalid_id"))
		}
		// The tester must be able to read the record.
		if _, err := e.recs.Get(ctx, p, r.Entity, id, records.GetOptions{Fields: []string{"id"}}); err != nil {
			return nil, err
		}
		recID = id
	}
	var payload json.RawMessage
	if len(in.Payload) > 0 {
		pl, err := parsePayload(in.Payload)
		if err != nil {
			return nil, apperr.Fields(apperr.Field("payload", "rule_action_invalid", "reason", "the payload must be a JSON object"))
		}
		payload = pl
	}
	if recID == 0 && r.Trigger.Type == TriggerWebhook && r.Trigger.MatchField != "" && payload != nil {
		id, err := e.matchRecord(ctx, r, decodeJSONValue(payload))
		if err != nil {
			return nil, err
		}
		if id != 0 {
			if _, err := e.recs.Get(ctx, p, r.Entity, id, records.GetOptions{Fields: []string{"id"}}); err != nil {
				return nil, err
			}
		}
		recID = id
	}
	if recID == 0 && r.hasRecord() {
		return nil, apperr.Fields(apperr.Field("record_id", "rule_test_needs_record"))
	}
	var oldInput map[string]any
	if len(in.Old) > 0 && string(in.Old) != "null" {
		if err := decodeStrict(in.Old, &oldInput); err != nil || oldInput == nil {
			return nil, apperr.Fields(apperr.Field("old", "rule_action_invalid", "reason", "old must be an object of field values"))
		}
	}
	if recID != 0 {
		id := itoa64(recID)
		res.Record = &id
	}
	lang := i18n.Lang(p.Lang)
	pl := &runPayload{Rule: r.ID, Version: r.Version, Entity: r.Entity, Record: recID, Trigger: r.Trigger.Type,
		Payload: payload, Chain: &chain{Actor: actorOf(p)}}
	err := e.db.WithTx(ctx, func(ctx context.Context) error {
		res.Actions, res.Error, res.WouldRun = []actionResult{}, nil, false
		sc, err := e.runScope(ctx, r, pl)
		if err != nil {
			return err
		}
		if sc == nil {
			return apperr.NotFound()
		}
		sc.user = actorOf(p).vars()
		if oldInput != nil {
			sc.old = e.fromPublic(r.ent, oldInput)
		}
		res.Trigger = e.triggerNow(r, sc.rec, sc.old)
		res.Condition = ConditionCheck{Matches: true}
		if r.cond != nil {
			res.Condition.Source = r.cond.src
			ok, err := sc.evalBool(r.cond)
			if err != nil {
				if !domainError(err) {
					return err
				}
				res.Condition.Matches, res.Condition.Error = false, errorOf(err).render(lang)
			} else {
				res.Condition.Matches = ok
			}
		}
		res.WouldRun = res.Condition.Matches && (res.Trigger.Matches == nil || *res.Trigger.Matches)
		results, aerr := e.execute(ctx, r, sc, pl, 0, true)
		res.Actions = results
		if aerr != nil {
			if !domainError(aerr) {
				return aerr
			}
			res.Error = errorOf(aerr).render(lang)
		}
		if res.Actions == nil {
			res.Actions = []actionResult{}
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		return nil, err
	}
	return res, nil
}

// triggerNow tells whether the trigger fires for the record as it is
// (old: the values before a change, when the tester gave them).
func (e *Engine) triggerNow(r *Rule, rec, old records.Record) TriggerCheck {
	t := &r.Trigger
	out := TriggerCheck{Type: t.Type, Basis: "always"}
	yes := func(b bool) *bool { return &b }
	switch t.Type {
	case TriggerCreated, TriggerDeleted, TriggerSchedule, TriggerWebhook:
		out.Matches = yes(true)
	case TriggerUpdated, TriggerFieldChanged:
		if old == nil {
			if t.Type == TriggerUpdated {
				out.Matches = yes(true)
			} else {
				out.Basis = "needs_old"
			}
			return out
		}
		out.Basis = "old_values"
		fields := t.Fields
		if t.Type == TriggerUpdated {
			fields = sortedKeys(old)
		}
		changed := false
		for _, f := range fields {
			if _, given := old[f]; given && !sameValue(old[f], rec[f]) {
				changed = true
			}
		}
		out.Matches = yes(changed)
	case TriggerStatusEntered:
		out.Basis = "current_value"
		m := sameValue(rec[t.Field], r.statusValue)
		if old != nil {
			out.Basis = "old_values"
			m = m && !sameValue(old[t.Field], r.statusValue)
		}
		out.Matches = yes(m)
	case TriggerDate:
		out.Basis = "today"
		day := ""
		switch v := rec[t.Field].(type) {
		case string:
			day = v
		case time.Time:
			day = v.In(meta.Shanghai).Format(time.DateOnly)
		}
		m := false
		if d, err := time.ParseInLocation(time.DateOnly, day, meta.Shanghai); err == nil {
			m = d.AddDate(0, 0, t.OffsetDays).Format(time.DateOnly) == e.now().In(meta.Shanghai).Format(time.DateOnly)
		}
		out.Matches = yes(m)
	}
	return out
}
