package webhooks

import (
	"context"
	"embed"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/netguard"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Entities holds the definitions of webhooks and webhook_deliveries.
//
//go:embed entities/*.json
var Entities embed.FS

// The engine's entities.
const (
	Entity         = "webhooks"           // subscriptions
	DeliveryEntity = "webhook_deliveries" // one record per delivery
)

// Jobs of the engine.
const (
	KindDeliver = "webhooks.deliver" // one delivery attempt
	KindPurge   = "webhooks.purge"   // the daily purge of old deliveries
)

// Events a subscription may name.
const (
	EventCreated      = "created"
	EventUpdated      = "updated"
	EventDeleted      = "deleted"
	EventRestored     = "restored"
	EventStageChanged = "stage_changed"
	// EventPing is what the test action sends (never recorded).
	EventPing = "ping"
)

// Statuses of a delivery.
const (
	StatusPending   = "pending"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed" // the last attempt failed; another is scheduled
	StatusDead      = "dead"   // given up
)

// Limits shape delivery. Zero values pick the defaults.
type Limits struct {
	// Window is how long a delivery is retried (default 24 h, counted from
	// the event, or from a replay).
	Window time.Duration
	// BackoffBase and BackoffCap shape the wait after failed attempt n:
	// min(cap, base·2^(n-1)) less up to a tenth (default 30 s and 2 h).
	BackoffBase time.Duration
	BackoffCap  time.Duration
	// Timeout bounds one attempt, redirects included (default 10 s).
	Timeout time.Duration
	// MaxPayload bounds a stored payload in bytes (default 60,000; the
	// json field holds 64 KB): past it the record and the changes are
	// left out and "truncated" is true.
	MaxPayload int
	// SecretBytes is the entropy of a generated secret (default 32).
	SecretBytes int
	// KeepSucceeded and KeepDead are how long succeeded and dead
	// deliveries are kept after their last change (default 30 and 90
	// days); the daily purge deletes older ones for good, PurgeBatch
	// (default 1000, at most records.MaxPurgeBatch) per transaction.
	KeepSucceeded time.Duration
	KeepDead      time.Duration
	PurgeBatch    int
}

func (l Limits) withDefaults() Limits {
	if l.Window <= 0 {
		l.Window = 24 * time.Hour
	}
	if l.BackoffBase <= 0 {
		l.BackoffBase = 30 * time.Second
	}
	if l.BackoffCap <= 0 {
		l.BackoffCap = 2 * time.Hour
	}
	if l.Timeout <= 0 {
		l.Timeout = 10 * time.Second
	}
	if l.MaxPayload <= 0 {
		l.MaxPayload = 60000
	}
	if l.SecretBytes < 32 {
		l.SecretBytes = 32
	}
	if l.KeepSucceeded <= 0 {
		l.KeepSucceeded = 30 * 24 * time.Hour
	}
	if l.KeepDead <= 0 {
		l.KeepDead = 90 * 24 * time.Hour
	}
	if l.PurgeBatch <= 0 || l.PurgeBatch > records.MaxPurgeBatch {
		l.PurgeBatch = records.MaxPurgeBatch
	}
	return l
}

// Config carries the engine's collaborators.
type Config struct {
	DB      *db.DB
	Records *records.Service
	// Access loads the principals of subscription owners (default: a
	// service of its own on DB; the app passes its shared one).
	Access *access.Service
	Jobs   *jobs.Queue
	// Guard checks target URLs when saved and makes the delivery client.
	Guard *netguard.Guard
	// HTTPClient sends deliveries and tests (default: Guard's client).
	HTTPClient *http.Client
	Now        func() time.Time
	Log        *slog.Logger
	Limits     Limits
}

// Engine is the outbound webhook engine: it turns record writes into
// deliveries, sends them in jobs, and serves the test action.
type Engine struct {
	db     *db.DB
	recs   *records.Service
	access *access.Service
	jobs   *jobs.Queue
	guard  *netguard.Guard
	client *http.Client
	now    func() time.Time
	log    *slog.Logger
	limits Limits

	// subs is the in-memory index of active subscriptions by entity.
	subs *records.Derived[*index]
}

// New builds the engine and registers its hooks, actions and jobs.
func New(c Config) *Engine {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Access == nil {
		c.Access = access.New(c.DB)
	}
	if c.Guard == nil {
		c.Guard = netguard.New(netguard.Config{DB: c.DB, Now: c.Now})
	}
	lim := c.Limits.withDefaults()
	if c.HTTPClient == nil {
		c.HTTPClient = c.Guard.Client(netguard.ClientOptions{Timeout: lim.Timeout})
	}
	e := &Engine{db: c.DB, recs: c.Records, access: c.Access, jobs: c.Jobs, guard: c.Guard, client: c.HTTPClient,
		now: c.Now, log: c.Log, limits: lim}
	e.subs = records.NewDerived(c.Records, Entity, e.buildIndex)
	c.Jobs.Register(KindDeliver, e.deliverJob, jobs.HandlerOptions{MaxAttempts: 10, Timeout: lim.Timeout + 30*time.Second,
		BackoffBase: 10 * time.Second, BackoffCap: 10 * time.Minute})
	c.Jobs.Register(KindPurge, e.purgeJob, jobs.HandlerOptions{MaxAttempts: 3, Timeout: 30 * time.Minute})
	c.Records.Use(Entity, records.Hook{Before: e.beforeWebhook})
	c.Records.Use(DeliveryEntity, records.Hook{Before: e.beforeDelivery})
	// Last of the after hooks (with the rules): the payload is the record
	// as the other hooks left it.
	c.Records.Use("*", records.Hook{Priority: 1000, After: e.afterWrite})
	c.Records.Action(DeliveryEntity, "replay", e.replay)
	return e
}

// Start upserts the engine's schedule: the purge, daily at 03:50
// (Asia/Shanghai).
func (e *Engine) Start(ctx context.Context) error {
	_, err := e.jobs.UpsertSchedule(ctx, jobs.ScheduleDef{Name: KindPurge, Spec: "50 3 * * *", Kind: KindPurge})
	return err
}

// engineKey marks the writes of deliveries the engine makes; other writes
// of a delivery's fields are refused (a delivery log is not edited).
type engineKey struct{}

func engineCtx(ctx context.Context) context.Context { return context.WithValue(ctx, engineKey{}, true) }

func byEngine(ctx context.Context) bool { v, _ := ctx.Value(engineKey{}).(bool); return v }

// system is who the engine writes deliveries as.
func system() *access.Principal {
	p := access.System()
	p.Login = "webhooks"
	return p
}
