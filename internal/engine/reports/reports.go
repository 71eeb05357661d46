// Package reports is the report engine (REQUIREMENTS P4, DESIGN "Reports").
//
// A report is a record of the system entity reports: a source entity,
// dimensions (fields, link paths such as account.region, dates bucketed by
// day, week, month, quarter or year), measures (count, sum, avg, min, max,
// count_distinct, sum_product, durations between two date fields, measures
// over related records through their link, each with an optional
// condition; ratios of two measures and month-on-month / year-on-year
// growth computed from the result), a filter in the expression language,
// a sort, a row limit, the field the dashboards' date range applies to,
// and a chart. Run compiles a report into one SQL query
// (records.Aggregate) under the viewer's data scope and field rights: a
// measure or dimension over a field hidden from the viewer is refused like
// a filter on it (400 unknown_field), linked and related records count
// only when the viewer may read them, and totals are computed from the
// same rows, so no figure reaches beyond what the viewer's lists show.
//
// Dashboards (system entity dashboards) are grids of reports with shared
// filters (date range, region, owner, product line), personal or shared
// with everyone (sharing is for administrators, as for saved views), and an
// optional scheduled e-mail: the hourly job reports.dashboards sends each
// due dashboard to its recipients, every report computed as that recipient
// sees it, as a text summary and an XLSX workbook with a sheet per report.
//
// Drill-down (Drill) turns a cell — the keys of a row and a measure — into
// the filter of the records behind the number: the report's filter, the
// shared filters, the cell's keys (a date bucket as its range) and the
// measure's condition; for a measure over related records, the related
// entity filtered to the grouped records. The list of that filter, as the
// same viewer, counts exactly the number in the cell.
//
// The built-in dashboards (builtin/*.json) are ordinary report and
// dashboard records, created once by Install and then the administrators'
// to edit; a user copies a shared report to change it for themself.
package reports

import (
	"context"
	"embed"
	"log/slog"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Entities holds the definitions of reports and dashboards.
//
//go:embed entities/*.json
var Entities embed.FS

// The engine's entities.
const (
	Reports    = "reports"
	Dashboards = "dashboards"
)

// Mailer sends a dashboard's e-mail to one recipient.
type Mailer interface {
	SendReport(ctx context.Context, p *access.Principal, to string, m Mail) error
}

// Mail is a dashboard's e-mail.
type Mail struct {
	Subject  string
	Text     string
	Workbook []byte
	FileName string
	RecordID int64
}

// Principals loads the principal of a user (the recipients of a
// scheduled e-mail see what they may see).
type Principals interface {
	Principal(ctx context.Context, userID int64) (*access.Principal, error)
}

// Config carries the engine's collaborators.
type Config struct {
	Records    *records.Service
	Principals Principals
	Mailer     Mailer // nil: scheduled e-mail is refused
	Now        func() time.Time
	Log        *slog.Logger
}

// Service is the report engine.
type Service struct {
	recs   *records.Service
	people Principals
	mail   Mailer
	now    func() time.Time
	log    *slog.Logger
}

// New builds the engine and registers its checks and actions.
func New(c Config) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	s := &Service{recs: c.Records, people: c.Principals, mail: c.Mailer, now: c.Now, log: c.Log}
	s.recs.Use(Reports, records.Hook{Before: s.checkReport})
	s.recs.Use(Dashboards, records.Hook{Before: s.checkDashboard})
	s.recs.Action(Dashboards, "send_now", s.sendNow)
	return s
}

// Grants are what every signed-in user may do with reports and
// dashboards: read the shared ones, and keep their own.
func Grants() []access.Grant {
	var gs []access.Grant
	for _, e := range []string{Reports, Dashboards} {
		gs = append(gs,
			access.Grant{Entity: e, Actions: []string{access.Read, access.Export}, Scope: access.ScopeFilter, Filter: "shared == true"},
			access.Grant{Entity: e, Actions: []string{access.Read, access.Create, access.Update, access.Delete, access.Export}, Scope: access.ScopeOwn})
	}
	return gs
}

// checkReport refuses a definition that does not compile for the one
// saving it, and sharing by anyone but an administrator.
func (s *Service) checkReport(_ context.Context, c *records.Change) error {
	if c.New == nil || (c.Op != records.OpCreate && c.Op != records.OpUpdate) {
		return nil
	}
	if err := checkShare(c); err != nil {
		return err
	}
	spec, err := SpecOf(c.New)
	if err != nil {
		return err
	}
	return s.check(c.P, spec)
}

// check compiles a definition for p without running it: the filter's
// errors under filter, the rest under measures.
func (s *Service) check(p *access.Principal, spec *Spec) error {
	pl, err := s.compile(spec, Params{}, false)
	if err != nil {
		return err
	}
	if err := s.recs.CheckQuery(p, spec.Source, spec.Filter, ""); err != nil {
		if ae, ok := apperr.As(err); ok && ae.Kind == apperr.ErrInvalid && len(ae.Fields) == 0 {
			return apperr.Fields(apperr.FieldError{Field: "filter", Code: ae.Code, Args: ae.Args})
		}
		return asFieldError(err)
	}
	if err := s.recs.CheckAggregate(p, spec.Source, pl.opts); err != nil {
		return asFieldError(err)
	}
	return nil
}

// asFieldError files a compile error under the definition's fields.
func asFieldError(err error) error {
	ae, ok := apperr.As(err)
	if !ok {
		return err
	}
	switch ae.Kind {
	case apperr.ErrInvalid:
		if len(ae.Fields) > 0 {
			return err
		}
		return apperr.Fields(apperr.FieldError{Field: "measures", Code: ae.Code, Args: ae.Args})
	case apperr.ErrForbidden, apperr.ErrNotFound:
		return apperr.Fields(apperr.Field("source", "report_source_not_readable"))
	}
	return err
}

// checkShare lets only administrators share a report or dashboard with
// everyone (a shared one stays shared when its owner edits it).
func checkShare(c *records.Change) error {
	if shared, _ := c.New["shared"].(bool); shared && !c.P.Admin {
		if old := c.Old; old == nil || old["shared"] != true {
			return apperr.New(apperr.ErrForbidden, "report_share_admin_only")
		}
	}
	return nil
}

// Load reads a report the caller may read.
func (s *Service) Load(ctx context.Context, p *access.Principal, id int64) (*Spec, error) {
	rec, err := s.recs.Get(ctx, p, Reports, id, records.GetOptions{})
	if err != nil {
		return nil, err
	}
	return SpecOf(rec)
}
