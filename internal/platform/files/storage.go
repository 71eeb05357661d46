package files

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// Storage is where file bytes live. Local disk now; S3-compatible later.
//
// Keys are chosen by the Service ("ab/cd/<id>"), never by users. Put
// replaces an existing object atomically: a reader of the key sees either
// the old bytes or all of the new ones. Open of a missing key returns an
// error wrapping fs.ErrNotExist; Delete of a missing key succeeds.
type Storage interface {
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	Open(ctx context.Context, key string) (io.ReadSeekCloser, error)
	Delete(ctx context.Context, key string) error
}

// ErrInvalidKey is returned by Local for a key that is not a plain relative
// path of safe segments (no "..", no absolute paths, no hidden names).
var ErrInvalidKey = errors.New("files: invalid storage key")

// Local stores each object as one file under a directory. All access goes
// through an os.Root, so neither a hostile key nor a planted symlink can
// reach outside the directory.
type Local struct {
	dir string
}

// NewLocal returns a Local storing under dir, creating it (0750) if needed.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("files: storage directory is empty")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("files: create storage directory: %w", err)
	}
	return &Local{dir: dir}, nil
}

// Dir returns the directory the objects live under.
func (l *Local) Dir() string { return l.dir }

// checkKey accepts "seg/seg/.../seg" where every segment is made of ASCII
// letters, digits, '-', '_' and '.', does not start with '.', and is at most
// 255 bytes. That rules out "..", ".", absolute paths, backslashes, empty
// segments and the ".tmp-" names Put uses for partial writes.
func checkKey(key string) error {
	if key == "" || len(key) > 1024 {
		return ErrInvalidKey
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg[0] == '.' || len(seg) > 255 {
			return ErrInvalidKey
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
				c == '-' || c == '_' || c == '.'
			if !ok {
				return ErrInvalidKey
			}
		}
	}
	return nil
}

// Put writes r to a temporary file beside the target, syncs it and renames
// it into place, so a crash never leaves a half-written object under key.
// On any error (including a failing reader) the temporary file is removed.
func (l *Local) Put(ctx context.Context, key string, r io.Reader) (n int64, err error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	root, err := os.OpenRoot(l.dir)
	if err != nil {
		return 0, fmt.Errorf("files: open storage: %w", err)
	}
	defer root.Close()

	parent := path.Dir(key)
	created := false
	if parent != "." {
		if _, err := root.Stat(parent); errors.Is(err, fs.ErrNotExist) {
			created = true
		}
		if err := root.MkdirAll(parent, 0o750); err != nil {
			return 0, fmt.Errorf("files: create directory: %w", err)
		}
	}
	tmp := path.Join(parent, ".tmp-"+randomHex(8))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return 0, fmt.Errorf("files: create temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = root.Remove(tmp)
		}
	}()
	n, err = io.Copy(f, ctxReader{ctx: ctx, r: r})
	if err != nil {
		return n, err
	}
	if err = f.Sync(); err != nil {
		return n, fmt.Errorf("files: sync: %w", err)
	}
	if err = f.Close(); err != nil {
		return n, fmt.Errorf("files: close: %w", err)
	}
	if err = root.Rename(tmp, key); err != nil {
		return n, fmt.Errorf("files: rename into place: %w", err)
	}
	// Make the rename (and any directories just made) durable too.
	dirs := []string{parent}
	if created {
		for d := parent; d != "."; {
			d = path.Dir(d)
			dirs = append(dirs, d)
		}
	}
	for _, d := range dirs {
		if err := syncDir(root, d); err != nil {
			return n, err
		}
	}
	return n, nil
}

func syncDir(root *os.Root, dir string) error {
	d, err := root.Open(dir)
	if err != nil {
		return fmt.Errorf("files: open directory for sync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("files: sync directory: %w", err)
	}
	return nil
}

// Open opens the object under key for reading.
func (l *Local) Open(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(l.dir)
	if err != nil {
		return nil, fmt.Errorf("files: open storage: %w", err)
	}
	defer root.Close() // files opened through a Root outlive it
	f, err := root.Open(key)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("files: %w", fs.ErrNotExist)
	}
	return f, nil
}

// Delete removes the object under key; a missing object is not an error.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	root, err := os.OpenRoot(l.dir)
	if err != nil {
		return fmt.Errorf("files: open storage: %w", err)
	}
	defer root.Close()
	// Empty shard directories are left: removing them would race with a
	// concurrent Put into the same directory.
	if err := root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// ctxReader stops a copy once the context is done, so a cancelled upload
// does not keep writing.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
