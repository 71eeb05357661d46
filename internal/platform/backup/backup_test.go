package backup

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/app"
	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
	"github.com/tenon-crm/tenon/internal/platform/events"
	"github.com/tenon-crm/tenon/internal/platform/files"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

const adminPassword = "backup-test-pw-1"

// openApp builds a Tenon on dsn with its own data directory.
func openApp(t *testing.T, dsn string) *app.App {
	t.Helper()
	cfg := app.Config{DSN: dsn, DataDir: t.TempDir(), AdminPassword: adminPassword, Stdout: io.Discard,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	a, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func configOf(t *testing.T, a *app.App) Config {
	t.Helper()
	st, err := files.NewLocal(filepath.Join(a.Cfg.DataDir, "files"))
	if err != nil {
		t.Fatal(err)
	}
	return Config{DB: a.DB, Meta: a.Meta, Files: st, TenonVersion: "test", BatchSize: 7}
}

func label(s string) meta.Label { return meta.Label{"en": s, "zh-CN": s} }

func scale(n int) *int { return &n }

// gadget is a custom entity with every kind of storage the archive knows.
func gadget() *meta.Entity {
	return &meta.Entity{
		Name: "gadget", Label: label("Gadgets"), TitleField: "name",
		Numbering: &meta.Numbering{Field: "code", Pattern: "G-{seq:4}"},
		Fields: []meta.Field{
			{Name: "name", Type: "text", Label: label("Name"), Required: true},
			{Name: "code", Type: "autonumber", Label: label("Code")},
			{Name: "price", Type: "money", Label: label("Price")},
			{Name: "ratio", Type: "decimal", Scale: scale(4), Label: label("Ratio")},
			{Name: "due", Type: "datetime", Label: label("Due")},
			{Name: "day", Type: "date", Label: label("Day")},
			{Name: "active", Type: "boolean", Label: label("Active")},
			{Name: "qty", Type: "integer", Label: label("Qty")},
			{Name: "tags", Type: "multi_select", Label: label("Tags"), Options: []meta.Option{{Value: "red"}, {Value: "green"}, {Value: "blue"}}},
			{Name: "doc", Type: "file", Label: label("Document")},
			{Name: "extra", Type: "json", Label: label("Extra")},
			{Name: "lines", Type: "subtable", Label: label("Lines"), Fields: []meta.Field{
				{Name: "item", Type: "text", Label: label("Item")},
				{Name: "amount", Type: "money", Label: label("Amount")},
				{Name: "at", Type: "datetime", Label: label("At")},
				{Name: "ok", Type: "boolean", Label: label("OK")},
				{Name: "n", Type: "integer", Label: label("N")},
			}},
		},
	}
}

// source is a populated Tenon and what the test needs to check a restore.
type source struct {
	a       *app.App
	fileID  string
	body    []byte
	session string
	token   string
	// dropped is the id of an API token deleted again: restored identities
	// must stay above it, not just above the largest id present.
	dropped int64
}

func populate(t *testing.T, dsn string) *source {
	t.Helper()
	ctx := context.Background()
	a := openApp(t, dsn)
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	sys := access.System()
	if err := a.Meta.CreateEntity(ctx, gadget()); err != nil {
		t.Fatal(err)
	}
	// A custom field on a built-in entity, and a deleted custom field.
	if err := a.Meta.AddField(ctx, "users", &meta.Field{Name: "nickname", Type: "text", Label: label("Nickname")}); err != nil {
		t.Fatal(err)
	}
	if err := a.Meta.AddField(ctx, "gadget", &meta.Field{Name: "scratch", Type: "text", Label: label("Scratch")}); err != nil {
		t.Fatal(err)
	}
	if err := a.Meta.DeleteField(ctx, "gadget", "scratch"); err != nil {
		t.Fatal(err)
	}
	body := []byte("quarterly report\n" + strings.Repeat("苏州精密 numbers 12345\n", 200))
	f, err := a.Files.Upload(ctx, "report.txt", bytes.NewReader(body), 0)
	if err != nil {
		t.Fatal(err)
	}
	g1, err := a.Records.Create(ctx, sys, "gadget", map[string]any{
		"name": "苏州精密机械 Widget", "price": "1234.50", "ratio": "0.1234", "due": "2024-03-05T10:11:12.123456+08:00",
		"day": "2024-03-05", "active": true, "qty": "42", "tags": []any{"red", "blue"}, "doc": f.ID,
		"extra": map[string]any{"b": 1, "a": []any{"x", 2.5}, "big": json.Number("12345678901234567890")},
		"lines": []any{
			map[string]any{"item": "bolt", "amount": "0.10", "at": "2024-01-01T00:00:00Z", "ok": true, "n": "1"},
			map[string]any{"item": "nut", "amount": "99999.99", "ok": false, "n": "-7"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range []map[string]any{
		{"price": "1300.00", "tags": []any{"green"}},
		{"active": false, "name": "苏州精密机械 Gizmo", "lines": []any{map[string]any{"item": "washer", "amount": "1.25", "n": "3"}}},
		{"ratio": "-3.5000", "due": nil, "extra": []any{}},
	} {
		if _, err := a.Records.Update(ctx, sys, "gadget", g1.ID(), in, 0); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	g2, err := a.Records.Create(ctx, sys, "gadget", map[string]any{"name": "Deleted thing 上海"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Records.Delete(ctx, sys, "gadget", g2.ID(), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Records.Create(ctx, sys, "gadget", map[string]any{"name": "Plain one", "price": "0.01", "qty": "0"}); err != nil {
		t.Fatal(err)
	}
	users, err := a.Records.List(ctx, sys, "users", records.ListOptions{})
	if err != nil || len(users.Items) == 0 {
		t.Fatalf("users: %v %v", users, err)
	}
	admin := users.Items[0].ID()
	if _, err := a.Records.Update(ctx, sys, "users", admin, map[string]any{"nickname": "老王"}, 0); err != nil {
		t.Fatal(err)
	}
	sess, err := a.Auth.Login(ctx, "admin", adminPassword, "127.0.0.1", "test-agent")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.Auth.CreateToken(ctx, admin, "ci", []string{"records:read"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, tmp, err := a.Auth.CreateToken(ctx, admin, "temporary", []string{"records:read"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.DB.Exec(ctx, `DELETE FROM api_tokens WHERE id = ?`, tmp.ID); err != nil {
		t.Fatal(err)
	}
	return &source{a: a, fileID: f.ID, body: body, session: sess.Token, token: tok, dropped: tmp.ID}
}

func backupOf(t *testing.T, a *app.App) (*Archive, []byte) {
	t.Helper()
	var buf bytes.Buffer
	m, err := Backup(context.Background(), configOf(t, a), &buf)
	if err != nil {
		t.Fatal(err)
	}
	if m.Files.Count != 1 || len(m.Files.Missing) != 0 {
		t.Fatalf("files in backup: %+v", m.Files)
	}
	ar, err := OpenArchive(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return ar, buf.Bytes()
}

func restoreInto(t *testing.T, dsn string, ar *Archive) *app.App {
	t.Helper()
	ctx := context.Background()
	a := openApp(t, dsn)
	if err := a.MigrateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := Restore(ctx, configOf(t, a), ar)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != ar.Manifest.Rows() || res.Files != 1 {
		t.Fatalf("restored %+v, manifest has %d rows", res, ar.Manifest.Rows())
	}
	return a
}

// canon is a value's JSON with object keys sorted and numbers kept exact,
// so that JSONB's key order does not count as a difference.
func canon(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(x)
	return string(out)
}

// ids lists every record of an entity, live and in the recycle bin.
func ids(t *testing.T, a *app.App, entity string) []int64 {
	t.Helper()
	var out []int64
	for _, deleted := range []bool{false, true} {
		res, err := a.Records.List(context.Background(), access.System(), entity, records.ListOptions{PerPage: 500, Deleted: deleted, Count: records.CountNone})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Items {
			out = append(out, r.ID())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func get(t *testing.T, a *app.App, entity string, id int64) records.Record {
	t.Helper()
	ctx := context.Background()
	r, err := a.Records.Get(ctx, access.System(), entity, id, records.GetOptions{})
	if err != nil {
		r, err = a.Records.Get(ctx, access.System(), entity, id, records.GetOptions{Deleted: true})
	}
	if err != nil {
		t.Fatalf("%s %d: %v", entity, id, err)
	}
	return r
}

func search(t *testing.T, a *app.App, entity, q string) []int64 {
	t.Helper()
	res, err := a.Records.List(context.Background(), access.System(), entity, records.ListOptions{Q: q, PerPage: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, r := range res.Items {
		out = append(out, r.ID())
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func compare(t *testing.T, src *source, dst *app.App) {
	t.Helper()
	ctx := context.Background()
	sys := access.System()
	a := src.a
	for _, e := range a.Meta.All() {
		if _, ok := dst.Meta.Get(e.Name); !ok {
			t.Fatalf("entity %s missing after restore", e.Name)
		}
		want, got := ids(t, a, e.Name), ids(t, dst, e.Name)
		if fmt.Sprint(want) != fmt.Sprint(got) {
			t.Fatalf("%s ids: want %v, got %v", e.Name, want, got)
		}
		for _, id := range want {
			w, g := get(t, a, e.Name, id), get(t, dst, e.Name, id)
			if canon(t, w) != canon(t, g) {
				t.Errorf("%s %d:\nwant %s\ngot  %s", e.Name, id, canon(t, w), canon(t, g))
			}
			hw, err := a.Records.History(ctx, sys, e.Name, id, 0)
			if err != nil {
				t.Fatal(err)
			}
			hg, err := dst.Records.History(ctx, sys, e.Name, id, 0)
			if err != nil {
				t.Fatal(err)
			}
			if canon(t, hw) != canon(t, hg) {
				t.Errorf("%s %d history:\nwant %s\ngot  %s", e.Name, id, canon(t, hw), canon(t, hg))
			}
		}
	}
	if e, _ := dst.Meta.Get("users"); e.Field("nickname") == nil {
		t.Error("custom field of a built-in entity lost")
	}
	ow, og := allOutbox(t, a.DB), allOutbox(t, dst.DB)
	if len(ow) == 0 || canon(t, ow) != canon(t, og) {
		t.Errorf("outbox differs:\nwant %s\ngot  %s", canon(t, ow), canon(t, og))
	}
	// File bytes.
	_, rc, err := dst.Files.Open(ctx, src.fileID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(b, src.body) {
		t.Errorf("file bytes differ (%d vs %d bytes)", len(b), len(src.body))
	}
	// Search finds the same records, in Chinese and Latin, live only.
	for _, q := range []string{"州精", "苏州精密机械", "gizmo", "widget", "上海", "plain"} {
		w, g := search(t, a, "gadget", q), search(t, dst, "gadget", q)
		if fmt.Sprint(w) != fmt.Sprint(g) {
			t.Errorf("search %q: want %v, got %v", q, w, g)
		}
	}
	if got := search(t, dst, "gadget", "gizmo"); len(got) != 1 {
		t.Errorf("search gizmo found %v", got)
	}
	// Credentials, sessions and tokens came along.
	if _, err := dst.Auth.Login(ctx, "admin", adminPassword, "127.0.0.1", "t"); err != nil {
		t.Errorf("login after restore: %v", err)
	}
	if _, err := dst.Auth.Authenticate(ctx, src.session); err != nil {
		t.Errorf("session after restore: %v", err)
	}
	if _, err := dst.Auth.AuthenticateToken(ctx, src.token); err != nil {
		t.Errorf("token after restore: %v", err)
	}
	// New writes get fresh ids, outbox seqs and numbers.
	maxID := ids(t, a, "gadget")
	lastSeq, _ := a.Outbox.Last(ctx)
	rec, err := dst.Records.Create(ctx, sys, "gadget", map[string]any{"name": "after restore", "lines": []any{map[string]any{"item": "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	if rec.ID() <= maxID[len(maxID)-1] {
		t.Errorf("new record got id %d, source had up to %d", rec.ID(), maxID[len(maxID)-1])
	}
	if rec["code"] != "G-0004" {
		t.Errorf("numbering after restore gave %v, want G-0004", rec["code"])
	}
	if seq, _ := dst.Outbox.Last(ctx); seq != lastSeq+1 {
		t.Errorf("outbox seq after restore %d, want %d", seq, lastSeq+1)
	}
	if _, err := dst.Records.Create(ctx, sys, "roles", map[string]any{"name": "after", "title": "After", "permissions": []any{}}); err != nil {
		t.Errorf("create role after restore: %v", err)
	}
	if _, tok, err := dst.Auth.CreateToken(ctx, 1, "second", []string{"records:read"}, nil); err != nil {
		t.Errorf("create token after restore: %v", err)
	} else if tok.ID <= src.dropped {
		t.Errorf("new token got id %d, the source had handed out %d", tok.ID, src.dropped)
	}
}

func TestRoundTrip(t *testing.T) {
	pg := dbtest.PostgresURL() != ""
	cases := []struct {
		name     string
		from, to string
	}{
		{"sqlite_to_sqlite", "sqlite", "sqlite"},
		{"sqlite_to_postgres", "sqlite", "postgres"},
		{"postgres_to_sqlite", "postgres", "sqlite"},
		{"postgres_to_postgres", "postgres", "postgres"},
	}
	dsn := func(t *testing.T, kind string) string {
		if kind == "postgres" {
			return dbtest.Postgres(t, "tenon_backup")
		}
		return dbtest.SQLite(t)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if (c.from == "postgres" || c.to == "postgres") && !pg {
				t.Skip("TENON_TEST_POSTGRES is not set")
			}
			t.Parallel()
			src := populate(t, dsn(t, c.from))
			ar, _ := backupOf(t, src.a)
			if ar.Manifest.Source != src.a.DB.Kind || ar.Manifest.SchemaVersion != KnownSchemaVersion() {
				t.Fatalf("manifest: %+v", ar.Manifest)
			}
			if len(ar.Manifest.Warnings) != 1 || !strings.Contains(ar.Manifest.Warnings[0], "scratch__del") {
				t.Errorf("warnings: %v", ar.Manifest.Warnings)
			}
			dst := restoreInto(t, dsn(t, c.to), ar)
			compare(t, src, dst)

			// A second restore into the same database is refused.
			_, err := Restore(context.Background(), configOf(t, dst), ar)
			if !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "user") {
				t.Errorf("restore into a used database: %v", err)
			}
		})
	}
}

// TestArchiveFormat checks the neutral encoding of values in the archive.
func TestArchiveFormat(t *testing.T) {
	src := populate(t, dbtest.SQLite(t))
	ar, _ := backupOf(t, src.a)
	info := ar.Manifest.table("r_gadget")
	if info == nil || info.Rows != 3 {
		t.Fatalf("r_gadget: %+v", info)
	}
	rc, err := ar.files[info.Path].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	dec.UseNumber()
	var first map[string]any
	if err := dec.Decode(&first); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"id": json.Number("1"), "version": json.Number("4"), "price": "1300.00", "ratio": "-3.5000",
		"day": "2024-03-05", "active": false, "qty": json.Number("42"), "due": nil,
	} {
		if fmt.Sprint(first[k]) != fmt.Sprint(want) {
			t.Errorf("%s = %#v, want %#v", k, first[k], want)
		}
	}
	if s, _ := first["created_at"].(string); len(s) != len("2006-01-02T15:04:05.000000Z") || !strings.HasSuffix(s, "Z") {
		t.Errorf("created_at = %q", s)
	}
	if _, ok := first["extra"].([]any); !ok {
		t.Errorf("json column not embedded: %#v", first["extra"])
	}
	if _, ok := first["search_grams"]; ok {
		t.Error("search_grams archived")
	}
	for _, tb := range ar.Manifest.Tables {
		if strings.Contains(tb.Name, "__fts") || tb.Name == "schema_migrations" || tb.Name == "settings" {
			t.Errorf("derived or internal table %s archived", tb.Name)
		}
	}
	if ar.files["files/"] != nil || len(ar.Manifest.Files.Missing) != 0 {
		t.Error("unexpected files entries")
	}
}

func TestRestoreRefusesNewerSchema(t *testing.T) {
	src := populate(t, dbtest.SQLite(t))
	_, raw := backupOf(t, src.a)
	patched := rewriteManifest(t, raw, func(m *Manifest) { m.SchemaVersion = KnownSchemaVersion() + 1 })
	_, err := OpenArchive(bytes.NewReader(patched), int64(len(patched)))
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("newer schema: %v", err)
	}
	patched = rewriteManifest(t, raw, func(m *Manifest) { m.Format = "other" })
	if _, err := OpenArchive(bytes.NewReader(patched), int64(len(patched))); err == nil {
		t.Fatal("foreign archive accepted")
	}
}

// TestBackupIsConsistentUnderWrites backs up while records are being
// written: every record in the archive has its outbox and audit rows and
// vice versa, which only a single snapshot guarantees.
func TestBackupIsConsistentUnderWrites(t *testing.T) {
	kinds := []string{"sqlite"}
	if dbtest.PostgresURL() != "" {
		kinds = append(kinds, "postgres")
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			dsn := dbtest.SQLite(t)
			if kind == "postgres" {
				dsn = dbtest.Postgres(t, "tenon_backup")
			}
			src := populate(t, dsn)
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			var created atomic.Int64
			errc := make(chan error, 3)
			for w := 0; w < 3; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ctx.Err() == nil; i++ {
						if _, err := src.a.Records.Create(context.Background(), access.System(), "gadget",
							map[string]any{"name": fmt.Sprintf("busy %d", i), "lines": []any{map[string]any{"item": "l"}}}); err != nil {
							errc <- err
							return
						}
						created.Add(1)
					}
				}()
			}
			for deadline := time.Now().Add(20 * time.Second); created.Load() < 10 && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			ar, _ := backupOf(t, src.a)
			during := created.Load()
			cancel()
			wg.Wait()
			close(errc)
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			dst := restoreInto(t, dbtest.SQLite(t), ar)
			var recs, events, audits, lines int64
			q := func(sql string, n *int64) {
				if err := dst.DB.QueryRow(context.Background(), sql).Scan(n); err != nil {
					t.Fatal(err)
				}
			}
			q(`SELECT COUNT(*) FROM r_gadget`, &recs)
			q(`SELECT COUNT(*) FROM outbox WHERE entity = 'gadget' AND event = 'created'`, &events)
			q(`SELECT COUNT(*) FROM audit_log WHERE entity = 'gadget' AND action = 'create'`, &audits)
			q(`SELECT COUNT(*) FROM r_gadget__lines`, &lines)
			if recs < 3+10 || recs != events || recs != audits {
				t.Errorf("records %d, created events %d, audit rows %d", recs, events, audits)
			}
			t.Logf("%d records in the snapshot, %d busy records created by the end of the backup", recs, during)
			// populate leaves one line (on the first gadget); every busy record has one.
			if lines != recs-2 {
				t.Errorf("%d sub-table rows for %d records", lines, recs)
			}
		})
	}
}

// rewriteManifest returns a copy of the archive with an edited manifest.
func rewriteManifest(t *testing.T, raw []byte, edit func(m *Manifest)) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == manifestPath {
			var m Manifest
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			edit(&m)
			b, _ = json.Marshal(&m)
		}
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// allOutbox reads the whole outbox table in seq order. (The feed would hold
// rows back while any older transaction of the server runs, and other
// tests run beside this one.)
func allOutbox(t *testing.T, d *db.DB) []events.Change {
	t.Helper()
	rows, err := d.Query(context.Background(), `SELECT seq, entity, record_id, event, version, actor, at, changes FROM outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []events.Change
	for rows.Next() {
		var c events.Change
		var actor sql.NullInt64
		var at int64
		var changes []byte
		if err := rows.Scan(&c.Seq, &c.Entity, &c.RecordID, &c.Event, &c.Version, &actor, &at, &changes); err != nil {
			t.Fatal(err)
		}
		c.Actor, c.At = actor.Int64, time.UnixMicro(at).UTC()
		if err := json.Unmarshal(changes, &c.Changes); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
