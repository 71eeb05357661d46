package apitest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/engine/webhooks"
)

// TestWebhooksPurge: the daily purge (03:50) deletes succeeded deliveries
// last changed more than 30 days ago and dead ones more than 90 days ago,
// from the log and from the recycle bin, and audits each run that
// deleted something as one entry; pending, recent and replayed
// deliveries stay.
func TestWebhooksPurge(t *testing.T) {
	we := newWebhooksEnv(t)
	ctx := context.Background()
	if err := we.app.Webhooks.Start(ctx); err != nil {
		t.Fatal(err)
	}
	rc := newReceiver(t)
	we.allow(rc.hostPort())
	ok := we.webhook(map[string]any{"url": rc.srv.URL + "/ok", "events": []string{"created"}})["id"].(string)
	off := we.webhook(map[string]any{"url": rc.srv.URL + "/off", "events": []string{"created"}})["id"].(string)
	// Day 0, 09:00: three deals; off is switched off before its
	// deliveries are sent, so they die.
	for _, n := range []string{"a", "b", "c"} {
		we.deal("admin", map[string]any{"name": n})
	}
	we.admin.do("PATCH", "/api/v1/records/webhooks/"+off, map[string]any{"active": false}, nil).want(200)
	we.work()
	okDs, offDs := we.deliveries(ok), we.deliveries(off)
	if len(okDs) != 3 || len(offDs) != 3 || okDs[0]["status"] != "succeeded" || offDs[0]["status"] != "dead" {
		t.Fatalf("deliveries: %v / %v", okDs, offDs)
	}
	id := func(d map[string]any) string { return d["id"].(string) }
	// One succeeded delivery goes to the recycle bin; another is replayed
	// on day 10, which makes it recent again.
	we.admin.do("DELETE", "/api/v1/records/webhook_deliveries/"+id(okDs[0]), nil, nil).want(204)
	we.clock.Set(time.Date(2026, 11, 30, 9, 0, 0, 0, shanghai))
	we.admin.do("POST", "/api/v1/records/webhook_deliveries/"+id(okDs[2])+"/actions/replay", nil, nil).want(200)
	we.work()
	// Day 20: a new deal, delivered.
	we.clock.Set(time.Date(2026, 12, 10, 9, 0, 0, 0, shanghai))
	we.deal("admin", map[string]any{"name": "d"})
	we.work()

	purges := func() []map[string]any {
		t.Helper()
		var out []map[string]any
		for _, e := range we.admin.do("GET", "/api/v1/audit?entity=webhook_deliveries", nil, nil).want(200).items() {
			if e["action"] == "purged" {
				out = append(out, e)
			}
		}
		return out
	}
	ids := func(ds []map[string]any) []string {
		var out []string
		for _, d := range ds {
			out = append(out, id(d))
		}
		return out
	}
	trash := func() []map[string]any {
		return we.admin.do("GET", "/api/v1/records/webhook_deliveries?deleted=true", nil, nil).want(200).items()
	}

	// Every night until day 30 the purge runs and finds nothing.
	we.clock.Set(time.Date(2026, 12, 20, 4, 0, 0, 0, shanghai))
	we.work()
	if len(we.deliveries(ok)) != 3 || len(trash()) != 1 || len(we.deliveries(off)) != 3 || len(purges()) != 0 {
		t.Fatalf("purged too early: %v %v %v", ids(we.deliveries(ok)), trash(), purges())
	}
	// Day 31, 04:00: the succeeded deliveries of day 0 are older than 30
	// days: b's, and a's in the recycle bin; c's was replayed on day 10.
	we.clock.Set(time.Date(2026, 12, 21, 4, 0, 0, 0, shanghai))
	we.work()
	if got := ids(we.deliveries(ok)); fmt.Sprint(got) != fmt.Sprint([]string{id(okDs[2]), got[len(got)-1]}) || len(got) != 2 {
		t.Fatalf("after 30 days: %v (were %v)", got, ids(okDs))
	}
	if len(trash()) != 0 {
		t.Errorf("the recycle bin still holds %v", trash())
	}
	if len(we.deliveries(off)) != 3 {
		t.Errorf("dead deliveries purged after 30 days")
	}
	we.admin.do("GET", "/api/v1/records/webhook_deliveries/"+id(okDs[1]), nil, nil).want(404)
	we.admin.do("POST", "/api/v1/records/webhook_deliveries/"+id(okDs[1])+"/actions/replay", nil, nil).want(404)
	p := purges()
	if len(p) != 1 {
		t.Fatalf("audit: %v", p)
	}
	wantEntry(t, p[0], 2, "2026-11-21T04:00:00+08:00", 0, "2026-09-22T04:00:00+08:00")

	// Day 91: the dead ones go, and the succeeded ones of days 10 and 20;
	// the night after, nothing is left to purge and nothing is audited.
	we.clock.Set(time.Date(2027, 2, 19, 4, 0, 0, 0, shanghai))
	we.work()
	if ok, off := we.deliveries(ok), we.deliveries(off); len(ok) != 0 || len(off) != 0 {
		t.Fatalf("after 90 days: %v / %v", ids(ok), ids(off))
	}
	we.clock.Set(time.Date(2027, 2, 20, 4, 0, 0, 0, shanghai))
	we.work()
	if p = purges(); len(p) != 2 {
		t.Fatalf("audit: %v", p)
	}
	wantEntry(t, p[0], 2, "2027-01-20T04:00:00+08:00", 3, "2026-11-21T04:00:00+08:00") // newest first

	// The subscriptions themselves are untouched.
	we.admin.do("GET", "/api/v1/records/webhooks/"+ok, nil, nil).want(200)
	var schedules int
	if err := we.app.DB.QueryRow(ctx, `SELECT COUNT(*) FROM job_schedules WHERE name = ?`, webhooks.KindPurge).Scan(&schedules); err != nil || schedules != 1 {
		t.Errorf("schedule %d %v", schedules, err)
	}
}

// wantEntry checks a purge's audit entry: the counts and cut-offs of
// each status.
func wantEntry(t *testing.T, e map[string]any, succeeded int, succeededBefore string, dead int, deadBefore string) {
	t.Helper()
	ch, _ := e["changes"].(map[string]any)
	part := func(status string) (float64, string) {
		c, _ := ch[status].(map[string]any)
		n, _ := c["new"].(map[string]any)
		cnt, _ := n["deleted"].(float64)
		before, _ := n["updated_before"].(string)
		return cnt, before
	}
	sn, sb := part("succeeded")
	dn, db := part("dead")
	if e["entity"] != "webhook_deliveries" || e["source"] != "system" || e["record_id"] != "0" ||
		sn != float64(succeeded) || sb != succeededBefore || dn != float64(dead) || db != deadBefore {
		t.Errorf("audit entry %v", e)
	}
}
