package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/schema"
)

// migrations are the platform's plus the jobs tables as the next version
// (3 when the package was written; schema registers it for real).
func migrations() []db.Migration {
	ms := schema.Migrations()
	for _, m := range ms {
		if m.Name == "jobs" {
			return ms
		}
	}
	return append(ms, db.Migration{Version: len(ms) + 1, Name: "jobs", SQLite: jobs.SQLiteDDL, Postgres: jobs.PostgresDDL})
}

// openDB opens dsn (a new handle each call: a separate pool, like a
// separate process) and migrates it.
func openDB(t *testing.T, dsn string) *db.DB {
	d, _ := openClosableDB(t, dsn)
	return d
}

// openClosableDB is openDB with a close function for tests that close the
// handle before the end (db.Close must be called once).
func openClosableDB(t *testing.T, dsn string) (*db.DB, func()) {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, dsn, db.Options{MaxReaders: 8})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	var once sync.Once
	closeDB := func() { once.Do(func() { d.Close() }) }
	t.Cleanup(closeDB)
	if err := d.Migrate(ctx, migrations()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return d, closeDB
}

// clock is a controllable Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

// newClock starts at 2026-03-09 09:00 in Shanghai.
func newClock() *clock { return &clock{t: time.Date(2026, 3, 9, 1, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func newQueue(t *testing.T, d *db.DB, opt jobs.Options) *jobs.Queue {
	t.Helper()
	q, err := jobs.New(d, opt)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// runQueue runs q.Run until the test ends (or stop is called) and fails
// the test if Run returns an error.
func runQueue(t *testing.T, q *jobs.Queue) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// eventually polls cond until it holds; the limit only guards against a
// hung test and is not a performance assertion.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustGet(t *testing.T, q *jobs.Queue, id int64) jobs.Job {
	t.Helper()
	j, err := q.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get job %d: %v", id, err)
	}
	return j
}

func mustEnqueue(t *testing.T, q *jobs.Queue, kind string, payload any, opt jobs.EnqueueOptions) jobs.Job {
	t.Helper()
	j, err := q.Enqueue(context.Background(), kind, payload, opt)
	if err != nil {
		t.Fatalf("enqueue %s: %v", kind, err)
	}
	return j
}

func countByStatus(t *testing.T, q *jobs.Queue) map[string]int64 {
	t.Helper()
	s, err := q.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s.ByStatus
}

func ok(ctx context.Context, j *jobs.Job) error { return nil }
