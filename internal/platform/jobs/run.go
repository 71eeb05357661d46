package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db"
)

// stopWait is how long Run waits for handlers after cancelling them at the
// end of the grace period, and how long a handler outside a transaction
// may ignore its cancelled context before its worker gives up on it.
const stopWait = 5 * time.Second

// purgeEvery is how often Run deletes old finished jobs.
const purgeEvery = time.Hour

// Run claims and runs due jobs with Options.Workers workers and enqueues
// the jobs of due schedules, until ctx ends. Then it stops claiming, lets
// running handlers finish for up to Options.Grace, cancels the contexts of
// those still running, and puts their jobs back in the queue (a job whose
// InTx handler was cancelled has had its transaction rolled back). Only one
// Run may be active per Queue. It returns nil after a clean stop.
func (q *Queue) Run(ctx context.Context) error {
	if !q.running.CompareAndSwap(false, true) {
		return errors.New("jobs: Run is already running on this queue")
	}
	defer q.running.Store(false)

	// Handlers run under work, which outlives ctx by the grace period.
	work, hardStop := context.WithCancel(context.WithoutCancel(ctx))
	defer hardStop()

	schedDone := make(chan struct{})
	go func() {
		defer close(schedDone)
		q.scheduleLoop(ctx)
	}()

	workers := q.opt.Workers
	finished := make(chan struct{}, workers)
	active := 0
	probe := false // look before taking the write lock: the last claim came back short
	timer := time.NewTimer(0)
	defer timer.Stop()
	for ctx.Err() == nil {
		if free := workers - active; free > 0 {
			claimed, err := q.claimDue(ctx, free, probe)
			if err != nil && ctx.Err() == nil {
				q.log.Warn("jobs: claim failed", slog.String("error", err.Error()))
			}
			for _, j := range claimed {
				if ctx.Err() != nil { // stopping: never started, so not an attempt
					q.release(work, j)
					continue
				}
				active++
				go func() {
					q.execute(work, j)
					finished <- struct{}{}
				}()
			}
			probe = err != nil || len(claimed) < free
			if !probe {
				continue // there may be more due work and free workers
			}
		}
		timer.Reset(q.opt.Poll)
		select {
		case <-ctx.Done():
		case <-finished:
			active--
		case <-q.wake:
			probe = false
		case <-timer.C:
		}
	}

	grace := time.NewTimer(q.opt.Grace)
	defer grace.Stop()
	var giveUp <-chan time.Time
	for active > 0 {
		select {
		case <-finished:
			active--
		case <-grace.C:
			hardStop()
			giveUp = time.After(2 * stopWait) // a worker abandons a handler after stopWait, then records it
		case <-giveUp:
			<-schedDone
			return fmt.Errorf("jobs: %d handlers did not stop", active)
		}
	}
	<-schedDone
	return nil
}

// RunDue enqueues the jobs of due schedules, then claims and runs due jobs
// one at a time in the calling goroutine until none is due, and returns how
// many it ran. It is Run without workers or polling: for tests driven by a
// clock (Options.Now) and for one-shot commands.
func (q *Queue) RunDue(ctx context.Context) (int, error) {
	if _, err := q.runSchedules(ctx); err != nil {
		return 0, err
	}
	n := 0
	for {
		claimed, err := q.claim(ctx, 1)
		if err != nil || len(claimed) == 0 {
			return n, err
		}
		q.execute(ctx, claimed[0])
		n++
	}
}

// claimDue claims up to n due jobs; with probe it first checks, on the
// read pool, that any is due, so that idle polling takes no write lock.
func (q *Queue) claimDue(ctx context.Context, n int, probe bool) ([]*Job, error) {
	kinds := q.kindList()
	if len(kinds) == 0 {
		return nil, nil
	}
	if probe {
		due, err := q.anyDue(ctx, kinds)
		if !due || err != nil {
			return nil, err
		}
	}
	return q.claim(ctx, n)
}

// anyDue reports whether a claim would find work. The queued check is
// ordered like the claim so that it walks the same index.
func (q *Queue) anyDue(ctx context.Context, kinds []string) (bool, error) {
	now := q.now().UnixMicro()
	for _, c := range []struct {
		query string
		args  []any
	}{
		{`SELECT 1 FROM jobs WHERE status = 'queued' AND run_at <= ? AND kind IN (` + marks(len(kinds)) + `)
			ORDER BY priority DESC, run_at, id LIMIT 1`, append([]any{now}, strArgs(kinds)...)},
		{`SELECT 1 FROM jobs WHERE status = 'running' AND lease_until <= ? LIMIT 1`, []any{now}},
	} {
		var one int
		err := q.db.QueryRow(ctx, c.query, c.args...).Scan(&one)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return false, err
		}
	}
	return false, nil
}

// claim takes up to n due jobs of registered kinds in one transaction:
// queued jobs whose run_at has come, and running jobs whose lease expired
// (their process died). Each gets this claim's lease token in lease_owner,
// a lease and one more attempt. On PostgreSQL the candidate rows are
// locked with FOR UPDATE SKIP LOCKED, so concurrent claims take disjoint
// jobs and never wait for each other; on SQLite the single writer does
// that. Jobs whose lease expired on their last attempt become dead.
func (q *Queue) claim(ctx context.Context, n int) ([]*Job, error) {
	kinds := q.kindList()
	if len(kinds) == 0 || n <= 0 {
		return nil, nil
	}
	var out []*Job
	err := q.db.WithTx(ctx, func(ctx context.Context) error {
		out = nil
		now := q.now().UnixMicro()
		until := q.now().Add(q.opt.Lease).UnixMicro()
		token := q.token + strconv.FormatUint(q.seq.Add(1), 10)
		if q.db.Kind == db.Postgres {
			// The claims below are "the first few rows in index order"
			// (jobs_due, jobs_lease). Until autovacuum has analysed a
			// freshly filled jobs table, the planner believes it small and
			// sorts every queued row per claim (ms each: a burst of
			// thousands of rule runs became quadratic); without sorts it
			// walks the partial index and stops after n rows.
			if _, err := q.db.Exec(ctx, `SET LOCAL enable_sort = off`); err != nil {
				return err
			}
		}

		if _, err := q.db.Exec(ctx, q.lockedUpdate(
			`status = 'dead', last_error = ?, lease_owner = NULL, lease_until = NULL, finished_at = ?, updated_at = ?`,
			`status = 'running' AND lease_until <= ? AND attempts >= max_attempts`, "", "", "100", false),
			q.lockedArgs([]any{"lease expired on the last attempt (its process stopped or lost the database)", now, now},
				[]any{now})...); err != nil {
			return err
		}
		kindIn := `kind IN (` + marks(len(kinds)) + `)`
		set := `status = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?`
		setArgs := []any{token, until, now}
		// Without statistics SQLite answers the queued claim from
		// jobs_status and sorts every queued job to find the first few,
		// milliseconds per claim once thousands are queued (a batch of
		// record writes queueing rule runs); jobs_due is in claim order.
		for _, c := range []struct{ where, order, index string }{
			{`status = 'running' AND lease_until <= ? AND attempts < max_attempts AND ` + kindIn, `lease_until`, ""},
			{`status = 'queued' AND run_at <= ? AND ` + kindIn, `priority DESC, run_at, id`, "jobs_due"},
		} {
			if len(out) >= n {
				break
			}
			where := append([]any{now}, strArgs(kinds)...)
			where = append(where, n-len(out))
			js, err := q.rows(ctx, q.lockedUpdate(set, c.where, c.order, c.index, "?", true), q.lockedArgs(setArgs, where)...)
			if err != nil {
				return err
			}
			for i := range js {
				out = append(out, &js[i])
			}
		}
		return nil
	})
	return out, err
}

// lockedUpdate is an UPDATE of the jobs chosen by where (in order, up to
// limit rows, through index on SQLite when one is named), skipping rows
// other transactions hold on PostgreSQL. Its
// placeholders are the SET ones then the WHERE ones on SQLite, the other
// way round on PostgreSQL; lockedArgs orders arguments to match.
func (q *Queue) lockedUpdate(set, where, order, index, limit string, returning bool) string {
	sel := `SELECT id FROM jobs WHERE ` + where
	if index != "" && q.db.Kind != db.Postgres {
		sel = `SELECT id FROM jobs INDEXED BY ` + index + ` WHERE ` + where
	}
	if order != "" {
		sel += ` ORDER BY ` + order
	}
	sel += ` LIMIT ` + limit
	ret := ""
	if returning {
		ret = ` RETURNING ` + jobCols
	}
	if q.db.Kind == db.Postgres {
		// A locking CTE is evaluated once; "id IN (subquery)" may not be.
		return `WITH c AS (` + strings.Replace(sel, "SELECT id", "SELECT id AS cid", 1) + ` FOR UPDATE SKIP LOCKED)
			UPDATE jobs SET ` + set + ` FROM c WHERE id = c.cid` + ret
	}
	return `UPDATE jobs SET ` + set + ` WHERE id IN (` + sel + `)` + ret
}

func (q *Queue) lockedArgs(set, where []any) []any {
	if q.db.Kind == db.Postgres {
		return append(append([]any{}, where...), set...)
	}
	return append(append([]any{}, set...), where...)
}

func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func strArgs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// execute runs one claimed job and records the outcome. work ends when the
// process stops for good (Run's grace period is over).
func (q *Queue) execute(work context.Context, j *Job) {
	h := q.handler(j.Kind)
	if h == nil { // cannot happen: claims are limited to registered kinds
		q.release(work, j)
		return
	}
	if h.opts.InTx {
		q.executeInTx(work, h, j)
	} else {
		q.executeOutside(work, h, j)
	}
}

// executeInTx runs the handler inside the transaction that marks the job
// done. The first statement is a conditional update on the job's own row:
// it proves the claim is still ours and, on PostgreSQL, row-locks the job
// for the rest of the transaction, so no other process can reclaim it even
// if the lease runs out meanwhile. If the process dies, the transaction
// rolls back and the job is reclaimed after its lease.
func (q *Queue) executeInTx(work context.Context, h *handler, j *Job) {
	// The deadline is fixed before the transaction because the transaction
	// function may run again (SQLite group commit, PostgreSQL retries);
	// a re-run gets what is left of the time, not a fresh timeout.
	deadline := time.Now().Add(h.opts.Timeout)
	var herr error
	err := q.db.WithTx(work, func(ctx context.Context) error {
		herr = nil
		now := q.now().UnixMicro()
		res, err := q.db.Exec(ctx, `UPDATE jobs SET status = 'done', lease_owner = NULL, lease_until = NULL,
			finished_at = ?, updated_at = ? WHERE id = ? AND status = 'running' AND lease_owner = ?`,
			now, now, j.ID, j.LeaseOwner)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errLeaseLost
		}
		if !time.Now().Before(deadline) {
			herr = fmt.Errorf("%w after %v", ErrTimeout, h.opts.Timeout)
			return herr
		}
		hctx, cancel := context.WithDeadline(ctx, deadline)
		defer cancel()
		herr = q.call(hctx, h, j)
		// Enforced even for a handler that ignores its context: work done
		// after the deadline is rolled back.
		if errors.Is(hctx.Err(), context.DeadlineExceeded) {
			herr = fmt.Errorf("%w after %v", ErrTimeout, h.opts.Timeout)
		}
		return herr
	})
	switch {
	case err == nil:
	case errors.Is(err, errLeaseLost):
		q.log.Info("jobs: lease lost before the job ran", slog.Int64("job", j.ID), slog.String("kind", j.Kind))
	case work.Err() != nil:
		q.release(work, j)
	case herr != nil:
		q.fail(work, h, j, herr)
	default: // the transaction itself failed (commit, connection)
		q.fail(work, h, j, err)
	}
}

// executeOutside runs the handler outside any transaction, extending the
// lease with heartbeats while it runs. If the heartbeat finds the job is no
// longer ours (cancelled, or reclaimed after a long stall), the handler's
// context is cancelled. A handler that overruns its timeout and ignores
// its context is abandoned after stopWait and the attempt counts as failed.
func (q *Queue) executeOutside(work context.Context, h *handler, j *Job) {
	base, lose := context.WithCancelCause(work)
	defer lose(nil)
	hctx, cancel := context.WithTimeoutCause(base, h.opts.Timeout, fmt.Errorf("%w after %v", ErrTimeout, h.opts.Timeout))
	defer cancel()

	beat := make(chan struct{})
	go func() {
		defer close(beat)
		q.heartbeat(hctx, lose, j)
	}()
	result := make(chan error, 1)
	go func() { result <- q.call(hctx, h, j) }()
	var herr error
	select {
	case herr = <-result:
	case <-hctx.Done():
		select {
		case herr = <-result:
		case <-time.After(stopWait):
			herr = context.Cause(hctx)
			q.log.Error("jobs: handler ignored its cancelled context; abandoned",
				slog.Int64("job", j.ID), slog.String("kind", j.Kind))
		}
	}
	cause := context.Cause(hctx)
	cancel()
	<-beat
	switch {
	case herr == nil:
		q.complete(work, j)
	case errors.Is(cause, errLeaseLost):
		q.log.Info("jobs: lease lost while running", slog.Int64("job", j.ID), slog.String("kind", j.Kind))
	case work.Err() != nil:
		q.release(work, j)
	case errors.Is(cause, ErrTimeout):
		q.fail(work, h, j, cause)
	default:
		q.fail(work, h, j, herr)
	}
}

// heartbeat extends the lease every third of its length until ctx ends,
// and calls lose when the job is no longer ours.
func (q *Queue) heartbeat(ctx context.Context, lose context.CancelCauseFunc, j *Job) {
	t := time.NewTicker(max(q.opt.Lease/3, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := q.now()
		// Not cancelled with ctx: on SQLite, interrupting a statement can
		// roll back the writer's whole shared transaction.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), q.opt.Lease)
		res, err := q.db.Exec(bctx, `UPDATE jobs SET lease_until = ?, updated_at = ?
			WHERE id = ? AND status = 'running' AND lease_owner = ?`,
			now.Add(q.opt.Lease).UnixMicro(), now.UnixMicro(), j.ID, j.LeaseOwner)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				q.log.Warn("jobs: heartbeat failed", slog.Int64("job", j.ID), slog.String("error", err.Error()))
			}
			continue
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			lose(errLeaseLost)
			return
		}
	}
}

// call runs the handler on a copy of the job, turning a panic into an error.
func (q *Queue) call(ctx context.Context, h *handler, j *Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			q.log.Error("jobs: handler panicked", slog.Int64("job", j.ID), slog.String("kind", j.Kind),
				slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	jc := *j
	return h.fn(ctx, &jc)
}

// finishCtx is a context for recording an outcome: it survives the end of
// work (a stop must still write the release) but not forever.
func finishCtx(work context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(work), 10*time.Second)
}

// complete marks a job done after a handler outside a transaction.
func (q *Queue) complete(work context.Context, j *Job) {
	ctx, cancel := finishCtx(work)
	defer cancel()
	now := q.now().UnixMicro()
	res, err := q.db.Exec(ctx, `UPDATE jobs SET status = 'done', lease_owner = NULL, lease_until = NULL,
		finished_at = ?, updated_at = ? WHERE id = ? AND status = 'running' AND lease_owner = ?`,
		now, now, j.ID, j.LeaseOwner)
	q.logOutcome("done", j, res, err)
}

// release puts a job back without counting the attempt: it was claimed but
// not run, or stopped by shutdown.
func (q *Queue) release(work context.Context, j *Job) {
	ctx, cancel := finishCtx(work)
	defer cancel()
	res, err := q.db.Exec(ctx, `UPDATE jobs SET status = 'queued', attempts = attempts - 1, lease_owner = NULL,
		lease_until = NULL, updated_at = ? WHERE id = ? AND status = 'running' AND lease_owner = ?`,
		q.now().UnixMicro(), j.ID, j.LeaseOwner)
	q.logOutcome("released", j, res, err)
}

// fail records a failed attempt: a retry after back-off, or dead after the
// last attempt, or failed for a Permanent error.
func (q *Queue) fail(work context.Context, h *handler, j *Job, cause error) {
	ctx, cancel := finishCtx(work)
	defer cancel()
	now := q.now()
	status, runAt, finished := StatusQueued, now.Add(backoff(h.opts, j.Attempts)).UnixMicro(), any(nil)
	switch {
	case IsPermanent(cause):
		status, runAt, finished = StatusFailed, j.RunAt.UnixMicro(), now.UnixMicro()
	case j.Attempts >= j.MaxAttempts:
		status, runAt, finished = StatusDead, j.RunAt.UnixMicro(), now.UnixMicro()
	}
	res, err := q.db.Exec(ctx, `UPDATE jobs SET status = ?, run_at = ?, last_error = ?, lease_owner = NULL,
		lease_until = NULL, finished_at = ?, updated_at = ? WHERE id = ? AND status = 'running' AND lease_owner = ?`,
		status, runAt, truncate(cause.Error(), 4000), finished, now.UnixMicro(), j.ID, j.LeaseOwner)
	q.logOutcome(status, j, res, err)
	if err == nil && status != StatusQueued {
		q.log.Warn("jobs: job "+status, slog.Int64("job", j.ID), slog.String("kind", j.Kind),
			slog.Int("attempts", j.Attempts), slog.String("error", cause.Error()))
	}
}

func (q *Queue) logOutcome(what string, j *Job, res sql.Result, err error) {
	if err != nil {
		q.log.Error("jobs: cannot record outcome", slog.String("outcome", what), slog.Int64("job", j.ID),
			slog.String("error", err.Error()))
		return
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		q.log.Info("jobs: outcome not recorded: lease lost", slog.String("outcome", what), slog.Int64("job", j.ID))
	}
}

// backoff is the delay before the retry after attempt n (1-based):
// min(cap, base·2^(n-1)) less a random part of up to half of it, so that
// jobs failing together do not retry together.
func backoff(o HandlerOptions, n int) time.Duration {
	d := o.BackoffBase
	for i := 1; i < n && d < o.BackoffCap; i++ {
		d *= 2
	}
	d = min(d, o.BackoffCap)
	half := d / 2
	return d - half + rand.N(half+1)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
