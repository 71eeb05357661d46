package records

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/events"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// Record is a record in canonical Go values (see meta.Type): system fields
// id, version, created_at, updated_at, created_by, owner (int64 / time.Time)
// and one entry per field. Sub-tables are []Record.
type Record map[string]any

// ID returns the record's id.
func (r Record) ID() int64 { id, _ := r["id"].(int64); return id }

// Version returns the record's version.
func (r Record) Version() int64 { v, _ := r["version"].(int64); return v }

// Op is the kind of write a hook sees.
type Op string

const (
	OpCreate  Op = "create"
	OpUpdate  Op = "update"
	OpDelete  Op = "delete"
	OpRestore Op = "restore"
)

// Change is what hooks see of a write. Before hooks may modify New (and
// return an error to refuse); after hooks run in the same transaction once
// the row is written.
type Change struct {
	P      *access.Principal
	Entity *meta.Entity
	Op     Op
	Old    Record // nil on create
	New    Record // nil on delete
	// Changed lists the fields whose value differs (create: all set fields).
	Changed []string
}

// Hook is a module's behaviour on an entity's writes.
type Hook struct {
	Priority int // lower runs first
	Before   func(ctx context.Context, c *Change) error
	After    func(ctx context.Context, c *Change) error
}

// ActionFunc implements a domain action (POST .../actions/{name}).
type ActionFunc func(ctx context.Context, p *access.Principal, rec Record, input map[string]any) (Record, error)

// FileRefs is how the records layer tells the files service which records
// hold which files (files are readable through those records only).
type FileRefs interface {
	SetRefs(ctx context.Context, entity string, recordID int64, field string, fileIDs []string) error
}

// Service is the records service.
type Service struct {
	db     *db.DB
	reg    *meta.Registry
	types  meta.Types
	outbox *events.Outbox
	files  FileRefs
	now    func() time.Time

	mu      sync.RWMutex
	hooks   map[string][]Hook // by entity; "*" for every entity
	actions map[string]map[string]ActionFunc
	// ftsWrites counts SQLite full-text index writes per entity (see
	// maybeMergeFTS).
	ftsWrites map[string]int
	// sinceCompact counts index writes per entity since the indexer last
	// compacted the entity's index.
	sinceCompact map[string]int
	// nudge wakes the search indexer (see indexer.go).
	nudge chan struct{}
	// deriveds are the Derived values built on the service (RunDerived
	// checks them).
	deriveds []interface{ Check(context.Context) error }
}

// Config carries the collaborators of the service.
type Config struct {
	DB       *db.DB
	Registry *meta.Registry
	Outbox   *events.Outbox
	Files    FileRefs
	Now      func() time.Time
}

// New builds the service.
func New(c Config) *Service {
	now := c.Now
	if now == nil {
		now = time.Now
	}
	return &Service{db: c.DB, reg: c.Registry, types: c.Registry.Types(), outbox: c.Outbox, files: c.Files, now: now,
		hooks: map[string][]Hook{}, actions: map[string]map[string]ActionFunc{}, ftsWrites: map[string]int{}, sinceCompact: map[string]int{}, nudge: make(chan struct{}, 1)}
}

// DB returns the database handle (for modules that run their own
// transaction around several service calls).
func (s *Service) DB() *db.DB { return s.db }

// Registry returns the metadata registry.
func (s *Service) Registry() *meta.Registry { return s.reg }

// Use registers a hook on an entity ("*" for all).
func (s *Service) Use(entity string, h Hook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks[entity] = append(s.hooks[entity], h)
	sort.SliceStable(s.hooks[entity], func(i, j int) bool { return s.hooks[entity][i].Priority < s.hooks[entity][j].Priority })
}

// Action registers a domain action.
func (s *Service) Action(entity, name string, fn ActionFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.actions[entity] == nil {
		s.actions[entity] = map[string]ActionFunc{}
	}
	s.actions[entity][name] = fn
}

func (s *Service) hooksFor(entity string) []Hook {
	s.mu.RLock()
	defer s.mu.RUnlock()
	hs := append(append([]Hook(nil), s.hooks["*"]...), s.hooks[entity]...)
	sort.SliceStable(hs, func(i, j int) bool { return hs[i].Priority < hs[j].Priority })
	return hs
}
