package exporter

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// The formats.
const (
	CSV  = "csv"
	XLSX = "xlsx"
)

// Content types of the formats.
const (
	ContentTypeCSV  = "text/csv; charset=utf-8"
	ContentTypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// Batch is how many records are read, resolved and written at a time.
const Batch = 1000

// FileNames names stored files by id (files.Service).
type FileNames interface {
	Names(ctx context.Context, ids []string) (map[string]string, error)
}

// Config carries the collaborators of the exporter.
type Config struct {
	Records *records.Service
	// Files names file, image and signature cells; nil shows their ids.
	Files FileNames
	// TempDir holds an XLSX sheet's rows beyond 16 MB while it is built
	// (default: the system's temporary directory).
	TempDir string
	Now     func() time.Time
	Log     *slog.Logger
}

// Exporter writes lists of records as CSV or XLSX files.
type Exporter struct {
	recs    *records.Service
	files   FileNames
	tempDir string
	now     func() time.Time
	log     *slog.Logger
}

// New builds the exporter.
func New(c Config) *Exporter {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Exporter{recs: c.Records, files: c.Files, tempDir: c.TempDir, now: c.Now, log: c.Log}
}

// Options are the list parameters of an export (those of GET
// /api/v1/records/{entity}) and the format.
type Options struct {
	Format string // csv (default) or xlsx
	Filter string
	Sort   string
	Q      string
	// Fields are the columns in order; empty: the default columns (doc.go).
	Fields []string
	// Lang overrides the caller's language (en or zh-CN) for the labels and
	// words in the file: a download link cannot set Accept-Language, so the
	// app passes the language it shows.
	Lang string
}

// column is one column of an export.
type column struct {
	name  string
	label string
	field *meta.Field // nil for the system columns
}

// Download is a prepared export: what the file is called and what it
// holds. Write produces it.
type Download struct {
	x       *Exporter
	p       *access.Principal
	entity  *meta.Entity
	opts    Options
	lang    string
	cols    []column
	subs    []string // the sub-tables among the columns: Each loads these only
	created time.Time

	// Name is the file name: <entity label>-YYYYMMDD-HHMMSS.<format>.
	Name string
	// ContentType is the file's media type.
	ContentType string
}

// systemColumns are the record columns every entity has, in export order.
var systemColumns = []string{"id", "version", "owner", "created_by", "created_at", "updated_at"}

// Prepare checks that p may export entity (read and export rights) and
// the options (format, columns), and returns the download to Write. A
// bad filter, sort or q is reported by Write before it writes anything.
func (x *Exporter) Prepare(p *access.Principal, entity string, o Options) (*Download, error) {
	e, ok := x.recs.Registry().Get(entity)
	if !ok {
		return nil, apperr.NotFound()
	}
	r := p.RightsOn(e.Name)
	if !r.Can(access.Read) || !r.Can(access.Export) {
		return nil, apperr.Forbidden("action_not_allowed", "action", access.Export, "entity", e.Name)
	}
	d := &Download{x: x, p: p, entity: e, opts: o, lang: string(i18n.ZH), created: x.now()}
	lang := p.Lang
	if o.Lang != "" {
		lang = string(i18n.FromHeader(o.Lang))
	}
	if lang == string(i18n.EN) {
		d.lang = string(i18n.EN)
	}
	switch o.Format {
	case "", CSV:
		d.opts.Format, d.ContentType = CSV, ContentTypeCSV
	case XLSX:
		d.ContentType = ContentTypeXLSX
	default:
		return nil, apperr.Invalid("export_bad_format", "format", o.Format)
	}
	cols, err := d.columns(r)
	if err != nil {
		return nil, err
	}
	d.cols = cols
	for _, c := range cols {
		if c.field != nil && c.field.Type == "subtable" {
			d.subs = append(d.subs, c.name)
		}
	}
	d.Name = e.Label.Get(d.lang, e.Name) + "-" + d.created.In(meta.Shanghai).Format("20060102-150405") + "." + d.opts.Format
	return d, nil
}

// columns resolves the requested columns against p's field rights: a
// hidden, secret or unknown name is refused alike (400 unknown_field).
func (d *Download) columns(r *access.Rights) ([]column, error) {
	e := d.entity
	exportable := func(f *meta.Field) bool { return !r.Hidden(f.Name) && !f.Secret }
	if len(d.opts.Fields) == 0 {
		cols := []column{d.systemColumn("id")}
		for i := range e.Fields {
			f := &e.Fields[i]
			if exportable(f) && f.Type != "subtable" {
				cols = append(cols, column{name: f.Name, label: f.LabelOf(d.lang), field: f})
			}
		}
		for _, n := range systemColumns[2:] {
			cols = append(cols, d.systemColumn(n))
		}
		return cols, nil
	}
	var cols []column
	seen := map[string]bool{}
	for _, n := range d.opts.Fields {
		if seen[n] {
			continue
		}
		seen[n] = true
		if slices.Contains(systemColumns, n) {
			cols = append(cols, d.systemColumn(n))
			continue
		}
		f := e.Field(n)
		if f == nil || !exportable(f) {
			return nil, apperr.Invalid("unknown_field", "field", n)
		}
		cols = append(cols, column{name: n, label: f.LabelOf(d.lang), field: f})
	}
	return cols, nil
}

func (d *Download) systemColumn(name string) column {
	return column{name: name, label: i18n.Message(i18n.Lang(d.lang), "export_col_"+name, nil)}
}

// sheet is a file format being written.
type sheet interface {
	header(labels []string) error
	row(cells []cell) error
	// batchDone ends a batch of rows (CSV flushes them to the reader).
	batchDone() error
	// finish completes the file.
	finish() error
	// close releases what the sheet holds (after finish or an error).
	close()
}

// Write streams the export to w: the rows p may read in the list's
// order, batch after batch; flush, when not nil, is called whenever a batch
// of CSV rows has been written to w. Nothing is written to w before the
// first batch has been read, so an error in the options (filter, sort, q)
// comes before any byte; an error after that leaves w with part of the
// file (the HTTP layer then aborts the response: see doc.go).
func (d *Download) Write(ctx context.Context, w io.Writer, flush func()) error {
	var sh sheet
	if d.opts.Format == XLSX {
		xs, err := newXLSXSheet(w, d.x.tempDir, d.entity.Label.Get(d.lang, d.entity.Name), d.cols)
		if err != nil {
			return err
		}
		sh = xs
	} else {
		sh = newCSVSheet(w, flush)
	}
	defer sh.close()
	labels := make([]string, len(d.cols))
	for i, c := range d.cols {
		labels[i] = c.label
	}
	started := false
	rs := newResolver(d)
	err := d.x.recs.Each(ctx, d.p, d.entity.Name, records.EachOptions{Action: access.Export, ListOptions: records.ListOptions{
		Filter: d.opts.Filter, Sort: d.opts.Sort, Q: d.opts.Q, Fields: d.subs, PerPage: Batch,
	}}, func(batch []records.Record) error {
		rows, err := rs.cells(ctx, batch)
		if err != nil {
			return err
		}
		if !started {
			started = true
			if err := sh.header(labels); err != nil {
				return err
			}
		}
		for _, r := range rows {
			if err := sh.row(r); err != nil {
				return err
			}
		}
		return sh.batchDone()
	})
	if err != nil {
		return err
	}
	if !started {
		if err := sh.header(labels); err != nil {
			return err
		}
	}
	return sh.finish()
}

// Neutralise makes a text cell safe to open in a spreadsheet program: a
// value starting with =, +, -, @, a tab or a carriage return would be read
// as a formula (or be turned into one by an edit), so it gets a leading
// apostrophe. Numbers are written as numbers and never pass through here.
func Neutralise(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
