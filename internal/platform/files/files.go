package files

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
)

// DefaultMaxSize is the upload limit when Limits.MaxSize is not set.
const DefaultMaxSize int64 = 50 << 20

// Limits bound what may be uploaded.
type Limits struct {
	// MaxSize is the largest upload in bytes (default DefaultMaxSize).
	MaxSize int64
	// AllowedTypes is an optional allow-list of content types, with
	// "image/*" style wildcards. Empty allows every type that is not denied;
	// executable and HTML-like types are refused either way.
	AllowedTypes []string
}

// File is the metadata of a stored file.
type File struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Size        int64     `json:"size"`
	ContentType string    `json:"content_type"`
	SHA256      string    `json:"sha256"`
	CreatedBy   int64     `json:"-"` // user id; 0 when uploaded by the system
	CreatedAt   time.Time `json:"-"`
}

// Ref says that a record's field holds a file.
type Ref struct {
	Entity   string
	RecordID int64
	Field    string
}

// Service stores uploads, records who refers to them and purges the ones
// nobody refers to. It is safe for concurrent use.
type Service struct {
	db  *db.DB
	st  Storage
	lim Limits
	now func() time.Time
}

// NewService returns a Service keeping metadata in d and bytes in st. now is
// the clock (time.Now when nil).
func NewService(d *db.DB, st Storage, lim Limits, now func() time.Time) *Service {
	if lim.MaxSize <= 0 {
		lim.MaxSize = DefaultMaxSize
	}
	lim.AllowedTypes = append([]string(nil), lim.AllowedTypes...)
	if now == nil {
		now = time.Now
	}
	return &Service{db: d, st: st, lim: lim, now: now}
}

// MaxSize is the effective upload limit in bytes, for the HTTP layer's body
// limit (which must add room for the multipart envelope).
func (s *Service) MaxSize() int64 { return s.lim.MaxSize }

const idBytes = 16 // 128 random bits: 22 base64url characters

// newID returns a random file id and the storage key for it. The two
// shard directories come from the id's first random bytes in hex, so they
// fan out evenly (256 × 256) and are safe on case-insensitive file systems.
func newID() (id, key string) {
	b := make([]byte, idBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	id = base64.RawURLEncoding.EncodeToString(b)
	return id, hex.EncodeToString(b[:1]) + "/" + hex.EncodeToString(b[1:2]) + "/" + id
}

// validID reports whether s has the shape of a file id, so that junk never
// reaches a query.
func validID(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(idBytes) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func refuse(code string, kv ...any) error {
	return apperr.Fields(apperr.Field("file", code, kv...))
}

// Upload stores the bytes of r under a new id and records them as name.
//
// The first 512 bytes decide the content type and refuse executables and
// HTML-like content before anything is written (422, field "file", code
// "file_type_not_allowed"; "file_empty" for no bytes). The rest is
// streamed to storage while being hashed and counted; beyond MaxSize the
// partial object is deleted and ErrTooLarge ("file_too_large") returned.
//
// The row is inserted in a transaction of its own, or in the caller's if
// ctx carries one; in that case the caller owns the bytes should it roll
// back (the orphan purge cannot see them without a row).
func (s *Service) Upload(ctx context.Context, name string, r io.Reader, createdBy int64) (File, error) {
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(r, head)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
	case err != nil:
		return File{}, fmt.Errorf("files: read upload: %w", err)
	}
	head = head[:n]
	if n == 0 {
		return File{}, refuse("file_empty")
	}
	name = SanitizeName(name)
	ct, refused := classify(name, head, s.lim.AllowedTypes)
	if refused != "" {
		return File{}, refuse("file_type_not_allowed", "type", refused)
	}
	tooLarge := apperr.New(apperr.ErrTooLarge, "file_too_large", "max", s.lim.MaxSize)
	if int64(n) > s.lim.MaxSize {
		return File{}, tooLarge
	}

	id, key := newID()
	body := &limitedHasher{r: io.MultiReader(bytes.NewReader(head), r), max: s.lim.MaxSize, h: sha256.New()}
	written, err := s.st.Put(ctx, key, body)
	if err == nil && written != body.n {
		err = fmt.Errorf("files: storage wrote %d of %d bytes", written, body.n)
	}
	if err != nil {
		// Storage that is not atomic (an interrupted multipart upload) may
		// have kept part of the object.
		_ = s.st.Delete(context.WithoutCancel(ctx), key)
		if body.over {
			return File{}, tooLarge
		}
		return File{}, fmt.Errorf("files: store upload: %w", err)
	}

	f := File{
		ID: id, Name: name, Size: body.n, ContentType: ct,
		SHA256: hex.EncodeToString(body.h.Sum(nil)), CreatedBy: createdBy,
		CreatedAt: time.UnixMicro(s.now().UnixMicro()).UTC(),
	}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		_, err := s.db.Exec(ctx, `INSERT INTO files (id, name, size, content_type, sha256, storage_key, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			f.ID, f.Name, f.Size, f.ContentType, f.SHA256, key, nullID(createdBy), f.CreatedAt.UnixMicro())
		return err
	})
	if err != nil {
		_ = s.st.Delete(context.WithoutCancel(ctx), key)
		return File{}, fmt.Errorf("files: record upload: %w", err)
	}
	return f, nil
}

// limitedHasher hashes and counts what passes through it and fails once
// more than max bytes were read.
type limitedHasher struct {
	r    io.Reader
	max  int64
	n    int64
	h    hash.Hash
	over bool
}

var errTooLarge = errors.New("files: upload exceeds the size limit")

func (l *limitedHasher) Read(p []byte) (int, error) {
	if l.over {
		return 0, errTooLarge
	}
	// Read one byte past the limit to tell "exactly max" from "more".
	if rest := l.max + 1 - l.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := l.r.Read(p)
	if l.n+int64(n) > l.max {
		l.over = true
		return 0, errTooLarge
	}
	l.n += int64(n)
	l.h.Write(p[:n])
	return n, err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// fileRow is a files row with the storage key, which never leaves the
// package.
type fileRow struct {
	File
	key string
}

func (s *Service) get(ctx context.Context, id string) (fileRow, error) {
	if !validID(id) {
		return fileRow{}, apperr.NotFound()
	}
	var (
		f       fileRow
		by      sql.NullInt64
		created int64
	)
	err := s.db.QueryRow(ctx, `SELECT id, name, size, content_type, sha256, storage_key, created_by, created_at
		FROM files WHERE id = ?`, id).
		Scan(&f.ID, &f.Name, &f.Size, &f.ContentType, &f.SHA256, &f.key, &by, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return fileRow{}, apperr.NotFound()
	}
	if err != nil {
		return fileRow{}, fmt.Errorf("files: get %s: %w", id, err)
	}
	f.CreatedBy = by.Int64
	f.CreatedAt = time.UnixMicro(created).UTC()
	return f, nil
}

// Get returns the metadata of a file (ErrNotFound when there is none).
// It does not check permissions: the caller decides from Refs who may see
// it.
func (s *Service) Get(ctx context.Context, id string) (File, error) {
	f, err := s.get(ctx, id)
	return f.File, err
}

// Open returns the metadata and the bytes of a file; the caller closes the
// reader. Bytes missing from storage are an internal error, not a 404: they
// mean data loss somebody must see.
func (s *Service) Open(ctx context.Context, id string) (File, io.ReadSeekCloser, error) {
	f, err := s.get(ctx, id)
	if err != nil {
		return File{}, nil, err
	}
	rc, err := s.st.Open(ctx, f.key)
	if err != nil {
		return File{}, nil, fmt.Errorf("files: open bytes of %s: %w", id, err)
	}
	return f.File, rc, nil
}
