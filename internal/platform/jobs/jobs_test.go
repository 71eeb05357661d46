package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
)

func TestEnqueueJoinsTransaction(t *testing.T) {
	dbtest.ForEach(t, "tenon_jobs", func(t *testing.T, dsn string) {
		ctx := context.Background()
		d := openDB(t, dsn)
		q := newQueue(t, d, jobs.Options{Now: newClock().Now})
		q.Register("test.mail", ok, jobs.HandlerOptions{})

		boom := errors.New("boom")
		err := d.WithTx(ctx, func(ctx context.Context) error {
			if _, err := q.Enqueue(ctx, "test.mail", map[string]any{"to": "a"}, jobs.EnqueueOptions{}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("WithTx: %v", err)
		}
		if p, _ := q.List(ctx, jobs.Filter{}); len(p.Jobs) != 0 {
			t.Fatalf("a job enqueued in a rolled-back transaction exists: %+v", p.Jobs)
		}

		var id int64
		if err := d.WithTx(ctx, func(ctx context.Context) error {
			j, err := q.Enqueue(ctx, "test.mail", map[string]any{"to": "b"}, jobs.EnqueueOptions{Priority: 3})
			id = j.ID
			return err
		}); err != nil {
			t.Fatal(err)
		}
		j := mustGet(t, q, id)
		var p struct{ To string }
		if err := j.Decode(&p); err != nil || p.To != "b" || j.Status != jobs.StatusQueued || j.Priority != 3 ||
			j.MaxAttempts != jobs.DefaultMaxAttempts || j.Attempts != 0 {
			t.Fatalf("committed job: %+v (payload %v, %v)", j, p, err)
		}
	})
}

func TestEnqueueErrors(t *testing.T) {
	dbtest.ForEach(t, "tenon_jobs", func(t *testing.T, dsn string) {
		ctx := context.Background()
		q := newQueue(t, openDB(t, dsn), jobs.Options{})
		q.Register("test.ok", ok, jobs.HandlerOptions{})
		if _, err := q.Enqueue(ctx, "test.nope", nil, jobs.EnqueueOptions{}); !errors.Is(err, apperr.ErrInvalid) {
			t.Errorf("unknown kind: %v, want invalid", err)
		}
		if _, err := q.Enqueue(ctx, "test.ok", func() {}, jobs.EnqueueOptions{}); !errors.Is(err, apperr.ErrInvalid) {
			t.Errorf("unencodable payload: %v, want invalid", err)
		}
		if _, err := q.Enqueue(ctx, "test.ok", strings.Repeat("x", 2<<20), jobs.EnqueueOptions{}); !errors.Is(err, apperr.ErrTooLarge) {
			t.Errorf("huge payload: %v, want too large", err)
		}
		if _, err := q.Get(ctx, 12345); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("get missing: %v, want not found", err)
		}
		if _, err := q.Retry(ctx, 12345); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("retry missing: %v, want not found", err)
		}
		if _, err := q.Cancel(ctx, 12345); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("cancel missing: %v, want not found", err)
		}
		if _, err := q.List(ctx, jobs.Filter{Status: "sleeping"}); !errors.Is(err, apperr.ErrInvalid) {
			t.Errorf("list bad status: %v, want invalid", err)
		}
	})
}

func TestUniqueKey(t *testing.T) {
	dbtest.ForEach(t, "tenon_jobs", func(t *testing.T, dsn string) {
		ctx := context.Background()
		q := newQueue(t, openDB(t, dsn), jobs.Options{Now: newClock().Now})
		q.Register("flow.remind", ok, jobs.HandlerOptions{})
		q.Register("flow.escalate", ok, jobs.HandlerOptions{})

		first := mustEnqueue(t, q, "flow.remind", 1, jobs.EnqueueOptions{UniqueKey: "task:7"})
		again := mustEnqueue(t, q, "flow.remind", 2, jobs.EnqueueOptions{UniqueKey: "task:7"})
		if again.ID != first.ID || string(again.Payload) != "1" {
			t.Fatalf("duplicate enqueue returned %+v, want the existing job %d", again, first.ID)
		}
		other := mustEnqueue(t, q, "flow.escalate", 1, jobs.EnqueueOptions{UniqueKey: "task:7"})
		if other.ID == first.ID {
			t.Fatal("the unique key is per kind, but another kind was de-duplicated")
		}
		plain1 := mustEnqueue(t, q, "flow.remind", 1, jobs.EnqueueOptions{})
		plain2 := mustEnqueue(t, q, "flow.remind", 1, jobs.EnqueueOptions{})
		if plain1.ID == plain2.ID {
			t.Fatal("jobs without a unique key were de-duplicated")
		}
		if n, err := q.RunDue(ctx); err != nil || n != 4 {
			t.Fatalf("RunDue = %d, %v; want 4", n, err)
		}
		after := mustEnqueue(t, q, "flow.remind", 3, jobs.EnqueueOptions{UniqueKey: "task:7"})
		if after.ID == first.ID {
			t.Fatal("a finished job still de-duplicates")
		}
		if found, err := q.CancelKey(ctx, "flow.remind", "task:7"); err != nil || !found {
			t.Fatalf("CancelKey = %v, %v", found, err)
		}
		if j := mustGet(t, q, after.ID); j.Status != jobs.StatusCancelled {
			t.Fatalf("after CancelKey: %s", j.Status)
		}
		if found, err := q.CancelKey(ctx, "flow.remind", "task:7"); err != nil || found {
			t.Fatalf("second CancelKey = %v, %v; want nothing found", found, err)
		}
		if again := mustEnqueue(t, q, "flow.remind", 4, jobs.EnqueueOptions{UniqueKey: "task:7"}); again.ID == after.ID {
			t.Fatal("a cancelled job still de-duplicates")
		}
	})
}

// TestRetriesBackoffDeadLetter drives retries with the clock: an attempt
// that fails is due again only after its back-off, the last failure makes
// the job dead with its error, and Retry brings it back.
func TestRetriesBackoffDeadLetter(t *testing.T) {
	dbtest.ForEach(t, "tenon_jobs", func(t *testing.T, dsn string) {
		ctx := context.Background()
		clk := newClock()
		q := newQueue(t, openDB(t, dsn), jobs.Options{Now: clk.Now})
		var calls atomic.Int32
		var healthy atomic.Bool
		q.Register("webhooks.deliver", func(ctx context.Context, j *jobs.Job) error {
			n := calls.Add(1)
			if int(n) != j.Attempts && !healthy.Load() {
				return fmt.Errorf("handler saw attempt %d on call %d", j.Attempts, n)
			}
			if healthy.Load() {
				return nil
			}
			return fmt.Errorf("target answered 503 (call %d)", n)
		}, jobs.HandlerOptions{MaxAttempts: 3, BackoffBase: 10 * time.Second, BackoffCap: 15 * time.Second})

		j := mustEnqueue(t, q, "webhooks.deliver", map[string]int{"id": 1}, jobs.EnqueueOptions{})
		// Attempt n waits min(15 s, 10 s·2^(n-1)) less up to half of it.
		for attempt, wait := range []time.Duration{10 * time.Second, 15 * time.Second} {
			if n, err := q.RunDue(ctx); err != nil || n != 1 {
				t.Fatalf("attempt %d: RunDue = %d, %v", attempt+1, n, err)
			}
			got := mustGet(t, q, j.ID)
			delay := got.RunAt.Sub(clk.Now())
			if got.Status != jobs.StatusQueued || got.Attempts != attempt+1 || delay < wait/2 || delay > wait ||
				!strings.Contains(got.LastError, "503") || got.LeaseOwner != "" {
				t.Fatalf("after failed attempt %d: %+v (retry in %v, want %v–%v)", attempt+1, got, delay, wait/2, wait)
			}
			if n, _ := q.RunDue(ctx); n != 0 {
				t.Fatalf("a job ran before its back-off was over")
			}
			clk.Advance(delay - time.Microsecond)
			if n, _ := q.RunDue(ctx); n != 0 {
				t.Fatalf("a job ran a microsecond before its back-off was over")
			}
			clk.Advance(time.Microsecond)
		}
		if n, err := q.RunDue(ctx); err != nil || n != 1 {
			t.Fatalf("last attempt: RunDue = %d, %v", n, err)
		}
		dead := mustGet(t, q, j.ID)
		if dead.Status != jobs.StatusDead || dead.Attempts != 3 || !strings.Contains(dead.LastError, "call 3") || dead.FinishedAt == nil {
			t.Fatalf("after the last attempt: %+v", dead)
		}
		clk.Advance(time.Hour)
		if n, _ := q.RunDue(ctx); n != 0 {
			t.Fatal("a dead job ran")
		}
		p, err := q.List(ctx, jobs.Filter{Status: jobs.StatusDead})
		if err != nil || len(p.Jobs) != 1 || p.Jobs[0].ID != j.ID {
			t.Fatalf("dead letter list: %+v, %v", p, err)
		}

		healthy.Store(true)
		back, err := q.Retry(ctx, j.ID)
		if err != nil || back.Status != jobs.StatusQueued || back.Attempts != 0 || back.FinishedAt != nil {
			t.Fatalf("Retry = %+v, %v", back, err)
		}
		if _, err := q.Retry(ctx, j.ID); !errors.Is(err, apperr.ErrConflict) {
			t.Fatalf("Retry of a queued job: %v, want conflict", err)
		}
		if n, err := q.RunDue(ctx); err != nil || n != 1 {
			t.Fatalf("after Retry: RunDue = %d, %v", n, err)
		}
		if done := mustGet(t, q, j.ID); done.Status != jobs.StatusDone || done.Attempts != 1 {
			t.Fatalf("after Retry and a run: %+v", done)
		}
		if _, err := q.Retry(ctx, j.ID); !errors.Is(err, apperr.ErrConflict) {
			t.Fatalf("Retry of a done job: %v, want conflict", err)
		}
	})
}

func TestPermanentFailureAndPanic(t *testing.T) {
	dbtest.ForEach(t, "tenon_jobs", func(t *testing.T, dsn string) {
		ctx := context.Background()
		q := newQueue(t, openDB(t, dsn), jobs.Options{Now: newClock().Now})
		q.Register("test.gone", func(ctx context.Context, j *jobs.Job) error {
			return jobs.Permanent(errors.New("target answered 410"))
		}, jobs.HandlerOptions{MaxAttempts: 5})
		q.Register("test.panic", func(ctx context.Context, j *jobs.Job) error { panic("nil map") },
			jobs.HandlerOptions{MaxAttempts: 1})
		gone := mustEnqueue(t, q, "test.gone", nil, jobs.EnqueueOptions{})
		pan := mustEnqueue(t, q, "test.panic", nil, jobs.EnqueueOptions{})
		if n, err := q.RunDue(ctx); err != nil || n != 2 {
			t.Fatalf("RunDue = %d, %v", n, err)
		}
		if j := mustGet(t, q, gone.ID); j.Status != jobs.StatusFailed || j.Attempts != 1 || !strings.Contains(j.LastError, "410") {
			t.Fatalf("permanent error: %+v", j)
		}
		if j := mustGet(t, q, pan.ID); j.Status != jobs.StatusDead || !strings.Contains(j.LastError, "panic: nil map") {
			t.Fatalf("panic: %+v", j)
		}
		if j, err := q.Retry(ctx, gone.ID); err != nil || j.Status != jobs.StatusQueued {
			t.Fatalf("Retry of a failed job = %+v, %v", j, err)
		}
	})
}

// TestInTxEffectsCommitWithDone: an InTx handler's writes commit only with
// "done"; a failing attempt, or one that overruns its timeout even while
// returning nil, leaves no trace but its error.
func TestInTxEffectsCommitWithDone(t *testing.T) {
	dbtest.ForEach(t, "tenon_jobs", func(t *testing.T, dsn string) {
		ctx := context.Background()
		clk := newClock()
		d := openDB(t, dsn)
		if _, err := d.Exec(ctx, `CREATE TABLE effects (job_id BIGINT PRIMARY KEY, attempt INTEGER NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		q := newQueue(t, d, jobs.Options{Now: clk.Now})
		insert := func(ctx context.Context, j *jobs.Job) error {
			_, err := d.Exec(ctx, `INSERT INTO effects (job_id, attempt) VALUES (?, ?)`, j.ID, j.Attempts)
			return err
		}
		q.Register("test.flaky", func(ctx context.Context, j *jobs.Job) error {
			if err := insert(ctx, j); err != nil {
				return err
			}
			if j.Attempts == 1 {
				return errors.New("flaky")
			}
			return nil
		}, jobs.HandlerOptions{InTx: true, BackoffBase: time.Second})
		q.Register("test.slow", func(ctx context.Context, j *jobs.Job) error {
			if err := insert(ctx, j); err != nil {
				return err
			}
			if j.Attempts == 1 {
				<-ctx.Done() // overrun, then claim success anyway
			}
			return nil
		}, jobs.HandlerOptions{InTx: true, Timeout: 50 * time.Millisecond, BackoffBase: time.Second})

		flaky := mustEnqueue(t, q, "test.flaky", nil, jobs.EnqueueOptions{})
		slow := mustEnqueue(t, q, "test.slow", nil, jobs.EnqueueOptions{})
		if n, err := q.RunDue(ctx); err != nil || n != 2 {
			t.Fatalf("RunDue = %d, %v", n, err)
		}
		var rows int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM effects`).Scan(&rows); err != nil || rows != 0 {
			t.Fatalf("effects of failed attempts: %d rows, %v", rows, err)
		}
		if j := mustGet(t, q, flaky.ID); j.Status != jobs.StatusQueued || j.LastError != "flaky" {
			t.Fatalf("flaky after attempt 1: %+v", j)
		}
		if j := mustGet(t, q, slow.ID); j.Status != jobs.StatusQueued || !strings.Contains(j.LastError, "timed out") {
			t.Fatalf("slow after attempt 1: %+v", j)
		}
		clk.Advance(time.Second)
		if n, err := q.RunDue(ctx); err != nil || n != 2 {
			t.Fatalf("second RunDue = %d, %v", n, err)
		}
		for _, id := range []int64{flaky.ID, slow.ID} {
			var attempt int
			if err := d.QueryRow(ctx, `SELECT attempt FROM effects WHERE job_id = ?`, id).Scan(&attempt); err != nil || attempt != 2 {
				t.Fatalf("job %d: effect of attempt %d, %v; want exactly the second attempt's", id, attempt, err)
			}
			if j := mustGet(t, q, id); j.Status != jobs.StatusDone {
				t.Fatalf("job %d: %s", id, j.Status)
			}
		}
	})
}

// TestLeaseExpiry: a worker claims a job and dies without finishing. The
// job is not run by anyone while the lease holds; after it, another worker
// runs it, and the dead worker's claim can no longer run or record it.
func TestLeaseExpiry(t *testing.T) {
	dbtest.ForEach(t, "tenon_jobs", func(t *testing.T, dsn string) {
		ctx := context.Background()
		clk := newClock()
		d := openDB(t, dsn)
		var runs atomic.Int32
		handlers := map[string]jobs.HandlerOptions{
			"test.intx":    {InTx: true, MaxAttempts: 5},
			"test.outside": {MaxAttempts: 5},
			"test.last":    {InTx: true, MaxAttempts: 1},
		}
		mk := func(owner string) *jobs.Queue {
			q := newQueue(t, d, jobs.Options{Now: clk.Now, Owner: owner, Lease: 30 * time.Second})
			for kind, o := range handlers {
				q.Register(kind, func(ctx context.Context, j *jobs.Job) error { runs.Add(1); return nil }, o)
			}
			return q
		}
		dying, healthy := mk("dying"), mk("healthy")
		for _, kind := range []string{"test.intx", "test.outside", "test.last"} {
			mustEnqueue(t, dying, kind, nil, jobs.EnqueueOptions{})
		}
		claimed, err := dying.ClaimForTest(ctx, 10)
		if err != nil || len(claimed) != 3 {
			t.Fatalf("claim = %d jobs, %v", len(claimed), err)
		}
		for _, j := range claimed {
			if j.Status != jobs.StatusRunning || !strings.HasPrefix(j.LeaseOwner, "dying#") || j.Attempts != 1 ||
				j.LeaseUntil == nil || !j.LeaseUntil.Equal(clk.Now().Add(30*time.Second)) {
				t.Fatalf("claimed job: %+v", j)
			}
		}
		if n, err := healthy.RunDue(ctx); err != nil || n != 0 {
			t.Fatalf("RunDue during the lease = %d, %v; want 0", n, err)
		}
		clk.Advance(30 * time.Second)
		if n, err := healthy.RunDue(ctx); err != nil || n != 2 {
			t.Fatalf("RunDue after the lease = %d, %v; want the two jobs with attempts left", n, err)
		}
		if runs.Load() != 2 {
			t.Fatalf("handlers ran %d times, want 2", runs.Load())
		}
		for _, j := range claimed {
			got := mustGet(t, healthy, j.ID)
			switch j.Kind {
			case "test.last":
				if got.Status != jobs.StatusDead || !strings.Contains(got.LastError, "lease expired") {
					t.Errorf("job whose lease expired on its last attempt: %+v", got)
				}
			default:
				if got.Status != jobs.StatusDone || got.Attempts != 2 {
					t.Errorf("%s after the lease: %+v", j.Kind, got)
				}
			}
		}
		// The dead worker wakes up: its claims are stale.
		for _, j := range claimed {
			dying.ExecuteForTest(ctx, j)
		}
		if runs.Load() != 3 { // only the outside handler runs (at least once); the InTx ones never
			t.Fatalf("stale claims ran %d handlers, want 1 (the outside one)", runs.Load()-2)
		}
		for _, j := range claimed {
			if got := mustGet(t, healthy, j.ID); got.Status == jobs.StatusRunning || got.Attempts > 2 {
				t.Errorf("stale claim changed %s: %+v", j.Kind, got)
			}
		}
	})
}

func TestCancel(t *testing.T) {
	dbtest.ForEach(t, "tenon_jobs", func(t *testing.T, dsn string) {
		ctx := context.Background()
		clk := newClock()
		q := newQueue(t, openDB(t, dsn), jobs.Options{Now: clk.Now})
		var runs atomic.Int32
		q.Register("test.x", func(ctx context.Context, j *jobs.Job) error { runs.Add(1); return nil }, jobs.HandlerOptions{})
		later := mustEnqueue(t, q, "test.x", nil, jobs.EnqueueOptions{Delay: time.Hour})
		now := mustEnqueue(t, q, "test.x", nil, jobs.EnqueueOptions{})
		if j, err := q.Cancel(ctx, later.ID); err != nil || j.Status != jobs.StatusCancelled || j.FinishedAt == nil {
			t.Fatalf("Cancel = %+v, %v", j, err)
		}
		if _, err := q.Cancel(ctx, later.ID); err != nil {
			t.Fatalf("Cancel twice: %v", err)
		}
		clk.Advance(2 * time.Hour)
		if n, _ := q.RunDue(ctx); n != 1 || runs.Load() != 1 {
			t.Fatalf("ran %d jobs, %d handlers; want only the one not cancelled", n, runs.Load())
		}
		if _, err := q.Cancel(ctx, now.ID); !errors.Is(err, apperr.ErrConflict) {
			t.Fatalf("Cancel of a done job: %v, want conflict", err)
		}
		if _, err := q.Retry(ctx, later.ID); !errors.Is(err, apperr.ErrConflict) {
			t.Fatalf("Retry of a cancelled job: %v, want conflict", err)
		}
	})
}

// TestCancelRunning: cancelling a job whose handler runs outside a
// transaction cancels the handler's context at the next heartbeat.
func TestCancelRunning(t *testing.T) {
	dbtest.ForEach(t, "tenon_jobs", func(t *testing.T, dsn string) {
		q := newQueue(t, openDB(t, dsn), jobs.Options{Lease: 150 * time.Millisecond, Poll: 20 * time.Millisecond})
		started := make(chan int64, 1)
		stopped := make(chan error, 1)
		q.Register("test.long", func(ctx context.Context, j *jobs.Job) error {
			started <- j.ID
			<-ctx.Done()
			stopped <- context.Cause(ctx)
			return ctx.Err()
		}, jobs.HandlerOptions{})
		runQueue(t, q)
		j := mustEnqueue(t, q, "test.long", nil, jobs.EnqueueOptions{})
		<-started
		if _, err := q.Cancel(context.Background(), j.ID); err != nil {
			t.Fatal(err)
		}
		if cause := <-stopped; cause == nil || !strings.Contains(cause.Error(), "lease lost") {
			t.Fatalf("handler context ended with %v, want lease lost", cause)
		}
		if got := mustGet(t, q, j.ID); got.Status != jobs.StatusCancelled {
			t.Fatalf("after cancel: %+v", got)
		}
	})
}

func TestAdminListAndStats(t *testing.T) {
	dbtest.ForEach(t, "tenon_jobs", func(t *testing.T, dsn string) {
		ctx := context.Background()
		clk := newClock()
		q := newQueue(t, openDB(t, dsn), jobs.Options{Now: clk.Now})
		q.Register("test.a", ok, jobs.HandlerOptions{})
		q.Register("test.b", func(ctx context.Context, j *jobs.Job) error { return errors.New("no") }, jobs.HandlerOptions{MaxAttempts: 1})
		var ids []int64
		for i := range 5 {
			ids = append(ids, mustEnqueue(t, q, "test.a", i, jobs.EnqueueOptions{}).ID)
		}
		mustEnqueue(t, q, "test.b", nil, jobs.EnqueueOptions{})
		if _, err := q.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		mustEnqueue(t, q, "test.a", nil, jobs.EnqueueOptions{Delay: time.Minute})
		mustEnqueue(t, q, "test.a", nil, jobs.EnqueueOptions{})

		s, err := q.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{"queued": 2, "running": 0, "done": 5, "failed": 0, "dead": 1, "cancelled": 0}
		if fmt.Sprint(s.ByStatus) != fmt.Sprint(want) || s.Due != 1 || s.OldestDue == nil || !s.OldestDue.Equal(clk.Now()) {
			t.Fatalf("stats: %+v, want by status %v and 1 due", s, want)
		}
		if len(s.Kinds) != 2 || s.Kinds[0].Kind != "test.a" || s.Kinds[0].Counts["done"] != 5 ||
			s.Kinds[0].Counts["queued"] != 2 || s.Kinds[1].Counts["dead"] != 1 || !s.Kinds[1].Registered {
			t.Fatalf("stats by kind: %+v", s.Kinds)
		}

		p, err := q.List(ctx, jobs.Filter{Kind: "test.a", Status: jobs.StatusDone, Limit: 3})
		if err != nil || len(p.Jobs) != 3 || p.Jobs[0].ID != ids[4] || p.Next != ids[2] {
			t.Fatalf("first page: %+v, %v", p, err)
		}
		p, err = q.List(ctx, jobs.Filter{Kind: "test.a", Status: jobs.StatusDone, Limit: 3, Before: p.Next})
		if err != nil || len(p.Jobs) != 2 || p.Jobs[1].ID != ids[0] || p.Next != 0 {
			t.Fatalf("second page: %+v, %v", p, err)
		}

		// Done jobs go after KeepDone, dead ones after KeepDead.
		clk.Advance(jobs.DefaultKeepDone + time.Minute)
		if n, err := q.Purge(ctx); err != nil || n != 5 {
			t.Fatalf("purge = %d, %v; want the 5 done jobs", n, err)
		}
		clk.Advance(jobs.DefaultKeepDead)
		if n, err := q.Purge(ctx); err != nil || n != 1 {
			t.Fatalf("second purge = %d, %v; want the dead job", n, err)
		}
	})
}

// TestRestart: jobs outlive the queue that enqueued them and the database
// handle; a new queue on the same database runs them. Jobs interrupted by
// the stop are put back without counting the attempt.
func TestRestart(t *testing.T) {
	dbtest.ForEach(t, "tenon_jobs", func(t *testing.T, dsn string) {
		d1, closeD1 := openClosableDB(t, dsn)
		q1 := newQueue(t, d1, jobs.Options{Owner: "first", Workers: 2, Poll: 20 * time.Millisecond, Grace: 50 * time.Millisecond})
		blocked := make(chan struct{}, 10)
		q1.Register("test.work", func(ctx context.Context, j *jobs.Job) error {
			blocked <- struct{}{}
			<-ctx.Done() // never finishes in the first process
			return ctx.Err()
		}, jobs.HandlerOptions{})
		var ids []int64
		for i := range 10 {
			ids = append(ids, mustEnqueue(t, q1, "test.work", i, jobs.EnqueueOptions{}).ID)
		}
		stop := runQueue(t, q1)
		<-blocked
		<-blocked
		stop()
		closeD1()

		d2 := openDB(t, dsn)
		q2 := newQueue(t, d2, jobs.Options{Owner: "second", Poll: 20 * time.Millisecond})
		var ran atomic.Int32
		q2.Register("test.work", func(ctx context.Context, j *jobs.Job) error { ran.Add(1); return nil }, jobs.HandlerOptions{})
		if by := countByStatus(t, q2); by["queued"] != 10 {
			t.Fatalf("before the restart: %v, want 10 queued (interrupted jobs released)", by)
		}
		runQueue(t, q2)
		eventually(t, "all jobs done after the restart", func() bool { return countByStatus(t, q2)["done"] == 10 })
		for _, id := range ids {
			if j := mustGet(t, q2, id); j.Attempts != 1 {
				t.Errorf("job %d: %d attempts, want 1 (a stop is not an attempt)", id, j.Attempts)
			}
		}
		if ran.Load() != 10 {
			t.Fatalf("ran %d handlers, want 10", ran.Load())
		}
	})
}

// TestRunWakesOnEnqueue: with a long poll interval, a job enqueued in the
// process still runs promptly because the commit wakes the workers.
func TestRunWakesOnEnqueue(t *testing.T) {
	dbtest.ForEach(t, "tenon_jobs", func(t *testing.T, dsn string) {
		d := openDB(t, dsn)
		q := newQueue(t, d, jobs.Options{Poll: time.Hour})
		done := make(chan int64, 1)
		q.Register("test.ping", func(ctx context.Context, j *jobs.Job) error { done <- j.ID; return nil }, jobs.HandlerOptions{InTx: true})
		runQueue(t, q)
		var id int64
		if err := d.WithTx(context.Background(), func(ctx context.Context) error {
			j, err := q.Enqueue(ctx, "test.ping", nil, jobs.EnqueueOptions{})
			id = j.ID
			return err
		}); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-done:
			if got != id {
				t.Fatalf("ran job %d, want %d", got, id)
			}
		case <-time.After(30 * time.Second): // guard only: the poll interval is an hour
			t.Fatal("the enqueue did not wake the workers")
		}
	})
}

// TestPriority: higher priority runs first, then earlier run_at.
func TestPriority(t *testing.T) {
	dbtest.ForEach(t, "tenon_jobs", func(t *testing.T, dsn string) {
		ctx := context.Background()
		clk := newClock()
		q := newQueue(t, openDB(t, dsn), jobs.Options{Now: clk.Now})
		var order []string
		q.Register("test.p", func(ctx context.Context, j *jobs.Job) error {
			var s string
			_ = j.Decode(&s)
			order = append(order, s)
			return nil
		}, jobs.HandlerOptions{InTx: true})
		mustEnqueue(t, q, "test.p", "low-early", jobs.EnqueueOptions{RunAt: clk.Now().Add(-time.Hour)})
		mustEnqueue(t, q, "test.p", "high", jobs.EnqueueOptions{Priority: 10})
		mustEnqueue(t, q, "test.p", "low-late", jobs.EnqueueOptions{})
		mustEnqueue(t, q, "test.p", "future", jobs.EnqueueOptions{Priority: 99, Delay: time.Minute})
		if _, err := q.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(order, ","); got != "high,low-early,low-late" {
			t.Fatalf("order %s", got)
		}
	})
}
