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

// TestHousekeeping: the hourly job deletes expired sessions and stored
// idempotent responses older than a day, and keeps live ones.
func TestHousekeeping(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.as("admin")
	admin.do("POST", "/api/v1/records/regions", map[string]any{"code": "HK", "name": "香港"}, map[string]string{"Idempotency-Key": "fresh-1"}).want(201)
	d := e.app.DB
	old := time.Now().Add(-25 * time.Hour).UnixMicro()
	if _, err := d.Exec(ctx, `INSERT INTO idempotency_keys (user_id, key, request_hash, status, headers, body, created_at) VALUES (1, 'stale-1', 'x', 201, '{}', ?, ?)`, []byte("{}"), old); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(ctx, `INSERT INTO sessions (id, user_id, csrf, created_at, expires_at, last_seen_at, ip, user_agent) VALUES ('gone', 1, 'c', ?, ?, ?, '', '')`, old, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Jobs.Enqueue(ctx, "platform.housekeeping", nil, jobs.EnqueueOptions{}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.app.Jobs.RunDue(ctx); err != nil || n != 1 {
		t.Fatalf("ran %d jobs: %v", n, err)
	}
	count := func(q string) int {
		var n int
		if err := d.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if count(`SELECT COUNT(*) FROM idempotency_keys WHERE key = 'stale-1'`) != 0 || count(`SELECT COUNT(*) FROM sessions WHERE id = 'gone'`) != 0 {
		t.Fatal("expired rows left")
	}
	if count(`SELECT COUNT(*) FROM idempotency_keys WHERE key = 'fresh-1'`) != 1 {
		t.Fatal("a live idempotency key was deleted")
	}
	admin.do("GET", "/api/v1/auth/me", nil, nil).want(200) // a live session stays
}

// TestAdminManagesAllTokens: an administrator sees and revokes another
// administrator's API token; the scopes a token may have are listed.
func TestAdminManagesAllTokens(t *testing.T) {
	e := newEnv(t)
	admin := e.as("admin")
	roles := admin.do("GET", `/api/v1/records/roles?filter=name%20==%20"admin"`, nil, nil).want(200).items()
	ops := admin.do("POST", "/api/v1/records/users", map[string]any{"login": "ops", "name": "运维", "roles": []string{roles[0]["id"].(string)}}, nil).want(201).json()
	admin.do("POST", "/api/v1/records/users/"+ops["id"].(string)+"/actions/set_password", map[string]any{"password": "ops-pass-123"}, nil).want(204)
	opsClient := e.login("ops", "ops-pass-123")
	tok := opsClient.do("POST", "/api/v1/auth/tokens", map[string]any{"name": "erp", "scopes": []string{"records:read"}}, nil).want(201).json()
	bearer := map[string]string{"Authorization": "Bearer " + tok["token"].(string)}
	e.anon().do("GET", "/api/v1/records/regions", nil, bearer).want(200)

	if mine := admin.do("GET", "/api/v1/auth/tokens", nil, nil).want(200).json()["items"].([]any); len(mine) != 0 {
		t.Fatalf("admin's own list shows others' tokens: %v", mine)
	}
	all := admin.do("GET", "/api/v1/auth/tokens?user=all", nil, nil).want(200).json()["items"].([]any)
	if len(all) != 1 || all[0].(map[string]any)["user_id"] != ops["id"] {
		t.Fatalf("all tokens: %v", all)
	}
	admin.do("DELETE", "/api/v1/auth/tokens/"+tok["id"].(string), nil, nil).want(204)
	e.anon().do("GET", "/api/v1/records/regions", nil, bearer).want(401)
	if sc := e.as("rep.east").do("GET", "/api/v1/auth/scopes", nil, nil).want(200).json()["items"].([]any); len(sc) < 3 {
		t.Fatalf("scopes: %v", sc)
	}
}
