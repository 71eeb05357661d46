package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
	"github.com/tenon-crm/tenon/internal/platform/events"
	"github.com/tenon-crm/tenon/internal/platform/schema"
)

// TestSeqOrderIsCommitOrder holds one transaction open after its append
// while a second one appends and commits. A reader in between must not see
// the second change alone: once it had, its cursor would be past the first
// change, which commits later with a smaller seq.
func TestSeqOrderIsCommitOrder(t *testing.T) {
	if dbtest.PostgresURL() == "" {
		t.Skip("PostgreSQL only: SQLite's single writer cannot hold two write transactions")
	}
	ctx := context.Background()
	d, err := db.Open(ctx, dbtest.Postgres(t, "tenon_events"), db.Options{MaxReaders: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Migrate(ctx, schema.Migrations()); err != nil {
		t.Fatal(err)
	}
	o := events.New(d)
	change := func(id int64) events.Change {
		return events.Change{Entity: "deals", RecordID: id, Event: "created", Version: 1, At: time.Now()}
	}

	release := make(chan struct{})
	appended := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- d.WithTx(ctx, func(ctx context.Context) error {
			if err := o.Append(ctx, change(1)); err != nil {
				return err
			}
			return db.BeforeCommit(ctx, func(ctx context.Context) error { // after the append, before COMMIT
				close(appended)
				<-release
				return nil
			})
		})
	}()
	<-appended
	second := make(chan error, 1)
	go func() {
		second <- d.WithTx(ctx, func(ctx context.Context) error { return o.Append(ctx, change(2)) })
	}()
	time.Sleep(300 * time.Millisecond) // give the second transaction every chance to commit first
	early, err := o.Since(ctx, events.Cursor{}, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	var cursor events.Cursor
	for _, c := range early {
		cursor = events.CursorOf(c)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	// The feed also waits for older transactions of other tests on the
	// same server: read on until both changes are in (or give up).
	got := map[int64]bool{}
	for _, c := range early {
		got[c.RecordID] = true
	}
	for i := 0; i < 400 && !(got[1] && got[2]); i++ {
		late, err := o.Since(ctx, cursor, nil, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range late {
			got[c.RecordID] = true
			cursor = events.CursorOf(c)
		}
		if !(got[1] && got[2]) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !got[1] || !got[2] {
		t.Fatalf("a reader following the cursor saw %v, want both changes", got)
	}
}
