package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
)

// Schedule is one row of job_schedules: a job of Kind with Payload is
// enqueued each time Spec fires on the wall clock of Timezone.
type Schedule struct {
	Name      string          `json:"name"`
	Spec      string          `json:"spec"`
	Timezone  string          `json:"timezone"`
	Kind      string          `json:"kind"`
	Payload   json.RawMessage `json:"payload"`
	Enabled   bool            `json:"enabled"`
	NextRunAt time.Time       `json:"next_run_at"`
	LastRunAt *time.Time      `json:"last_run_at,omitempty"`
	LastJobID int64           `json:"last_job_id,string,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// ScheduleDef is the input of UpsertSchedule.
type ScheduleDef struct {
	Name string `json:"name"`
	// Spec is a cron spec (see Cron).
	Spec string `json:"spec"`
	// Timezone is an IANA zone name; empty means Options.Timezone.
	Timezone string `json:"timezone,omitempty"`
	// Kind must be registered.
	Kind    string `json:"kind"`
	Payload any    `json:"payload,omitempty"`
	// Disabled keeps the schedule without firing it.
	Disabled bool `json:"disabled,omitempty"`
}

// scheduleKey is the unique key of the jobs a schedule enqueues: while one
// is still queued or running, the next firing adds none.
func scheduleKey(name string) string { return "schedule:" + name }

// UpsertSchedule creates or updates a schedule. The next run is computed
// from now for a new schedule, a changed spec or zone, or a schedule being
// enabled; otherwise it is kept, so that upserting the built-in schedules
// on every start neither delays nor loses a run that is due. It joins the
// transaction in ctx, if any.
func (q *Queue) UpsertSchedule(ctx context.Context, def ScheduleDef) (Schedule, error) {
	if def.Name == "" || len(def.Name) > 200 {
		return Schedule{}, apperr.Invalid("schedule_name_invalid")
	}
	if q.handler(def.Kind) == nil {
		return Schedule{}, apperr.Invalid("job_kind_unknown", "kind", def.Kind)
	}
	c, err := ParseCron(def.Spec)
	if err != nil {
		return Schedule{}, apperr.Invalid("schedule_spec_invalid", "spec", def.Spec, "reason", err.Error())
	}
	if def.Timezone == "" {
		def.Timezone = q.opt.Timezone
	}
	loc, err := loadZone(def.Timezone)
	if err != nil {
		return Schedule{}, apperr.Invalid("schedule_timezone_invalid", "timezone", def.Timezone)
	}
	raw, err := encodePayload(def.Payload)
	if err != nil {
		return Schedule{}, err
	}
	var out Schedule
	err = q.db.WithTx(ctx, func(ctx context.Context) error {
		now := q.now()
		nextAt := c.Next(now.In(loc))
		if nextAt.IsZero() {
			return apperr.Invalid("schedule_spec_invalid", "spec", def.Spec, "reason", "the schedule does not fire again")
		}
		next := nextAt.UnixMicro()
		res, err := q.db.Exec(ctx, `INSERT INTO job_schedules (name, spec, timezone, kind, payload, enabled,
			next_run_at, created_at, updated_at) VALUES (?, ?, ?, ?, `+q.db.JSONParam()+`, ?, ?, ?, ?)
			ON CONFLICT (name) DO NOTHING`,
			def.Name, c.String(), def.Timezone, def.Kind, string(raw), !def.Disabled, next, now.UnixMicro(), now.UnixMicro())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			old, err := q.getSchedule(ctx, def.Name, true)
			if err != nil {
				return err
			}
			if old.Spec == c.String() && old.Timezone == def.Timezone && (old.Enabled || def.Disabled) {
				next = old.NextRunAt.UnixMicro()
			}
			if _, err := q.db.Exec(ctx, `UPDATE job_schedules SET spec = ?, timezone = ?, kind = ?,
				payload = `+q.db.JSONParam()+`, enabled = ?, next_run_at = ?, updated_at = ? WHERE name = ?`,
				c.String(), def.Timezone, def.Kind, string(raw), !def.Disabled, next, now.UnixMicro(), def.Name); err != nil {
				return err
			}
		}
		out, err = q.getSchedule(ctx, def.Name, false)
		return err
	})
	return out, err
}

// DeleteSchedule deletes a schedule (not the jobs it enqueued), or returns
// an apperr not-found error.
func (q *Queue) DeleteSchedule(ctx context.Context, name string) error {
	return q.db.WithTx(ctx, func(ctx context.Context) error {
		res, err := q.db.Exec(ctx, `DELETE FROM job_schedules WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return apperr.NotFound()
		}
		return nil
	})
}

// ListSchedules returns every schedule by name.
func (q *Queue) ListSchedules(ctx context.Context) ([]Schedule, error) {
	rows, err := q.db.Query(ctx, `SELECT `+scheduleCols+` FROM job_schedules ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Schedule{}
	for rows.Next() {
		s, err := scanSchedule(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

const scheduleCols = `name, spec, timezone, kind, payload, enabled, next_run_at, last_run_at, last_job_id,
	created_at, updated_at`

func scanSchedule(s scanner) (Schedule, error) {
	var sc Schedule
	var payload []byte
	var next, created, updated int64
	var last, lastJob sql.NullInt64
	if err := s.Scan(&sc.Name, &sc.Spec, &sc.Timezone, &sc.Kind, &payload, &sc.Enabled, &next, &last, &lastJob,
		&created, &updated); err != nil {
		return Schedule{}, err
	}
	sc.Payload = json.RawMessage(slices.Clone(payload))
	sc.NextRunAt, sc.CreatedAt, sc.UpdatedAt = micros(next), micros(created), micros(updated)
	sc.LastRunAt, sc.LastJobID = microsPtr(last), lastJob.Int64
	return sc, nil
}

func (q *Queue) getSchedule(ctx context.Context, name string, lock bool) (Schedule, error) {
	query := `SELECT ` + scheduleCols + ` FROM job_schedules WHERE name = ?`
	if lock {
		query += q.forUpdate()
	}
	s, err := scanSchedule(q.db.QueryRow(ctx, query, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Schedule{}, apperr.NotFound()
	}
	return s, err
}

// scheduleLoop enqueues due schedules every poll interval (at once on
// start, so a run missed while every process was down happens now) and
// purges old jobs every hour, until ctx ends.
func (q *Queue) scheduleLoop(ctx context.Context) {
	t := time.NewTicker(q.opt.Poll)
	defer t.Stop()
	var lastPurge time.Time
	for {
		if _, err := q.runSchedules(ctx); err != nil && ctx.Err() == nil {
			q.log.Warn("jobs: schedules failed", slog.String("error", err.Error()))
		}
		if time.Since(lastPurge) >= purgeEvery {
			lastPurge = time.Now()
			if _, err := q.Purge(ctx); err != nil && ctx.Err() == nil {
				q.log.Warn("jobs: purge failed", slog.String("error", err.Error()))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// runSchedules enqueues one job for each due schedule and moves its next
// run to the first firing after now: runs missed while no process was
// running collapse into this one. Each schedule row is claimed in the same
// transaction as the enqueue (FOR UPDATE SKIP LOCKED on PostgreSQL, the
// single writer on SQLite, and next_run_at compared again in the UPDATE),
// so one due time enqueues one job however many processes look at once.
func (q *Queue) runSchedules(ctx context.Context) (int, error) {
	var one int
	err := q.db.QueryRow(ctx, `SELECT 1 FROM job_schedules WHERE enabled = ? AND next_run_at <= ? LIMIT 1`,
		true, q.now().UnixMicro()).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	const batch = 50
	total := 0
	for {
		n, err := q.runScheduleBatch(ctx, batch)
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
}

func (q *Queue) runScheduleBatch(ctx context.Context, limit int) (int, error) {
	type due struct {
		name, spec, zone, kind string
		payload                []byte
		next                   int64
	}
	n := 0
	err := q.db.WithTx(ctx, func(ctx context.Context) error {
		n = 0
		now := q.now()
		lock := ``
		if q.db.Kind == db.Postgres {
			lock = ` FOR UPDATE SKIP LOCKED`
		}
		rows, err := q.db.Query(ctx, `SELECT name, spec, timezone, kind, payload, next_run_at FROM job_schedules
			WHERE enabled = ? AND next_run_at <= ? ORDER BY next_run_at LIMIT ?`+lock, true, now.UnixMicro(), limit)
		if err != nil {
			return err
		}
		var list []due
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.name, &d.spec, &d.zone, &d.kind, &d.payload, &d.next); err != nil {
				rows.Close()
				return err
			}
			list = append(list, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range list {
			n++
			c, err := ParseCron(d.spec)
			var loc *time.Location
			if err == nil {
				loc, err = loadZone(d.zone)
			}
			var next time.Time
			if err == nil {
				if next = c.Next(now.In(loc)); next.IsZero() {
					err = errors.New("the schedule does not fire again")
				}
			}
			if err != nil { // written by hand or by an older version: stop it rather than loop
				q.log.Error("jobs: schedule disabled: bad spec or zone", slog.String("schedule", d.name),
					slog.String("error", err.Error()))
				if _, err := q.db.Exec(ctx, `UPDATE job_schedules SET enabled = ?, updated_at = ? WHERE name = ?`,
					false, now.UnixMicro(), d.name); err != nil {
					return err
				}
				continue
			}
			maxAttempts := DefaultMaxAttempts
			if h := q.handler(d.kind); h != nil {
				maxAttempts = h.opts.MaxAttempts
			}
			j, err := q.insert(ctx, Job{Kind: d.kind, Payload: d.payload, RunAt: now, MaxAttempts: maxAttempts,
				UniqueKey: scheduleKey(d.name)})
			if err != nil {
				return err
			}
			if _, err := q.db.Exec(ctx, `UPDATE job_schedules SET next_run_at = ?, last_run_at = ?, last_job_id = ?,
				updated_at = ? WHERE name = ? AND next_run_at = ?`,
				next.UnixMicro(), now.UnixMicro(), j.ID, now.UnixMicro(), d.name, d.next); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}
