package records

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/audit"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/events"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// batchFixture is the records service with the outbox on a fresh database
// (SQLite, or PostgreSQL with TENON_TEST_POSTGRES) and a fixed clock, with
// an entity leads: searchable text, a unique e-mail, a formula, tags and a
// sub-table. Its hooks log what they see, and some of them read and write
// the database in the middle of the creates.
type batchFixture struct {
	s   *Service
	d   *db.DB
	log []string // what the hooks saw, and the subscribers were told
}

func newBatchFixture(t *testing.T) *batchFixture {
	t.Helper()
	ctx := context.Background()
	d, reg := openTestRegistry(t, "tenon_records_batch")
	lbl := meta.Label{"en": "x"}
	if err := reg.CreateEntity(ctx, &meta.Entity{Name: "leads", Label: lbl, TitleField: "title", Fields: []meta.Field{
		{Name: "title", Type: "text", Label: lbl},
		{Name: "email", Type: "email", Unique: true, Label: lbl},
		{Name: "note", Type: "text", Label: lbl},
		{Name: "amount", Type: "decimal", Label: lbl},
		{Name: "score", Type: "formula", Expression: "amount * 2", ResultType: "decimal", Label: lbl},
		{Name: "tags", Type: "tags", Label: lbl},
		{Name: "lines", Type: "subtable", Label: lbl, Fields: []meta.Field{{Name: "item", Type: "text", Label: lbl}}},
	}}); err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	ob := events.New(d)
	f := &batchFixture{d: d}
	f.s = New(Config{DB: d, Registry: reg, Outbox: ob, Now: func() time.Time { return clock }})
	ob.Subscribe(func(c events.Change) {
		f.log = append(f.log, fmt.Sprintf("told %d: %s %d %s", c.Seq, c.Entity, c.RecordID, c.Event))
	})
	count := func(ctx context.Context) int {
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM r_leads").Scan(&n); err != nil {
			t.Error(err)
		}
		return n
	}
	f.s.Use("leads", Hook{
		Before: func(ctx context.Context, c *Change) error {
			title, _ := c.New["title"].(string)
			if strings.HasSuffix(title, "!") {
				c.New["note"] = "loud"
			}
			if strings.HasPrefix(title, "count") { // reads what the earlier creates wrote
				f.log = append(f.log, fmt.Sprintf("before %s: %d leads", title, count(ctx)))
			}
			return nil
		},
		After: func(ctx context.Context, c *Change) error {
			f.log = append(f.log, fmt.Sprintf("after %s: id %d", c.New["title"], c.New.ID()))
			if title, _ := c.New["title"].(string); strings.HasPrefix(title, "write") {
				// A write of its own between two creates, and a read of
				// the record just created.
				if err := audit.Write(ctx, d, audit.Entry{Entity: "leads", RecordID: c.New.ID(), Action: "hooked", Version: 1,
					Source: "hook", At: clock, Changes: map[string]audit.Change{}}); err != nil {
					return err
				}
				if err := ob.Append(ctx, events.Change{Entity: "leads", RecordID: c.New.ID(), Event: "hooked", Version: 1, At: clock}); err != nil {
					return err
				}
				got, err := f.s.Get(ctx, access.System(), "leads", c.New.ID(), GetOptions{})
				if err != nil {
					return err
				}
				f.log = append(f.log, fmt.Sprintf("read %d: %v %v", got.ID(), got["title"], got["score"]))
			}
			return nil
		},
	})
	return f
}

// batchInputs are the creates both runs make: plain rows, rows whose
// before hook reads and whose after hook writes, rows with sub-table rows.
func batchInputs(n int) []map[string]any {
	var out []map[string]any
	for i := range n {
		title := fmt.Sprintf("lead %d", i)
		switch {
		case i%9 == 4:
			title = fmt.Sprintf("count %d", i)
		case i%7 == 5:
			title = fmt.Sprintf("write %d", i)
		case i%5 == 0:
			title += "!"
		}
		in := map[string]any{"title": title, "email": fmt.Sprintf("l%d@example.com", i), "amount": fmt.Sprintf("%d.25", i),
			"tags": []any{"t" + fmt.Sprint(i%3)}}
		if i%11 == 3 {
			in["lines"] = []any{map[string]any{"item": "a"}, map[string]any{"item": fmt.Sprint(i)}}
		}
		out = append(out, in)
	}
	return out
}

// state is everything a reader can see after the writes: the records, the
// audit log, the outbox rows, the change feed, search results and the log.
func (f *batchFixture) state(t *testing.T) map[string]any {
	t.Helper()
	ctx := context.Background()
	sys := access.System()
	list, err := f.s.List(ctx, sys, "leads", ListOptions{Sort: "id", PerPage: 500, Count: CountNone})
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for _, r := range list.Items {
		full, err := f.s.Get(ctx, sys, "leads", r.ID(), GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, full)
	}
	rows := func(q string) [][]any {
		rs, err := f.d.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		cols, _ := rs.Columns()
		var out [][]any
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					vals[i] = string(b)
				}
			}
			out = append(out, vals)
		}
		return out
	}
	outbox := rows(`SELECT seq, entity, record_id, event, version, actor, at, changes FROM outbox ORDER BY seq`)
	// On PostgreSQL the feed shows a transaction's rows once every older
	// transaction of the server has ended (see events.Cursor).
	var feed *FeedPage
	for {
		var err error
		if feed, err = f.s.Changes(ctx, sys, "", nil, 1000); err != nil {
			t.Fatal(err)
		}
		if len(feed.Items) >= len(outbox) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	found, err := f.s.List(ctx, sys, "leads", ListOptions{Q: "ead 1", Sort: "id", PerPage: 500, Count: CountNone})
	if err != nil {
		t.Fatal(err)
	}
	var hits []int64
	for _, r := range found.Items {
		hits = append(hits, r.ID())
	}
	feedJSON, _ := json.Marshal(feed.Items)
	return map[string]any{
		"records":  recs,
		"children": rows(`SELECT id, parent_id, position, item FROM r_leads__lines ORDER BY id`),
		"audit":    rows(`SELECT id, entity, record_id, action, version, actor, token_id, source, at, changes FROM audit_log ORDER BY id`),
		"outbox":   outbox,
		"feed":     string(feedJSON),
		"search":   hits,
		"log":      f.log,
	}
}

// TestBatchCreatesAsSingle: creates batched with WithBatch leave exactly
// what the same creates made one by one leave — records and their ids,
// sub-table rows, the audit log, the outbox and the change feed in the
// same order, search — and hooks and subscribers see the same things in
// the same order, including hooks that read and write between creates.
func TestBatchCreatesAsSingle(t *testing.T) {
	const n = 40
	run := func(t *testing.T, batched bool) map[string]any {
		f := newBatchFixture(t)
		ctx := context.Background()
		sys := access.System().WithSource(access.SourceImport)
		deferred := 0
		err := f.d.WithTx(ctx, func(ctx context.Context) error {
			f.log = f.log[:0]
			cctx := ctx
			if batched {
				cctx = WithBatch(ctx, "leads", n)
			}
			for i, in := range batchInputs(n) {
				rec, err := f.s.Create(cctx, sys, "leads", in)
				if err != nil {
					return fmt.Errorf("row %d: %w", i, err)
				}
				f.log = append(f.log, fmt.Sprintf("created %d: %v", rec.ID(), rec["score"]))
				if w, ok := db.TxValue(ctx, writesKey{}).(*writes); ok && len(w.changes) > 0 {
					deferred++
				}
			}
			// A change and a create that are not batched, after them.
			if _, err := f.s.Update(ctx, sys, "leads", 3, map[string]any{"note": "changed"}, 0); err != nil {
				return err
			}
			_, err := f.s.Create(ctx, sys, "leads", map[string]any{"title": "after", "email": "after@example.com"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if batched && deferred < n/2 {
			t.Errorf("only %d of %d creates were put off", deferred, n)
		}
		return f.state(t)
	}
	single, batched := run(t, false), run(t, true)
	if len(single["records"].([]Record)) != n+1 {
		t.Fatalf("%d records", len(single["records"].([]Record)))
	}
	for k := range single {
		if !reflect.DeepEqual(single[k], batched[k]) {
			t.Errorf("%s differ:\nsingle  %v\nbatched %v", k, single[k], batched[k])
		}
	}
}

// TestBatchCreateRefused: a batched create whose row the database refuses
// (a unique value taken) fails the savepoint it is in, when its writes are
// flushed, with the conflict naming the field; nothing of the batch
// stays, and the transaction goes on.
func TestBatchCreateRefused(t *testing.T) {
	f := newBatchFixture(t)
	ctx := context.Background()
	sys := access.System()
	var n int
	err := f.d.WithTx(ctx, func(ctx context.Context) error {
		err := f.d.Savepoint(ctx, func(ctx context.Context) error {
			bctx := WithBatch(ctx, "leads", 5)
			for i := range 5 {
				email := fmt.Sprintf("r%d@example.com", i)
				if i == 3 {
					email = "r1@example.com"
				}
				if _, err := f.s.Create(bctx, sys, "leads", map[string]any{"title": fmt.Sprint("row ", i), "email": email}); err != nil {
					return fmt.Errorf("create %d: %w", i, err)
				}
			}
			return nil
		})
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != "unique_violation" || ae.Args["field"] != "email" {
			return fmt.Errorf("savepoint: %v", err)
		}
		if err := f.d.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM r_leads) + (SELECT COUNT(*) FROM audit_log WHERE entity = 'leads') +
			(SELECT COUNT(*) FROM outbox WHERE entity = 'leads')`).Scan(&n); err != nil {
			return err
		}
		_, err = f.s.Create(WithBatch(ctx, "leads", 1), sys, "leads", map[string]any{"title": "next", "email": "r1@example.com"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d rows of the refused batch stayed", n)
	}
	var title string
	if err := f.d.QueryRow(ctx, "SELECT title FROM r_leads").Scan(&title); err != nil || title != "next" {
		t.Fatalf("after the refusal: %q %v", title, err)
	}
}

// TestDeferredFailureIgnored: a deferred write that fails while a
// statement flushes it fails the savepoint even when whoever ran that
// statement ignores the error.
func TestDeferredFailureIgnored(t *testing.T) {
	f := newBatchFixture(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := f.d.WithTx(ctx, func(ctx context.Context) error {
		err := f.d.Savepoint(ctx, func(ctx context.Context) error {
			if err := db.Defer(ctx, func(context.Context) error { return boom }); err != nil {
				return err
			}
			var one int
			_ = f.d.QueryRow(ctx, "SELECT 1").Scan(&one) // the flush fails here, unseen
			return nil
		})
		if !errors.Is(err, boom) {
			return fmt.Errorf("savepoint: %v", err)
		}
		var one int
		return f.d.QueryRow(ctx, "SELECT 1").Scan(&one)
	})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatal(err)
	}
}
