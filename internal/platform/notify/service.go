package notify

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"io"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Entities holds the definitions of tasks and notify_channels.
//
//go:embed entities/*.json
var Entities embed.FS

// Entity names owned by this package.
const (
	TasksEntity    = "tasks"
	ChannelsEntity = "notify_channels"
)

// Job kinds owned by this package.
const (
	jobEmail     = "notify.email"
	jobRobot     = "notify.robot"
	jobTaskTimer = "notify.task_timer"
	jobPurge     = "notify.purge"
)

// Defaults of Options.
const (
	DefaultHeartbeat    = 25 * time.Second
	DefaultMaxStreamAge = 5 * time.Minute
	// DefaultKeepRead is how long read notifications stay in the inbox;
	// unread ones stay twice as long.
	DefaultKeepRead = 180 * 24 * time.Hour
)

// Options configure the Service.
type Options struct {
	DB      *db.DB
	Records *records.Service
	Access  *access.Service
	Jobs    *jobs.Queue
	// Now is the clock of stored times, job run times and robot signature
	// timestamps (default time.Now).
	Now func() time.Time
	Log *slog.Logger
	// Heartbeat is how often an idle event stream sends a comment line and
	// re-checks the inbox (default DefaultHeartbeat).
	Heartbeat time.Duration
	// MaxStreamAge ends an event stream after this long; the browser's
	// EventSource reconnects at once (with Last-Event-ID, so nothing is
	// lost) and the reconnect is authenticated afresh, so a revoked session
	// or a changed role reaches open streams within this bound.
	MaxStreamAge time.Duration
	// KeepRead is how long read notifications are kept (DefaultKeepRead).
	KeepRead time.Duration
}

// Kind is an event kind users have delivery preferences for.
type Kind struct {
	Name  string
	Label meta.Label
	// Email says whether e-mail is on by default (the in-app inbox always
	// is).
	Email bool
}

// Service is tasks and notifications: the in-app inbox and its event
// stream, e-mail, group robots, preferences and task reminders.
type Service struct {
	db      *db.DB
	records *records.Service
	access  *access.Service
	jobs    *jobs.Queue
	now     func() time.Time
	log     *slog.Logger
	opt     Options
	hub     *hub
	// token tells this process's own PostgreSQL notifications apart from
	// other processes' (see listen.go).
	token string

	mu    sync.RWMutex
	kinds map[string]Kind
	order []string
}

var kindRe = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// New builds the service, registers its job kinds and the hooks of tasks
// and notify_channels. Call it once while wiring the application.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.MaxStreamAge <= 0 {
		o.MaxStreamAge = DefaultMaxStreamAge
	}
	if o.KeepRead <= 0 {
		o.KeepRead = DefaultKeepRead
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	s := &Service{db: o.DB, records: o.Records, access: o.Access, jobs: o.Jobs, now: o.Now, log: o.Log, opt: o,
		hub: newHub(), token: hex.EncodeToString(b[:]), kinds: map[string]Kind{}}
	for _, k := range defaultKinds() {
		s.RegisterKind(k)
	}
	s.jobs.Register(jobEmail, s.deliverEmailJob, jobs.HandlerOptions{MaxAttempts: 8, Timeout: 2 * time.Minute,
		BackoffBase: 30 * time.Second, BackoffCap: 2 * time.Hour})
	s.jobs.Register(jobRobot, s.deliverRobotJob, jobs.HandlerOptions{MaxAttempts: 8, Timeout: time.Minute,
		BackoffBase: 20 * time.Second, BackoffCap: time.Hour})
	s.jobs.Register(jobTaskTimer, s.taskTimerJob, jobs.HandlerOptions{InTx: true})
	s.jobs.Register(jobPurge, s.purgeJob, jobs.HandlerOptions{Timeout: 10 * time.Minute})
	s.installTasks()
	s.installChannels()
	return s
}

// defaultKinds are the event kinds of the engines in this repository.
func defaultKinds() []Kind {
	return []Kind{
		{Name: "approval.pending", Label: meta.Label{"zh-CN": "待我审批", "en": "Approvals waiting for me"}, Email: true},
		{Name: "approval.done", Label: meta.Label{"zh-CN": "我发起的审批有结果", "en": "Results of my approval requests"}, Email: true},
		{Name: "approval.cc", Label: meta.Label{"zh-CN": "抄送我的审批", "en": "Approvals copied to me"}},
		{Name: "approval.reminder", Label: meta.Label{"zh-CN": "审批催办与超时", "en": "Approval reminders and escalations"}, Email: true},
		{Name: "task.assigned", Label: meta.Label{"zh-CN": "分配给我的任务", "en": "Tasks assigned to me"}, Email: true},
		{Name: "task.due", Label: meta.Label{"zh-CN": "任务提醒与到期", "en": "Task reminders and due dates"}, Email: true},
		{Name: "rule", Label: meta.Label{"zh-CN": "自动化规则通知", "en": "Automation rule alerts"}, Email: true},
	}
}

// RegisterKind declares an event kind so that users can set preferences
// for it (GET/PUT /api/v1/notify/preferences). Engines and modules call it
// while wiring. Messages of undeclared kinds are still delivered, with the
// defaults in-app on and e-mail off. Registering a kind again replaces its
// label and default.
func (s *Service) RegisterKind(k Kind) {
	if !kindRe.MatchString(k.Name) || len(k.Name) > 64 {
		panic("notify: bad kind name " + k.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.kinds[k.Name]; !ok {
		s.order = append(s.order, k.Name)
	}
	s.kinds[k.Name] = k
}

// Kinds returns the declared kinds in declaration order.
func (s *Service) Kinds() []Kind {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Kind, 0, len(s.order))
	for _, n := range s.order {
		out = append(out, s.kinds[n])
	}
	return out
}

func (s *Service) kind(name string) (Kind, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.kinds[name]
	return k, ok
}

// Run keeps what a serving process needs until ctx ends: the daily purge
// schedule, and on PostgreSQL the listener that brings notifications
// written by other processes to this process's event streams. When ctx
// ends every open event stream is closed, so that a graceful HTTP shutdown
// does not wait for them.
func (s *Service) Run(ctx context.Context) error {
	defer s.hub.close()
	var err error
	// A failure here must not take the event streams down with it: the
	// purge is housekeeping, retried at the next start.
	if _, err = s.jobs.UpsertSchedule(ctx, jobs.ScheduleDef{Name: jobPurge, Spec: "30 3 * * *", Kind: jobPurge}); err != nil && ctx.Err() == nil {
		s.log.Warn("notification purge schedule", "err", err)
	}
	if s.db.Kind == db.Postgres {
		s.listen(ctx)
	} else {
		<-ctx.Done()
	}
	return err
}

// Close ends every open event stream and refuses new ones (Run does this
// when its context ends).
func (s *Service) Close() { s.hub.close() }

// purgeJob deletes read notifications older than KeepRead and unread ones
// older than twice that, in batches.
func (s *Service) purgeJob(ctx context.Context, _ *jobs.Job) error {
	now := s.now()
	read := now.Add(-s.opt.KeepRead).UnixMicro()
	unread := now.Add(-2 * s.opt.KeepRead).UnixMicro()
	for {
		res, err := s.db.Exec(ctx, `DELETE FROM notifications WHERE id IN (SELECT id FROM notifications
			WHERE (read_at IS NOT NULL AND created_at < ?) OR created_at < ? LIMIT 5000)`, read, unread)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n < 5000 {
			return nil
		}
	}
}
