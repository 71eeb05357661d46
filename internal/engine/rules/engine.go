package rules

import (
	"context"
	"embed"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/netguard"
	"github.com/tenon-crm/tenon/internal/platform/notify"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Entities holds the definition of the rules entity.
//
//go:embed entities/*.json
var Entities embed.FS

// Entity is the name of the rules entity.
const Entity = "rules"

// TaskEntity is the entity create_task writes.
const TaskEntity = "tasks"

// Job kinds of the engine.
const (
	KindRun      = "rules.run"      // one run of a rule on a record (InTx)
	KindSchedule = "rules.schedule" // a scheduled rule's scan
	KindDates    = "rules.dates"    // the hourly scan of date-relative rules
	KindWebhook  = "rules.webhook"  // one outbound webhook call
	KindPurge    = "rules.purge"    // the daily purge of the run log
)

// Notifier sends notifications; both methods join the caller's
// transaction (package notify implements it).
type Notifier interface {
	Send(ctx context.Context, m notify.Message) error
	SendRobot(ctx context.Context, channelID int64, m notify.RobotMessage) error
}

// FlowStarter starts approval flows (package flow implements it).
type FlowStarter interface {
	Start(ctx context.Context, p *access.Principal, entity string, recordID int64, definitionID int64) (int64, error)
}

// Limits bound what rules may cost. Zero values pick the defaults.
type Limits struct {
	// MaxExprBytes and MaxExprNodes bound the source of one expression;
	// MaxExprCost its static cost (nodes, calls, scanning operators, list
	// elements, LinkCost per linked record); MaxRuleCost the total of a
	// rule's expressions; MaxActions its actions. Past them a rule is
	// refused when saved (422 naming the field and the problem).
	MaxExprBytes int
	MaxExprNodes int
	MaxExprCost  int
	MaxRuleCost  int
	MaxActions   int
	// MaxLinkDepth is how many links a path may follow (account.owner.login is 2).
	MaxLinkDepth int
	// LinkCost is what reading through a link costs (a record fetched).
	LinkCost int
	// StepBudget cuts off one evaluation: its static cost, the size of the
	// values it reads and the linked records it fetches are charged to it.
	// MemoryBudget is the expression VM's own budget (lists built while
	// running).
	StepBudget   int
	MemoryBudget uint
	// MaxDepth is the loop guard: how many rule runs a chain of rule-caused
	// writes may have.
	MaxDepth int
	// ScanMatches bounds the records one scheduled or date-relative run
	// acts on, ScanRecords the records it reads, ScanBatch the runs
	// queued per transaction.
	ScanMatches int
	ScanRecords int
	ScanBatch   int
	// MaxLinked bounds the records one update_linked action writes.
	MaxLinked int
	// HookRate is how many inbound calls a rule accepts per minute.
	HookRate int
	// KeepRuns is how long run log rows are kept; KeepRunsPerRule how many
	// at most per rule.
	KeepRuns        time.Duration
	KeepRunsPerRule int
	// WebhookTimeout bounds one outbound call.
	WebhookTimeout time.Duration
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxExprBytes, 4096)
	def(&l.MaxExprNodes, 300)
	def(&l.MaxExprCost, 1000)
	def(&l.MaxRuleCost, 5000)
	def(&l.MaxActions, 20)
	def(&l.MaxLinkDepth, 2)
	def(&l.LinkCost, 100)
	def(&l.StepBudget, 20000)
	def(&l.MaxDepth, 8)
	def(&l.ScanMatches, 10000)
	def(&l.ScanRecords, 200000)
	def(&l.ScanBatch, 200)
	def(&l.MaxLinked, 500)
	def(&l.HookRate, 60)
	def(&l.KeepRunsPerRule, 10000)
	if l.MemoryBudget == 0 {
		l.MemoryBudget = 10000
	}
	if l.KeepRuns <= 0 {
		l.KeepRuns = 30 * 24 * time.Hour
	}
	if l.WebhookTimeout <= 0 {
		l.WebhookTimeout = 10 * time.Second
	}
	return l
}

// Config carries the engine's collaborators.
type Config struct {
	DB      *db.DB
	Records *records.Service
	Jobs    *jobs.Queue
	// Notifier and Flows may be nil: notify and start_flow actions then
	// fail with a clear run-log error.
	Notifier Notifier
	Flows    FlowStarter
	// Outbound is the outbound-address guard: call_webhook URLs are
	// checked against it when a rule is saved, and calls are made with
	// its client (default: a guard on DB).
	Outbound *netguard.Guard
	// HTTPClient makes outbound webhook calls (default: Outbound's client
	// with Limits.WebhookTimeout).
	HTTPClient *http.Client
	Now        func() time.Time
	Log        *slog.Logger
	Limits     Limits
}

// Engine is the rule engine: it watches record writes through a records
// hook, runs rules' actions in durable jobs, scans scheduled and
// date-relative rules, and serves the rules' HTTP routes.
type Engine struct {
	db       *db.DB
	recs     *records.Service
	jobs     *jobs.Queue
	notifier Notifier
	flows    FlowStarter
	client   *http.Client
	guard    *netguard.Guard
	now      func() time.Time
	log      *slog.Logger
	limits   Limits

	// idx is the in-memory index of enabled rules by entity.
	idx *records.Derived[*index]

	// compiledMu guards compiled: rules compiled by id, for the runs.
	compiledMu sync.Mutex
	compiled   map[int64]*Rule
}

// New builds the engine and registers its jobs, hooks and actions.
func New(c Config) *Engine {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	lim := c.Limits.withDefaults()
	if c.Outbound == nil {
		c.Outbound = netguard.New(netguard.Config{DB: c.DB, Now: c.Now})
	}
	if c.HTTPClient == nil {
		c.HTTPClient = c.Outbound.Client(netguard.ClientOptions{Timeout: lim.WebhookTimeout})
	}
	e := &Engine{db: c.DB, recs: c.Records, jobs: c.Jobs, notifier: c.Notifier, flows: c.Flows, client: c.HTTPClient, guard: c.Outbound,
		now: c.Now, log: c.Log, limits: lim, compiled: map[int64]*Rule{}}
	e.idx = records.NewDerived(c.Records, Entity, e.buildIndex)
	c.Jobs.Register(KindRun, e.runJob, jobs.HandlerOptions{InTx: true, MaxAttempts: 5, Timeout: 30 * time.Second})
	c.Jobs.Register(KindSchedule, e.scheduleJob, jobs.HandlerOptions{MaxAttempts: 3, Timeout: 30 * time.Minute})
	c.Jobs.Register(KindDates, e.datesJob, jobs.HandlerOptions{MaxAttempts: 3, Timeout: 30 * time.Minute})
	c.Jobs.Register(KindWebhook, e.webhookJob, jobs.HandlerOptions{MaxAttempts: 8, Timeout: lim.WebhookTimeout + 5*time.Second,
		BackoffBase: 30 * time.Second, BackoffCap: 2 * time.Hour})
	c.Jobs.Register(KindPurge, e.purgeJob, jobs.HandlerOptions{MaxAttempts: 3, Timeout: 10 * time.Minute})
	c.Records.Use(Entity, records.Hook{Before: e.beforeRule, After: e.afterRule})
	// Last of the after hooks: the rules see the write as other hooks left it.
	c.Records.Use("*", records.Hook{Priority: 1000, After: e.afterWrite})
	c.Records.Action(Entity, "rotate_token", e.rotateToken)
	return e
}

// Start upserts the engine's own schedules (the date scan and the purge).
func (e *Engine) Start(ctx context.Context) error {
	for _, s := range []jobs.ScheduleDef{
		{Name: KindDates, Spec: "@hourly", Kind: KindDates},
		{Name: KindPurge, Spec: "30 3 * * *", Kind: KindPurge},
	} {
		if _, err := e.jobs.UpsertSchedule(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// principal is who rule actions act as: the system, marked as a rule in
// the audit trail. Rules are administered, so their actions are not
// limited by the rights of the user whose write triggered them.
func principal() *access.Principal {
	p := access.System().WithSource(access.SourceRule)
	p.Login = "rule"
	return p
}
