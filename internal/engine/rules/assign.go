package rules

import (
	"context"
	"fmt"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
)

// assignOwner sets the record's owner (or another user field) by the
// action's strategy. Users who are no longer active are passed over.
func (run *runCtx) assignOwner(ctx context.Context, a *compiled) (map[string]any, error) {
	field := a.Field
	if field == "" {
		field = "owner"
	}
	user, err := run.pickOwner(ctx, a)
	if err != nil {
		return nil, err
	}
	detail := map[string]any{"strategy": a.Strategy, "field": field}
	if user == 0 {
		detail["status"] = "skipped"
		return detail, nil
	}
	rec, err := run.e.recs.Update(ctx, run.who, run.r.Entity, run.recordID(), map[string]any{field: itoa64(user)}, 0)
	if err != nil {
		return nil, err
	}
	run.sc.rec, run.sc.fetched = rec, nil
	detail["user"] = itoa64(user)
	return detail, nil
}

// counterName names the state of one action of a rule.
func counterName(a *compiled, what string) string {
	return fmt.Sprintf("actions[%d].%s", a.index, what)
}

// bump increments a rule's counter and returns the new value. The upsert
// locks the row until the transaction ends (PostgreSQL) or runs on the
// single writer (SQLite), so concurrent runs get distinct values.
func (e *Engine) bump(ctx context.Context, rule int64, name string) (int64, error) {
	var v int64
	err := e.db.QueryRow(ctx, `INSERT INTO rule_counters (rule_id, name, value) VALUES (?, ?, 1)
		ON CONFLICT (rule_id, name) DO UPDATE SET value = rule_counters.value + 1 RETURNING value`, rule, name).Scan(&v)
	return v, err
}

// pickOwner chooses the user (0: nobody, the action is skipped).
func (run *runCtx) pickOwner(ctx context.Context, a *compiled) (int64, error) {
	e := run.e
	switch a.Strategy {
	case StrategyFixed:
		active, err := e.activeUsers(ctx, []int64{a.user})
		if err != nil {
			return 0, err
		}
		if !active[a.user] {
			return 0, apperr.New(apperr.ErrUnprocessable, "rule_user_unknown", "user", itoa64(a.user))
		}
		return a.user, nil
	case StrategyRoundRobin:
		active, err := e.activeUsers(ctx, a.users)
		if err != nil {
			return 0, err
		}
		n, err := e.bump(ctx, run.r.ID, counterName(a, "round_robin"))
		if err != nil {
			return 0, err
		}
		// The position moves one step per run; inactive users are skipped
		// over without moving it further, so the turn order stays fair.
		for k := range int64(len(a.users)) {
			u := a.users[(n-1+k)%int64(len(a.users))]
			if active[u] {
				return u, nil
			}
		}
		return 0, apperr.New(apperr.ErrUnprocessable, "rule_no_active_user")
	case StrategyLeastLoaded:
		// Taking the counter row first serialises concurrent picks of this
		// action, so two runs do not both see the same user as least loaded.
		if _, err := e.bump(ctx, run.r.ID, counterName(a, "least_loaded")); err != nil {
			return 0, err
		}
		active, err := e.activeUsers(ctx, a.users)
		if err != nil {
			return 0, err
		}
		field := a.Field
		if field == "" {
			field = "owner"
		}
		var best, bestN int64 = 0, -1
		for _, u := range a.users {
			if !active[u] {
				continue
			}
			filter := field + " == " + itoa64(u)
			if a.Open != "" {
				filter += " && (" + a.Open + ")"
			}
			n, err := e.recs.Count(ctx, access.System(), run.r.Entity, filter)
			if err != nil {
				return 0, err
			}
			if bestN < 0 || n < bestN {
				best, bestN = u, n
			}
		}
		if best == 0 {
			return 0, apperr.New(apperr.ErrUnprocessable, "rule_no_active_user")
		}
		return best, nil
	case StrategyByRule:
		for _, br := range a.byRule {
			ok, err := run.sc.evalBool(br.when)
			if err != nil {
				return 0, err
			}
			if ok {
				return br.user, nil
			}
		}
		return a.def, nil
	}
	return 0, nil
}
