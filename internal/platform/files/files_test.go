package files

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2025, 3, 1, 9, 30, 0, 123456789, time.UTC)}
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	svc   *Service
	d     *db.DB
	dir   string
	clock *clock
}

func newFixture(t *testing.T, d *db.DB, lim Limits) *fixture {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "files")
	st, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := newClock()
	return &fixture{svc: NewService(d, st, lim, c.now), d: d, dir: dir, clock: c}
}

// storedFiles lists every regular file under the storage directory,
// temporary ones included.
func (f *fixture) storedFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(f.dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() {
			rel, _ := filepath.Rel(f.dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) fileRows(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.d.QueryRow(context.Background(), `SELECT COUNT(*) FROM files`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) mustUpload(t *testing.T, name string, body []byte) File {
	t.Helper()
	got, err := f.svc.Upload(context.Background(), name, bytes.NewReader(body), 7)
	if err != nil {
		t.Fatalf("upload %q: %v", name, err)
	}
	return got
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	// Make sure no magic number is hit by chance.
	b[0] = 0
	return b
}

var pngHead = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")

// wantFieldError asserts err is a 422 with one field error.
func wantFieldError(t *testing.T, err error, field, code string) *apperr.FieldError {
	t.Helper()
	if !errors.Is(err, apperr.ErrUnprocessable) {
		t.Fatalf("err = %v, want 422", err)
	}
	e, _ := apperr.As(err)
	if len(e.Fields) != 1 || e.Fields[0].Field != field || e.Fields[0].Code != code {
		t.Fatalf("fields = %+v, want %s/%s", e.Fields, field, code)
	}
	return &e.Fields[0]
}

func TestUploadDownloadRoundtrip(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, Limits{})
		ctx := context.Background()
		body := randomBytes(t, 3<<20+17) // several copy buffers, odd size
		sum := sha256.Sum256(body)

		up := f.mustUpload(t, "季度报告.bin", body)
		if len(up.ID) != 22 || !validID(up.ID) {
			t.Errorf("id = %q, want 22 base64url characters", up.ID)
		}
		if up.Size != int64(len(body)) || up.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("size/sha = %d/%s, want %d/%x", up.Size, up.SHA256, len(body), sum)
		}
		if up.ContentType != "application/octet-stream" || up.Name != "季度报告.bin" || up.CreatedBy != 7 {
			t.Errorf("upload = %+v", up)
		}
		if !up.CreatedAt.Equal(f.clock.now().Truncate(time.Microsecond)) {
			t.Errorf("created_at = %v, want %v", up.CreatedAt, f.clock.now())
		}

		got, err := f.svc.Get(ctx, up.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got != up {
			t.Errorf("Get = %+v\nwant  %+v", got, up)
		}

		meta, rc, err := f.svc.Open(ctx, up.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if meta != up {
			t.Errorf("Open meta = %+v", meta)
		}
		data, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		if h := sha256.Sum256(data); h != sum {
			t.Fatal("downloaded bytes differ from the upload")
		}
		if _, err := rc.Seek(1000, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		part := make([]byte, 10)
		if _, err := io.ReadFull(rc, part); err != nil || !bytes.Equal(part, body[1000:1010]) {
			t.Fatalf("seek and read: %v", err)
		}

		// One object, under hex shard directories, no temporary leftovers.
		stored := f.storedFiles(t)
		if len(stored) != 1 || !strings.HasSuffix(stored[0], "/"+up.ID) {
			t.Fatalf("stored = %v", stored)
		}
		shards := strings.Split(stored[0], "/")
		if len(shards) != 3 || len(shards[0]) != 2 || len(shards[1]) != 2 {
			t.Fatalf("key = %s, want ab/cd/<id>", stored[0])
		}
	})
}

func TestUploadContentTypes(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, Limits{})
		for _, tc := range []struct {
			name string
			body []byte
			want string
		}{
			{"logo.png", append(pngHead, 1, 2, 3), "image/png"},
			{"logo.jpg", append(pngHead, 1, 2, 3), "image/png"}, // content wins for images
			{"notes.txt", []byte("会议纪要：下周二交付"), "text/plain; charset=utf-8"},
			{"fake.png", []byte("just text"), "text/plain; charset=utf-8"}, // never an image by name alone
			{"quote.pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"), "application/pdf"},
			{"data.json", []byte(`{"a": 1}`), "application/json"},
			{"readme", []byte("MZ is a plain-text line"), "text/plain; charset=utf-8"},
			{"price <b>list</b>.txt", []byte("<NOTE>not markup</NOTE>"), "text/plain; charset=utf-8"},
		} {
			got := f.mustUpload(t, tc.name, tc.body)
			if got.ContentType != tc.want {
				t.Errorf("%s: content type %q, want %q", tc.name, got.ContentType, tc.want)
			}
		}
	})
}

func TestUploadTooLarge(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, Limits{MaxSize: 10_000})
		ctx := context.Background()

		for _, n := range []int{10_001, 100_000} {
			_, err := f.svc.Upload(ctx, "big.bin", bytes.NewReader(randomBytes(t, n)), 1)
			if !errors.Is(err, apperr.ErrTooLarge) {
				t.Fatalf("%d bytes: err = %v, want ErrTooLarge", n, err)
			}
			if e, _ := apperr.As(err); e.Code != "file_too_large" || e.Args["max"] != int64(10_000) {
				t.Fatalf("err = %+v", e)
			}
		}
		// The limit is checked on the sniffed head too.
		small := newFixture(t, d, Limits{MaxSize: 100})
		if _, err := small.svc.Upload(ctx, "a.bin", bytes.NewReader(randomBytes(t, 300)), 1); !errors.Is(err, apperr.ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
		if left := append(f.storedFiles(t), small.storedFiles(t)...); len(left) != 0 {
			t.Fatalf("leftovers on disk: %v", left)
		}
		if n := f.fileRows(t); n != 0 {
			t.Fatalf("%d files rows after refused uploads", n)
		}

		exact := f.mustUpload(t, "exact.bin", randomBytes(t, 10_000))
		if exact.Size != 10_000 {
			t.Fatalf("size = %d", exact.Size)
		}
	})
}

func TestUploadRefusedTypes(t *testing.T) {
	pe := make([]byte, 256)
	copy(pe, "MZ\x90\x00\x03\x00\x00\x00\x04\x00")
	binary.LittleEndian.PutUint32(pe[0x3c:], 0x80)
	copy(pe[0x80:], "PE\x00\x00")
	elf := []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00")
	macho := []byte("\xcf\xfa\xed\xfe\x07\x00\x00\x01\x03\x00\x00\x00")
	jar := append([]byte("PK\x03\x04\x14\x00\x08\x08\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x14\x00\x00\x00"),
		"META-INF/MANIFEST.MF..."...)
	svg := []byte(`<?xml version="1.0"?>` + "\n" + `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)

	cases := []struct {
		name     string
		body     []byte
		wantType string
	}{
		{"photo.png", []byte("<!DOCTYPE html><html><body><script>alert(1)</script>"), "text/html"},
		{"photo.png", []byte("\n\n  <html><p>hi"), "text/html"},
		{"report.txt", []byte("\xef\xbb\xbf<div><iframe src=x></iframe>"), "text/html"},
		{"page.html", []byte("hello"), ".html"},
		{"PAGE.HTM", []byte("hello"), ".htm"},
		{"x.xhtml", []byte("hello"), ".xhtml"},
		{"logo.svg", svg, ".svg"},
		{"logo.png", svg, "text/html"},
		{"logo.png", []byte(`<svg onload="alert(1)"/>`), "text/html"},
		{"setup.pdf", pe, "application/x-msdownload"},
		{"setup.exe", []byte("harmless?"), ".exe"},
		{"setup.exe. . ", []byte("trailing dots"), ".exe"},
		{"lib.dll", randomBytes(t, 64), ".dll"},
		{"tool", elf, "application/x-elf"},
		{"app.dmg.zip", macho, "application/x-mach-binary"},
		{"install.sh", []byte("echo hello\n"), ".sh"},
		{"run.txt", []byte("#!/bin/sh\nrm -rf ~\n"), "application/x-sh"},
		{"run.PS1", []byte("Get-ChildItem"), ".ps1"},
		{"a.bat", []byte("del *.*"), ".bat"},
		{"app.js", []byte("alert(1)"), ".js"},
		{"mod.mjs", []byte("export {}"), ".mjs"},
		{"page.asp", []byte("<html><body>"), "text/html"},
		{"app.jar", []byte("anything"), ".jar"},
		{"app.zip", jar, "application/java-archive"},
		{"app.apk", []byte("anything"), ".apk"},
		{"C:\\temp\\evil.scr", []byte("x"), ".scr"},
		{"x.msi", []byte("x"), ".msi"},
		{"x.cmd", []byte("x"), ".cmd"},
		{"x.com", []byte("x"), ".com"},
		{"x.elf", []byte("x"), ".elf"},
		{"x.hta", []byte("x"), ".hta"},
		{"invoice\u202Efdp.exe", []byte("x"), ".exe"},
	}
	forEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, Limits{})
		for _, tc := range cases {
			_, err := f.svc.Upload(context.Background(), tc.name, bytes.NewReader(tc.body), 1)
			if err == nil {
				t.Errorf("%q accepted", tc.name)
				continue
			}
			fe := wantFieldError(t, err, "file", "file_type_not_allowed")
			if got := fe.Args["type"]; got != tc.wantType {
				t.Errorf("%q: refused as %v, want %s", tc.name, got, tc.wantType)
			}
		}
		if left := f.storedFiles(t); len(left) != 0 {
			t.Fatalf("leftovers on disk: %v", left)
		}
		if n := f.fileRows(t); n != 0 {
			t.Fatalf("%d rows after refused uploads", n)
		}
	})
}

func TestUploadAllowList(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, Limits{AllowedTypes: []string{"image/*", "Application/PDF"}})
		f.mustUpload(t, "a.png", append(pngHead, 0))
		f.mustUpload(t, "b.pdf", []byte("%PDF-1.4\n"))
		_, err := f.svc.Upload(context.Background(), "c.txt", strings.NewReader("text"), 1)
		fe := wantFieldError(t, err, "file", "file_type_not_allowed")
		if fe.Args["type"] != "text/plain" {
			t.Errorf("type = %v", fe.Args["type"])
		}
		// Denied types stay denied even when the allow-list names them.
		g := newFixture(t, d, Limits{AllowedTypes: []string{"*/*"}})
		_, err = g.svc.Upload(context.Background(), "a.svg", strings.NewReader("<svg/>"), 1)
		wantFieldError(t, err, "file", "file_type_not_allowed")
	})
}

func TestUploadEmpty(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, Limits{})
		_, err := f.svc.Upload(context.Background(), "empty.txt", strings.NewReader(""), 1)
		wantFieldError(t, err, "file", "file_empty")
		if left := f.storedFiles(t); len(left) != 0 {
			t.Fatalf("leftovers: %v", left)
		}
	})
}

// failingReader yields some bytes, then an error.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("connection reset")
	}
	n := min(len(p), r.n)
	for i := range p[:n] {
		p[i] = 'a'
	}
	r.n -= n
	return n, nil
}

func TestUploadReaderFailsMidway(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, Limits{})
		_, err := f.svc.Upload(context.Background(), "a.txt", &failingReader{n: 100_000}, 1)
		if err == nil || !strings.Contains(err.Error(), "connection reset") {
			t.Fatalf("err = %v", err)
		}
		if left := f.storedFiles(t); len(left) != 0 {
			t.Fatalf("leftovers: %v", left)
		}
		if n := f.fileRows(t); n != 0 {
			t.Fatalf("%d rows", n)
		}
	})
}

func TestUploadSanitisesName(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, Limits{})
		long := strings.Repeat("设备", 150) + ".pdf"
		for _, tc := range []struct{ in, want string }{
			{"../../etc/passwd", "passwd"},
			{`C:\Users\张三\Desktop\报价单（2025）.pdf`, "报价单（2025）.pdf"},
			{"合同\r\n扫描件\x00.pdf", "合同扫描件.pdf"},
			{long, strings.Repeat("设备", 98) + ".pdf"},
		} {
			got := f.mustUpload(t, tc.in, []byte("%PDF-1.4\n"))
			if got.Name != tc.want {
				t.Errorf("name %q stored as %q, want %q", tc.in, got.Name, tc.want)
			}
			back, err := f.svc.Get(context.Background(), got.ID)
			if err != nil || back.Name != tc.want {
				t.Errorf("Get name = %q, %v", back.Name, err)
			}
		}
	})
}

func TestGetNotFound(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, Limits{})
		ctx := context.Background()
		id, _ := newID()
		for _, bad := range []string{"", id, "../../etc/passwd", "x' OR '1'='1", strings.Repeat("a", 22)} {
			if _, err := f.svc.Get(ctx, bad); !errors.Is(err, apperr.ErrNotFound) {
				t.Errorf("Get(%q) = %v, want ErrNotFound", bad, err)
			}
			if _, _, err := f.svc.Open(ctx, bad); !errors.Is(err, apperr.ErrNotFound) {
				t.Errorf("Open(%q) = %v, want ErrNotFound", bad, err)
			}
		}
	})
}

func TestRefs(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, Limits{})
		ctx := context.Background()
		a := f.mustUpload(t, "a.png", append(pngHead, 1))
		b := f.mustUpload(t, "b.png", append(pngHead, 2))
		c := f.mustUpload(t, "c.pdf", []byte("%PDF-1.4\n"))

		refs := func(id string) []Ref {
			t.Helper()
			r, err := f.svc.Refs(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		inTx := func(fn func(ctx context.Context) error) error {
			return d.WithTx(ctx, fn)
		}

		// Set inside the caller's transaction, duplicates counted once.
		err := inTx(func(ctx context.Context) error {
			if err := f.svc.SetRefs(ctx, "accounts", 1, "photos", []string{a.ID, b.ID, a.ID}); err != nil {
				return err
			}
			return f.svc.SetRefs(ctx, "orders", 9, "contract", []string{a.ID})
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []Ref{{"accounts", 1, "photos"}, {"orders", 9, "contract"}}
		if got := refs(a.ID); !equalRefs(got, want) {
			t.Fatalf("refs(a) = %v, want %v", got, want)
		}
		if got := refs(b.ID); !equalRefs(got, []Ref{{"accounts", 1, "photos"}}) {
			t.Fatalf("refs(b) = %v", got)
		}

		// Replace: a leaves the field, c joins.
		if err := f.svc.SetRefs(ctx, "accounts", 1, "photos", []string{b.ID, c.ID}); err != nil {
			t.Fatal(err)
		}
		if got := refs(a.ID); !equalRefs(got, []Ref{{"orders", 9, "contract"}}) {
			t.Fatalf("after replace refs(a) = %v", got)
		}
		if got := refs(c.ID); !equalRefs(got, []Ref{{"accounts", 1, "photos"}}) {
			t.Fatalf("after replace refs(c) = %v", got)
		}

		// An unknown id fails on the field and, with the caller's
		// transaction rolled back, changes nothing.
		unknown, _ := newID()
		for _, bad := range []string{unknown, "not-an-id"} {
			err = inTx(func(ctx context.Context) error {
				return f.svc.SetRefs(ctx, "accounts", 1, "photos", []string{a.ID, bad})
			})
			fe := wantFieldError(t, err, "photos", "file_not_found")
			if fe.Args["id"] != bad {
				t.Errorf("missing id = %v, want %s", fe.Args["id"], bad)
			}
		}
		if got := refs(b.ID); !equalRefs(got, []Ref{{"accounts", 1, "photos"}}) {
			t.Fatalf("failed SetRefs changed refs(b): %v", got)
		}
		if got := refs(a.ID); len(got) != 1 {
			t.Fatalf("failed SetRefs changed refs(a): %v", got)
		}

		// Clearing the field and dropping a record.
		if err := f.svc.SetRefs(ctx, "accounts", 1, "photos", nil); err != nil {
			t.Fatal(err)
		}
		if got := refs(b.ID); len(got) != 0 {
			t.Fatalf("after clear refs(b) = %v", got)
		}
		if err := f.svc.DropRefs(ctx, "orders", 9); err != nil {
			t.Fatal(err)
		}
		if got := refs(a.ID); len(got) != 0 {
			t.Fatalf("after drop refs(a) = %v", got)
		}
		if got := refs("bogus"); len(got) != 0 {
			t.Fatalf("refs(bogus) = %v", got)
		}
	})
}

func equalRefs(a, b []Ref) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPurgeOrphans(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, Limits{})
		ctx := context.Background()

		kept := f.mustUpload(t, "kept.pdf", []byte("%PDF-1.4\n"))
		var orphans []File
		for range 3 {
			orphans = append(orphans, f.mustUpload(t, "orphan.bin", randomBytes(t, 100)))
		}
		dropped := f.mustUpload(t, "dropped.bin", randomBytes(t, 100))
		if err := f.svc.SetRefs(ctx, "accounts", 1, "docs", []string{kept.ID, dropped.ID}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetRefs(ctx, "accounts", 1, "docs", []string{kept.ID}); err != nil {
			t.Fatal(err)
		}
		f.clock.advance(23 * time.Hour)
		fresh := f.mustUpload(t, "fresh.bin", randomBytes(t, 100))

		// Nothing is a day old yet.
		if n, err := f.svc.Orphans(ctx, 24*time.Hour); err != nil || n != 0 {
			t.Fatalf("Orphans = %d, %v; want 0", n, err)
		}
		if n, err := f.svc.PurgeOrphans(ctx, 24*time.Hour); err != nil || n != 0 {
			t.Fatalf("PurgeOrphans = %d, %v; want 0", n, err)
		}

		f.clock.advance(2 * time.Hour) // first uploads now 25h old, fresh 2h
		if n, err := f.svc.Orphans(ctx, 0); err != nil || n != 4 {
			t.Fatalf("Orphans = %d, %v; want 4", n, err)
		}
		n, err := f.svc.PurgeOrphans(ctx, 24*time.Hour)
		if err != nil || n != 4 {
			t.Fatalf("PurgeOrphans = %d, %v; want 4", n, err)
		}
		for _, o := range append(orphans, dropped) {
			if _, err := f.svc.Get(ctx, o.ID); !errors.Is(err, apperr.ErrNotFound) {
				t.Errorf("purged %s: Get = %v", o.ID, err)
			}
		}
		for _, k := range []File{kept, fresh} {
			_, rc, err := f.svc.Open(ctx, k.ID)
			if err != nil {
				t.Fatalf("kept %s: %v", k.Name, err)
			}
			rc.Close()
		}
		if stored := f.storedFiles(t); len(stored) != 2 {
			t.Fatalf("stored after purge = %v, want 2 objects", stored)
		}
		if n, err := f.svc.PurgeOrphans(ctx, 24*time.Hour); err != nil || n != 0 {
			t.Fatalf("second purge = %d, %v", n, err)
		}
	})
}

func TestPurgeOrphansManyBatches(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, Limits{})
		ctx := context.Background()
		const n = 230 // more than two batches
		for i := range n {
			f.mustUpload(t, "o.bin", randomBytes(t, 10))
			if i%50 == 0 {
				f.clock.advance(time.Second) // some share a timestamp, some do not
			}
		}
		f.clock.advance(48 * time.Hour)
		got, err := f.svc.PurgeOrphans(ctx, 24*time.Hour)
		if err != nil || got != n {
			t.Fatalf("PurgeOrphans = %d, %v; want %d", got, err, n)
		}
		if rows, left := f.fileRows(t), f.storedFiles(t); rows != 0 || len(left) != 0 {
			t.Fatalf("%d rows and %d objects left", rows, len(left))
		}
	})
}

// TestPurgeRacesSetRefs checks that a file being referenced while the purge
// runs is either kept, or refused to SetRefs as not found: never a ref to a
// deleted file.
func TestPurgeRacesSetRefs(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, Limits{})
		ctx := context.Background()
		const n = 60
		ids := make([]string, n)
		for i := range ids {
			ids[i] = f.mustUpload(t, "o.bin", randomBytes(t, 10)).ID
		}
		f.clock.advance(48 * time.Hour)

		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i, id := range ids {
				err := d.WithTx(ctx, func(ctx context.Context) error {
					return f.svc.SetRefs(ctx, "accounts", int64(i), "doc", []string{id})
				})
				if err != nil && !errors.Is(err, apperr.ErrUnprocessable) {
					t.Errorf("SetRefs: %v", err)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range 5 {
				if _, err := f.svc.PurgeOrphans(ctx, 24*time.Hour); err != nil {
					t.Errorf("PurgeOrphans: %v", err)
				}
			}
		}()
		wg.Wait()

		var dangling int
		err := d.QueryRow(ctx, `SELECT COUNT(*) FROM file_refs r
			WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.id = r.file_id)`).Scan(&dangling)
		if err != nil {
			t.Fatal(err)
		}
		if dangling != 0 {
			t.Fatalf("%d refs to purged files", dangling)
		}
		// Every remaining row still has its bytes.
		rows, stored := f.fileRows(t), len(f.storedFiles(t))
		if rows != stored {
			t.Fatalf("%d rows but %d objects", rows, stored)
		}
	})
}
