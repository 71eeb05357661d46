package rules

import (
	"context"
	"reflect"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// chain is what a chain of rule-caused writes carries (in the context of
// the writes a run makes, and in the payload of the runs they cause): the
// user who started it and the (rule, record) pairs already run, in order.
// Its length is the depth of the loop guard.
type chain struct {
	Actor *Actor     `json:"actor,omitempty"`
	Pairs [][2]int64 `json:"pairs,omitempty"`
}

type chainKey struct{}

// chainFrom returns the chain of the run making the writes in ctx, or nil
// for a write no rule made.
func chainFrom(ctx context.Context) *chain {
	c, _ := ctx.Value(chainKey{}).(*chain)
	return c
}

func withChain(ctx context.Context, c *chain) context.Context {
	return context.WithValue(ctx, chainKey{}, c)
}

// has reports whether the rule already ran on the record in this chain.
func (c *chain) has(rule, record int64) bool {
	return c != nil && slices.Contains(c.Pairs, [2]int64{rule, record})
}

func (c *chain) depth() int {
	if c == nil {
		return 0
	}
	return len(c.Pairs)
}

// then is the chain of a run of rule on record that follows c.
func (c *chain) then(actor *Actor, rule, record int64) *chain {
	out := &chain{Actor: actor}
	if c != nil {
		out.Actor = c.Actor
		out.Pairs = append(slices.Clone(c.Pairs), [2]int64{rule, record})
	} else {
		out.Pairs = [][2]int64{{rule, record}}
	}
	return out
}

// afterWrite is the records hook on every entity. Inside the write's
// transaction it finds the enabled rules whose trigger fires, evaluates
// their conditions on the record as written, logs the runs that are
// skipped or stopped, and enqueues a rules.run job for each run to do,
// so the runs exist exactly when the write commits.
func (e *Engine) afterWrite(ctx context.Context, c *records.Change) error {
	if c.Entity.Name == Entity {
		return nil
	}
	rs, err := e.rulesFor(ctx, c.Entity.Name)
	if err != nil || len(rs) == 0 {
		return err
	}
	ch := chainFrom(ctx)
	var sc *scope
	for _, r := range rs {
		if !r.fires(c) {
			continue
		}
		if sc == nil {
			sc = e.changeScope(ctx, c, ch)
		}
		if err := e.fire(ctx, r, c, sc, ch); err != nil {
			return err
		}
	}
	return nil
}

// changeScope is what conditions see of a change.
func (e *Engine) changeScope(ctx context.Context, c *records.Change, ch *chain) *scope {
	sc := &scope{e: e, ctx: ctx, ent: c.Entity, rec: c.New}
	switch c.Op {
	case records.OpDelete:
		sc.rec = c.Old
	case records.OpUpdate:
		sc.old = c.Old
	}
	actor := actorOf(c.P)
	if ch != nil {
		actor = ch.Actor
	}
	sc.user = actor.vars()
	return sc
}

// fires reports whether the rule's trigger fires on the change.
func (r *Rule) fires(c *records.Change) bool {
	t := &r.Trigger
	switch t.Type {
	case TriggerCreated:
		return c.Op == records.OpCreate
	case TriggerUpdated:
		return c.Op == records.OpUpdate
	case TriggerFieldChanged:
		if c.Op != records.OpUpdate {
			return false
		}
		for _, f := range t.Fields {
			if slices.Contains(c.Changed, f) {
				return true
			}
		}
		return false
	case TriggerStatusEntered:
		switch c.Op {
		case records.OpCreate:
		case records.OpUpdate:
			if !slices.Contains(c.Changed, t.Field) {
				return false
			}
		default:
			return false
		}
		return sameValue(c.New[t.Field], r.statusValue)
	case TriggerDeleted:
		return c.Op == records.OpDelete
	}
	return false
}

// sameValue compares two canonical values.
func sameValue(a, b any) bool {
	if da, ok := a.(decimal.Decimal); ok {
		db, ok := b.(decimal.Decimal)
		return ok && da.Equal(db)
	}
	return reflect.DeepEqual(a, b)
}

// fire decides one run inside the triggering transaction: condition,
// loop guard, then either a log row (skipped, failed, loop_stopped) or a
// rules.run job.
func (e *Engine) fire(ctx context.Context, r *Rule, c *records.Change, sc *scope, ch *chain) error {
	start := time.Now()
	recID := sc.rec.ID()
	row := &runRow{rule: r.ID, entity: r.Entity, record: recID, trigger: r.Trigger.Type, depth: ch.depth()}
	if r.cond != nil {
		ok, err := sc.evalBool(r.cond)
		if err != nil {
			if _, isApp := apperr.As(err); !isApp {
				return err
			}
			if isCutOff(err) {
				e.log.Warn("rules: condition evaluation cut off", "rule", r.ID, "record", recID, "err", err)
			}
			row.outcome, row.err = outcomeFailed, errorOf(err)
			return e.logRun(ctx, row, start)
		}
		if !ok {
			row.outcome = outcomeSkipped
			return e.logRun(ctx, row, start)
		}
	}
	if ch.depth() >= e.limits.MaxDepth {
		row.outcome, row.err = outcomeLoop, &runError{Code: "rule_loop_depth", Args: map[string]any{"max": e.limits.MaxDepth}}
		e.log.Warn("rules: loop guard stopped a chain", "rule", r.ID, "record", recID, "depth", ch.depth())
		return e.logRun(ctx, row, start)
	}
	if ch.has(r.ID, recID) {
		row.outcome, row.err = outcomeLoop, &runError{Code: "rule_loop_repeat", Args: map[string]any{"rule": r.ID, "record": recID}}
		e.log.Warn("rules: loop guard stopped a repeat", "rule", r.ID, "record", recID)
		return e.logRun(ctx, row, start)
	}
	p := runPayload{Rule: r.ID, Version: r.Version, Entity: r.Entity, Record: recID, Trigger: r.Trigger.Type}
	if ch != nil {
		p.Chain = ch
	} else if a := actorOf(c.P); a != nil {
		p.Chain = &chain{Actor: a}
	}
	if c.Op == records.OpDelete {
		p.Snapshot = e.recs.Public(principal(), r.Entity, c.Old, nil)
	} else if r.needsOld && c.Old != nil {
		p.Old = e.recs.Public(principal(), r.Entity, c.Old, nil)
	}
	_, err := e.jobs.Enqueue(ctx, KindRun, p, jobs.EnqueueOptions{})
	return err
}
