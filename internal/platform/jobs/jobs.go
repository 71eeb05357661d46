package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
)

// Job statuses.
const (
	StatusQueued    = "queued"    // waiting for run_at (also between retries)
	StatusRunning   = "running"   // claimed under a lease
	StatusDone      = "done"      // the handler succeeded
	StatusFailed    = "failed"    // the handler returned a Permanent error
	StatusDead      = "dead"      // every attempt failed: the dead letter list
	StatusCancelled = "cancelled" // cancelled by Cancel or CancelKey
)

var statuses = []string{StatusQueued, StatusRunning, StatusDone, StatusFailed, StatusDead, StatusCancelled}

// Defaults of Options and HandlerOptions.
const (
	DefaultLease       = time.Minute
	DefaultPoll        = time.Second
	DefaultWorkers     = 4
	DefaultGrace       = 20 * time.Second
	DefaultTimezone    = "Asia/Shanghai"
	DefaultKeepDone    = 7 * 24 * time.Hour
	DefaultKeepDead    = 30 * 24 * time.Hour
	DefaultMaxAttempts = 5
	DefaultTimeout     = 5 * time.Minute  // handlers outside a transaction
	DefaultTxTimeout   = 10 * time.Second // InTx handlers
	DefaultBackoffBase = 10 * time.Second
	DefaultBackoffCap  = time.Hour
)

// maxPayload bounds a job's JSON payload; larger inputs belong in a file or
// a table the job refers to.
const maxPayload = 1 << 20

// ErrTimeout is the cause recorded when a handler overruns its timeout.
var ErrTimeout = errors.New("job timed out")

// errLeaseLost means the job is no longer ours: its lease expired and
// another worker claimed it, or it was cancelled.
var errLeaseLost = errors.New("job lease lost")

// Job is one row of the jobs table.
type Job struct {
	ID          int64           `json:"id,string"`
	Kind        string          `json:"kind"`
	Payload     json.RawMessage `json:"payload"`
	Status      string          `json:"status"`
	Priority    int             `json:"priority"`
	RunAt       time.Time       `json:"run_at"`
	Attempts    int             `json:"attempts"`
	MaxAttempts int             `json:"max_attempts"`
	LeaseOwner  string          `json:"lease_owner,omitempty"`
	LeaseUntil  *time.Time      `json:"lease_until,omitempty"`
	LastError   string          `json:"last_error,omitempty"`
	UniqueKey   string          `json:"unique_key,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	FinishedAt  *time.Time      `json:"finished_at,omitempty"`
}

// Decode unmarshals the payload into v.
func (j *Job) Decode(v any) error { return json.Unmarshal(j.Payload, v) }

// Handler runs one attempt of a job. Attempts counts this one (1 on the
// first run). Returning nil marks the job done; an error schedules a retry
// with back-off, or makes the job dead after its last attempt; an error
// wrapped by Permanent fails it at once.
type Handler func(ctx context.Context, job *Job) error

// HandlerOptions tune how the jobs of one kind run. Zero values pick the
// defaults.
type HandlerOptions struct {
	// MaxAttempts is the default for jobs of the kind (EnqueueOptions may
	// override it); DefaultMaxAttempts when zero.
	MaxAttempts int
	// Timeout bounds one attempt: DefaultTxTimeout for InTx handlers,
	// DefaultTimeout otherwise.
	Timeout time.Duration
	// BackoffBase and BackoffCap shape the delay before retry n:
	// min(cap, base·2^(n-1)), of which a random half is taken off (jitter).
	BackoffBase time.Duration
	BackoffCap  time.Duration
	// InTx runs the handler inside the transaction that marks the job done:
	// its database effects commit exactly once. The handler must only touch
	// the database, through the context it is given, and be short; see the
	// package documentation.
	InTx bool
}

// Permanent wraps err so that the job fails at once (status failed)
// instead of being retried. Use it for errors a retry cannot cure, such as
// a payload that does not decode or a webhook target that answers 410.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// IsPermanent reports whether err was wrapped by Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// Options configure a Queue. Zero values pick the defaults.
type Options struct {
	// Owner names this process in lease_owner (default host-pid). Each
	// claim adds a random suffix, so owners need not be unique.
	Owner string
	// Now is the clock for run_at, leases, back-off and schedules
	// (default time.Now). Timeouts and polling use real time.
	Now func() time.Time
	// Lease is how long a claim lasts without a heartbeat; a job whose
	// process died is run again after at most this long.
	Lease time.Duration
	// Poll is how often idle workers and the scheduler look for due work.
	// Jobs enqueued in this process wake the workers at once.
	Poll time.Duration
	// Workers is how many handlers run at once in this process.
	Workers int
	// Grace is how long Run lets running handlers finish after its
	// context ends before cancelling theirs.
	Grace time.Duration
	// Timezone is the zone of schedules that name none (default
	// Asia/Shanghai).
	Timezone string
	// KeepDone is how long done and cancelled jobs are kept, KeepDead how
	// long dead and failed ones are; a negative value keeps them forever.
	KeepDone time.Duration
	KeepDead time.Duration
	// Log receives warnings and errors (default: discarded).
	Log *slog.Logger
}

type handler struct {
	fn   Handler
	opts HandlerOptions
}

// Queue is the job queue and scheduler of one process. It is safe for
// concurrent use.
type Queue struct {
	db    *db.DB
	opt   Options
	now   func() time.Time
	log   *slog.Logger
	zone  *time.Location
	token string // lease_owner prefix of this Queue
	seq   atomic.Uint64

	mu       sync.RWMutex
	handlers map[string]*handler
	kinds    []string // sorted names of handlers

	wake    chan struct{}
	running atomic.Bool
}

// New builds a queue on d. It does not start workers; see Run.
func New(d *db.DB, opt Options) (*Queue, error) {
	if opt.Owner == "" {
		host, _ := os.Hostname()
		opt.Owner = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Lease <= 0 {
		opt.Lease = DefaultLease
	}
	if opt.Poll <= 0 {
		opt.Poll = DefaultPoll
	}
	if opt.Workers <= 0 {
		opt.Workers = DefaultWorkers
	}
	if opt.Grace <= 0 {
		opt.Grace = DefaultGrace
	}
	if opt.Timezone == "" {
		opt.Timezone = DefaultTimezone
	}
	if opt.KeepDone == 0 {
		opt.KeepDone = DefaultKeepDone
	}
	if opt.KeepDead == 0 {
		opt.KeepDead = DefaultKeepDead
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	zone, err := loadZone(opt.Timezone)
	if err != nil {
		return nil, fmt.Errorf("jobs: timezone %q: %w", opt.Timezone, err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &Queue{
		db: d, opt: opt, now: opt.Now, log: opt.Log, zone: zone,
		token:    opt.Owner + "#" + hex.EncodeToString(b[:]) + ".",
		handlers: map[string]*handler{},
		wake:     make(chan struct{}, 1),
	}, nil
}

// loadZone loads a zone by name. Asia/Shanghai works without the system's
// zone database: China has kept UTC+8 without daylight saving since 1991.
func loadZone(name string) (*time.Location, error) {
	loc, err := time.LoadLocation(name)
	if err != nil && name == DefaultTimezone {
		return time.FixedZone(DefaultTimezone, 8*3600), nil
	}
	return loc, err
}

// Register sets the handler of a kind. Kinds are dotted names owned by the
// registering package ("flow.remind", "webhooks.deliver"). Registering a
// kind twice, an empty kind or a nil handler is a programming error and
// panics. A process claims only jobs of kinds it has registered.
func (q *Queue) Register(kind string, h Handler, opts HandlerOptions) {
	if kind == "" || h == nil {
		panic("jobs: Register needs a kind and a handler")
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
		if opts.InTx {
			opts.Timeout = DefaultTxTimeout
		}
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = DefaultBackoffBase
	}
	if opts.BackoffCap <= 0 {
		opts.BackoffCap = DefaultBackoffCap
	}
	opts.BackoffCap = max(opts.BackoffCap, opts.BackoffBase)
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, dup := q.handlers[kind]; dup {
		panic("jobs: kind " + kind + " registered twice")
	}
	q.handlers[kind] = &handler{fn: h, opts: opts}
	// A new slice: claims in flight may be reading the old one.
	kinds := append(slices.Clone(q.kinds), kind)
	slices.Sort(kinds)
	q.kinds = kinds
}

func (q *Queue) handler(kind string) *handler {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return q.handlers[kind]
}

// kindList returns the registered kinds, sorted; callers must not modify it.
func (q *Queue) kindList() []string {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return q.kinds
}

// EnqueueOptions tune one job. Zero values pick the defaults.
type EnqueueOptions struct {
	// RunAt is when the job becomes due; when zero, now plus Delay.
	RunAt time.Time
	Delay time.Duration
	// Priority orders due jobs: higher runs first (default 0).
	Priority int
	// UniqueKey de-duplicates: while a job of the same kind and key is
	// queued or running, Enqueue returns that job instead of adding one.
	UniqueKey string
	// MaxAttempts overrides the handler's.
	MaxAttempts int
}

// Enqueue adds a job of a registered kind with payload encoded as JSON. It
// joins the transaction in ctx, if any, so the job exists exactly when the
// write that caused it commits; workers of this process are woken after
// the commit. With a UniqueKey that matches a queued or running job of the
// kind, that job is returned and nothing is added.
func (q *Queue) Enqueue(ctx context.Context, kind string, payload any, opt EnqueueOptions) (Job, error) {
	h := q.handler(kind)
	if h == nil {
		return Job{}, apperr.Invalid("job_kind_unknown", "kind", kind)
	}
	raw, err := encodePayload(payload)
	if err != nil {
		return Job{}, err
	}
	maxAttempts := opt.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = h.opts.MaxAttempts
	}
	runAt := opt.RunAt
	if runAt.IsZero() {
		runAt = q.now().Add(opt.Delay)
	}
	return q.insert(ctx, Job{Kind: kind, Payload: raw, Priority: opt.Priority, RunAt: runAt,
		MaxAttempts: maxAttempts, UniqueKey: opt.UniqueKey})
}

func encodePayload(payload any) (json.RawMessage, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return nil, apperr.Invalid("job_payload_invalid", "reason", err.Error())
	}
	if len(raw) > maxPayload {
		return nil, apperr.New(apperr.ErrTooLarge, "job_payload_too_large", "max_bytes", maxPayload)
	}
	return raw, nil
}

// insert adds j (Kind, Payload, Priority, RunAt, MaxAttempts, UniqueKey) or
// returns the not-finished job with its unique key.
func (q *Queue) insert(ctx context.Context, j Job) (Job, error) {
	var out Job
	err := q.db.WithTx(ctx, func(ctx context.Context) error {
		now := q.now()
		var key any
		if j.UniqueKey != "" {
			key = j.UniqueKey
		}
		// A conflict can only be on jobs_unique. If the conflicting job
		// finishes before we read it, the insert is tried again.
		for range 3 {
			var id int64
			err := q.db.QueryRow(ctx, `INSERT INTO jobs (kind, payload, status, priority, run_at, attempts,
				max_attempts, unique_key, created_at, updated_at)
				VALUES (?, `+q.db.JSONParam()+`, 'queued', ?, ?, 0, ?, ?, ?, ?)
				ON CONFLICT DO NOTHING RETURNING id`,
				j.Kind, string(j.Payload), j.Priority, j.RunAt.UnixMicro(), j.MaxAttempts, key,
				now.UnixMicro(), now.UnixMicro()).Scan(&id)
			if err == nil {
				out = j
				out.ID, out.Status = id, StatusQueued
				out.RunAt = time.UnixMicro(j.RunAt.UnixMicro()).UTC()
				out.CreatedAt = time.UnixMicro(now.UnixMicro()).UTC()
				out.UpdatedAt = out.CreatedAt
				db.AfterCommit(ctx, q.notify)
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			existing, err := q.getWhere(ctx, `kind = ? AND unique_key = ? AND status IN ('queued', 'running')`,
				j.Kind, j.UniqueKey)
			if err == nil {
				out = existing
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		return fmt.Errorf("jobs: cannot enqueue %s with unique key %q", j.Kind, j.UniqueKey)
	})
	return out, err
}

// notify wakes this process's dispatcher.
func (q *Queue) notify() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

const jobCols = `id, kind, payload, status, priority, run_at, attempts, max_attempts, lease_owner,
	lease_until, last_error, unique_key, created_at, updated_at, finished_at`

type scanner interface{ Scan(dest ...any) error }

func scanJob(s scanner) (Job, error) {
	var j Job
	var payload []byte
	var owner, key sql.NullString
	var runAt, created, updated int64
	var until, finished sql.NullInt64
	if err := s.Scan(&j.ID, &j.Kind, &payload, &j.Status, &j.Priority, &runAt, &j.Attempts, &j.MaxAttempts,
		&owner, &until, &j.LastError, &key, &created, &updated, &finished); err != nil {
		return Job{}, err
	}
	j.Payload = json.RawMessage(slices.Clone(payload))
	j.LeaseOwner, j.UniqueKey = owner.String, key.String
	j.RunAt, j.CreatedAt, j.UpdatedAt = micros(runAt), micros(created), micros(updated)
	j.LeaseUntil, j.FinishedAt = microsPtr(until), microsPtr(finished)
	return j, nil
}

func micros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func microsPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := micros(v.Int64)
	return &t
}

// getWhere returns the one job matching where, or sql.ErrNoRows.
func (q *Queue) getWhere(ctx context.Context, where string, args ...any) (Job, error) {
	return scanJob(q.db.QueryRow(ctx, `SELECT `+jobCols+` FROM jobs WHERE `+where, args...))
}

func (q *Queue) rows(ctx context.Context, query string, args ...any) ([]Job, error) {
	rows, err := q.db.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Job{}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}
