// Package leadpool is the lead assignment and public pool (公海) module
// (REQUIREMENTS S1).
//
// Assignment. A new lead is matched against the active rules
// (lead_assignment_rules) in priority order (smaller first, then id) when
// nobody took it on explicitly:
//
//   - it was created by the system (web forms, public capture, jobs) and
//     names no owner;
//   - it was imported (source import) and its owner is the uploader, i.e.
//     the file had no owner column (or named the uploader);
//   - the caller asked for it: a module capturing leads wraps its context in
//     WithRules, or anyone who may update a lead runs its action
//     assign_by_rules.
//
// A lead given explicitly to a pool (pool set) or created converted or
// disqualified is left alone; otherwise a lead created by a user keeps the
// user as its owner. A rule matches when each of its lists (regions,
// product_lines, industries) is empty or holds the lead's value. Its
// candidates are the active users among assignees and the active members of
// its department, by id; round_robin gives the lead to candidate number
// rr_position mod n and counts rr_position up, least_loaded to the
// candidate with the fewest open leads (status neither converted nor
// disqualified, not in a pool), ties broken by the same rotation. The
// position is a field of the rule updated in the lead's transaction (the
// rule's row is locked on PostgreSQL, the single writer orders SQLite), so
// concurrent creates queue on the rule and never skip or repeat a turn. A
// rule without an active candidate is passed over. The assigned lead gets
// owner, status assigned and assigned_at; in the same transaction a
// follow-up task (tasks, due after the rule's follow_up_hours, related to
// the lead) and a notification (kind lead.assigned) reach the assignee. A
// lead no rule takes goes to the pool of its region, else the company-wide
// pool (status new, pooled_at), if there is one.
//
// Pools. A lead is in a pool when its pool field is set. It keeps its last
// owner (the record's history stays whole; a rep who returned a lead keeps
// reading it under an own scope), but every count of someone's open leads
// leaves pooled leads out. A pool is usable by a caller when it is active
// and company-wide, or its region is one of the caller's regions;
// administrators use every pool. Listing a pool's leads is the leads list
// of the caller (their data scope and hidden fields) restricted to the
// pool: a pool never shows a lead its user could not list anyway.
//
// Claims. claim takes a pooled lead the caller may read from a pool they
// may use: the lead's row is locked and the pool re-read under the lock, so
// of two people claiming one lead one wins and the other gets 409
// lead_not_in_pool. The cap is the pool's claim_cap, counted as the
// caller's claimed leads (lead_claims, one record per claim) that are still
// theirs, open, out of the pool and claimed after they last entered it; a
// claim past it is 422 leadpool_claim_cap. Claims of one user queue on the
// user's row (PostgreSQL) so two claims at once cannot both pass the cap.
// return needs a reason (422 otherwise), the owner, an administrator or
// the owner's manager; assign gives a pooled lead to an active user and is
// for administrators and the manager of the user (users.manager or head
// of their department). Claim, return and assign write the lead with the
// caller's identity (audit: the caller) after these checks, since they may
// change an owner a rep cannot edit by hand.
//
// Recycling. The hourly job leadpool.recycle returns open leads (new,
// assigned, working) out of every pool whose last follow-up — else their
// assignment, else their creation — is older than the recycle_days of the
// pool they would return to, batch by batch (one transaction per batch of
// BatchSize), and tells the former owner. It is idempotent: a returned lead
// is in a pool and no longer a candidate. Its schedule is installed with
// the first pool (and again on every pool change).
package leadpool

import (
	"context"
	"embed"
	"log/slog"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/notify"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Entities holds the definitions of lead_pools, lead_assignment_rules and
// lead_claims.
//
//go:embed entities/*.json
var Entities embed.FS

// Entity names the module owns or reads.
const (
	Pools  = "lead_pools"
	Rules  = "lead_assignment_rules"
	Claims = "lead_claims"
	Leads  = "leads"
	Tasks  = "tasks"
)

// Lead statuses the module reads or sets.
const (
	StatusNew          = "new"
	StatusAssigned     = "assigned"
	StatusWorking      = "working"
	StatusConverted    = "converted"
	StatusDisqualified = "disqualified"
)

// Rule methods.
const (
	RoundRobin  = "round_robin"
	LeastLoaded = "least_loaded"
)

// Job kinds and notification kinds.
const (
	JobRecycle     = "leadpool.recycle"
	KindAssigned   = "lead.assigned"
	KindRecycled   = "lead.recycled"
	recycleSpec    = "@hourly"
	defaultBatch   = 200
	sourceImport   = access.SourceImport
	maxPoolPerPage = 200
)

// Notifier is what the module needs of the notification service.
type Notifier interface {
	Send(ctx context.Context, m notify.Message) error
	RegisterKind(k notify.Kind)
}

// Config carries the module's collaborators.
type Config struct {
	DB      *db.DB
	Records *records.Service
	Jobs    *jobs.Queue
	Notify  Notifier
	Now     func() time.Time
	Log     *slog.Logger
	// BatchSize is how many leads one recycling transaction returns
	// (default 200).
	BatchSize int
}

// Service is the leadpool module.
type Service struct {
	db    *db.DB
	recs  *records.Service
	jobs  *jobs.Queue
	note  Notifier
	now   func() time.Time
	log   *slog.Logger
	batch int
	// rules and pools are the active assignment rules and pools, kept in
	// memory: every new lead is routed with them, and a query per lead
	// would also break an import's batched writes into single ones.
	rules *records.Derived[[]rule]
	pools *records.Derived[[]records.Record]
}

// New builds the module and registers its hooks, actions and job.
func New(c Config) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.BatchSize <= 0 {
		c.BatchSize = defaultBatch
	}
	s := &Service{db: c.DB, recs: c.Records, jobs: c.Jobs, note: c.Notify, now: c.Now, log: c.Log, batch: c.BatchSize}
	s.rules = records.NewDerived(s.recs, Rules, s.activeRules)
	s.pools = records.NewDerived(s.recs, Pools, s.activePools)
	s.note.RegisterKind(notify.Kind{Name: KindAssigned, Label: meta.Label{"zh-CN": "分配给我的线索", "en": "Leads assigned to me"}, Email: true})
	s.note.RegisterKind(notify.Kind{Name: KindRecycled, Label: meta.Label{"zh-CN": "我的线索被收回公海", "en": "My leads returned to the pool"}})
	s.recs.Use(Leads, records.Hook{Priority: 50, Before: s.beforeLead, After: s.afterLead})
	s.recs.Use(Pools, records.Hook{Before: s.beforePool, After: s.afterPool})
	s.recs.Use(Rules, records.Hook{Before: s.beforeRule})
	s.recs.Action(Leads, "claim", s.claimAction)
	s.recs.Action(Leads, "return", s.returnAction)
	s.recs.Action(Leads, "assign", s.assignAction)
	s.recs.Action(Leads, "assign_by_rules", s.assignByRulesAction)
	s.jobs.Register(JobRecycle, s.recycleJob, jobs.HandlerOptions{Timeout: 30 * time.Minute})
	return s
}

// Grants are what every signed-in user may do whatever their roles: read
// the pools (names, regions and limits — never a lead).
func Grants() []access.Grant {
	return []access.Grant{{Entity: Pools, Actions: []string{access.Read}, Scope: access.ScopeAll}}
}

// system is the principal the module writes its own bookkeeping with.
func system() *access.Principal { return access.System() }

// acting is p with the rights to write what a module action decided after
// its own checks; the audit trail still names p.
func acting(p *access.Principal) *access.Principal {
	c := *p
	c.Admin = true
	return &c
}

func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Start installs the recycling schedule (it is also installed with the
// first pool).
func (s *Service) Start(ctx context.Context) error {
	_, err := s.jobs.UpsertSchedule(ctx, jobs.ScheduleDef{Name: JobRecycle, Spec: recycleSpec, Kind: JobRecycle})
	return err
}
