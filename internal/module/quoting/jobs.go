package quoting

import (
	"context"

	"github.com/tenon-crm/tenon/internal/platform/jobs"
)

// JobExpire is the daily job that expires quotes past their validity.
const JobExpire = "quoting.expire"

// expireSpec runs it at 00:10 every day.
const expireSpec = "10 0 * * *"

// RegisterJobs registers the module's jobs on the queue.
func (m *Module) RegisterJobs(q *jobs.Queue) {
	q.Register(JobExpire, func(ctx context.Context, _ *jobs.Job) error {
		_, err := m.ExpireQuotes(ctx)
		return err
	}, jobs.HandlerOptions{})
}

// Schedule keeps the module's schedules.
func (m *Module) Schedule(ctx context.Context, q *jobs.Queue) error {
	_, err := q.UpsertSchedule(ctx, jobs.ScheduleDef{Name: JobExpire, Spec: expireSpec, Kind: JobExpire})
	return err
}
