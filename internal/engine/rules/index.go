package rules

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// index is the in-memory index of enabled rules with event triggers, by
// entity, so that a write to an entity no rule watches costs one map
// lookup. It is a records.Derived of the rules: rebuilt after a rule's
// save commits, and when Run's check finds the table changed by another
// process.
type index struct {
	byEntity map[string][]*Rule
}

// rulesFor returns the enabled event rules of an entity, rebuilding the
// index first when it is stale.
func (e *Engine) rulesFor(ctx context.Context, entity string) ([]*Rule, error) {
	idx, err := e.idx.Get(ctx)
	if err != nil {
		return nil, err
	}
	return idx.byEntity[entity], nil
}

// buildIndex builds the index from the enabled rules. A rule that no
// longer compiles (a field it uses was deleted) is left out and logged.
func (e *Engine) buildIndex(ctx context.Context) (*index, error) {
	all, err := e.enabledRules(ctx)
	if err != nil {
		return nil, err
	}
	idx := &index{byEntity: map[string][]*Rule{}}
	for _, r := range all {
		if eventTrigger(r.Trigger.Type) {
			idx.byEntity[r.Entity] = append(idx.byEntity[r.Entity], r)
		}
	}
	return idx, nil
}

// enabledRules compiles every enabled rule.
func (e *Engine) enabledRules(ctx context.Context) ([]*Rule, error) {
	var out []*Rule
	for page := 1; ; page++ {
		res, err := e.recs.List(ctx, access.System(), Entity, records.ListOptions{Filter: "enabled == true", Sort: "id",
			Page: page, PerPage: records.MaxPerPage, Count: records.CountNone})
		if err != nil {
			return nil, err
		}
		for _, rec := range res.Items {
			r, err := e.cachedRule(ctx, rec)
			if err != nil {
				e.log.Warn("rules: a rule no longer compiles and is skipped", "rule", rec.ID(), "err", err)
				continue
			}
			out = append(out, r)
		}
		if len(res.Items) < records.MaxPerPage {
			return out, nil
		}
	}
}

// cachedRule compiles a rule record, reusing the compiled rule of the same
// version.
func (e *Engine) cachedRule(ctx context.Context, rec records.Record) (*Rule, error) {
	e.compiledMu.Lock()
	r := e.compiled[rec.ID()]
	e.compiledMu.Unlock()
	if r != nil && r.Version == rec.Version() {
		return r, nil
	}
	r, err := e.ruleFromRecord(ctx, rec, false)
	if err != nil {
		return nil, err
	}
	e.compiledMu.Lock()
	e.compiled[r.ID] = r
	e.compiledMu.Unlock()
	return r, nil
}

// ruleByID returns the rule as it is now (nil when it does not exist).
func (e *Engine) ruleByID(ctx context.Context, id int64) (*Rule, error) {
	rec, err := e.recs.Get(ctx, access.System(), Entity, id, records.GetOptions{})
	if err != nil {
		if ae, ok := apperr.As(err); ok && ae.Kind == apperr.ErrNotFound {
			return nil, nil
		}
		return nil, err
	}
	return e.cachedRule(ctx, rec)
}

// beforeRule checks a rule when it is saved: everything is compiled with
// the limits, and a webhook rule gets a token when it has none.
func (e *Engine) beforeRule(ctx context.Context, c *records.Change) error {
	if c.Op != records.OpCreate && c.Op != records.OpUpdate {
		return nil
	}
	r, err := e.ruleFromRecord(ctx, c.New, true)
	if err != nil {
		return err
	}
	tok, _ := c.New["hook_token"].(string)
	switch {
	case tok == "" && r.Trigger.Type == TriggerWebhook:
		c.New["hook_token"] = newToken()
	case tok != "" && len(tok) < 24:
		return apperr.Fields(apperr.Field("hook_token", "rule_token_short", "min", 24))
	}
	return nil
}

// afterRule keeps the schedule of a scheduled rule in step with the rule,
// in the same transaction, and drops its compiled form once it commits
// (the index, a records.Derived, goes stale by itself).
func (e *Engine) afterRule(ctx context.Context, c *records.Change) error {
	id := c.New.ID()
	if id == 0 && c.Old != nil {
		id = c.Old.ID()
	}
	db.AfterCommit(ctx, func() {
		e.compiledMu.Lock()
		delete(e.compiled, id)
		e.compiledMu.Unlock()
	})
	name := scheduleName(id)
	rec := c.New
	if c.Op == records.OpDelete {
		rec = nil
	}
	var t Trigger
	enabled := false
	if rec != nil {
		enabled, _ = rec["enabled"].(bool)
		if tt, fes := parseTrigger(rawJSON(rec["trigger"])); len(fes) == 0 {
			t = tt
		}
	}
	if enabled && t.Type == TriggerSchedule {
		_, err := e.jobs.UpsertSchedule(ctx, jobs.ScheduleDef{Name: name, Spec: t.Cron, Timezone: t.Timezone,
			Kind: KindSchedule, Payload: scheduleRun{Rule: id}})
		return err
	}
	if err := e.jobs.DeleteSchedule(ctx, name); err != nil {
		if ae, ok := apperr.As(err); !ok || ae.Kind != apperr.ErrNotFound {
			return err
		}
	}
	return nil
}

// scheduleName names the job schedule of a scheduled rule.
func scheduleName(id int64) string { return "rules.rule." + itoa64(id) }

// scheduleRun is the payload of a scheduled rule's jobs.
type scheduleRun struct {
	Rule int64 `json:"rule,string"`
}

// newToken is a fresh inbound webhook token.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// rotateToken gives a webhook rule a new token (the old one stops working).
func (e *Engine) rotateToken(ctx context.Context, p *access.Principal, rec records.Record, _ map[string]any) (records.Record, error) {
	return e.recs.Update(ctx, p, Entity, rec.ID(), map[string]any{"hook_token": newToken()}, 0)
}

// jsonValue marshals v for a JSON column.
func jsonValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}
