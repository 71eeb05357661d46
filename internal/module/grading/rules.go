package grading

import (
	"context"
	"sort"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/expr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Rule is an active grade rule, compiled.
type Rule struct {
	ID           int64
	Grade        string
	Priority     int64
	Terms        *int64 // default payment terms in days
	condition    *expr.Program
	hasCondition bool
}

// DefaultRules are the shipped rules (REQUIREMENTS S3).
func DefaultRules() []map[string]any {
	return []map[string]any{
		{"name": "A 战略客户 / Strategic", "grade": "a", "priority": "10", "payment_terms_days": "60", "active": true,
			"condition":   "annual_purchases >= 3000000 || cooperation_years >= 3",
			"description": "年采购额 ≥ 300 万或合作 ≥ 3 年 / Annual purchases ≥ 3,000,000 or ≥ 3 years of cooperation"},
		{"name": "B 重点客户 / Key", "grade": "b", "priority": "20", "payment_terms_days": "60", "active": true,
			"condition":   "max_order >= 500000 || yearly_growth > 0.2",
			"description": "单笔订单 ≥ 50 万或年增长 > 20% / A single order ≥ 500,000 or yearly growth > 20 %"},
		{"name": "C 一般客户 / Regular", "grade": "c", "priority": "30", "payment_terms_days": "30", "active": true,
			"condition": "", "description": "其他客户 / Everyone else"},
	}
}

// SeedRules creates the shipped rules when grade_rules has never held a
// rule (deleted ones count: an administrator who removed them keeps them
// removed).
func (s *Service) SeedRules(ctx context.Context) error {
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		var n int64
		if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM r_grade_rules`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		for _, r := range DefaultRules() {
			if _, err := s.recs.Create(ctx, access.System(), Rules, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkRule refuses a condition that does not compile over the metrics.
func (s *Service) checkRule(_ context.Context, c *records.Change) error {
	if c.New == nil {
		return nil
	}
	src, _ := c.New["condition"].(string)
	if src == "" {
		return nil
	}
	p, err := expr.CompileProgram(src, MetricNames)
	if err == nil {
		// A condition must give true or false (or nil) for every account:
		// try it on an account without any figures.
		_, err = p.RunBool(Metrics{}.Vars())
	}
	if err != nil {
		return apperr.Fields(apperr.Field("condition", "grade_rule_bad_condition", "reason", reason(err)))
	}
	return nil
}

func reason(err error) string {
	if ae, ok := apperr.As(err); ok {
		if r, ok := ae.Args["reason"].(string); ok {
			return r
		}
		return ae.Code
	}
	return err.Error()
}

// rules loads the active rules in the order they are checked.
func (s *Service) rules(ctx context.Context) ([]Rule, error) {
	var out []Rule
	err := s.recs.Each(ctx, access.System(), Rules, records.EachOptions{ListOptions: records.ListOptions{Filter: "active", Sort: "priority,id"}},
		func(batch []records.Record) error {
			for _, r := range batch {
				rule := Rule{ID: r.ID()}
				rule.Grade, _ = r["grade"].(string)
				rule.Priority, _ = r["priority"].(int64)
				if t, ok := r["payment_terms_days"].(int64); ok {
					rule.Terms = &t
				}
				if src, _ := r["condition"].(string); src != "" {
					p, err := expr.CompileProgram(src, MetricNames)
					if err != nil {
						continue // refused when saved; an older rule that no longer compiles is skipped
					}
					rule.condition, rule.hasCondition = p, true
				}
				out = append(out, rule)
			}
			return nil
		})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Priority < out[j].Priority })
	return out, err
}

// Grade returns the first rule whose condition holds for m (nil: none).
func Grade(rules []Rule, m Metrics) *Rule {
	vars := m.Vars()
	for i := range rules {
		r := &rules[i]
		if !r.hasCondition {
			return r
		}
		if ok, err := r.condition.RunBool(vars); err == nil && ok {
			return r
		}
	}
	return nil
}

// defaultTerms is the payment terms of the first active rule of a grade.
func defaultTerms(rules []Rule, grade string) *int64 {
	for _, r := range rules {
		if r.Grade == grade {
			return r.Terms
		}
	}
	return nil
}
