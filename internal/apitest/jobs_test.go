package apitest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/jobs"
)

// TestJobsAdmin: administrators see the queue, its statistics and
// schedules, and cancel or retry jobs; nobody else does.
func TestJobsAdmin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.app.Jobs.Register("test.noop", func(ctx context.Context, j *jobs.Job) error { return nil }, jobs.HandlerOptions{})
	j, err := e.app.Jobs.Enqueue(ctx, "test.noop", map[string]any{"n": 1}, jobs.EnqueueOptions{Delay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	id := jobIDString(j)
	admin := e.as("admin")
	page := admin.do("GET", "/api/v1/jobs?status=queued", nil, nil).want(200).json()
	if list := page["jobs"].([]any); len(list) != 1 || list[0].(map[string]any)["id"] != id {
		t.Fatalf("queued jobs: %v", page)
	}
	admin.do("GET", "/api/v1/jobs/stats", nil, nil).want(200)
	admin.do("GET", "/api/v1/jobs/schedules", nil, nil).want(200)
	admin.do("GET", "/api/v1/jobs/"+id, nil, nil).want(200)
	admin.do("GET", "/api/v1/jobs/999999", nil, nil).want(404)
	admin.do("GET", "/api/v1/jobs?status=bogus", nil, nil).want(400)
	admin.do("POST", "/api/v1/jobs/"+id+"/retry", nil, nil).want(409) // only dead or failed jobs
	if got := admin.do("POST", "/api/v1/jobs/"+id+"/cancel", nil, nil).want(200).json()["status"]; got != "cancelled" {
		t.Fatalf("cancel gave %v", got)
	}
	rep := e.as("rep.east")
	rep.do("GET", "/api/v1/jobs", nil, nil).want(403)
	rep.do("POST", "/api/v1/jobs/"+id+"/retry", nil, nil).want(403)
}

func jobIDString(j jobs.Job) string { return strconv.FormatInt(j.ID, 10) }
