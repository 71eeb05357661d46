// Package crm is the crm module (REQUIREMENTS S1, S2, S4): leads,
// accounts, contacts, activities and web-to-lead forms, with
// de-duplication on normalised keys, lead merge and conversion, the bulk
// transfer of a leaving rep's records, the public web-to-lead endpoint,
// the activity hooks (follow-up and first-response times, last activity)
// and the account 360° overview.
//
// Every write goes through the records service (rights, scope, audit);
// reads that gather records for a caller (duplicates, overview) use the
// caller's principal, so nothing the caller could not list appears.
package crm

import (
	"context"
	"embed"
	"io"
	"log/slog"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Entities holds the definitions of leads, accounts, contacts, activities
// and web_forms.
//
//go:embed entities/*.json
var Entities embed.FS

// The module's entities, and those of other modules it uses when present.
const (
	Leads         = "leads"
	Accounts      = "accounts"
	Contacts      = "contacts"
	Activities    = "activities"
	WebForms      = "web_forms"
	Opportunities = "opportunities" // the sales module's; optional
)

// Lead statuses.
const (
	StatusNew          = "new"
	StatusAssigned     = "assigned"
	StatusWorking      = "working"
	StatusQualified    = "qualified"
	StatusConverted    = "converted"
	StatusDisqualified = "disqualified"
)

// Config carries the module's collaborators.
type Config struct {
	DB      *db.DB
	Records *records.Service
	Access  *access.Service
	Now     func() time.Time
	Log     *slog.Logger
	// Limits of the public web-to-lead endpoint (zero: defaults).
	Public PublicLimits
}

// Module is the crm module.
type Module struct {
	db     *db.DB
	recs   *records.Service
	access *access.Service
	now    func() time.Time
	log    *slog.Logger
	public PublicLimits
	limits *limiter
}

// New builds the module and registers its hooks and actions.
func New(c Config) *Module {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Access == nil {
		c.Access = access.New(c.DB)
	}
	m := &Module{db: c.DB, recs: c.Records, access: c.Access, now: c.Now, log: c.Log, public: c.Public.withDefaults()}
	m.limits = newLimiter(c.Now)
	c.Records.Use(Leads, records.Hook{Before: m.beforeLead})
	c.Records.Use(Accounts, records.Hook{Before: m.beforeAccount})
	c.Records.Use(Contacts, records.Hook{Before: m.beforeContact})
	c.Records.Use(Activities, records.Hook{Before: m.beforeActivity, After: m.afterActivity})
	c.Records.Use(WebForms, records.Hook{Before: m.beforeWebForm})
	c.Records.Action(Leads, "merge", m.mergeAction)
	c.Records.Action(Leads, "convert", m.convertAction)
	return m
}

// system is the principal of the module's own bookkeeping writes (the
// derived fields the hooks maintain).
func system() *access.Principal { return access.System() }

// hasEntity reports whether an entity (of another module) is defined.
func (m *Module) hasEntity(name string) bool {
	_, ok := m.recs.Registry().Get(name)
	return ok
}

// hasField reports whether an entity is defined with the named field.
func (m *Module) hasField(entity, field string) bool {
	e, ok := m.recs.Registry().Get(entity)
	return ok && e.Field(field) != nil
}

// str returns a record's text value ("" when unset).
func str(r records.Record, k string) string { s, _ := r[k].(string); return s }

// idOf returns a record's link value (0 when unset).
func idOf(r records.Record, k string) int64 { id, _ := r[k].(int64); return id }

// timeOf returns a record's datetime value.
func timeOf(r records.Record, k string) (time.Time, bool) { t, ok := r[k].(time.Time); return t, ok }

// input turns canonical values (time.Time, int64 ids, decimals, rows) into
// the records service's input form for the entity's fields.
func (m *Module) input(entity string, vals map[string]any) map[string]any {
	e, _ := m.recs.Registry().Get(entity)
	out := make(map[string]any, len(vals))
	for k, x := range vals {
		var f *meta.Field
		if e != nil {
			f = e.Field(k)
		}
		out[k] = records.InputValue(f, x)
	}
	return out
}

// update writes canonical values to a record as p.
func (m *Module) update(ctx context.Context, p *access.Principal, entity string, id int64, vals map[string]any) (records.Record, error) {
	return m.recs.Update(ctx, p, entity, id, m.input(entity, vals), 0)
}

// create creates a record from canonical values as p.
func (m *Module) create(ctx context.Context, p *access.Principal, entity string, vals map[string]any) (records.Record, error) {
	return m.recs.Create(ctx, p, entity, m.input(entity, vals))
}
