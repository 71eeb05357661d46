// Package sales is the sales module (REQUIREMENTS S5, S9): pipelines with
// editable stages, opportunities with stage gates, the pipeline board, the
// weighted forecast, the funnel, the sales cycle and targets with their
// attainment.
//
// # Pipelines and stages
//
// A pipeline (entity pipelines) lists its stages in the order deals
// advance: name, code, probability, kind (open, won, lost) and the fields
// an opportunity must have filled to enter the stage. The equipment
// pipeline of REQUIREMENTS S5 is installed as the default when no pipeline
// exists (Install); it is an ordinary record afterwards.
//
// # Opportunities
//
// A before hook on opportunities (creates, updates, imports and rule
// writes alike) keeps them consistent: the pipeline defaults to the
// default pipeline and the stage to its first stage; the stage must be a
// code of the pipeline; the probability follows the stage unless the write
// sets it (won stages force 100, lost stages 0); region and industry are
// copied from the account when empty; stage_changed_at is the time of the
// last stage change; status is the kind of the stage (won, lost, open) and
// closed_at the time it became won or lost (cleared when reopened);
// stage_reached is the furthest stage position reached (lost stages do not
// count, won counts as past every open stage); cycle_days is the days from
// creation to the win.
//
// # Stage gates
//
// Entering a stage needs its required_fields filled (422 naming each
// field, code sales_stage_requires). A key deal (key_deal) whose last
// update — the later of last_activity_at and updated_at — is more than
// KeyDealStaleDays days old cannot advance (move to a later stage or win);
// the 422 sales_key_deal_stale gives the days. A win the system records
// (the quoting module when a contract is signed) is not held back. Losing needs a loss_reason.
// The gates are in the hook, so the move_stage action, a PATCH of stage,
// an import and a rule are all held to them.
//
// # Reading under scope
//
// The board, the forecast, the funnel, the cycle and the attainment read
// through records.List, records.Count and records.Aggregate with the
// caller's principal: each figure counts only the records the caller could
// list, and a hidden amount or probability leaves its figures out (null).
package sales

import (
	"context"
	"embed"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Entities holds the definitions of pipelines, opportunities and
// sales_targets.
//
//go:embed entities/*.json
var Entities embed.FS

// The entities the module owns or reads.
const (
	Pipelines     = "pipelines"
	Opportunities = "opportunities"
	Targets       = "sales_targets"
	Accounts      = "accounts"
	Leads         = "leads"
	Users         = "users"
	Departments   = "departments"
)

// Statuses of an opportunity and kinds of a stage.
const (
	StatusOpen = "open"
	StatusWon  = "won"
	StatusLost = "lost"
)

// KeyDealStaleDays is how long a key deal may go without an update and
// still advance.
const KeyDealStaleDays = 15

// Config carries the module's collaborators.
type Config struct {
	DB      *db.DB
	Records *records.Service
	Now     func() time.Time
	Log     *slog.Logger
}

// Module is the sales module.
type Module struct {
	db   *db.DB
	recs *records.Service
	now  func() time.Time
	log  *slog.Logger
	// installed is set once Install has succeeded in this process.
	installed atomic.Bool
}

// New builds the module and registers its hooks and actions.
func New(c Config) *Module {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	m := &Module{db: c.DB, recs: c.Records, now: c.Now, log: c.Log}
	m.recs.Use(Opportunities, records.Hook{Priority: 10, Before: m.beforeOpportunity})
	m.recs.Use(Pipelines, records.Hook{Before: m.beforePipeline})
	m.recs.Use(Targets, records.Hook{Before: m.beforeTarget})
	m.recs.Action(Opportunities, "move_stage", m.moveStage)
	m.recs.Action(Opportunities, "win", m.win)
	m.recs.Action(Opportunities, "lose", m.lose)
	return m
}

// Grants are what every signed-in user holds: reading the pipelines (the
// board and the forms need the stages).
func Grants() []access.Grant {
	return []access.Grant{{Entity: Pipelines, Actions: []string{access.Read}, Scope: access.ScopeAll}}
}

// Install creates what the module ships when it is absent: the default
// equipment pipeline and the follow-up rule. It is idempotent and runs
// after migrations (and, for databases migrated before the module, on the
// first use of the sales routes).
func (m *Module) Install(ctx context.Context) error {
	return m.db.WithTx(ctx, func(ctx context.Context) error {
		if _, err := m.defaultPipeline(ctx); err != nil {
			return err
		}
		return m.ensureRule(ctx)
	})
}

// ensureInstalled runs Install once per process (the sales routes call it,
// so a database migrated before the module gets its defaults on first use).
func (m *Module) ensureInstalled(ctx context.Context) error {
	if m.installed.Load() {
		return nil
	}
	if err := m.Install(ctx); err != nil {
		return err
	}
	m.installed.Store(true)
	return nil
}
