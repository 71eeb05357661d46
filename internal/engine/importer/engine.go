package importer

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/files"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Job kinds of the engine.
const (
	KindRun   = "importer.run"   // one import, batch after batch
	KindPurge = "importer.purge" // daily: old imports, their error rows and files
)

// Limits bound what an import may be. Zero values pick the defaults.
type Limits struct {
	// MaxFileSize is the largest upload in bytes (default 50 MB; 413 past
	// it). The files service's own limit applies too.
	MaxFileSize int64
	// MaxRows and MaxColumns bound the data rows and the columns of a file
	// (defaults 200,000 and 200; 413).
	MaxRows    int
	MaxColumns int
	// MaxUnzipped bounds the declared decompressed size of all the parts
	// of an XLSX file together (default 512 MB), MaxRatio the expansion of
	// one part larger than a megabyte (default 200), MaxParts how many
	// parts it has (default 10,000): a zip bomb is refused (413) before
	// any part is read.
	MaxUnzipped int64
	MaxRatio    int
	MaxParts    int
	// BatchSize is how many rows one transaction writes (default 500);
	// Workers how many batches are written at once on PostgreSQL (default
	// 4; SQLite has one writer).
	BatchSize int
	Workers   int
	// SampleRows is how many rows an upload shows (default 5), MaxErrors
	// how many row errors a dry run lists (default 200).
	SampleRows int
	MaxErrors  int
	// JobTimeout bounds one attempt of an import job (default 6 h).
	JobTimeout time.Duration
	// Keep is how long finished imports (and their error reports and
	// files) are kept; imports never started are kept KeepUnstarted.
	// Defaults 90 and 7 days.
	Keep          time.Duration
	KeepUnstarted time.Duration
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = 50 << 20
	}
	if l.MaxUnzipped <= 0 {
		l.MaxUnzipped = 512 << 20
	}
	def(&l.MaxRows, 200000)
	def(&l.MaxColumns, 200)
	def(&l.MaxRatio, 200)
	def(&l.MaxParts, 10000)
	def(&l.BatchSize, 500)
	def(&l.Workers, 4)
	def(&l.SampleRows, 5)
	def(&l.MaxErrors, 200)
	if l.JobTimeout <= 0 {
		l.JobTimeout = 6 * time.Hour
	}
	if l.Keep <= 0 {
		l.Keep = 90 * 24 * time.Hour
	}
	if l.KeepUnstarted <= 0 {
		l.KeepUnstarted = 7 * 24 * time.Hour
	}
	return l
}

// Config carries the engine's collaborators.
type Config struct {
	DB      *db.DB
	Records *records.Service
	Access  *access.Service // the import job acts as the user who started it
	Files   *files.Service  // where uploaded files are kept
	Jobs    *jobs.Queue
	Now     func() time.Time
	Log     *slog.Logger
	Limits  Limits
}

// Engine is the import engine: uploads, mappings, dry runs, the import
// jobs and their reports, and the HTTP routes for them.
type Engine struct {
	db     *db.DB
	recs   *records.Service
	reg    *meta.Registry
	types  meta.Types
	access *access.Service
	files  *files.Service
	jobs   *jobs.Queue
	now    func() time.Time
	log    *slog.Logger
	limits Limits
}

// New builds the engine, registers its jobs and installs its hooks on
// import_jobs.
func New(c Config) *Engine {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e := &Engine{db: c.DB, recs: c.Records, reg: c.Records.Registry(), types: c.Records.Registry().Types(),
		access: c.Access, files: c.Files, jobs: c.Jobs, now: c.Now, log: c.Log, limits: c.Limits.withDefaults()}
	c.Jobs.Register(KindRun, e.runJob, jobs.HandlerOptions{MaxAttempts: 5, Timeout: e.limits.JobTimeout,
		BackoffBase: 30 * time.Second, BackoffCap: 30 * time.Minute})
	c.Records.Use(Entity, records.Hook{Before: e.beforeJob, After: e.afterJob})
	c.Jobs.Register(KindPurge, e.purgeJob, jobs.HandlerOptions{MaxAttempts: 3, Timeout: 30 * time.Minute})
	return e
}

// Limits returns the effective limits.
func (e *Engine) Limits() Limits { return e.limits }

// Start upserts the engine's daily purge schedule.
func (e *Engine) Start(ctx context.Context) error {
	_, err := e.jobs.UpsertSchedule(ctx, jobs.ScheduleDef{Name: KindPurge, Spec: "40 3 * * *", Kind: KindPurge})
	return err
}
