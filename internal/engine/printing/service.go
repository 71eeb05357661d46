package printing

import (
	"context"
	"embed"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/engine/printing/lang"
	"github.com/tenon-crm/tenon/internal/engine/printing/pdf"
	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/audit"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/files"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Entities holds the definition of print_templates.
//
//go:embed entities/*.json
var Entities embed.FS

// Entity is the entity of templates.
const Entity = "print_templates"

// Limits of a print.
const (
	DefaultTimeout = 5 * time.Second
	// MaxLogo is the largest logo file read.
	MaxLogo = 2 << 20
	// maxLinked bounds the linked records one print reads.
	maxLinked = 5000
)

// Config carries the collaborators of the engine.
type Config struct {
	DB      *db.DB
	Records *records.Service
	Files   *files.Service
	Now     func() time.Time
	Log     *slog.Logger
	// Timeout bounds one print (default DefaultTimeout); MaxPages its
	// pages (default pdf.DefaultMaxPages); MaxRows the rows of all its
	// loops (default lang.DefaultMaxRows).
	Timeout  time.Duration
	MaxPages int
	MaxRows  int
}

// Service renders records to PDF through print templates.
type Service struct {
	db    *db.DB
	recs  *records.Service
	files *files.Service
	now   func() time.Time
	log   *slog.Logger
	cfg   Config
}

// New builds the engine and registers its hook on print_templates.
func New(c Config) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	s := &Service{db: c.DB, recs: c.Records, files: c.Files, now: c.Now, log: c.Log, cfg: c}
	c.Records.Use(Entity, records.Hook{Before: s.beforeTemplate})
	return s
}

// Template is a print template's content: a saved record's, or a draft
// being previewed.
type Template struct {
	ID     int64
	Name   string
	Entity string
	Paper  string // A4, A4-landscape, A5, A5-landscape
	Lang   string // zh-CN or en
	Logo   string // a file id
	Header string
	Body   string
	Footer string
}

// parsed is a template ready to evaluate.
type parsed struct {
	body, header, footer *lang.Template
}

// parse reads the three sources; an error names the field, line and
// column (422 print_template_error).
func (t *Template) parse() (*parsed, error) {
	var p parsed
	var err error
	if p.body, err = lang.Parse(t.Body); err != nil {
		return nil, templateError("body", err)
	}
	// The header's lines are lines of the page header (inline text folds
	// line breaks otherwise).
	if p.header, err = lang.ParseInline(strings.ReplaceAll(t.Header, "\n", "<br>\n")); err != nil {
		return nil, templateError("header", err)
	}
	if p.footer, err = lang.ParseInline(t.Footer); err != nil {
		return nil, templateError("footer", err)
	}
	return &p, nil
}

// templateError turns a language error into a 422 problem with the line
// and column.
func templateError(field string, err error) error {
	var le *lang.Error
	if !errors.As(err, &le) {
		return err
	}
	reason := i18n.T(le.Code, le.Args...)
	switch le.Code {
	case "print_timeout", "print_too_many_rows", "print_too_much_text":
		return apperr.New(apperr.ErrUnprocessable, le.Code, le.Args...)
	}
	return apperr.New(apperr.ErrUnprocessable, "print_template_error", "part", i18n.T("print_part_"+field),
		"line", le.Line, "col", le.Col, "reason", reason)
}

// Render prints record id of entity with a template (templateID 0: the
// entity's default) as p sees the record, and logs the print in the
// record's history. It returns the PDF and its file name (the record's
// title, e.g. QT-202611-0001.pdf). Other modules call it to attach a
// document to an e-mail.
func (s *Service) Render(ctx context.Context, p *access.Principal, entity string, id int64, templateID int64) ([]byte, string, error) {
	if err := s.mayPrint(p, entity); err != nil {
		return nil, "", err
	}
	t, err := s.template(ctx, entity, templateID)
	if err != nil {
		return nil, "", err
	}
	out, name, err := s.render(ctx, p, t, entity, id)
	if err != nil {
		return nil, "", err
	}
	if err := s.logPrint(ctx, p, entity, id, t); err != nil {
		return nil, "", err
	}
	return out, name, nil
}

// Preview prints a draft template on a record, for the template editor:
// p needs the right to update print_templates and to print the record.
// Previews are not logged.
func (s *Service) Preview(ctx context.Context, p *access.Principal, t Template, id int64) ([]byte, string, error) {
	if !p.RightsOn(Entity).Can(access.Update) {
		return nil, "", apperr.Forbidden("action_not_allowed", "action", access.Update, "entity", Entity)
	}
	if err := s.mayPrint(p, t.Entity); err != nil {
		return nil, "", err
	}
	if t.Logo != "" {
		if err := s.mayUseLogo(ctx, p, t.Logo); err != nil {
			return nil, "", err
		}
	}
	return s.render(ctx, p, &t, t.Entity, id)
}

// mayPrint checks the print right (and read) on the entity.
func (s *Service) mayPrint(p *access.Principal, entity string) error {
	if _, ok := s.recs.Registry().Get(entity); !ok || entity == "" {
		return apperr.NotFound()
	}
	r := p.RightsOn(entity)
	if !r.Can(access.Print) || !r.Can(access.Read) {
		return apperr.Forbidden("action_not_allowed", "action", access.Print, "entity", entity)
	}
	return nil
}

// mayUseLogo allows a draft's logo when it is one the caller uploaded and
// no record holds yet, or the logo of a saved template.
func (s *Service) mayUseLogo(ctx context.Context, p *access.Principal, id string) error {
	f, err := s.files.Get(ctx, id)
	if err != nil {
		return apperr.Fields(apperr.Field("logo", "file_not_found"))
	}
	refs, err := s.files.Refs(ctx, id)
	if err != nil {
		return err
	}
	if len(refs) == 0 && f.CreatedBy == p.UserID {
		return nil
	}
	for _, r := range refs {
		if r.Entity == Entity && r.Field == "logo" {
			return nil
		}
	}
	return apperr.Fields(apperr.Field("logo", "file_not_found"))
}

// render evaluates and lays out t on the record within the time limit.
func (s *Service) render(ctx context.Context, p *access.Principal, t *Template, entity string, id int64) ([]byte, string, error) {
	pt, err := t.parse()
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	vm, root, err := s.viewModel(ctx, p, entity, id, t.Lang)
	if err != nil {
		return nil, "", err
	}
	o := lang.Options{Now: s.now(), Printer: p.Name, MaxRows: s.cfg.MaxRows}
	doc, err := pt.body.Eval(ctx, root, o)
	if err != nil {
		return nil, "", s.limitError("body", err)
	}
	header, err := pt.header.EvalInline(ctx, root, o)
	if err != nil {
		return nil, "", s.limitError("header", err)
	}
	footer, err := pt.footer.EvalInline(ctx, root, o)
	if err != nil {
		return nil, "", s.limitError("footer", err)
	}
	page := pdf.Page{Paper: strings.TrimSuffix(t.Paper, "-landscape"), Landscape: strings.HasSuffix(t.Paper, "-landscape"),
		HeaderText: header, FooterText: footer, Title: vm.title(), MaxPages: s.cfg.MaxPages}
	if t.Logo != "" {
		if page.Logo, err = s.logo(ctx, t.Logo); err != nil {
			return nil, "", err
		}
	}
	out, err := pdf.Render(ctx, doc, page)
	if err != nil {
		return nil, "", s.limitError("body", err)
	}
	return out, fileName(vm.title(), entity, id), nil
}

// limitError maps the evaluator's and renderer's limits to problems.
func (s *Service) limitError(part string, err error) error {
	var le *pdf.LimitError
	switch {
	case errors.As(err, &le):
		return apperr.New(apperr.ErrUnprocessable, le.Code, "max", le.Max)
	case errors.Is(err, context.DeadlineExceeded):
		return apperr.New(apperr.ErrUnprocessable, "print_timeout", "seconds", s.cfg.Timeout.Seconds())
	case errors.Is(err, pdf.ErrBadImage):
		return apperr.Fields(apperr.Field("logo", "print_bad_logo"))
	}
	var lerr *lang.Error
	if errors.As(err, &lerr) && lerr.Code == "print_timeout" {
		return apperr.New(apperr.ErrUnprocessable, "print_timeout", "seconds", s.cfg.Timeout.Seconds())
	}
	return templateError(part, err)
}

// logo reads the template's logo through the files service.
func (s *Service) logo(ctx context.Context, id string) ([]byte, error) {
	f, rc, err := s.files.Open(ctx, id)
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, nil // a logo removed meanwhile: print without it
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if f.Size > MaxLogo || !files.IsImage(f.ContentType) {
		return nil, apperr.Fields(apperr.Field("logo", "print_bad_logo"))
	}
	return io.ReadAll(io.LimitReader(rc, MaxLogo))
}

// logPrint writes the audit entry "print" on the record.
func (s *Service) logPrint(ctx context.Context, p *access.Principal, entity string, id int64, t *Template) error {
	var version int64
	if err := s.db.QueryRow(ctx, "SELECT version FROM "+s.db.Ident("r_"+entity)+" WHERE id = ?", id).Scan(&version); err != nil {
		return err
	}
	src := p.Source
	if src == "" {
		src = access.SourceAPI
	}
	return audit.Write(ctx, s.db, audit.Entry{Entity: entity, RecordID: id, Action: "print", Version: version,
		Actor: p.UserID, TokenID: p.TokenID, Source: src, At: s.now().UTC(), Changes: map[string]audit.Change{
			"print_template": {New: t.Name}, "print_template_id": {New: strconv.FormatInt(t.ID, 10)}}})
}

// fileName is the record's title made safe for a file name, or
// <entity>-<id>.
func fileName(title, entity string, id int64) string {
	title = strings.Map(func(r rune) rune {
		if r < ' ' || strings.ContainsRune(`/\:*?"<>|`, r) {
			return '_'
		}
		return r
	}, strings.TrimSpace(title))
	if title == "" {
		title = entity + "-" + strconv.FormatInt(id, 10)
	}
	if r := []rune(title); len(r) > 100 {
		title = string(r[:100])
	}
	return title + ".pdf"
}
