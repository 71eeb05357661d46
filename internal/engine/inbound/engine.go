package inbound

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Entities holds the definition of the inbound_endpoints entity.
//
//go:embed entities/*.json
var Entities embed.FS

// Entity is the name of the inbound endpoints entity.
const Entity = "inbound_endpoints"

// Source marks the writes of inbound calls in the audit trail.
const Source = "inbound"

// KindPurge is the hourly job that prunes seen signatures, rate-limit
// windows and old call log rows.
const KindPurge = "inbound.purge"

// Users tells whether a user account is active (package org implements it).
type Users interface {
	Active(ctx context.Context, id int64) (bool, error)
}

// Limits bound what one call may cost. Zero values pick the defaults.
type Limits struct {
	// MaxBody bounds a call's body in bytes (413 past it); MaxItems the
	// items of one call (413).
	MaxBody  int64
	MaxItems int
	// MaxMappings bounds an endpoint's mappings; MaxExprBytes and
	// MaxExprNodes one mapping expression (refused when saved);
	// MemoryBudget is the expression VM's budget for one evaluation.
	MaxMappings  int
	MaxExprBytes int
	MaxExprNodes int
	MemoryBudget uint
	// EvalBudget bounds the work of one call's evaluations: each one is
	// charged its expression's size plus the size of the item and, when
	// it reads it, of the payload (texts by length, lists and objects by
	// element). Past it the call is refused with 422 inbound_eval_cut_off.
	EvalBudget int
	// Tolerance is how far a signature's timestamp may be from now.
	Tolerance time.Duration
	// DefaultRate is an endpoint's calls per minute when its rate_limit is
	// empty; FailRate the refused calls (bad signature, unknown endpoint…)
	// one remote address may make per minute before every call from it is
	// throttled for the rest of the minute.
	DefaultRate int
	FailRate    int
	// KeepCalls is how long call log rows are kept; KeepCallsPerEndpoint
	// how many at most per endpoint.
	KeepCalls            time.Duration
	KeepCallsPerEndpoint int
	// MaxErrors bounds the item errors reported by one refused call.
	MaxErrors int
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.MaxBody <= 0 {
		l.MaxBody = 2 << 20
	}
	def(&l.MaxItems, 1000)
	def(&l.MaxMappings, 200)
	def(&l.MaxExprBytes, 2048)
	def(&l.MaxExprNodes, 200)
	if l.MemoryBudget == 0 {
		l.MemoryBudget = 10000
	}
	def(&l.EvalBudget, 5_000_000)
	if l.Tolerance <= 0 {
		l.Tolerance = 5 * time.Minute
	}
	def(&l.DefaultRate, 120)
	def(&l.FailRate, 30)
	if l.KeepCalls <= 0 {
		l.KeepCalls = 30 * 24 * time.Hour
	}
	def(&l.KeepCallsPerEndpoint, 10000)
	def(&l.MaxErrors, 100)
	return l
}

// Config carries the engine's collaborators.
type Config struct {
	DB      *db.DB
	Records *records.Service
	Access  *access.Service
	Users   Users
	Jobs    *jobs.Queue
	Now     func() time.Time
	Log     *slog.Logger
	Limits  Limits
}

// Engine receives the calls of inbound endpoints: it verifies their
// signatures, maps their items to records and upserts them, and keeps the
// call log.
type Engine struct {
	db     *db.DB
	recs   *records.Service
	access *access.Service
	users  Users
	jobs   *jobs.Queue
	now    func() time.Time
	log    *slog.Logger
	limits Limits

	// compiled caches endpoints compiled for calls, by id (a cached one is
	// used while its version is current).
	mu       sync.Mutex
	compiled map[int64]*Endpoint
}

// New builds the engine and registers its hooks, action and job.
func New(c Config) *Engine {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e := &Engine{db: c.DB, recs: c.Records, access: c.Access, users: c.Users, jobs: c.Jobs, now: c.Now, log: c.Log,
		limits: c.Limits.withDefaults(), compiled: map[int64]*Endpoint{}}
	c.Records.Use(Entity, records.Hook{Before: e.beforeSave, After: e.afterSave})
	c.Records.Action(Entity, "rotate_secret", e.rotateSecret)
	c.Jobs.Register(KindPurge, e.purgeJob, jobs.HandlerOptions{MaxAttempts: 3, Timeout: 10 * time.Minute})
	return e
}

// Start upserts the engine's schedule (the hourly purge).
func (e *Engine) Start(ctx context.Context) error {
	_, err := e.jobs.UpsertSchedule(ctx, jobs.ScheduleDef{Name: KindPurge, Spec: "@hourly", Kind: KindPurge})
	return err
}

// newSecret is a fresh signing secret: 32 random bytes, URL-safe base64.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// rotateSecret gives an endpoint a new secret (the old one stops working).
func (e *Engine) rotateSecret(ctx context.Context, p *access.Principal, rec records.Record, _ map[string]any) (records.Record, error) {
	return e.recs.Update(ctx, p, Entity, rec.ID(), map[string]any{"secret": newSecret()}, 0)
}
