package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" driver
	_ "modernc.org/sqlite"           // registers the "sqlite" driver
)

// Options tune the pools. Zero values pick safe defaults.
type Options struct {
	// Synchronous is SQLite's synchronous pragma: FULL (default) or NORMAL.
	Synchronous string
	// MaxReaders caps SQLite read connections (default 4) and PostgreSQL
	// connections (default 16).
	MaxReaders int
	// CacheKiB is SQLite's page cache per connection (default 16 MiB).
	CacheKiB int
	// NoGroupCommit runs each SQLite write transaction on its own.
	NoGroupCommit bool
}

// DB is the handle every store uses. It is safe for concurrent use.
type DB struct {
	Dialect
	dsn    string
	read   *sql.DB
	write  *sql.DB // SQLite: one connection; PostgreSQL: same as read
	writer *groupWriter
	reads  *stmtCache // SQLite read pool (pgx caches statements itself)
}

// stmtCache holds prepared statements of the read pool. database/sql
// re-prepares a *sql.Stmt on each pool connection as needed; the cache
// starts over when full so that ad-hoc filter SQL cannot grow it unbounded.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st, nil
	}
	if len(c.m) >= maxStmts {
		for k, st := range c.m {
			st.Close()
			delete(c.m, k)
		}
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.m[q] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// Querier is what a store needs to run SQL: a *sql.DB, *sql.Tx or *sql.Conn.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ErrBadDSN is returned for a DSN that names no supported database.
var ErrBadDSN = errors.New("database DSN must be sqlite:PATH or postgres://...")

// ParseDSN splits a DSN into its kind and driver-specific rest.
func ParseDSN(dsn string) (Kind, string, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		p := strings.TrimPrefix(dsn, "sqlite:")
		p = strings.TrimPrefix(p, "//")
		if p == "" {
			return "", "", ErrBadDSN
		}
		return SQLite, p, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return Postgres, dsn, nil
	}
	return "", "", ErrBadDSN
}

// Open connects to the database named by dsn and checks it is reachable.
func Open(ctx context.Context, dsn string, opt Options) (*DB, error) {
	kind, rest, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	d := &DB{Dialect: Dialect{Kind: kind}, dsn: dsn}
	switch kind {
	case SQLite:
		err = d.openSQLite(rest, opt)
	case Postgres:
		err = d.openPostgres(rest, opt)
	}
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.write.PingContext(pctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("database unreachable: %w", err)
	}
	if kind == SQLite {
		d.reads = &stmtCache{db: d.read, m: map[string]*sql.Stmt{}}
	}
	if kind == SQLite && !opt.NoGroupCommit {
		if d.writer, err = newGroupWriter(d.write); err != nil {
			d.Close()
			return nil, err
		}
	}
	return d, nil
}

func (d *DB) openSQLite(path string, opt Options) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("cannot create database directory: %w", err)
		}
	}
	sync := strings.ToUpper(opt.Synchronous)
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" {
		return fmt.Errorf("synchronous must be FULL or NORMAL")
	}
	// One read connection per core: on a two-core server, four readers
	// answered a third fewer searches and gets than two (each query is CPU
	// work on cached pages; more connections only contend and split the
	// cache).
	cache := opt.CacheKiB
	if cache <= 0 {
		cache = 24 * 1024
	}
	readers := opt.MaxReaders
	if readers <= 0 {
		readers = max(2, runtime.NumCPU())
	}
	pragmas := func(cacheKiB int) url.Values {
		q := url.Values{}
		for _, p := range []string{
			"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)",
			"synchronous(" + sync + ")", fmt.Sprintf("cache_size(-%d)", cacheKiB),
			"temp_store(MEMORY)",
		} {
			q.Add("_pragma", p)
		}
		return q
	}
	base := "file:" + path + "?"
	// The writer gets a larger cache: every insert walks the table, each
	// index and the audit and outbox tables, and on a large table a miss is
	// a read from the file on the one connection all writes wait for.
	w, err := sql.Open("sqlite", base+pragmas(max(48*1024, cache)).Encode()+"&_txlock=immediate")
	if err != nil {
		return err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	q := pragmas(cache)
	q.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", base+q.Encode())
	if err != nil {
		w.Close()
		return err
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	r.SetConnMaxIdleTime(5 * time.Minute)
	d.read, d.write = r, w
	return nil
}

func (d *DB) openPostgres(dsn string, opt Options) error {
	n := opt.MaxReaders
	if n <= 0 {
		n = 16
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return err
	}
	// pgx prepares and caches statements, and after five runs PostgreSQL
	// may plan a prepared statement once for any parameters: a date range
	// or a data scope then gets a plan for a guessed selectivity (a bitmap
	// heap scan over a third of a million-row table where an index-only
	// scan was right). Planning with the real values costs well under a
	// millisecond; a wrong plan costs seconds.
	if _, ok := cfg.RuntimeParams["plan_cache_mode"]; !ok {
		cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	p := stdlib.OpenDB(*cfg)
	p.SetMaxOpenConns(n)
	p.SetMaxIdleConns(n)
	p.SetConnMaxIdleTime(5 * time.Minute)
	d.read, d.write = p, p
	return nil
}

// DSN returns the DSN the handle was opened with.
func (d *DB) DSN() string { return d.dsn }

// Close stops the group writer and closes the pools.
func (d *DB) Close() error {
	if d.writer != nil {
		d.writer.stop()
	}
	if d.reads != nil {
		d.reads.close()
	}
	var err error
	if d.read != nil {
		err = d.read.Close()
	}
	if d.write != nil && d.write != d.read {
		if e := d.write.Close(); err == nil {
			err = e
		}
	}
	return err
}

// Ping checks the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.read.PingContext(ctx) }

// Stats returns pool statistics of the read pool.
func (d *DB) Stats() sql.DBStats { return d.read.Stats() }

type txKey struct{}

type txState struct {
	q            Querier
	beforeCommit []func(ctx context.Context) error
	afterCommit  []func()
	savepoints   int // names the next Savepoint
	values       map[any]any
	deferred     []func(ctx context.Context) error // see Defer
	failed       error                             // a deferred write failed
}

// TxValue returns what SetTxValue stored under key in the transaction
// carried by ctx (nil outside a transaction or when nothing was stored).
// Values live as long as one attempt of the transaction and are dropped
// when a savepoint rolls back: they suit what a caller computes from what
// the transaction sees and would otherwise compute again for every write
// of a long transaction (records.Derived).
func TxValue(ctx context.Context, key any) any {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		return st.values[key]
	}
	return nil
}

// SetTxValue stores v under key in the transaction carried by ctx (see
// TxValue); outside a transaction it does nothing.
func SetTxValue(ctx context.Context, key, v any) {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		if st.values == nil {
			st.values = map[any]any{}
		}
		st.values[key] = v
	}
}

// runBeforeCommit runs the deferred writes and the queued before-commit
// work in order.
func (st *txState) runBeforeCommit(ctx context.Context) error {
	if err := st.flush(ctx); err != nil {
		return err
	}
	for i := 0; i < len(st.beforeCommit); i++ { // work may queue more work
		if err := st.beforeCommit[i](ctx); err != nil {
			return err
		}
	}
	return st.flush(ctx)
}

// InTx reports whether ctx carries a transaction.
func InTx(ctx context.Context) bool { _, ok := ctx.Value(txKey{}).(*txState); return ok }

// Q returns the transaction in ctx, or the read pool.
func (d *DB) Q(ctx context.Context) Querier {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		return st.q
	}
	return d.read
}

// Exec runs a statement in the context's transaction (or, outside one, on
// the writer), rebinding placeholders.
func (d *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		if err := st.flush(ctx); err != nil {
			return nil, err
		}
		return st.q.ExecContext(ctx, d.Rebind(q), args...)
	}
	var res sql.Result
	err := d.WithTx(ctx, func(ctx context.Context) error {
		var err error
		res, err = d.Q(ctx).ExecContext(ctx, d.Rebind(q), args...)
		return err
	})
	return res, err
}

// Query runs a query in the context's transaction or on the read pool.
func (d *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if d.reads != nil && !InTx(ctx) {
		st, err := d.reads.get(ctx, q)
		if err != nil {
			return nil, err
		}
		return st.QueryContext(ctx, args...)
	}
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		if err := st.flush(ctx); err != nil {
			return nil, err
		}
	}
	return d.Q(ctx).QueryContext(ctx, d.Rebind(q), args...)
}

// QueryRow runs a one-row query in the context's transaction or on the read pool.
func (d *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if d.reads != nil && !InTx(ctx) {
		if st, err := d.reads.get(ctx, q); err == nil {
			return st.QueryRowContext(ctx, args...)
		}
	}
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		// A *sql.Row cannot carry the error of a failed deferred write;
		// the failure fails the savepoint or transaction (see Defer).
		_ = st.flush(ctx)
	}
	return d.Q(ctx).QueryRowContext(ctx, d.Rebind(q), args...)
}

// BeforeCommit queues fn to run in the transaction in ctx after the
// transaction function returns and just before COMMIT (outside a
// transaction it runs at once). SQLite's FTS5 flushes its buffer whenever a
// later statement opens a savepoint, so index writes queued here are
// flushed once per commit instead of once per record.
func BeforeCommit(ctx context.Context, fn func(ctx context.Context) error) error {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		st.beforeCommit = append(st.beforeCommit, fn)
		return nil
	}
	return fn(ctx)
}

// AfterCommit registers fn to run once the transaction in ctx commits. Outside
// a transaction fn runs at once.
func AfterCommit(ctx context.Context, fn func()) {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		st.afterCommit = append(st.afterCommit, fn)
		return
	}
	fn()
}

// Savepoint runs fn inside a savepoint of the transaction in ctx (it needs
// one). If fn fails, what it wrote is rolled back together with the before-
// and after-commit work it queued, and the transaction goes on; on
// PostgreSQL this also clears the aborted state a failed statement leaves.
// Writes deferred before it (see Defer) run first; those deferred inside it
// run before it is released, or are dropped with it.
// The rule engine uses it to log a failed run in the transaction that
// would have applied the run's actions.
func (d *DB) Savepoint(ctx context.Context, fn func(ctx context.Context) error) error {
	st, ok := ctx.Value(txKey{}).(*txState)
	if !ok {
		return errors.New("db: Savepoint outside a transaction")
	}
	if err := st.flush(ctx); err != nil {
		return err
	}
	nb, na := len(st.beforeCommit), len(st.afterCommit)
	st.savepoints++
	name := fmt.Sprintf("tenon_sp%d", st.savepoints)
	if _, err := st.q.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return err
	}
	err := fn(ctx)
	if err == nil {
		err = st.flush(ctx)
	}
	if err != nil {
		if _, rerr := st.q.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+name); rerr != nil {
			return errors.Join(err, rerr)
		}
		if _, rerr := st.q.ExecContext(ctx, "RELEASE SAVEPOINT "+name); rerr != nil {
			return errors.Join(err, rerr)
		}
		st.beforeCommit, st.afterCommit = st.beforeCommit[:nb], st.afterCommit[:na]
		st.values = nil // they may have been computed from what was rolled back
		st.deferred, st.failed = nil, nil
		return err
	}
	_, err = st.q.ExecContext(ctx, "RELEASE SAVEPOINT "+name)
	return err
}

// WithTx runs fn in a write transaction carried by the context passed to fn.
// If ctx already carries one, fn joins it. On SQLite, concurrent calls are
// grouped into one physical transaction so that many writers share one
// fsync; when one fails, the group is rolled back and every member is run
// again alone, so fn may run more than once and a failing fn never affects
// another caller.
// On PostgreSQL, serialization failures and deadlocks are retried.
func (d *DB) WithTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if InTx(ctx) {
		return fn(ctx)
	}
	if d.writer != nil {
		return d.writer.do(ctx, fn)
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = d.runTx(ctx, fn)
		if err == nil || !IsRetryable(err) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return err
}

func (d *DB) runTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	st := &txState{q: tx}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	tctx := context.WithValue(ctx, txKey{}, st)
	if err := fn(tctx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := st.runBeforeCommit(tctx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for _, f := range st.afterCommit {
		f()
	}
	return nil
}
