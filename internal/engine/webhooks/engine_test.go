package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
	"github.com/tenon-crm/tenon/internal/platform/expr"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
	"github.com/tenon-crm/tenon/internal/platform/schema"
)

// bare is the engine wired alone on a fresh database (SQLite, or
// PostgreSQL with TENON_TEST_POSTGRES), with an administrator and the
// custom entity "items".
type bare struct {
	e     *Engine
	recs  *records.Service
	q     *jobs.Queue
	d     *db.DB
	admin string
}

func newBare(t *testing.T, lim Limits) *bare {
	t.Helper()
	ctx := context.Background()
	dsn := dbtest.SQLite(t)
	if dbtest.PostgresURL() != "" {
		dsn = dbtest.Postgres(t, "tenon_webhooks_pkg")
	}
	d, err := db.Open(ctx, dsn, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Migrate(ctx, schema.Migrations()); err != nil {
		t.Fatal(err)
	}
	reg := meta.NewRegistry(d, meta.DefaultTypes(), func(src string, vars []string) (meta.Evaluator, error) {
		return expr.CompileProgram(src, vars)
	})
	for _, fsys := range []fs.FS{access.Entities, Entities} {
		if err := reg.AddBuiltin(fsys, "entities"); err != nil {
			t.Fatal(err)
		}
	}
	if err := reg.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := reg.SyncAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := reg.CreateEntity(ctx, &meta.Entity{Name: "items", Label: meta.Label{"zh-CN": "物品", "en": "Items"}, TitleField: "name",
		Fields: []meta.Field{{Name: "name", Type: "text", MaxLength: 500, Label: meta.Label{"en": "Name"}},
			{Name: "status", Type: "text", Label: meta.Label{"en": "Status"}}}}); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 20, 9, 0, 0, 0, meta.Shanghai) }
	rs := records.New(records.Config{DB: d, Registry: reg, Now: now})
	q, err := jobs.New(d, jobs.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	b := &bare{recs: rs, q: q, d: d}
	b.e = New(Config{DB: d, Records: rs, Access: access.New(d), Jobs: q, Now: now, Limits: lim})
	sys := access.System()
	role, err := rs.Create(ctx, sys, "roles", map[string]any{"name": "admin", "permissions": []any{}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := rs.Create(ctx, sys, "users", map[string]any{"login": "admin", "name": "Admin", "active": true,
		"roles": []any{strconv.FormatInt(role.ID(), 10)}})
	if err != nil {
		t.Fatal(err)
	}
	b.admin = strconv.FormatInt(u.ID(), 10)
	return b
}

// webhook creates an active subscription to items owned by the admin.
func (b *bare) webhook(ctx context.Context, events ...string) (records.Record, error) {
	evs := make([]any, len(events))
	for i, ev := range events {
		evs[i] = ev
	}
	return b.recs.Create(ctx, access.System(), Entity, map[string]any{"url": "https://erp.example.com/hook",
		"entity": "items", "events": evs, "owner": b.admin})
}

func (b *bare) deliveries(t *testing.T) []records.Record {
	t.Helper()
	res, err := b.recs.List(context.Background(), access.System(), DeliveryEntity, records.ListOptions{Sort: "id", PerPage: 500})
	if err != nil {
		t.Fatal(err)
	}
	return res.Items
}

// TestRolledBackSubscriptionNeverFires: a webhook created in a
// transaction fires for records written later in that transaction, but
// when the transaction rolls back nothing of it stays in the shared index;
// a committed one fires from then on.
func TestRolledBackSubscriptionNeverFires(t *testing.T) {
	b := newBare(t, Limits{})
	ctx := context.Background()
	sys := access.System()
	errRollback := errors.New("roll back")
	err := b.d.WithTx(ctx, func(ctx context.Context) error {
		if _, err := b.webhook(ctx, EventCreated); err != nil {
			return err
		}
		if _, err := b.recs.Create(ctx, sys, "items", map[string]any{"name": "in the transaction"}); err != nil {
			return err
		}
		var n int
		if err := b.d.QueryRow(ctx, `SELECT COUNT(*) FROM r_webhook_deliveries`).Scan(&n); err != nil || n != 1 {
			return fmt.Errorf("%d deliveries inside the transaction (%v)", n, err)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	if _, err := b.recs.Create(ctx, sys, "items", map[string]any{"name": "after the rollback"}); err != nil {
		t.Fatal(err)
	}
	if ds := b.deliveries(t); len(ds) != 0 {
		t.Fatalf("a rolled-back webhook fired: %v", ds)
	}
	if _, err := b.webhook(ctx, EventCreated, EventStageChanged); err != nil {
		t.Fatal(err)
	}
	it, err := b.recs.Create(ctx, sys, "items", map[string]any{"name": "after the commit"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.recs.Update(ctx, sys, "items", it.ID(), map[string]any{"status": "done"}, 0); err != nil {
		t.Fatal(err)
	}
	ds := b.deliveries(t)
	if len(ds) != 2 || ds[0]["event"] != EventCreated || ds[1]["event"] != EventStageChanged {
		t.Fatalf("deliveries %v", ds)
	}
	// A webhook on itself or on deliveries is refused; the engine's own
	// writes never make deliveries.
	for _, ent := range []string{Entity, DeliveryEntity} {
		if _, err := b.recs.Create(ctx, sys, Entity, map[string]any{"url": "https://erp.example.com/x", "entity": ent,
			"events": []any{"created"}, "owner": b.admin}); err == nil {
			t.Fatalf("a webhook on %s was accepted", ent)
		}
	}
}

// TestLargePayloadTruncated: a payload over Limits.MaxPayload keeps the
// record's id only and says so.
func TestLargePayloadTruncated(t *testing.T) {
	b := newBare(t, Limits{MaxPayload: 400})
	ctx := context.Background()
	if _, err := b.webhook(ctx, EventCreated); err != nil {
		t.Fatal(err)
	}
	small, err := b.recs.Create(ctx, access.System(), "items", map[string]any{"name": "small"})
	if err != nil {
		t.Fatal(err)
	}
	big, err := b.recs.Create(ctx, access.System(), "items", map[string]any{"name": strings.Repeat("大", 300)})
	if err != nil {
		t.Fatal(err)
	}
	ds := b.deliveries(t)
	var p0, p1 map[string]any
	if err := json.Unmarshal(ds[0]["payload"].(json.RawMessage), &p0); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(ds[1]["payload"].(json.RawMessage), &p1); err != nil {
		t.Fatal(err)
	}
	if p0["truncated"] != nil || p0["record"].(map[string]any)["name"] != "small" ||
		p0["record"].(map[string]any)["id"] != strconv.FormatInt(small.ID(), 10) {
		t.Fatalf("small: %v", p0)
	}
	if p1["truncated"] != true || fmt.Sprint(p1["record"]) != "map[id:"+strconv.FormatInt(big.ID(), 10)+"]" {
		t.Fatalf("big: %v", p1)
	}
}

// TestBody: the delivery id goes first into the stored payload, however
// the database spelled it.
func TestBody(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"event":"created","entity":"items"}`, `{"id":"7","event":"created","entity":"items"}`},
		{`{"event": "created", "record": {"id": "3"}}`, `{"id":"7","event": "created", "record": {"id": "3"}}`},
		{` { } `, `{"id":"7"}`},
		{``, `{"id":"7"}`},
	} {
		got := string(body("7", json.RawMessage(c.in)))
		if got != c.want {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("%q: invalid JSON %q", c.in, got)
		}
	}
}

// TestBackoff: doubling from the base up to the cap, less at most a tenth.
func TestBackoff(t *testing.T) {
	e := &Engine{limits: Limits{}.withDefaults()}
	for n, want := range map[int64]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 8: 64 * time.Minute,
		9: 2 * time.Hour, 30: 2 * time.Hour} {
		for range 20 {
			if d := e.backoff(n); d > want || d < want-want/10 {
				t.Fatalf("attempt %d: %v, want %v less at most a tenth", n, d, want)
			}
		}
	}
}

// TestEventsOf: which events a write is.
func TestEventsOf(t *testing.T) {
	for _, c := range []struct {
		op      records.Op
		changed []string
		want    string
	}{
		{records.OpCreate, []string{"name"}, "[created]"},
		{records.OpUpdate, []string{"name"}, "[updated]"},
		{records.OpUpdate, []string{"amount", "stage"}, "[updated stage_changed]"},
		{records.OpUpdate, []string{"status"}, "[updated stage_changed]"},
		{records.OpDelete, nil, "[deleted]"},
		{records.OpRestore, nil, "[restored]"},
	} {
		if got := fmt.Sprint(eventsOf(&records.Change{Op: c.op, Changed: c.changed})); got != c.want {
			t.Errorf("%s %v: %s, want %s", c.op, c.changed, got, c.want)
		}
	}
}

// TestStaleIndexNeverFailsAWrite: a webhook deleted by another process
// (here behind the index's back) is still in this process's index until
// the next check; a write meanwhile succeeds and sends nothing, and the
// check drops the webhook.
func TestStaleIndexNeverFailsAWrite(t *testing.T) {
	b := newBare(t, Limits{})
	ctx := context.Background()
	sys := access.System()
	h, err := b.webhook(ctx, EventCreated)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.recs.Create(ctx, sys, "items", map[string]any{"name": "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.d.Exec(ctx, `UPDATE r_webhooks SET deleted_at = updated_at, version = version + 1 WHERE id = ?`, h.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.recs.Create(ctx, sys, "items", map[string]any{"name": "b"}); err != nil {
		t.Fatalf("a write failed on a stale index: %v", err)
	}
	if ds := b.deliveries(t); len(ds) != 1 {
		t.Fatalf("%d deliveries", len(ds))
	}
	if err := b.e.subs.Check(ctx); err != nil {
		t.Fatal(err)
	}
	idx, err := b.e.subs.Get(ctx)
	if err != nil || len(idx.byEntity["items"]) != 0 {
		t.Fatalf("after the check: %v %v", idx.byEntity, err)
	}
}
