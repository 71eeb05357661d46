package webhooks

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/audit"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// TestPurgeJob: in batches, succeeded deliveries older than KeepSucceeded
// and dead ones older than KeepDead go; recent ones, and pending and
// failed ones however old, stay. The audit entry sums the run, including
// what an interrupted earlier run had purged.
func TestPurgeJob(t *testing.T) {
	b := newBare(t, Limits{PurgeBatch: 2})
	ctx := context.Background()
	if _, err := b.webhook(ctx, EventCreated); err != nil {
		t.Fatal(err)
	}
	now := b.e.now()
	day := 24 * time.Hour
	states := []struct {
		status string
		age    time.Duration
		purged bool
	}{
		{StatusSucceeded, 31 * day, true},
		{StatusSucceeded, 30*day + time.Second, true},
		{StatusSucceeded, 40 * day, true},
		{StatusSucceeded, 30*day - time.Second, false},
		{StatusDead, 91 * day, true},
		{StatusDead, 60 * day, false},
		{StatusFailed, 200 * day, false},
		{StatusPending, 200 * day, false},
	}
	var kept []int64
	for i, s := range states {
		it, err := b.recs.Create(ctx, access.System(), "items", map[string]any{"name": "item"})
		if err != nil {
			t.Fatal(err)
		}
		ds := b.deliveries(t)
		if len(ds) != i+1 || ds[i]["record_id"] != strconv.FormatInt(it.ID(), 10) {
			t.Fatalf("deliveries %v", ds)
		}
		// Age the delivery behind the engine's back.
		if _, err := b.d.Exec(ctx, `UPDATE r_webhook_deliveries SET status = ?, updated_at = ? WHERE id = ?`,
			s.status, meta.TimeToDB(b.d.Dialect, now.Add(-s.age)), ds[i].ID()); err != nil {
			t.Fatal(err)
		}
		if !s.purged {
			kept = append(kept, ds[i].ID())
		}
	}
	// An earlier run stopped after purging some.
	if _, err := b.d.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)`, purgeKey, `{"succeeded": 5, "dead": 1}`); err != nil {
		t.Fatal(err)
	}
	if err := b.e.purgeJob(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var left []int64
	for _, d := range b.deliveries(t) {
		left = append(left, d.ID())
	}
	if !slices.Equal(left, kept) {
		t.Fatalf("left %v, want %v", left, kept)
	}
	entries, err := audit.Find(ctx, b.d, audit.Query{Entity: DeliveryEntity})
	if err != nil {
		t.Fatal(err)
	}
	var purges []audit.Entry
	for _, e := range entries {
		if e.Action == "purged" {
			purges = append(purges, e)
		}
	}
	if len(purges) != 1 {
		t.Fatalf("%d purge entries", len(purges))
	}
	got, _ := json.Marshal(purges[0].Changes)
	want := `{"dead":{"old":null,"new":{"deleted":2,"updated_before":"2026-08-22T09:00:00+08:00"}},` +
		`"succeeded":{"old":null,"new":{"deleted":8,"updated_before":"2026-10-21T09:00:00+08:00"}}}`
	if string(got) != want || purges[0].Source != access.SourceSystem || purges[0].RecordID != 0 || !purges[0].At.Equal(now) {
		t.Fatalf("entry %+v\n%s\nwant %s", purges[0], got, want)
	}
	if _, found, err := b.e.purgeCounts(ctx); found || err != nil {
		t.Fatalf("the counts row stayed: %v", err)
	}
	// Nothing left to purge: nothing audited.
	if err := b.e.purgeJob(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if entries2, err := audit.Find(ctx, b.d, audit.Query{Entity: DeliveryEntity}); err != nil || len(entries2) != len(entries) {
		t.Fatalf("a run with nothing to purge wrote %d entries (%v)", len(entries2)-len(entries), err)
	}
}
