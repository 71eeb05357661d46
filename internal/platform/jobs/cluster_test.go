package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
)

// effectsTables creates the tables the exactly-once handler writes: one row
// per job (a second run would violate the primary key) and a counter.
func effectsTables(t *testing.T, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	for _, s := range []string{
		`CREATE TABLE job_runs (job_id BIGINT PRIMARY KEY, owner TEXT NOT NULL)`,
		`CREATE TABLE job_counter (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)`,
		`INSERT INTO job_counter (id, n) VALUES (1, 0)`,
	} {
		if _, err := d.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
}

// recordRun is the body of an exactly-once InTx handler; dupes counts runs
// that found the job's row already there.
func recordRun(d *db.DB, owner string, dupes *atomic.Int32) jobs.Handler {
	return func(ctx context.Context, j *jobs.Job) error {
		if _, err := d.Exec(ctx, `INSERT INTO job_runs (job_id, owner) VALUES (?, ?)`, j.ID, owner); err != nil {
			if db.IsUniqueViolation(err) {
				dupes.Add(1)
			}
			return err
		}
		_, err := d.Exec(ctx, `UPDATE job_counter SET n = n + 1 WHERE id = 1`)
		return err
	}
}

func enqueueMany(t *testing.T, d *db.DB, q *jobs.Queue, kind string, n int) {
	t.Helper()
	if err := d.WithTx(context.Background(), func(ctx context.Context) error {
		for i := range n {
			if _, err := q.Enqueue(ctx, kind, map[string]int{"n": i}, jobs.EnqueueOptions{}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// checkExactlyOnce verifies that every job is done and left exactly one
// row and one increment.
func checkExactlyOnce(t *testing.T, d *db.DB, q *jobs.Queue, n int, dupes *atomic.Int32) {
	t.Helper()
	ctx := context.Background()
	var rows, distinct, counter int
	if err := d.QueryRow(ctx, `SELECT COUNT(*), COUNT(DISTINCT job_id) FROM job_runs`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if err := d.QueryRow(ctx, `SELECT n FROM job_counter WHERE id = 1`).Scan(&counter); err != nil {
		t.Fatal(err)
	}
	by := countByStatus(t, q)
	if rows != n || distinct != n || counter != n || by["done"] != int64(n) || dupes.Load() != 0 {
		t.Fatalf("want %d jobs run once: %d rows (%d distinct), counter %d, statuses %v, %d duplicate runs",
			n, rows, distinct, counter, by, dupes.Load())
	}
	var orphans int
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM jobs j WHERE NOT EXISTS (SELECT 1 FROM job_runs r WHERE r.job_id = j.id)`).Scan(&orphans); err != nil || orphans != 0 {
		t.Fatalf("%d done jobs without their row (%v)", orphans, err)
	}
}

// TestExactlyOnceAcrossProcesses: three queues, each on its own database
// handle (its own pool, as separate processes have), run a backlog of InTx
// jobs; each job runs exactly once. On PostgreSQL with 1,000 jobs; on
// SQLite, where one process is the supported set-up, three handles on one
// file still must not run a job twice.
func TestExactlyOnceAcrossProcesses(t *testing.T) {
	dbtest.ForEach(t, "tenon_jobs", func(t *testing.T, dsn string) {
		n := 1000
		if strings.HasPrefix(dsn, "sqlite:") {
			n = 300
		}
		d0 := openDB(t, dsn)
		effectsTables(t, d0)
		var dupes atomic.Int32
		seed := newQueue(t, d0, jobs.Options{})
		seed.Register("test.once", ok, jobs.HandlerOptions{})
		enqueueMany(t, d0, seed, "test.once", n)

		ran := map[string]*atomic.Int32{}
		var stops []func()
		for _, owner := range []string{"p1", "p2", "p3"} {
			d := openDB(t, dsn)
			q := newQueue(t, d, jobs.Options{Owner: owner, Workers: 4, Poll: 20 * time.Millisecond})
			count := &atomic.Int32{}
			ran[owner] = count
			inner := recordRun(d, owner, &dupes)
			q.Register("test.once", func(ctx context.Context, j *jobs.Job) error {
				if err := inner(ctx, j); err != nil {
					return err
				}
				count.Add(1) // may count a transaction that then fails to commit; informational
				return nil
			}, jobs.HandlerOptions{InTx: true})
			stops = append(stops, runQueue(t, q))
		}
		eventually(t, "every job done", func() bool { return countByStatus(t, seed)["done"] == int64(n) })
		for _, stop := range stops {
			stop()
		}
		checkExactlyOnce(t, d0, seed, n, &dupes)
		var attempts int
		if err := d0.QueryRow(context.Background(), `SELECT COUNT(*) FROM jobs WHERE attempts <> 1`).Scan(&attempts); err != nil || attempts != 0 {
			t.Fatalf("%d jobs took more than one attempt (%v)", attempts, err)
		}
		t.Logf("jobs run per process: p1 %d, p2 %d, p3 %d", ran["p1"].Load(), ran["p2"].Load(), ran["p3"].Load())
	})
}

// TestProcessStopsMidRun (PostgreSQL): one of three processes holds four
// claimed jobs whose handlers are blocked when it goes away, either
// cancelled (its Run context ends; after the grace period its handlers are
// cancelled, their transactions roll back and the jobs are released) or
// killed (its database connections are terminated by the server, so it
// can write nothing more; the jobs keep its expired lease). The other two
// finish all 1,000 jobs, each exactly once.
func TestProcessStopsMidRun(t *testing.T) {
	if dbtest.PostgresURL() == "" {
		t.Skip("PostgreSQL only (TENON_TEST_POSTGRES): several processes share one PostgreSQL")
	}
	for _, mode := range []string{"cancelled", "killed"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			const n = 1000
			ctx := context.Background()
			dsn := dbtest.Postgres(t, "tenon_jobs")
			d0 := openDB(t, dsn)
			effectsTables(t, d0)
			var dupes atomic.Int32
			seed := newQueue(t, d0, jobs.Options{})
			seed.Register("test.once", ok, jobs.HandlerOptions{})
			enqueueMany(t, d0, seed, "test.once", n)

			// The victim: its handlers block before touching the database.
			app := fmt.Sprintf("tenon_victim_%d", time.Now().UnixNano())
			dv := openDB(t, dsn+"&application_name="+app)
			grace := 50 * time.Millisecond
			if mode == "killed" {
				grace = time.Minute // it never gets to stop cleanly
			}
			victim := newQueue(t, dv, jobs.Options{Owner: "victim", Workers: 4, Poll: 20 * time.Millisecond,
				Lease: 2 * time.Second, Grace: grace})
			blocked := make(chan int64, 4)
			gate := make(chan struct{})
			inner := recordRun(dv, "victim", &dupes)
			victim.Register("test.once", func(ctx context.Context, j *jobs.Job) error {
				blocked <- j.ID
				if mode == "cancelled" {
					<-ctx.Done()
					return ctx.Err()
				}
				<-gate // a hung process: ignores everything
				return inner(ctx, j)
			}, jobs.HandlerOptions{InTx: true, Timeout: time.Minute})
			vctx, stopVictim := context.WithCancel(ctx)
			victimDone := make(chan error, 1)
			go func() { victimDone <- victim.Run(vctx) }()
			var victimJobs []int64
			for range 4 {
				victimJobs = append(victimJobs, <-blocked)
			}

			var stops []func()
			for _, owner := range []string{"p1", "p2"} {
				d := openDB(t, dsn)
				q := newQueue(t, d, jobs.Options{Owner: owner, Workers: 4, Poll: 20 * time.Millisecond, Lease: 2 * time.Second})
				q.Register("test.once", recordRun(d, owner, &dupes), jobs.HandlerOptions{InTx: true})
				stops = append(stops, runQueue(t, q))
			}

			stopVictim() // stops claiming either way
			if mode == "killed" {
				var killed int
				if err := d0.QueryRow(ctx, `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
					WHERE application_name = ?`, app).Scan(&killed); err != nil || killed == 0 {
					t.Fatalf("terminated %d backends of the victim (%v)", killed, err)
				}
			} else if err := <-victimDone; err != nil {
				t.Fatalf("victim Run: %v", err)
			}

			eventually(t, "every job done", func() bool { return countByStatus(t, seed)["done"] == int64(n) })
			for _, stop := range stops {
				stop()
			}
			if mode == "killed" {
				close(gate) // the hung process wakes up: it must not record anything
				if err := <-victimDone; err != nil {
					t.Fatalf("victim Run: %v", err)
				}
			}
			checkExactlyOnce(t, d0, seed, n, &dupes)

			var byVictim int
			if err := d0.QueryRow(ctx, `SELECT COUNT(*) FROM job_runs WHERE owner = 'victim'`).Scan(&byVictim); err != nil || byVictim != 0 {
				t.Fatalf("the victim committed %d runs (%v)", byVictim, err)
			}
			wantAttempts := 1 // released on a clean stop: not an attempt
			if mode == "killed" {
				wantAttempts = 2 // the dead process's claim counts
			}
			for _, id := range victimJobs {
				if j := mustGet(t, seed, id); j.Status != jobs.StatusDone || j.Attempts != wantAttempts {
					t.Errorf("victim's job %d: %s after %d attempts, want done after %d", id, j.Status, j.Attempts, wantAttempts)
				}
			}
		})
	}
}
