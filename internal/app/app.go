// Package app is the composition root: it builds every service by hand from
// a Config, with no package-level state, so tests can run many apps in
// parallel.
package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/tenon-crm/tenon/internal/engine/exporter"
	"github.com/tenon-crm/tenon/internal/engine/flow"
	"github.com/tenon-crm/tenon/internal/engine/importer"
	"github.com/tenon-crm/tenon/internal/engine/inbound"
	"github.com/tenon-crm/tenon/internal/engine/printing"
	"github.com/tenon-crm/tenon/internal/engine/reports"
	"github.com/tenon-crm/tenon/internal/engine/rules"
	"github.com/tenon-crm/tenon/internal/engine/webhooks"
	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/events"
	"github.com/tenon-crm/tenon/internal/platform/expr"
	"github.com/tenon-crm/tenon/internal/platform/files"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/netguard"
	"github.com/tenon-crm/tenon/internal/platform/notify"
	"github.com/tenon-crm/tenon/internal/platform/org"
	"github.com/tenon-crm/tenon/internal/platform/records"
	"github.com/tenon-crm/tenon/internal/platform/schema"
	"github.com/tenon-crm/tenon/internal/platform/views"
)

// Version is set at build time with -ldflags "-X .../internal/app.Version=...".
var Version = "dev"

// Config is everything Tenon is configured with.
type Config struct {
	DSN           string
	Addr          string
	DataDir       string
	AdminPassword string
	Synchronous   string // SQLite: FULL (default) or NORMAL
	Readers       int    // read connections (0: the database layer's default)
	CacheMB       int    // SQLite page cache per read connection in MB (0: default)
	SecureCookies bool
	MaxUpload     int64
	Log           *slog.Logger
	Stdout        io.Writer
	Now           func() time.Time
	// AuthConfig overrides login throttling and session lifetimes (tests).
	AuthConfig *auth.Config
}

// App is a running Tenon.
type App struct {
	Cfg     Config
	Log     *slog.Logger
	DB      *db.DB
	Meta    *meta.Registry
	Outbox  *events.Outbox
	Records *records.Service
	Auth    *auth.Service
	Access  *access.Service
	Files   *files.Service
	Jobs    *jobs.Queue
	API     *httpapi.Server
	// The engines (each wired below in Open):
	// engines: fields notify
	Notify *notify.Service // tasks and notifications: Send, SendRobot
	// engines: fields flow
	Flow *flow.Engine // approval flows: Start, Submit, Act, Publish
	// engines: fields rules
	Rules *rules.Engine // automation rules: hooks, runs, run log, test mode
	// engines: fields webhooks
	Outbound *netguard.Guard  // the outbound allow-list and guarded HTTP clients
	Webhooks *webhooks.Engine // outbound webhooks: subscriptions, deliveries, replay, test
	// engines: fields inbound
	Inbound *inbound.Engine // inbound endpoints for ERP/MES: signed calls, mappings, upserts, call log
	// engines: fields exporter
	Exporter *exporter.Exporter // CSV/XLSX downloads of lists
	// engines: fields importer
	Importer *importer.Engine // CSV/XLSX imports: upload, mapping, dry run, batch jobs, error reports
	// engines: fields printing
	Printing *printing.Service // print templates → PDF: Render, Preview, the print menu
	// engines: fields reports
	Reports *reports.Service // reports and dashboards: one query per chart under the viewer's scope, drill-down, XLSX, scheduled e-mail
	// modules: fields crm
	CRM *crmModule // leads, accounts, contacts, activities, web forms: dedupe, merge, convert, transfer, web-to-lead, 360°
	// modules: fields leadpool
	LeadPool *leadPoolService // lead assignment rules, the public pools (公海), recycling, lead KPIs
	// modules: fields sales
	Sales     *salesModule     // pipelines, opportunities, stage gates, board, forecast, funnel, cycle, targets
	Marketing *marketingModule // modules: fields marketing (campaigns and their ROI)
	Grading   *gradingModule   // modules: fields grading (grade rules, account grades, value, health)
	Quoting   *quotingModule   // catalog, price books, quotes, contracts, sales orders
}

// Open connects to the database and builds the services; it does not
// migrate (see Migrate) or listen (see Serve).
func Open(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "./tenon-data"
	}
	if cfg.DSN == "" {
		cfg.DSN = "sqlite:" + filepath.Join(cfg.DataDir, "tenon.db")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory %s is not writable: %w", cfg.DataDir, err)
	}
	probe := filepath.Join(cfg.DataDir, ".write-test")
	if err := os.WriteFile(probe, nil, 0o600); err != nil {
		return nil, fmt.Errorf("data directory %s is not writable: %w", cfg.DataDir, err)
	}
	_ = os.Remove(probe)
	d, err := db.Open(ctx, cfg.DSN, db.Options{Synchronous: cfg.Synchronous, MaxReaders: cfg.Readers, CacheKiB: cfg.CacheMB * 1024})
	if err != nil {
		return nil, err
	}
	a := &App{Cfg: cfg, Log: cfg.Log, DB: d}
	a.Meta = meta.NewRegistry(d, meta.DefaultTypes(), func(src string, vars []string) (meta.Evaluator, error) {
		return expr.CompileProgram(src, vars)
	})
	for _, fsys := range []fs.FS{
		access.Entities,
		views.Entities,
		// engines: entities
		importer.Entities,
		printing.Entities,
		reports.Entities,
		inbound.Entities,
		rules.Entities,
		webhooks.Entities,
		flow.Entities,
		notify.Entities,
	} {
		if err := a.Meta.AddBuiltin(fsys, "entities"); err != nil {
			d.Close()
			return nil, err
		}
	}
	for _, m := range modules() {
		if err := a.Meta.AddBuiltin(m.fs, m.dir); err != nil {
			d.Close()
			return nil, err
		}
	}
	store, err := files.NewLocal(filepath.Join(cfg.DataDir, "files"))
	if err != nil {
		d.Close()
		return nil, err
	}
	a.Files = files.NewService(d, store, files.Limits{MaxSize: cfg.MaxUpload}, cfg.Now)
	a.Outbox = events.New(d)
	a.Records = records.New(records.Config{DB: d, Registry: a.Meta, Outbox: a.Outbox, Files: a.Files, Now: cfg.Now})
	a.Access = access.New(d)
	ac := auth.Config{Now: cfg.Now}
	if cfg.AuthConfig != nil {
		ac = *cfg.AuthConfig
		if ac.Now == nil {
			ac.Now = cfg.Now
		}
	}
	a.Jobs, err = jobs.New(d, jobs.Options{Log: cfg.Log, Now: cfg.Now, Grace: 15 * time.Second})
	if err != nil {
		d.Close()
		return nil, err
	}
	a.Auth = auth.New(d, org.Users{DB: d}, ac)
	org.Install(d, a.Records, a.Auth, a.Access)
	views.Install(a.Records)
	a.Access.AddBaseline(append(org.Grants(), views.Grants()...)...)
	var surfaces []httpapi.Surface
	// engines: wiring notify
	a.Notify = notify.New(notify.Options{DB: d, Records: a.Records, Access: a.Access, Jobs: a.Jobs, Now: cfg.Now, Log: cfg.Log})
	a.Access.AddBaseline(notify.Grants()...)
	surfaces = append(surfaces, a.Notify.Surface())
	// engines: wiring flow
	{
		var n flow.Notifier
		if a.Notify != nil {
			n = a.Notify
		}
		a.Flow = flow.New(flow.Config{DB: d, Records: a.Records, Files: a.Files, Jobs: a.Jobs, Notifier: n, Now: cfg.Now, Log: cfg.Log})
		surfaces = append(surfaces, a.Flow.Surface())
	}
	// engines: wiring rules
	{
		rc := rules.Config{DB: d, Records: a.Records, Jobs: a.Jobs, Now: cfg.Now, Log: cfg.Log}
		if a.Notify != nil {
			rc.Notifier = a.Notify
		}
		if a.Flow != nil {
			rc.Flows = a.Flow
		}
		a.Rules = rules.New(rc)
		surfaces = append(surfaces, a.Rules.Surface())
	}
	// engines: wiring webhooks
	a.Outbound = netguard.New(netguard.Config{DB: d, Now: cfg.Now})
	a.Webhooks = webhooks.New(webhooks.Config{DB: d, Records: a.Records, Access: a.Access, Jobs: a.Jobs, Guard: a.Outbound,
		Now: cfg.Now, Log: cfg.Log})
	surfaces = append(surfaces, a.Outbound.Surface(), a.Webhooks.Surface())
	// engines: wiring inbound
	a.Inbound = inbound.New(inbound.Config{DB: d, Records: a.Records, Access: a.Access, Users: org.Users{DB: d}, Jobs: a.Jobs,
		Now: cfg.Now, Log: cfg.Log})
	surfaces = append(surfaces, a.Inbound.Surface())
	// engines: wiring exporter
	a.Exporter = exporter.New(exporter.Config{Records: a.Records, Files: a.Files, Now: cfg.Now, Log: cfg.Log})
	surfaces = append(surfaces, a.Exporter.Surface())
	// engines: wiring importer
	a.Importer = importer.New(importer.Config{DB: d, Records: a.Records, Access: a.Access, Files: a.Files, Jobs: a.Jobs,
		Now: cfg.Now, Log: cfg.Log})
	a.Access.AddBaseline(importer.Grants()...)
	surfaces = append(surfaces, a.Importer.Surface())
	// engines: wiring printing
	a.wirePrinting(&surfaces)
	// engines: wiring reports
	a.wireReports(&surfaces)
	if err := a.wireModules(&surfaces); err != nil {
		d.Close()
		return nil, err
	}
	a.API = httpapi.New(httpapi.Deps{Log: cfg.Log, DB: d, Meta: a.Meta, Records: a.Records, Auth: a.Auth, Access: a.Access,
		Files: a.Files, Outbox: a.Outbox, Jobs: a.Jobs, Version: Version, SecureCookies: cfg.SecureCookies, UI: uiHandler(),
		Surfaces: surfaces})
	a.Jobs.Register(housekeepingKind, a.housekeeping, jobs.HandlerOptions{Timeout: 5 * time.Minute})
	return a, nil
}

// Close releases the database.
func (a *App) Close() error { return a.DB.Close() }

// Migrate brings the schema up to date: system tables by numbered
// migrations, record tables by schema sync from metadata. It then makes sure
// the admin role and user exist.
func (a *App) Migrate(ctx context.Context) error {
	if err := a.MigrateSchema(ctx); err != nil {
		return err
	}
	if err := a.bootstrap(ctx); err != nil {
		return err
	}
	return a.installModules(ctx)
}

// MigrateSchema applies migrations and syncs record tables from metadata,
// without creating any record (restore loads into a database prepared so).
func (a *App) MigrateSchema(ctx context.Context) error {
	if err := a.DB.Migrate(ctx, schema.Migrations()); err != nil {
		return err
	}
	if err := a.Meta.Load(ctx); err != nil {
		return err
	}
	if err := a.Meta.SyncAll(ctx); err != nil {
		return err
	}
	return a.Records.RebuildSearchIfStale(ctx, func(entity string, done int) {
		if done%100000 == 0 {
			a.Log.Info("rebuilding search index", "entity", entity, "records", done)
		}
	})
}

// bootstrap creates the admin role and, on an empty database, the admin
// user (password from TENON_ADMIN_PASSWORD or printed once).
func (a *App) bootstrap(ctx context.Context) error {
	sys := access.System()
	var roleID int64
	if err := a.DB.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM r_roles WHERE name = 'admin' AND deleted_at IS NULL`).Scan(&roleID); err != nil {
		return err
	}
	if roleID == 0 {
		rec, err := a.Records.Create(ctx, sys, "roles", map[string]any{"name": "admin", "title": "系统管理员 / Administrator",
			"description": "拥有全部权限 / Every right", "permissions": []any{}})
		if err != nil {
			return err
		}
		roleID = rec.ID()
	}
	var users int
	if err := a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM r_users`).Scan(&users); err != nil {
		return err
	}
	if users > 0 {
		return nil
	}
	pw := a.Cfg.AdminPassword
	printed := false
	if pw == "" {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		pw = base64.RawURLEncoding.EncodeToString(b)
		printed = true
	}
	rec, err := a.Records.Create(ctx, sys, "users", map[string]any{"login": "admin", "name": "管理员", "active": true,
		"roles": []any{fmt.Sprint(roleID)}})
	if err != nil {
		return err
	}
	if err := a.Auth.SetPassword(ctx, rec.ID(), pw); err != nil {
		return err
	}
	if printed {
		fmt.Fprintf(a.Cfg.Stdout, "Created user admin with password: %s\n(shown once; set TENON_ADMIN_PASSWORD to choose it)\n", pw)
	}
	return nil
}

// Serve listens on cfg.Addr until ctx is cancelled, then shuts down
// gracefully: in-flight requests finish (up to 30 s).
func (a *App) Serve(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.Cfg.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", a.Cfg.Addr, err)
	}
	srv := &http.Server{Handler: a.API.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	go a.refreshMeta(ctx)
	go a.Records.RunSearchIndexer(ctx, func(err error) { a.Log.Warn("search indexer", "err", err) })
	// The in-memory indexes (rules, webhooks, lead routing) notice what
	// other processes change.
	go a.Records.RunDerived(ctx, func(err error) { a.Log.Warn("derived index check", "err", err) })
	if _, err := a.Jobs.UpsertSchedule(ctx, jobs.ScheduleDef{Name: housekeepingKind, Spec: "@hourly", Kind: housekeepingKind}); err != nil {
		return err
	}
	// engines: serve
	if err := a.Webhooks.Start(ctx); err != nil {
		return err
	}
	if err := a.Rules.Start(ctx); err != nil {
		return err
	}
	if err := a.Inbound.Start(ctx); err != nil {
		return err
	}
	if err := a.Importer.Start(ctx); err != nil {
		return err
	}
	go a.Flow.Run(ctx)
	go func() {
		// Ends the inbox event streams when ctx ends, so Shutdown below does not wait for them.
		if err := a.Notify.Run(ctx); err != nil {
			a.Log.Warn("notifications", "err", err)
		}
	}()
	jobsDone := make(chan error, 1)
	go func() { jobsDone <- a.Jobs.Run(ctx) }()
	a.Log.Info("listening", "addr", "http://"+ln.Addr().String(), "db", string(a.DB.Kind), "version", Version)
	fmt.Fprintf(a.Cfg.Stdout, "Tenon %s listening on http://%s\n", Version, ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	// Running jobs get their grace period; the database closes after them.
	if jerr := <-jobsDone; jerr != nil && !errors.Is(jerr, context.Canceled) {
		a.Log.Warn("jobs", "err", jerr)
	}
	a.Log.Info("stopped")
	return err
}

// refreshMeta picks up metadata changed by other instances.
func (a *App) refreshMeta(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.Meta.Refresh(ctx); err != nil && ctx.Err() == nil {
				a.Log.Warn("metadata refresh", "err", err)
			}
		}
	}
}

// housekeepingKind is the hourly job that deletes what has expired: sessions,
// login attempts and stored idempotent responses (done and dead jobs are
// purged by the job queue itself).
const housekeepingKind = "platform.housekeeping"

func (a *App) housekeeping(ctx context.Context, _ *jobs.Job) error {
	if err := a.Auth.PurgeExpired(ctx); err != nil {
		return err
	}
	return a.API.PurgeIdempotencyKeys(ctx)
}
