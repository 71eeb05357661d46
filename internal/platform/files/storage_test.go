package files

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLocalRoundtrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "a", "b")
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o750 {
		t.Fatalf("dir: %v %v", st, err)
	}
	n, err := l.Put(ctx, "ab/cd/obj1", strings.NewReader("hello"))
	if err != nil || n != 5 {
		t.Fatalf("Put = %d, %v", n, err)
	}
	// Overwrite is atomic and complete.
	if _, err := l.Put(ctx, "ab/cd/obj1", strings.NewReader("hello, world")); err != nil {
		t.Fatal(err)
	}
	rc, err := l.Open(ctx, "ab/cd/obj1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "hello, world" {
		t.Fatalf("read %q", b)
	}
	if st, err := os.Stat(filepath.Join(dir, "ab", "cd", "obj1")); err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("object mode: %v %v", st, err)
	}
	if err := l.Delete(ctx, "ab/cd/obj1"); err != nil {
		t.Fatal(err)
	}
	if err := l.Delete(ctx, "ab/cd/obj1"); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := l.Open(ctx, "ab/cd/obj1"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open after delete = %v", err)
	}
	if _, err := l.Open(ctx, "ab/cd"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open of a directory = %v", err)
	}
}

func TestLocalRejectsBadKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := t.TempDir()
	l, err := NewLocal(filepath.Join(base, "store"))
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(base, "secret")
	if err := os.WriteFile(outside, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{
		"", "..", "../secret", "ab/../../secret", "ab/cd/../../../secret",
		"/etc/passwd", "/" + outside, `..\secret`, `ab\cd`, "ab//cd", "ab/cd/",
		"./ab", "ab/./cd", ".tmp-1234", "ab/.tmp-x", "ab/cd\x00", "ab/c d", "ab/报价",
		strings.Repeat("a", 256),
	} {
		if _, err := l.Put(ctx, key, strings.NewReader("x")); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := l.Open(ctx, key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Open(%q) = %v, want ErrInvalidKey", key, err)
		}
		if err := l.Delete(ctx, key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
	if b, _ := os.ReadFile(outside); string(b) != "secret" {
		t.Fatal("file outside the store was changed")
	}
}

func TestLocalSymlinkEscape(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := t.TempDir()
	store := filepath.Join(base, "store")
	l, err := NewLocal(store)
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(base, "outside")
	if err := os.Mkdir(outside, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(store, "ln")); err != nil {
		t.Skip("no symlinks:", err)
	}
	if _, err := l.Put(ctx, "ln/planted", strings.NewReader("x")); err == nil {
		t.Error("Put through a symlink out of the store succeeded")
	}
	if _, err := l.Open(ctx, "ln/secret"); err == nil {
		t.Error("Open through a symlink out of the store succeeded")
	}
	if err := l.Delete(ctx, "ln/secret"); err == nil {
		if _, statErr := os.Stat(filepath.Join(outside, "secret")); statErr != nil {
			t.Error("Delete through a symlink removed a file outside the store")
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "planted")); err == nil {
		t.Error("a file was written outside the store")
	}
}

func TestLocalPutFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := io.MultiReader(bytes.NewReader(make([]byte, 100_000)), &failingReader{n: 10})
	if _, err := l.Put(ctx, "ab/cd/x", r); err == nil {
		t.Fatal("Put with a failing reader succeeded")
	}
	cancel()
	if _, err := l.Put(ctx, "ab/cd/y", strings.NewReader("data")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context = %v", err)
	}
	err = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			t.Errorf("left behind: %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
