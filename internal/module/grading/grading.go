// Package grading is the customer grading module (REQUIREMENTS S3): grade
// rules an administrator edits (records of grade_rules), metrics computed
// per account, the grade, a value score and the health they give, and the
// default payment terms that follow the grade.
//
// # Rules
//
// Active rules are checked in priority order (lower first, then by id); the
// first whose condition holds gives the grade; an empty condition always
// holds. A condition is an expression (package expr) over the metrics
// below. The shipped rules (created when the entity has never held a rule)
// are those of S3:
//
//	A 战略客户  annual_purchases >= 3000000 || cooperation_years >= 3   60 days
//	B 重点客户  max_order >= 500000 || yearly_growth > 0.2              60 days
//	C 一般客户  (always)                                                30 days
//
// S3 gives "60 vs 30 days" for the grade-driven payment terms; key (B)
// customers are given the strategic terms because S3 lists them with the
// entitlements of graded customers, and only everyone else is on 30 days.
//
// # Metrics
//
// Computed on the clock's day in the company's zone (UTC+8), from the
// account's orders as the metric source gives them (Source; until sales
// orders exist, won opportunities: amount, closed_at):
//
//   - annual_purchases: the sum of the orders of the last 12 months;
//   - max_order: the largest order of the last 12 months;
//   - yearly_growth: annual_purchases over the 12 months before, less 1
//     (0.2 is 20 %); nil when the year before had no orders;
//   - cooperation_years: whole years since the first deal (the account's
//     first_deal_on, else its first order); 0 without any;
//   - on_time_payment_rate: the share of payments made on time, 0–1; 1
//     while the source knows no payments (the quoting/finance module will
//     supply them);
//   - order_count: the number of the account's orders (all time; two or more
//     make a repeat buyer);
//   - days_since_interaction: whole days since the account's last activity
//     (last_activity_at), nil when there was none.
//
// # Value score and health
//
// value_score (0–100) = 50 · min(1, annual_purchases / 3,000,000)
// + 30 · on_time_payment_rate (only for an account with orders)
// + 20 · min(1, cooperation_years / 5), rounded to a whole number.
// health is healthy when an activity happened within the last 90 days,
// otherwise at_risk.
//
// # Recomputation
//
// An account created, and a write that can change an account's figures — a won opportunity created,
// changed, deleted or restored, or one leaving the won status; an activity
// logged, moved or deleted; an account's first_deal_on or last_activity_at
// changed — queues a grading.account job for the account in the write's
// transaction (one queued job per account however many writes). The job
// recomputes after the commit, as the system, and writes only the fields
// that changed. The nightly grading.nightly job (02:20 in the company's
// zone) recomputes every account in batches of 200, one transaction each;
// POST /api/v1/grading/recompute queues it at once. The account action
// regrade recomputes one account now.
//
// # Payment terms
//
// When an account's grade changes and its payment_terms_days is empty or
// equal to the previous grade's default (the terms of the first active rule
// of that grade), it becomes the new grade's default; terms set by hand to
// anything else are kept.
package grading

import (
	"context"
	"embed"
	"log/slog"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Entities holds the definition of grade_rules.
//
//go:embed entities/*.json
var Entities embed.FS

// The entities the module owns or reads.
const (
	Rules         = "grade_rules"
	Accounts      = "accounts"
	Opportunities = "opportunities"
	Activities    = "activities"
)

// Jobs of the module.
const (
	KindAccount = "grading.account" // recompute one account after a change
	KindNightly = "grading.nightly" // recompute every account
)

// NightlySpec is when the nightly recomputation runs (company time).
const NightlySpec = "20 2 * * *"

// BatchSize is how many accounts one transaction of the nightly job
// recomputes.
const BatchSize = 200

// Config carries the module's collaborators.
type Config struct {
	DB      *db.DB
	Records *records.Service
	Jobs    *jobs.Queue
	// Source gives the orders and payments behind the metrics (default:
	// won opportunities, no payments).
	Source Source
	Now    func() time.Time
	Log    *slog.Logger
}

// Service is the grading module.
type Service struct {
	db     *db.DB
	recs   *records.Service
	jobs   *jobs.Queue
	source Source
	now    func() time.Time
	log    *slog.Logger
}

// New builds the module and registers its hooks, the regrade action and
// its jobs.
func New(c Config) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	s := &Service{db: c.DB, recs: c.Records, jobs: c.Jobs, source: c.Source, now: c.Now, log: c.Log}
	if s.source == nil {
		s.source = WonOpportunities{Records: c.Records}
	}
	s.recs.Use(Rules, records.Hook{Before: s.checkRule})
	s.recs.Use(Opportunities, records.Hook{Priority: 100, After: s.afterOpportunity})
	s.recs.Use(Activities, records.Hook{Priority: 100, After: s.afterActivity})
	s.recs.Use(Accounts, records.Hook{Priority: 100, After: s.afterAccount})
	s.recs.Action(Accounts, "regrade", s.regrade)
	s.jobs.Register(KindAccount, s.runAccount, jobs.HandlerOptions{InTx: true})
	s.jobs.Register(KindNightly, s.runNightly, jobs.HandlerOptions{Timeout: time.Hour})
	return s
}

// SetSource replaces the metric source (the quoting/orders module calls it
// while wiring, once it can supply orders and payments).
func (s *Service) SetSource(src Source) { s.source = src }

// Start seeds the shipped rules when the entity has never held one and
// keeps the nightly schedule. Call it once the schema is migrated.
func (s *Service) Start(ctx context.Context) error {
	if err := s.SeedRules(ctx); err != nil {
		return err
	}
	_, err := s.jobs.UpsertSchedule(ctx, jobs.ScheduleDef{Name: KindNightly, Spec: NightlySpec, Kind: KindNightly})
	return err
}
