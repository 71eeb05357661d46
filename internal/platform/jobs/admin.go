package jobs

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
)

// Filter selects jobs for List. Zero values select everything.
type Filter struct {
	Status string `json:"status,omitempty"`
	Kind   string `json:"kind,omitempty"`
	// Limit is the page size: 50 by default, at most 500.
	Limit int `json:"limit,omitempty"`
	// Before pages backwards: only jobs with a smaller id.
	Before int64 `json:"before,string,omitempty"`
}

// Page is one page of List, newest job first.
type Page struct {
	Jobs []Job `json:"jobs"`
	// Next is the Before of the next page; zero on the last page.
	Next int64 `json:"next,string,omitempty"`
}

// Stats counts jobs for the admin overview.
type Stats struct {
	// ByStatus has every status, zero included.
	ByStatus map[string]int64 `json:"by_status"`
	// Kinds has one entry per kind present in the table, by name.
	Kinds []KindStats `json:"kinds"`
	// Due counts queued jobs whose run_at has come: the backlog.
	Due int64 `json:"due"`
	// OldestDue is the run_at of the longest-waiting due job.
	OldestDue *time.Time `json:"oldest_due,omitempty"`
}

// KindStats counts the jobs of one kind by status.
type KindStats struct {
	Kind string `json:"kind"`
	// Registered says whether this process has a handler for the kind.
	Registered bool             `json:"registered"`
	Counts     map[string]int64 `json:"counts"`
}

// Get returns a job, or an apperr not-found error.
func (q *Queue) Get(ctx context.Context, id int64) (Job, error) {
	j, err := q.getWhere(ctx, `id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, apperr.NotFound()
	}
	return j, err
}

// List returns jobs matching f, newest first.
func (q *Queue) List(ctx context.Context, f Filter) (Page, error) {
	if f.Status != "" && !slices.Contains(statuses, f.Status) {
		return Page{}, apperr.Invalid("job_status_invalid", "status", f.Status)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	query := `SELECT ` + jobCols + ` FROM jobs WHERE 1 = 1`
	var args []any
	if f.Status != "" {
		query += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.Kind != "" {
		query += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	if f.Before > 0 {
		query += ` AND id < ?`
		args = append(args, f.Before)
	}
	query += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	js, err := q.rows(ctx, query, args...)
	if err != nil {
		return Page{}, err
	}
	p := Page{Jobs: js}
	if len(js) == limit {
		p.Next = js[len(js)-1].ID
	}
	return p, nil
}

// Stats counts jobs by status and by kind.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	s := Stats{ByStatus: map[string]int64{}, Kinds: []KindStats{}}
	for _, st := range statuses {
		s.ByStatus[st] = 0
	}
	rows, err := q.db.Query(ctx, `SELECT kind, status, COUNT(*) FROM jobs GROUP BY kind, status ORDER BY kind`)
	if err != nil {
		return Stats{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var kind, status string
		var n int64
		if err := rows.Scan(&kind, &status, &n); err != nil {
			return Stats{}, err
		}
		s.ByStatus[status] += n
		if len(s.Kinds) == 0 || s.Kinds[len(s.Kinds)-1].Kind != kind {
			s.Kinds = append(s.Kinds, KindStats{Kind: kind, Registered: q.handler(kind) != nil, Counts: map[string]int64{}})
		}
		s.Kinds[len(s.Kinds)-1].Counts[status] = n
	}
	if err := rows.Err(); err != nil {
		return Stats{}, err
	}
	var oldest sql.NullInt64
	if err := q.db.QueryRow(ctx, `SELECT COUNT(*), MIN(run_at) FROM jobs WHERE status = 'queued' AND run_at <= ?`,
		q.now().UnixMicro()).Scan(&s.Due, &oldest); err != nil {
		return Stats{}, err
	}
	s.OldestDue = microsPtr(oldest)
	return s, nil
}

// forUpdate locks the selected rows on PostgreSQL; SQLite's writer already
// excludes everyone else.
func (q *Queue) forUpdate() string {
	if q.db.Kind == db.Postgres {
		return ` FOR UPDATE`
	}
	return ``
}

// Retry puts a dead or failed job back in the queue, due now, with its
// attempts reset. It joins the transaction in ctx, if any. Another job
// of the kind queued or running with the same unique key is a conflict.
func (q *Queue) Retry(ctx context.Context, id int64) (Job, error) {
	var out Job
	err := q.db.WithTx(ctx, func(ctx context.Context) error {
		j, err := q.getWhere(ctx, `id = ?`+q.forUpdate(), id)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.NotFound()
		}
		if err != nil {
			return err
		}
		if j.Status != StatusDead && j.Status != StatusFailed {
			return apperr.Conflict("job_not_retryable", "status", j.Status)
		}
		if j.UniqueKey != "" {
			other, err := q.getWhere(ctx, `kind = ? AND unique_key = ? AND status IN ('queued', 'running')`, j.Kind, j.UniqueKey)
			if err == nil {
				return apperr.Conflict("job_duplicate", "id", other.ID)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		now := q.now().UnixMicro()
		if _, err := q.db.Exec(ctx, `UPDATE jobs SET status = 'queued', attempts = 0, run_at = ?, lease_owner = NULL,
			lease_until = NULL, finished_at = NULL, updated_at = ? WHERE id = ?`, now, now, id); err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.Conflict("job_duplicate")
			}
			return err
		}
		db.AfterCommit(ctx, q.notify)
		out, err = q.getWhere(ctx, `id = ?`, id)
		return err
	})
	return out, err
}

// Cancel cancels a job that is not done: a queued job never runs; a
// running one loses its claim, so an InTx handler's work is not committed
// (Cancel waits for a running InTx transaction and then finds the job done)
// and a handler outside a transaction has its context cancelled at the
// next heartbeat; a dead or failed one leaves the dead letter list.
// Cancelling a cancelled job is a no-op; a done job is a conflict. It joins
// the transaction in ctx, if any.
func (q *Queue) Cancel(ctx context.Context, id int64) (Job, error) {
	var out Job
	err := q.db.WithTx(ctx, func(ctx context.Context) error {
		j, err := q.getWhere(ctx, `id = ?`+q.forUpdate(), id)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.NotFound()
		}
		if err != nil {
			return err
		}
		switch j.Status {
		case StatusCancelled:
			out = j
			return nil
		case StatusDone:
			return apperr.Conflict("job_finished", "status", j.Status)
		}
		now := q.now().UnixMicro()
		if _, err := q.db.Exec(ctx, `UPDATE jobs SET status = 'cancelled', lease_owner = NULL, lease_until = NULL,
			finished_at = ?, updated_at = ? WHERE id = ?`, now, now, id); err != nil {
			return err
		}
		out, err = q.getWhere(ctx, `id = ?`, id)
		return err
	})
	return out, err
}

// CancelKey cancels the queued or running job of kind with the unique key,
// if there is one, and reports whether there was. Owners of timers (an
// approval's reminder) use it when the reason for the job goes away. It
// joins the transaction in ctx, if any.
func (q *Queue) CancelKey(ctx context.Context, kind, uniqueKey string) (bool, error) {
	var found bool
	err := q.db.WithTx(ctx, func(ctx context.Context) error {
		now := q.now().UnixMicro()
		res, err := q.db.Exec(ctx, `UPDATE jobs SET status = 'cancelled', lease_owner = NULL, lease_until = NULL,
			finished_at = ?, updated_at = ? WHERE kind = ? AND unique_key = ? AND status IN ('queued', 'running')`,
			now, now, kind, uniqueKey)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		found = n > 0
		return err
	})
	return found, err
}

// Purge deletes done and cancelled jobs finished more than
// Options.KeepDone ago and dead and failed ones finished more than
// Options.KeepDead ago, in batches, and returns how many it deleted. Run
// calls it every hour.
func (q *Queue) Purge(ctx context.Context) (int64, error) {
	var total int64
	for _, c := range []struct {
		keep     time.Duration
		statuses string
	}{
		{q.opt.KeepDone, `'done', 'cancelled'`},
		{q.opt.KeepDead, `'dead', 'failed'`},
	} {
		if c.keep < 0 {
			continue
		}
		cutoff := q.now().Add(-c.keep).UnixMicro()
		for {
			res, err := q.db.Exec(ctx, `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs
				WHERE finished_at IS NOT NULL AND finished_at < ? AND status IN (`+c.statuses+`) LIMIT 1000)`, cutoff)
			if err != nil {
				return total, err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return total, err
			}
			total += n
			if n < 1000 {
				break
			}
		}
	}
	return total, nil
}
