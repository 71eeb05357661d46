package jobs_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
)

// at is a wall time in Shanghai.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation(time.DateTime, s, shanghai(t))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func getSchedule(t *testing.T, q *jobs.Queue, name string) jobs.Schedule {
	t.Helper()
	all, err := q.ListSchedules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no schedule %s", name)
	return jobs.Schedule{}
}

func TestUpsertSchedule(t *testing.T) {
	dbtest.ForEach(t, "tenon_jobs", func(t *testing.T, dsn string) {
		ctx := context.Background()
		clk := newClock()
		clk.Set(at(t, "2026-03-09 10:02:00"))
		q := newQueue(t, openDB(t, dsn), jobs.Options{Now: clk.Now})
		q.Register("reports.mail", ok, jobs.HandlerOptions{})

		s, err := q.UpsertSchedule(ctx, jobs.ScheduleDef{Name: "dashboard-mail", Spec: "0 8 * * 1-5", Kind: "reports.mail",
			Payload: map[string]int{"dashboard": 3}})
		if err != nil {
			t.Fatal(err)
		}
		if !s.NextRunAt.Equal(at(t, "2026-03-10 08:00:00")) || !s.Enabled || s.Timezone != "Asia/Shanghai" ||
			string(s.Payload) != `{"dashboard": 3}` && string(s.Payload) != `{"dashboard":3}` {
			t.Fatalf("created: %+v", s)
		}

		// Upserting the same definition later keeps the next run (a
		// restart must not push a due run away).
		clk.Set(at(t, "2026-03-10 09:00:00"))
		s, err = q.UpsertSchedule(ctx, jobs.ScheduleDef{Name: "dashboard-mail", Spec: "0 8 * * 1-5", Kind: "reports.mail",
			Payload: map[string]int{"dashboard": 4}})
		if err != nil || !s.NextRunAt.Equal(at(t, "2026-03-10 08:00:00")) || string(s.Payload) == `{"dashboard":3}` {
			t.Fatalf("same spec upserted: %+v, %v", s, err)
		}
		// A new spec moves it.
		s, err = q.UpsertSchedule(ctx, jobs.ScheduleDef{Name: "dashboard-mail", Spec: "@daily", Kind: "reports.mail"})
		if err != nil || !s.NextRunAt.Equal(at(t, "2026-03-11 00:00:00")) || s.Spec != "@daily" {
			t.Fatalf("new spec: %+v, %v", s, err)
		}
		// Another zone.
		s, err = q.UpsertSchedule(ctx, jobs.ScheduleDef{Name: "dashboard-mail", Spec: "@daily", Kind: "reports.mail", Timezone: "UTC"})
		if err != nil || !s.NextRunAt.Equal(time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("UTC: %+v, %v", s, err)
		}

		// A disabled schedule does not fire; enabling it again starts from now.
		if _, err := q.UpsertSchedule(ctx, jobs.ScheduleDef{Name: "dashboard-mail", Spec: "@daily", Kind: "reports.mail", Timezone: "UTC", Disabled: true}); err != nil {
			t.Fatal(err)
		}
		clk.Set(at(t, "2026-03-20 12:00:00"))
		if n, err := q.RunDue(ctx); err != nil || n != 0 {
			t.Fatalf("disabled schedule ran %d jobs, %v", n, err)
		}
		s, err = q.UpsertSchedule(ctx, jobs.ScheduleDef{Name: "dashboard-mail", Spec: "@daily", Kind: "reports.mail", Timezone: "UTC"})
		if err != nil || !s.Enabled || !s.NextRunAt.Equal(time.Date(2026, 3, 21, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("re-enabled: %+v, %v", s, err)
		}

		for _, bad := range []jobs.ScheduleDef{
			{Name: "", Spec: "@daily", Kind: "reports.mail"},
			{Name: "x", Spec: "@daily", Kind: "reports.nope"},
			{Name: "x", Spec: "61 * * * *", Kind: "reports.mail"},
			{Name: "x", Spec: "@daily", Kind: "reports.mail", Timezone: "Mars/Olympus"},
		} {
			if _, err := q.UpsertSchedule(ctx, bad); !errors.Is(err, apperr.ErrInvalid) {
				t.Errorf("UpsertSchedule(%+v): %v, want invalid", bad, err)
			}
		}
		if err := q.DeleteSchedule(ctx, "dashboard-mail"); err != nil {
			t.Fatal(err)
		}
		if err := q.DeleteSchedule(ctx, "dashboard-mail"); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("second delete: %v, want not found", err)
		}
		if all, err := q.ListSchedules(ctx); err != nil || len(all) != 0 {
			t.Fatalf("after delete: %v, %v", all, err)
		}
	})
}

// TestScheduleOnceAcrossInstances: two processes look at a due schedule at
// the same moment, several times; one job is enqueued per due time.
func TestScheduleOnceAcrossInstances(t *testing.T) {
	dbtest.ForEach(t, "tenon_jobs", func(t *testing.T, dsn string) {
		ctx := context.Background()
		clk := newClock()
		clk.Set(at(t, "2026-03-09 01:00:00"))
		var runs atomic.Int32
		var qs []*jobs.Queue
		for _, owner := range []string{"a", "b"} {
			q := newQueue(t, openDB(t, dsn), jobs.Options{Now: clk.Now, Owner: owner})
			q.Register("crm.recompute", func(ctx context.Context, j *jobs.Job) error { runs.Add(1); return nil },
				jobs.HandlerOptions{InTx: true})
			qs = append(qs, q)
		}
		if _, err := qs[0].UpsertSchedule(ctx, jobs.ScheduleDef{Name: "nightly", Spec: "0 2 * * *", Kind: "crm.recompute"}); err != nil {
			t.Fatal(err)
		}
		round := func() {
			var wg sync.WaitGroup
			for _, q := range qs {
				for range 3 {
					wg.Go(func() {
						if _, err := q.RunDue(ctx); err != nil {
							t.Error(err)
						}
					})
				}
			}
			wg.Wait()
		}
		round()
		if runs.Load() != 0 {
			t.Fatal("the schedule fired before its time")
		}
		clk.Set(at(t, "2026-03-09 02:00:30"))
		round()
		if runs.Load() != 1 {
			t.Fatalf("one due time ran %d jobs", runs.Load())
		}
		s := getSchedule(t, qs[1], "nightly")
		if !s.NextRunAt.Equal(at(t, "2026-03-10 02:00:00")) || s.LastRunAt == nil || !s.LastRunAt.Equal(clk.Now()) || s.LastJobID == 0 {
			t.Fatalf("after firing: %+v", s)
		}
		if j := mustGet(t, qs[0], s.LastJobID); j.Kind != "crm.recompute" || j.Status != jobs.StatusDone || j.UniqueKey != "schedule:nightly" {
			t.Fatalf("the schedule's job: %+v", j)
		}
		clk.Set(at(t, "2026-03-10 02:01:00"))
		round()
		if runs.Load() != 2 {
			t.Fatalf("two due times ran %d jobs", runs.Load())
		}
	})
}

// TestMissedRunsCollapse: a schedule missed for an hour while every
// process was down runs once when one starts, not once per missed slot.
func TestMissedRunsCollapse(t *testing.T) {
	dbtest.ForEach(t, "tenon_jobs", func(t *testing.T, dsn string) {
		ctx := context.Background()
		clk := newClock()
		clk.Set(at(t, "2026-03-09 10:02:00"))
		register := func(q *jobs.Queue, runs *atomic.Int32) {
			q.Register("crm.pool-recycle", func(ctx context.Context, j *jobs.Job) error { runs.Add(1); return nil },
				jobs.HandlerOptions{InTx: true})
		}
		d1, close1 := openClosableDB(t, dsn)
		var before atomic.Int32
		q1 := newQueue(t, d1, jobs.Options{Now: clk.Now})
		register(q1, &before)
		if _, err := q1.UpsertSchedule(ctx, jobs.ScheduleDef{Name: "recycle", Spec: "*/5 * * * *", Kind: "crm.pool-recycle"}); err != nil {
			t.Fatal(err)
		}
		close1() // everything down

		clk.Set(at(t, "2026-03-09 11:03:00")) // 12 slots missed
		var after atomic.Int32
		q2 := newQueue(t, openDB(t, dsn), jobs.Options{Now: clk.Now, Poll: 20 * time.Millisecond})
		register(q2, &after)
		// The built-in schedules are upserted on every start: that must not
		// skip the missed run.
		if _, err := q2.UpsertSchedule(ctx, jobs.ScheduleDef{Name: "recycle", Spec: "*/5 * * * *", Kind: "crm.pool-recycle"}); err != nil {
			t.Fatal(err)
		}
		stop := runQueue(t, q2)
		eventually(t, "the missed run", func() bool { return after.Load() >= 1 })
		for range 3 { // more looks at the schedule add nothing
			if n, err := q2.RunDue(ctx); err != nil || n != 0 {
				t.Fatalf("RunDue after the missed run: %d, %v", n, err)
			}
		}
		stop()
		if after.Load() != 1 {
			t.Fatalf("missed runs ran %d times, want once", after.Load())
		}
		if s := getSchedule(t, q2, "recycle"); !s.NextRunAt.Equal(at(t, "2026-03-09 11:05:00")) {
			t.Fatalf("next run %v, want 11:05", s.NextRunAt.In(shanghai(t)))
		}
	})
}

// TestScheduleWaitsForPendingJob: while the job of a schedule's last
// firing is still queued (waiting to retry), the next firing adds none.
func TestScheduleWaitsForPendingJob(t *testing.T) {
	dbtest.ForEach(t, "tenon_jobs", func(t *testing.T, dsn string) {
		ctx := context.Background()
		clk := newClock()
		q := newQueue(t, openDB(t, dsn), jobs.Options{Now: clk.Now})
		q.Register("reports.mail", func(ctx context.Context, j *jobs.Job) error { return errors.New("smtp down") },
			jobs.HandlerOptions{BackoffBase: time.Hour})
		if _, err := q.UpsertSchedule(ctx, jobs.ScheduleDef{Name: "m", Spec: "* * * * *", Kind: "reports.mail"}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		if n, err := q.RunDue(ctx); err != nil || n != 1 {
			t.Fatalf("first firing: %d, %v", n, err)
		}
		first := getSchedule(t, q, "m").LastJobID
		clk.Advance(time.Minute)
		if n, err := q.RunDue(ctx); err != nil || n != 0 {
			t.Fatalf("second firing ran %d, %v; want none (the first job waits to retry)", n, err)
		}
		s := getSchedule(t, q, "m")
		if s.LastJobID != first {
			t.Fatalf("second firing enqueued job %d, want the pending %d", s.LastJobID, first)
		}
		if p, _ := q.List(ctx, jobs.Filter{Kind: "reports.mail"}); len(p.Jobs) != 1 {
			t.Fatalf("%d jobs, want 1", len(p.Jobs))
		}
	})
}
