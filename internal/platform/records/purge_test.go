package records

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
	"github.com/tenon-crm/tenon/internal/platform/files"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// purgeFixture is the records service alone on a fresh database (SQLite,
// or PostgreSQL with TENON_TEST_POSTGRES) with the files service and an
// entity notes: a searchable title, a status, an attachment and a
// sub-table of lines that hold files too.
type purgeFixture struct {
	s     *Service
	d     *db.DB
	files *files.Service
}

func newPurgeFixture(t testing.TB) *purgeFixture {
	t.Helper()
	ctx := context.Background()
	d, reg := openTestRegistry(t, "tenon_records_purge")
	lbl := meta.Label{"en": "x"}
	if err := reg.CreateEntity(ctx, &meta.Entity{Name: "notes", Label: lbl, TitleField: "title", Fields: []meta.Field{
		{Name: "title", Type: "text", Label: lbl},
		{Name: "status", Type: "select", Label: lbl, Options: []meta.Option{{Value: "open"}, {Value: "done"}}},
		{Name: "attachment", Type: "file", Label: lbl},
		{Name: "lines", Type: "subtable", Label: lbl, Fields: []meta.Field{
			{Name: "item", Type: "text", Label: lbl}, {Name: "doc", Type: "file", Label: lbl}}},
	}}); err != nil {
		t.Fatal(err)
	}
	st, err := files.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fs := files.NewService(d, st, files.Limits{}, nil)
	return &purgeFixture{s: New(Config{DB: d, Registry: reg, Files: fs}), d: d, files: fs}
}

func (f *purgeFixture) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.d.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// found lists the ids a search for q finds (as the system).
func (f *purgeFixture) found(t *testing.T, q string) []int64 {
	t.Helper()
	res, err := f.s.List(context.Background(), access.System(), "notes", ListOptions{Q: q, Sort: "id", PerPage: 100, Count: CountNone})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range res.Items {
		ids = append(ids, r.ID())
	}
	return ids
}

// TestPurge: matching records go for good in id order and in batches,
// with their sub-table rows, search entries, shares and file references;
// the others, and the audit trail, stay.
func TestPurge(t *testing.T) {
	f := newPurgeFixture(t)
	ctx := context.Background()
	sys := access.System()
	upload := func(name string) string {
		fl, err := f.files.Upload(ctx, name, strings.NewReader("%PDF-1.4 "+name), 0)
		if err != nil {
			t.Fatal(err)
		}
		return fl.ID
	}
	ids := map[string]int64{}
	fileOf := map[string]string{}
	note := func(name, status string) {
		fileOf[name] = upload(name + ".pdf")
		rec, err := f.s.Create(ctx, sys, "notes", map[string]any{"title": "苏州精密 " + name, "status": status,
			"attachment": fileOf[name], "lines": []any{map[string]any{"item": "a"}, map[string]any{"item": "b", "doc": upload(name + "-line.pdf")}}})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = rec.ID()
		if _, err := f.d.Exec(ctx, `INSERT INTO record_shares (entity, record_id, user_id, access, created_at) VALUES ('notes', ?, 99, 'read', 0)`,
			rec.ID()); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []struct{ name, status string }{{"n1", "done"}, {"n2", "done"}, {"n3", "open"}, {"n4", "done"}, {"n5", "open"}} {
		note(n.name, n.status)
	}
	if err := f.s.Delete(ctx, sys, "notes", ids["n4"], 0); err != nil { // in the recycle bin: purged too
		t.Fatal(err)
	}
	// The indexer has passed n1…n5; n6 is above the watermark (SQLite).
	if err := f.s.CatchUpSearch(ctx, nil); err != nil {
		t.Fatal(err)
	}
	note("n6", "done")
	audits := f.count(t, `SELECT COUNT(*) FROM audit_log WHERE entity = 'notes'`)
	if got := f.found(t, "苏州精密"); len(got) != 5 {
		t.Fatalf("before: found %v", got)
	}

	// Batches of two: n1 n2, then n4 n6 (Next set: the batch was full),
	// then nothing.
	want := [][]int64{{ids["n1"], ids["n2"]}, {ids["n4"], ids["n6"]}, nil}
	var after int64
	for i, w := range want {
		res, err := f.s.Purge(ctx, sys, "notes", PurgeOptions{Filter: `status == "done"`, After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.IDs, w) {
			t.Fatalf("batch %d: %v, want %v", i, res.IDs, w)
		}
		if i < 2 && res.Next != w[1] || i == 2 && res.Next != 0 {
			t.Fatalf("batch %d: next %d", i, res.Next)
		}
		after = res.Next
	}
	kept := []int64{ids["n3"], ids["n5"]}
	if n := f.count(t, `SELECT COUNT(*) FROM r_notes`); n != 2 {
		t.Errorf("%d rows left", n)
	}
	if n := f.count(t, `SELECT COUNT(*) FROM r_notes__lines`); n != 4 {
		t.Errorf("%d sub-table rows left, want the 4 of n3 and n5", n)
	}
	if n := f.count(t, `SELECT COUNT(*) FROM r_notes__lines WHERE parent_id NOT IN (?, ?)`, kept[0], kept[1]); n != 0 {
		t.Errorf("%d orphan sub-table rows", n)
	}
	if n := f.count(t, `SELECT COUNT(*) FROM record_shares WHERE entity = 'notes'`); n != 2 {
		t.Errorf("%d shares left", n)
	}
	if n := f.count(t, `SELECT COUNT(*) FROM file_refs WHERE entity = 'notes'`); n != 4 {
		t.Errorf("%d file references left, want the 4 of n3 and n5", n)
	}
	for name, id := range fileOf {
		refs, err := f.files.Refs(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if wantRefs := name == "n3" || name == "n5"; wantRefs != (len(refs) == 1) {
			t.Errorf("%s's file: refs %v", name, refs)
		}
	}
	if n := f.count(t, `SELECT COUNT(*) FROM audit_log WHERE entity = 'notes'`); n != audits {
		t.Errorf("audit rows %d, were %d: a purge writes none and deletes none", n, audits)
	}
	if got := f.found(t, "苏州精密"); !slices.Equal(got, kept) {
		t.Errorf("search finds %v, want %v", got, kept)
	}
	if f.d.Kind == db.SQLite {
		// The index holds exactly the kept records, also once the indexer
		// has gone past the purged n6.
		fts := func() []int64 {
			got, err := f.d.Int64s(ctx, `SELECT rowid FROM r_notes__fts WHERE r_notes__fts MATCH ? ORDER BY rowid`, `"苏州精"`)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		if got := fts(); !slices.Equal(got, kept) {
			t.Errorf("index entries %v, want %v", got, kept)
		}
		if err := f.s.CatchUpSearch(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if got := fts(); !slices.Equal(got, kept) {
			t.Errorf("index entries after the indexer %v, want %v", got, kept)
		}
	}
	// Purged ids are gone for reads, and never come back.
	if _, err := f.s.Get(ctx, sys, "notes", ids["n1"], GetOptions{Deleted: true}); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("a purged record reads: %v", err)
	}
	rec, err := f.s.Create(ctx, sys, "notes", map[string]any{"title": "新的"})
	if err != nil || rec.ID() <= ids["n6"] {
		t.Errorf("new record %v %v", rec.ID(), err)
	}
}

// TestPurgeRights: a purge needs a filter and the delete right, and
// touches only the principal's delete scope.
func TestPurgeRights(t *testing.T) {
	f := newPurgeFixture(t)
	ctx := context.Background()
	sys := access.System()
	var ids []int64
	for i := range 3 {
		rec, err := f.s.Create(ctx, sys, "notes", map[string]any{"title": "t" + strconv.Itoa(i), "status": "done"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.ID())
	}
	for _, filter := range []string{"", "  ", `nope == 1`, `status ==`} {
		if _, err := f.s.Purge(ctx, sys, "notes", PurgeOptions{Filter: filter}); !errors.Is(err, apperr.ErrInvalid) {
			t.Errorf("filter %q: %v", filter, err)
		}
	}
	reader := &access.Principal{UserID: 7, Login: "reader"}
	reader.AddGrants(access.Grant{Entity: "notes", Actions: []string{access.Read, access.Update}, Scope: access.ScopeAll})
	if _, err := f.s.Purge(ctx, reader, "notes", PurgeOptions{Filter: `status == "done"`}); !errors.Is(err, apperr.ErrForbidden) {
		t.Errorf("without delete: %v", err)
	}
	own := &access.Principal{UserID: 7, Login: "owner"}
	own.AddGrants(access.Grant{Entity: "notes", Actions: []string{access.Read, access.Delete}, Scope: access.ScopeOwn})
	res, err := f.s.Purge(ctx, own, "notes", PurgeOptions{Filter: `status == "done"`})
	if err != nil || len(res.IDs) != 0 {
		t.Fatalf("nothing of 7's: %v %v", res, err)
	}
	if _, err := f.d.Exec(ctx, `UPDATE r_notes SET owner = 7 WHERE id = ?`, ids[1]); err != nil {
		t.Fatal(err)
	}
	res, err = f.s.Purge(ctx, own, "notes", PurgeOptions{Filter: `status == "done"`})
	if err != nil || !slices.Equal(res.IDs, ids[1:2]) || res.Next != 0 {
		t.Fatalf("7's own: %v %v", res, err)
	}
	if _, err := f.s.Purge(ctx, sys, "no_such", PurgeOptions{Filter: `id > 0`}); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("unknown entity: %v", err)
	}
}

// TestPurgeKeepsWhatAConcurrentWriteChanged: a record that stops matching
// between the purge's read and its delete, by another transaction, is
// kept: the delete checks the filter again on the row as committed. Only
// PostgreSQL can interleave so (SQLite has one writer).
func TestPurgeKeepsWhatAConcurrentWriteChanged(t *testing.T) {
	if dbtest.PostgresURL() == "" {
		t.Skip("SQLite runs one writer at a time: nothing changes between a purge's read and its delete")
	}
	f := newPurgeFixture(t)
	ctx := context.Background()
	sys := access.System()
	a, err := f.s.Create(ctx, sys, "notes", map[string]any{"title": "a", "status": "done"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.s.Create(ctx, sys, "notes", map[string]any{"title": "b", "status": "done"})
	if err != nil {
		t.Fatal(err)
	}
	// Another transaction reopens b and holds its row until released.
	var once sync.Once
	locked, release, written := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		written <- f.d.WithTx(ctx, func(ctx context.Context) error {
			if _, err := f.d.Exec(ctx, `UPDATE r_notes SET status = 'open', version = version + 1 WHERE id = ?`, b.ID()); err != nil {
				return err
			}
			once.Do(func() { close(locked) })
			<-release
			return nil
		})
	}()
	<-locked
	type result struct {
		res PurgeResult
		err error
	}
	purged := make(chan result, 1)
	go func() {
		res, err := f.s.Purge(ctx, sys, "notes", PurgeOptions{Filter: `status == "done"`})
		purged <- result{res, err}
	}()
	// The purge read both as done (the reopening is not committed) and
	// now waits for b's row in its delete.
	for waiting := false; !waiting; {
		select {
		case r := <-purged:
			t.Fatalf("the purge did not wait for the locked row: %+v", r)
		default:
		}
		var n int
		if err := f.d.QueryRow(ctx, `SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		waiting = n > 0
		time.Sleep(time.Millisecond)
	}
	close(release)
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	r := <-purged
	if r.err != nil || !slices.Equal(r.res.IDs, []int64{a.ID()}) {
		t.Fatalf("purged %v %v, want only %d", r.res.IDs, r.err, a.ID())
	}
	if _, err := f.s.Get(ctx, sys, "notes", b.ID(), GetOptions{}); err != nil {
		t.Errorf("the reopened record was purged: %v", err)
	}
}

// BenchmarkPurge measures purging records that have sub-table rows and
// search entries, in batches of MaxPurgeBatch, one transaction each; the
// figure is per record purged.
func BenchmarkPurge(b *testing.B) {
	f := newPurgeFixture(b)
	ctx := context.Background()
	sys := access.System()
	const n = 2000
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		err := f.d.WithTx(ctx, func(ctx context.Context) error {
			for i := range n {
				if _, err := f.s.Create(ctx, sys, "notes", map[string]any{"title": "苏州精密机械 " + strconv.Itoa(i), "status": "done",
					"lines": []any{map[string]any{"item": "a"}, map[string]any{"item": "b"}}}); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			err = f.s.CatchUpSearch(ctx, nil)
		}
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		purged := 0
		for o := (PurgeOptions{Filter: `status == "done"`}); ; {
			res, err := f.s.Purge(ctx, sys, "notes", o)
			if err != nil {
				b.Fatal(err)
			}
			purged += len(res.IDs)
			if o.After = res.Next; o.After == 0 {
				break
			}
		}
		if purged != n {
			b.Fatalf("purged %d", purged)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
}
