package grading

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// accountJob is the payload of KindAccount: an account, or an opportunity
// whose account is meant (an activity logged on an opportunity only).
type accountJob struct {
	Account     int64 `json:"account,omitempty,string"`
	Opportunity int64 `json:"opportunity,omitempty,string"`
}

// queue adds a recomputation of an account after the write commits (one
// queued job per account).
func (s *Service) queue(ctx context.Context, j accountJob) error {
	key := "account:" + strconv.FormatInt(j.Account, 10)
	if j.Account == 0 {
		key = "opportunity:" + strconv.FormatInt(j.Opportunity, 10)
	}
	_, err := s.jobs.Enqueue(ctx, KindAccount, j, jobs.EnqueueOptions{UniqueKey: key})
	return err
}

func linkOf(r records.Record, field string) int64 {
	if r == nil {
		return 0
	}
	id, _ := r[field].(int64)
	return id
}

// queueAccounts queues the accounts named by field in the old and new
// values of a change.
func (s *Service) queueAccounts(ctx context.Context, c *records.Change, field string) error {
	var done []int64
	for _, r := range []records.Record{c.Old, c.New} {
		if id := linkOf(r, field); id != 0 && !slices.Contains(done, id) {
			done = append(done, id)
			if err := s.queue(ctx, accountJob{Account: id}); err != nil {
				return err
			}
		}
	}
	return nil
}

// afterOpportunity queues the account of a won opportunity that changed in
// a way the metrics see (or one that stopped being won).
func (s *Service) afterOpportunity(ctx context.Context, c *records.Change) error {
	won := func(r records.Record) bool { return r != nil && r["status"] == "won" }
	if !won(c.Old) && !won(c.New) {
		return nil
	}
	if c.Op == records.OpUpdate && !changedAny(c.Changed, "status", "amount", "closed_at", "account") {
		return nil
	}
	return s.queueAccounts(ctx, c, "account")
}

// afterActivity queues the account an activity is about.
func (s *Service) afterActivity(ctx context.Context, c *records.Change) error {
	if c.Op == records.OpUpdate && !changedAny(c.Changed, "account", "opportunity", "occurred_at") {
		return nil
	}
	if linkOf(c.New, "account") == 0 && linkOf(c.Old, "account") == 0 {
		for _, r := range []records.Record{c.New, c.Old} {
			if o := linkOf(r, "opportunity"); o != 0 {
				return s.queue(ctx, accountJob{Opportunity: o})
			}
		}
		return nil
	}
	return s.queueAccounts(ctx, c, "account")
}

// afterAccount queues a new account, and one whose first deal or last
// interaction changed (the module's own writes change neither).
func (s *Service) afterAccount(ctx context.Context, c *records.Change) error {
	if c.Op == records.OpDelete || c.Op == records.OpUpdate && !changedAny(c.Changed, "first_deal_on", "last_activity_at") {
		return nil
	}
	return s.queue(ctx, accountJob{Account: c.New.ID()})
}

func changedAny(changed []string, names ...string) bool {
	for _, n := range names {
		if slices.Contains(changed, n) {
			return true
		}
	}
	return false
}

// runAccount is the KindAccount job.
func (s *Service) runAccount(ctx context.Context, j *jobs.Job) error {
	var p accountJob
	if err := j.Decode(&p); err != nil {
		return jobs.Permanent(err)
	}
	id := p.Account
	if id == 0 {
		o, err := s.recs.Get(ctx, access.System(), Opportunities, p.Opportunity, records.GetOptions{})
		if err != nil {
			if errors.Is(err, apperr.ErrNotFound) {
				return nil
			}
			return err
		}
		if id = linkOf(o, "account"); id == 0 {
			return nil
		}
	}
	_, err := s.Recompute(ctx, []int64{id})
	return err
}

// runNightly is the KindNightly job: every account, BatchSize per
// transaction.
func (s *Service) runNightly(ctx context.Context, _ *jobs.Job) error {
	_, err := s.RecomputeAll(ctx)
	return err
}

// RecomputeAll recomputes every account and returns how many changed.
func (s *Service) RecomputeAll(ctx context.Context) (int, error) {
	if _, ok := s.recs.Registry().Get(Accounts); !ok {
		return 0, nil
	}
	changed := 0
	err := s.recs.Each(ctx, access.System(), Accounts, records.EachOptions{ListOptions: records.ListOptions{Sort: "id", PerPage: BatchSize}},
		func(batch []records.Record) error {
			ids := make([]int64, len(batch))
			for i, r := range batch {
				ids[i] = r.ID()
			}
			n, err := s.Recompute(ctx, ids)
			changed += n
			return err
		})
	return changed, err
}

// Recompute recomputes the accounts in one transaction and returns how many
// changed. Accounts that no longer exist are skipped.
func (s *Service) Recompute(ctx context.Context, ids []int64) (int, error) {
	if err := s.SeedRules(ctx); err != nil {
		return 0, err
	}
	changed := 0
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		changed = 0
		rules, err := s.rules(ctx)
		if err != nil {
			return err
		}
		accs, err := s.loadAccounts(ctx, ids)
		if err != nil {
			return err
		}
		orders, err := s.source.Orders(ctx, ids)
		if err != nil {
			return err
		}
		rates, err := s.source.OnTimePaymentRates(ctx, ids)
		if err != nil {
			return err
		}
		now := s.now()
		for _, acc := range accs {
			var rate *decimal.Decimal
			if r, ok := rates[acc.ID()]; ok {
				rate = &r
			}
			m := compute(now, acc, orders[acc.ID()], rate)
			in := s.changes(acc, rules, m)
			if len(in) == 0 {
				continue
			}
			if _, err := s.recs.Update(ctx, access.System(), Accounts, acc.ID(), in, 0); err != nil {
				return err
			}
			changed++
		}
		return nil
	})
	return changed, err
}

func (s *Service) loadAccounts(ctx context.Context, ids []int64) ([]records.Record, error) {
	var out []records.Record
	err := s.recs.Each(ctx, access.System(), Accounts, records.EachOptions{ListOptions: records.ListOptions{
		Filter: "id in [" + idList(ids) + "]", Sort: "id"}}, func(batch []records.Record) error {
		out = append(out, batch...)
		return nil
	})
	return out, err
}

// changes is the update that brings an account to its metrics: only the
// fields that exist on accounts and differ.
func (s *Service) changes(acc records.Record, rules []Rule, m Metrics) map[string]any {
	e, ok := s.recs.Registry().Get(Accounts)
	if !ok {
		return nil
	}
	in := map[string]any{}
	set := func(field string, v any, same bool) {
		if e.Field(field) != nil && !same {
			in[field] = v
		}
	}
	oldGrade, _ := acc["grade"].(string)
	grade := ""
	if r := Grade(rules, m); r != nil {
		grade = r.Grade
	}
	if grade != "" {
		set("grade", grade, grade == oldGrade)
	}
	score := m.ValueScore()
	old, _ := acc["value_score"].(int64)
	set("value_score", strconv.FormatInt(score, 10), acc["value_score"] != nil && old == score)
	health := m.Health()
	set("health", health, acc["health"] == health)
	oldAP, hasAP := acc["annual_purchases"].(decimal.Decimal)
	set("annual_purchases", m.AnnualPurchases.StringFixed(2), hasAP && oldAP.Equal(m.AnnualPurchases))
	oldN, hasN := acc["order_count"].(int64)
	set("order_count", strconv.FormatInt(m.OrderCount, 10), hasN && oldN == m.OrderCount)
	if grade != "" && grade != oldGrade {
		terms, hasTerms := acc["payment_terms_days"].(int64)
		prev := defaultTerms(rules, oldGrade)
		if next := defaultTerms(rules, grade); next != nil && (!hasTerms || prev != nil && *prev == terms) {
			set("payment_terms_days", strconv.FormatInt(*next, 10), hasTerms && terms == *next)
		}
	}
	return in
}

// regrade is the account action regrade: the account recomputed now, for
// a caller who may update it; the answer is the account as they see it.
func (s *Service) regrade(ctx context.Context, p *access.Principal, rec records.Record, _ map[string]any) (records.Record, error) {
	if err := s.recs.Check(ctx, p, Accounts, rec.ID(), access.Update); err != nil {
		return nil, err
	}
	if _, err := s.Recompute(ctx, []int64{rec.ID()}); err != nil {
		return nil, err
	}
	return s.recs.Get(ctx, p, Accounts, rec.ID(), records.GetOptions{})
}
