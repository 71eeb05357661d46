package flow

import (
	"context"
	"embed"
	"log/slog"
	"sync"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/files"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/notify"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Entities holds the definition of the flow_definitions entity.
//
//go:embed entities/*.json
var Entities embed.FS

// DefinitionEntity is the system entity whose records are flow definitions.
const DefinitionEntity = "flow_definitions"

// Notifier delivers the engine's notifications (internal/platform/notify's
// service). Send runs in the caller's transaction.
type Notifier interface {
	Send(ctx context.Context, m notify.Message) error
}

// kindRegistrar is implemented by a notifier that keeps per-kind
// preferences (notify.Service).
type kindRegistrar interface{ RegisterKind(k notify.Kind) }

// Config carries the engine's collaborators. Notifier may be nil: no
// notifications are sent. Files may be nil: attachments are refused.
type Config struct {
	DB       *db.DB
	Records  *records.Service
	Files    *files.Service
	Jobs     *jobs.Queue
	Notifier Notifier
	Now      func() time.Time
	Log      *slog.Logger
	// RefreshEvery is how often Run reloads which entities have flows, to
	// see what other processes published (default 5 s).
	RefreshEvery time.Duration
}

// Engine runs approval flows. Build it with New, which installs its hooks
// on the records service and its timer jobs on the queue.
type Engine struct {
	db       *db.DB
	rs       *records.Service
	reg      *meta.Registry
	files    *files.Service
	jobs     *jobs.Queue
	notifier Notifier
	now      func() time.Time
	log      *slog.Logger
	every    time.Duration
	st       *store

	mu     sync.RWMutex
	flowed map[string]bool // entities with a published version (nil: not loaded yet)

	cmu      sync.Mutex
	compiled map[int64]*cachedVersion

	observers map[string][]Observer // by entity, set while wiring (Observe)
}

// cachedVersion is a published version compiled against the entity
// definition it was compiled with; a changed definition recompiles it.
type cachedVersion struct {
	row    *versionRow
	entity *meta.Entity
	c      *compiled
}

// New builds the engine, registers the record hooks (edit lock, triggers,
// checks on definitions), the definitions' validate and publish actions
// and the timer jobs.
func New(cfg Config) *Engine {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.RefreshEvery <= 0 {
		cfg.RefreshEvery = 5 * time.Second
	}
	e := &Engine{db: cfg.DB, rs: cfg.Records, reg: cfg.Records.Registry(), files: cfg.Files, jobs: cfg.Jobs,
		notifier: cfg.Notifier, now: cfg.Now, log: cfg.Log, every: cfg.RefreshEvery, st: &store{db: cfg.DB},
		compiled: map[int64]*cachedVersion{}}
	rs := cfg.Records
	// The lock runs before every other hook: a refused write does nothing.
	rs.Use("*", records.Hook{Priority: -1000, Before: e.lockHook})
	// Triggers run after every other hook has settled the record.
	rs.Use("*", records.Hook{Priority: 1000, After: e.triggerHook})
	rs.Use(DefinitionEntity, records.Hook{Before: e.beforeDefinition})
	rs.Action(DefinitionEntity, "validate", e.validateAction)
	rs.Action(DefinitionEntity, "publish", e.publishAction)
	if kr, ok := cfg.Notifier.(kindRegistrar); ok {
		// The inbox offers preferences for the kinds it knows; these two
		// are the flow's own besides the four it declares itself.
		kr.RegisterKind(notify.Kind{Name: "approval.returned", Label: meta.Label{"zh-CN": "审批退回修改", "en": "Approvals returned to me for changes"}, Email: true})
		kr.RegisterKind(notify.Kind{Name: "approval.escalated", Label: meta.Label{"zh-CN": "超时转交给我的审批", "en": "Approvals escalated to me"}, Email: true})
	}
	if cfg.Jobs != nil {
		cfg.Jobs.Register(KindRemind, e.remindJob, jobs.HandlerOptions{InTx: true, MaxAttempts: 5})
		cfg.Jobs.Register(KindEscalate, e.escalateJob, jobs.HandlerOptions{InTx: true, MaxAttempts: 5})
	}
	return e
}

// Run keeps the set of entities with flows fresh until ctx ends, so that a
// flow published by another process locks records here too.
func (e *Engine) Run(ctx context.Context) {
	t := time.NewTicker(e.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := e.Refresh(ctx); err != nil && ctx.Err() == nil {
				e.log.Warn("flow refresh", "err", err)
			}
		}
	}
}

// Refresh reloads the set of entities that have published flows.
func (e *Engine) Refresh(ctx context.Context) error {
	set, err := e.st.flowedEntities(ctx)
	if err != nil {
		return err
	}
	e.mu.Lock()
	// Entities marked in this process stay (a publish may not be visible
	// to this read yet); a spurious entry only costs a query per write.
	for k := range e.flowed {
		set[k] = true
	}
	e.flowed = set
	e.mu.Unlock()
	return nil
}

// hasFlows reports whether records of the entity may be in a flow. It is
// the whole cost of the engine for entities without flows: a map lookup.
func (e *Engine) hasFlows(ctx context.Context, entity string) (bool, error) {
	e.mu.RLock()
	set := e.flowed
	e.mu.RUnlock()
	if set == nil {
		if err := e.Refresh(ctx); err != nil {
			return false, err
		}
		e.mu.RLock()
		set = e.flowed
		e.mu.RUnlock()
	}
	return set[entity], nil
}

// markFlowed adds an entity to the set at once (on publish and start).
func (e *Engine) markFlowed(entity string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.flowed == nil {
		// Not loaded yet: the first use loads it from the database, which
		// by then holds the version.
		return
	}
	e.flowed[entity] = true
}

// ctxKey marks writes the engine makes itself.
type ctxKey int

const (
	throughFlowKey ctxKey = iota // a write of the flow (automatic action): the edit lock lets it pass
	publishingKey                // the engine sets a definition's status and version
)

func withFlow(ctx context.Context) context.Context {
	return context.WithValue(ctx, throughFlowKey, true)
}

func throughFlow(ctx context.Context) bool { b, _ := ctx.Value(throughFlowKey).(bool); return b }

func isPublishing(ctx context.Context) bool { b, _ := ctx.Value(publishingKey).(bool); return b }

// version returns a published version compiled, from the cache when its
// entity definition has not changed since.
func (e *Engine) version(ctx context.Context, id int64) (*cachedVersion, error) {
	e.cmu.Lock()
	cv := e.compiled[id]
	e.cmu.Unlock()
	if cv != nil {
		if cur, ok := e.reg.Get(cv.row.Entity); ok && cur == cv.entity {
			return cv, nil
		}
	}
	row, err := e.st.version(ctx, id)
	if err != nil {
		return nil, err
	}
	ent, ok := e.reg.Get(row.Entity)
	if !ok {
		return nil, apperr.Conflict("flow_entity_gone", "entity", row.Entity)
	}
	c, errs := compileDefinition(e.reg.Types(), definitionInput{Entity: ent, EntityRaw: row.Entity, Trigger: row.Trigger,
		Condition: row.Condition, Graph: row.Graph})
	if len(errs) > 0 {
		// The entity changed under a published version (a field it uses
		// was deleted): running it would misbehave, so it stops here.
		return nil, apperr.Conflict("flow_version_broken", "flow", row.Name, "reason", i18n.Text{Code: errs[0].Code, Args: errs[0].Args})
	}
	cv = &cachedVersion{row: row, entity: ent, c: c}
	e.cmu.Lock()
	if len(e.compiled) > 1000 {
		e.compiled = map[int64]*cachedVersion{}
	}
	e.compiled[id] = cv
	e.cmu.Unlock()
	return cv, nil
}

// system is the principal of the engine's own reads and automatic
// actions, acting for the user whose step caused them (the audit trail
// shows that user, with source "flow").
func system(actor int64) *access.Principal {
	return access.SystemFor(actor).WithSource(access.SourceFlow)
}
