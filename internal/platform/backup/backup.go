package backup

import (
	"archive/zip"
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/files"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// Config is what Backup and Restore work on.
type Config struct {
	DB *db.DB
	// Meta is the metadata registry of the same database, with every entity
	// (built-in and custom): app.Open + MigrateSchema give it.
	Meta *meta.Registry
	// Files is the storage of the data directory's files/ folder; nil leaves
	// file bytes out (backup) or skips writing them (restore).
	Files files.Storage
	// TenonVersion is recorded in the manifest.
	TenonVersion string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// BatchSize is how many rows restore loads per transaction (default 1000).
	BatchSize int
	// Log receives progress at debug level (nothing when nil).
	Log *slog.Logger
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Config) debug(msg string, args ...any) {
	if c.Log != nil {
		c.Log.Debug(msg, args...)
	}
}

// Backup writes a consistent snapshot of the whole database, and the bytes
// of every stored file, to w as a zip archive (see Manifest). Everything is
// read in one read-only transaction (SQLite: one WAL snapshot; PostgreSQL:
// REPEATABLE READ, READ ONLY), so the server can keep writing meanwhile.
// Rows are streamed; no table is held in memory.
func Backup(ctx context.Context, c Config, w io.Writer) (*Manifest, error) {
	tx, tables, err := c.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	d := c.DB.Dialect

	m := &Manifest{Format: FormatName, FormatVersion: FormatVersion, TenonVersion: c.TenonVersion,
		CreatedAt: c.now().UTC().Truncate(time.Microsecond), Source: d.Kind}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&m.SchemaVersion); err != nil {
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	have, err := listTables(ctx, d, tx)
	if err != nil {
		return nil, err
	}
	warnings, err := checkCoverage(have, tables)
	if err != nil {
		return nil, err
	}
	m.Warnings = append(m.Warnings, warnings...)

	zw := zip.NewWriter(w)
	for i := range tables {
		t := &tables[i]
		info, err := exportTable(ctx, tx, d, zw, t, m.CreatedAt)
		if err != nil {
			return nil, fmt.Errorf("back up %s: %w", t.name, err)
		}
		m.Tables = append(m.Tables, info)
		c.debug("backed up table", "table", t.name, "rows", info.Rows)
	}
	if c.Files != nil {
		if err := c.exportFiles(ctx, tx, zw, m); err != nil {
			return nil, err
		}
		c.debug("backed up files", "count", m.Files.Count, "bytes", m.Files.Bytes, "missing", len(m.Files.Missing))
	} else {
		m.Warnings = append(m.Warnings, "file bytes were not included (no file storage given)")
	}
	mw, err := zw.CreateHeader(&zip.FileHeader{Name: manifestPath, Method: zip.Deflate, Modified: m.CreatedAt})
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if _, err := mw.Write(append(b, '\n')); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return m, nil
}

// snapshot begins the read-only transaction the whole backup reads in, and
// describes the tables from metadata that matches it: the registry is
// reloaded and the tables described before the snapshot starts, and the
// whole is retried until no metadata change happened in between.
func (c *Config) snapshot(ctx context.Context) (*sql.Tx, []tableDesc, error) {
	// Outside a transaction Q is the read pool (on SQLite the read-only
	// connections, so the snapshot never takes the write lock).
	pool, ok := c.DB.Q(context.WithoutCancel(ctx)).(*sql.DB)
	if !ok || db.InTx(ctx) {
		return nil, nil, errors.New("backup must not run inside a transaction")
	}
	opts := &sql.TxOptions{ReadOnly: true}
	if c.DB.Kind == db.Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	for attempt := 0; attempt < 5; attempt++ {
		before, err := metaFingerprint(ctx, pool)
		if err != nil {
			return nil, nil, err
		}
		if err := c.Meta.Load(ctx); err != nil {
			return nil, nil, err
		}
		tables, err := allTables(c.Meta)
		if err != nil {
			return nil, nil, err
		}
		tx, err := pool.BeginTx(ctx, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("begin snapshot: %w", err)
		}
		// The snapshot starts with this first read (SQLite and PostgreSQL).
		inside, err := metaFingerprint(ctx, tx)
		if err != nil {
			_ = tx.Rollback()
			return nil, nil, err
		}
		if inside == before {
			return tx, tables, nil
		}
		_ = tx.Rollback()
	}
	return nil, nil, errors.New("metadata kept changing while the backup started; try again")
}

// metaFingerprint hashes meta_entities, which defines every record table.
func metaFingerprint(ctx context.Context, q db.Querier) (string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, doc, updated_at FROM meta_entities ORDER BY name`)
	if err != nil {
		return "", fmt.Errorf("read metadata: %w", err)
	}
	defer rows.Close()
	h := sha256.New()
	for rows.Next() {
		var name, doc string
		var at int64
		if err := rows.Scan(&name, &doc, &at); err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00", name, doc, at)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func exportTable(ctx context.Context, tx *sql.Tx, d db.Dialect, zw *zip.Writer, t *tableDesc, at time.Time) (TableInfo, error) {
	info := TableInfo{Name: t.name, Kind: t.kind, Path: tablesDir + t.name + ".jsonl", Serial: t.serial,
		Columns: append([]Column(nil), t.columns...)}
	if t.entity != nil {
		info.Entity = t.entity.Name
	}
	names := make([]string, len(t.columns))
	keys := make([][]byte, len(t.columns))
	serialAt := -1
	for i, c := range t.columns {
		names[i] = d.Ident(c.Name)
		k, _ := json.Marshal(c.Name)
		keys[i] = append(k, ':')
		if c.Name == t.serial {
			serialAt = i
		}
	}
	order := make([]string, len(t.order))
	for i, o := range t.order {
		order[i] = d.Ident(o)
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+strings.Join(names, ", ")+" FROM "+d.Ident(t.name)+" ORDER BY "+strings.Join(order, ", "))
	if err != nil {
		return info, err
	}
	defer rows.Close()
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: info.Path, Method: zip.Deflate, Modified: at})
	if err != nil {
		return info, err
	}
	bw := bufio.NewWriterSize(fw, 256<<10)
	vals := make([]any, len(t.columns))
	dest := make([]any, len(t.columns))
	for i := range vals {
		dest[i] = &vals[i]
	}
	var line []byte
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return info, err
		}
		line = append(line[:0], '{')
		for i, c := range t.columns {
			if i > 0 {
				line = append(line, ',')
			}
			line = append(line, keys[i]...)
			if line, err = appendValue(line, c, vals[i]); err != nil {
				return info, fmt.Errorf("row %d, column %s: %w", info.Rows+1, c.Name, err)
			}
		}
		line = append(line, '}', '\n')
		if _, err := bw.Write(line); err != nil {
			return info, err
		}
		info.Rows++
		if serialAt >= 0 && vals[serialAt] != nil {
			if n, err := toInt(vals[serialAt]); err == nil && n > info.MaxID {
				info.MaxID = n
			}
		}
	}
	if err := rows.Err(); err != nil {
		return info, err
	}
	if err := bw.Flush(); err != nil {
		return info, err
	}
	if t.serial != "" {
		hw, err := highWater(ctx, tx, d, t.name, t.serial)
		if err != nil {
			return info, fmt.Errorf("identity of %s: %w", t.name, err)
		}
		info.MaxID = max(info.MaxID, hw)
	}
	return info, nil
}

// highWater is the last value the table's identity handed out (0 if none).
func highWater(ctx context.Context, tx *sql.Tx, d db.Dialect, table, col string) (int64, error) {
	var n sql.NullInt64
	var err error
	if d.Kind == db.Postgres {
		err = tx.QueryRowContext(ctx, `SELECT pg_sequence_last_value(pg_get_serial_sequence($1, $2)::regclass)`, table, col).Scan(&n)
	} else {
		err = tx.QueryRowContext(ctx, `SELECT MAX(seq) FROM sqlite_sequence WHERE name = ?`, table).Scan(&n)
	}
	return n.Int64, err
}

// exportFiles adds the bytes of every file of the snapshot's files table.
func (c *Config) exportFiles(ctx context.Context, tx *sql.Tx, zw *zip.Writer, m *Manifest) error {
	rows, err := tx.QueryContext(ctx, `SELECT storage_key, content_type FROM files ORDER BY storage_key`)
	if err != nil {
		return fmt.Errorf("list files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, ct string
		if err := rows.Scan(&key, &ct); err != nil {
			return err
		}
		r, err := c.Files.Open(ctx, key)
		if errors.Is(err, fs.ErrNotExist) {
			// Purged after the snapshot was taken (or lost before it).
			m.Files.Missing = append(m.Files.Missing, key)
			m.Warnings = append(m.Warnings, "file "+key+" is in the files table but its bytes are missing")
			continue
		}
		if err != nil {
			return fmt.Errorf("open file %s: %w", key, err)
		}
		method := zip.Deflate
		if compressed(ct) {
			method = zip.Store
		}
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: filesDir + key, Method: method, Modified: m.CreatedAt})
		if err != nil {
			r.Close()
			return err
		}
		n, err := io.Copy(fw, r)
		r.Close()
		if err != nil {
			return fmt.Errorf("copy file %s: %w", key, err)
		}
		m.Files.Count++
		m.Files.Bytes += n
	}
	return rows.Err()
}

// compressed reports content types not worth deflating again.
func compressed(ct string) bool {
	ct = strings.ToLower(ct)
	switch {
	case strings.HasPrefix(ct, "image/") && !strings.Contains(ct, "svg") && !strings.Contains(ct, "bmp"),
		strings.HasPrefix(ct, "video/"), strings.HasPrefix(ct, "audio/"):
		return true
	}
	for _, s := range []string{"zip", "gzip", "compressed", "x-7z", "x-rar", "x-xz", "zstd",
		"officedocument", "opendocument", "epub"} {
		if strings.Contains(ct, s) {
			return true
		}
	}
	return false
}
