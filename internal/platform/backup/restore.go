package backup

import (
	"archive/zip"
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/records"
	"github.com/tenon-crm/tenon/internal/platform/schema"
)

// Archive is an opened backup whose manifest has been checked.
type Archive struct {
	Manifest *Manifest
	files    map[string]*zip.File
	zr       *zip.Reader
	closer   io.Closer
}

// KnownSchemaVersion is the newest schema version this binary knows.
func KnownSchemaVersion() int {
	ms := schema.Migrations()
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

// OpenFile opens the archive at path (see OpenArchive); Close releases it.
func OpenFile(path string) (*Archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	a, err := OpenArchive(f, st.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	a.closer = f
	return a, nil
}

// Close releases the file opened by OpenFile.
func (a *Archive) Close() error {
	if a.closer != nil {
		return a.closer.Close()
	}
	return nil
}

// OpenArchive reads and checks the manifest of an archive: its format, a
// schema version this binary knows, and that every table file is present.
func OpenArchive(r io.ReaderAt, size int64) (*Archive, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not a tenon backup (zip): %w", err)
	}
	a := &Archive{zr: zr, files: map[string]*zip.File{}}
	for _, f := range zr.File {
		a.files[f.Name] = f
	}
	mf := a.files[manifestPath]
	if mf == nil {
		return nil, errors.New("not a tenon backup: manifest.json is missing")
	}
	rc, err := mf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var m Manifest
	dec := json.NewDecoder(rc)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	if m.Format != FormatName {
		return nil, fmt.Errorf("not a tenon backup (format %q)", m.Format)
	}
	if m.FormatVersion < 1 || m.FormatVersion > FormatVersion {
		return nil, fmt.Errorf("backup format version %d is not supported by this tenon (knows %d); use a newer tenon", m.FormatVersion, FormatVersion)
	}
	if known := KnownSchemaVersion(); m.SchemaVersion > known {
		return nil, fmt.Errorf("backup has schema version %d, newer than this tenon knows (%d); restore it with a newer tenon", m.SchemaVersion, known)
	}
	seen := map[string]bool{}
	for _, t := range m.Tables {
		if seen[t.Name] {
			return nil, fmt.Errorf("manifest lists table %s twice", t.Name)
		}
		seen[t.Name] = true
		if a.files[t.Path] == nil {
			return nil, fmt.Errorf("archive is incomplete: %s is missing", t.Path)
		}
	}
	if m.table("meta_entities") == nil {
		return nil, errors.New("archive is incomplete: no meta_entities table")
	}
	a.Manifest = &m
	return a, nil
}

// ErrNotEmpty is returned when the target of a restore already has data.
var ErrNotEmpty = errors.New("restore needs an empty database")

// Result sums up a restore.
type Result struct {
	Tables    int
	Rows      int64
	Files     int64
	FileBytes int64
}

// Restore loads an archive into an empty database whose schema is in place
// (app.MigrateSchema, no bootstrap) and writes the file bytes to c.Files.
// It keeps ids, versions, audit history and the outbox exactly, recreates
// custom entities from the archived metadata, rebuilds the search index
// from the stored search text and moves every identity past the largest
// id it held in the source. Tables load in transactions of c.BatchSize
// rows: a failed restore leaves a partly loaded database, to be dropped.
func Restore(ctx context.Context, c Config, a *Archive) (*Result, error) {
	m := a.Manifest
	d := c.DB
	cur, err := d.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	if m.SchemaVersion > cur {
		return nil, fmt.Errorf("backup has schema version %d but the target database is at %d", m.SchemaVersion, cur)
	}
	if err := checkEmpty(ctx, c); err != nil {
		return nil, err
	}
	res := &Result{}

	// Metadata first: custom entities and fields get their tables.
	var metaDesc *tableDesc
	sys := systemTables()
	for i := range sys {
		sys[i].kind = KindSystem
		if sys[i].name == "meta_entities" {
			metaDesc = &sys[i]
		}
	}
	metaInfo := m.table("meta_entities")
	n, err := c.loadTable(ctx, metaDesc, metaInfo, a.files[metaInfo.Path])
	if err != nil {
		return nil, fmt.Errorf("restore meta_entities: %w", err)
	}
	res.Tables++
	res.Rows += n
	if err := c.Meta.Load(ctx); err != nil {
		return nil, fmt.Errorf("load restored metadata: %w", err)
	}
	if err := c.Meta.SyncAll(ctx); err != nil {
		return nil, err
	}

	targets, err := allTables(c.Meta)
	if err != nil {
		return nil, err
	}
	byName := map[string]*tableDesc{}
	for i := range targets {
		byName[targets[i].name] = &targets[i]
	}
	for i := range m.Tables {
		info := &m.Tables[i]
		if info.Name == "meta_entities" {
			continue
		}
		t := byName[info.Name]
		if t == nil {
			return nil, fmt.Errorf("archive table %s is unknown to this tenon (its metadata did not define it)", info.Name)
		}
		n, err := c.loadTable(ctx, t, info, a.files[info.Path])
		if err != nil {
			return nil, fmt.Errorf("restore %s: %w", info.Name, err)
		}
		res.Tables++
		res.Rows += n
		c.debug("restored table", "table", info.Name, "rows", n)
	}
	for i := range targets {
		t := &targets[i]
		if t.serial == "" {
			continue
		}
		var hw int64
		if info := m.table(t.name); info != nil {
			hw = info.MaxID
		}
		if err := resetIdentity(ctx, d, t.name, t.serial, hw); err != nil {
			return nil, fmt.Errorf("reset identity of %s: %w", t.name, err)
		}
	}
	if c.Files != nil {
		if err := c.restoreFiles(ctx, a, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// checkEmpty refuses a target that has users or any row in a table the
// restore would load.
func checkEmpty(ctx context.Context, c Config) error {
	var users int64
	if err := c.DB.QueryRow(ctx, `SELECT COUNT(*) FROM r_users`).Scan(&users); err != nil {
		return fmt.Errorf("check target: %w", err)
	}
	if users > 0 {
		return fmt.Errorf("%w: the target database already has %d user(s); restore into a new, empty database", ErrNotEmpty, users)
	}
	tables, err := allTables(c.Meta)
	if err != nil {
		return err
	}
	for _, t := range tables {
		var one int
		err := c.DB.QueryRow(ctx, `SELECT 1 FROM `+c.DB.Ident(t.name)+` LIMIT 1`).Scan(&one)
		if err == nil {
			return fmt.Errorf("%w: table %s of the target database has rows; restore into a new, empty database", ErrNotEmpty, t.name)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("check target %s: %w", t.name, err)
		}
	}
	return nil
}

// loadTable inserts the rows of one archived table in batches.
func (c *Config) loadTable(ctx context.Context, t *tableDesc, info *TableInfo, f *zip.File) (int64, error) {
	d := c.DB
	cols := info.Columns
	known := map[string]bool{}
	for _, ac := range cols {
		tc, ok := t.column(ac.Name)
		if !ok {
			return 0, fmt.Errorf("archived column %s is unknown to this tenon", ac.Name)
		}
		if tc.Type != ac.Type || tc.Scale != ac.Scale {
			return 0, fmt.Errorf("column %s is %s (scale %d) in the archive but %s (scale %d) here", ac.Name, ac.Type, ac.Scale, tc.Type, tc.Scale)
		}
		known[ac.Name] = true
	}
	if t.serial != "" && !known[t.serial] {
		return 0, fmt.Errorf("archived table has no %s column", t.serial)
	}
	ins := newInserter(d.Dialect, t, cols)
	notNull, err := jsonNotNull(ctx, d, t.name, cols)
	if err != nil {
		return 0, err
	}
	ins.jsonNotNull = notNull

	rc, err := f.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(rc, 256<<10))
	batch := c.BatchSize
	if batch <= 0 {
		batch = 1000
	}
	var rows [][]any
	var total int64
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		err := d.WithTx(ctx, func(ctx context.Context) error {
			return ins.exec(ctx, d, rows)
		})
		rows = rows[:0]
		return err
	}
	for {
		var row map[string]json.RawMessage
		if err := dec.Decode(&row); err == io.EOF {
			break
		} else if err != nil {
			return total, fmt.Errorf("row %d: %w", total+1, err)
		}
		for k := range row {
			if !known[k] {
				return total, fmt.Errorf("row %d: column %s is not in the manifest", total+1, k)
			}
		}
		vals, err := ins.values(row)
		if err != nil {
			return total, fmt.Errorf("row %d: %w", total+1, err)
		}
		rows = append(rows, vals)
		total++
		if len(rows) >= batch {
			if err := flush(); err != nil {
				return total, err
			}
		}
	}
	if err := flush(); err != nil {
		return total, err
	}
	if total != info.Rows {
		return total, fmt.Errorf("archive holds %d rows, manifest says %d", total, info.Rows)
	}
	return total, nil
}

// inserter builds the multi-row INSERTs of one table and, for an entity
// with a search index, the derived index data.
type inserter struct {
	d       db.Dialect
	t       *tableDesc
	cols    []Column
	head    string // INSERT INTO t (cols) VALUES
	tuple   string // (?, ?, ...)
	perStmt int
	grams   bool // fill PostgreSQL's search_grams from the search column
	// jsonNotNull names the JSON columns the table declares NOT NULL: an
	// archived null there is the JSON value null (a job without payload),
	// not SQL NULL.
	jsonNotNull map[string]bool
}

// jsonNotNull reads which of cols' JSON columns table declares NOT NULL.
func jsonNotNull(ctx context.Context, d *db.DB, table string, cols []Column) (map[string]bool, error) {
	out := map[string]bool{}
	json := map[string]bool{}
	for _, c := range cols {
		if c.Type == TJSON {
			json[c.Name] = true
		}
	}
	if len(json) == 0 {
		return out, nil
	}
	q := `SELECT column_name, CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ?`
	if d.Kind != db.Postgres {
		q = `SELECT name, "notnull" FROM pragma_table_info(?)`
	}
	rows, err := d.Query(ctx, q, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var notNull int
		if err := rows.Scan(&name, &notNull); err != nil {
			return nil, err
		}
		if json[name] && notNull == 1 {
			out[name] = true
		}
	}
	return out, rows.Err()
}

func newInserter(d db.Dialect, t *tableDesc, cols []Column) *inserter {
	ins := &inserter{d: d, t: t, cols: cols}
	names := make([]string, 0, len(cols)+1)
	marks := make([]string, 0, len(cols)+1)
	for _, c := range cols {
		names = append(names, d.Ident(c.Name))
		if c.Type == TJSON {
			marks = append(marks, d.JSONParam())
		} else {
			marks = append(marks, "?")
		}
	}
	if t.kind == KindRecord && t.entity.HasSearch() && d.Kind == db.Postgres {
		ins.grams = true
		names = append(names, d.Ident("search_grams"))
		marks = append(marks, "?")
	}
	if t.name == "outbox" {
		names = append(names, d.Ident("tx"))
		marks = append(marks, "0") // see checkCoverage
	}
	ins.head = "INSERT INTO " + d.Ident(t.name) + " (" + strings.Join(names, ", ") + ") VALUES "
	ins.tuple = "(" + strings.Join(marks, ", ") + ")"
	ins.perStmt = max(1, min(250, 16000/len(marks)))
	return ins
}

// values converts one archived row into parameters. SQLite's full-text
// index is not written here: the restored records are above the indexer's
// watermark and the restore command catches the index up afterwards.
func (ins *inserter) values(row map[string]json.RawMessage) ([]any, error) {
	n := len(ins.cols)
	if ins.grams {
		n++
	}
	vals := make([]any, n)
	var text string
	for i, c := range ins.cols {
		v, err := dbValue(ins.d, c, row[c.Name])
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		if v == nil && ins.jsonNotNull[c.Name] {
			v = "null"
		}
		vals[i] = v
		if c.Name == "search" {
			text, _ = v.(string)
		}
	}
	if ins.grams {
		vals[len(ins.cols)] = records.Grams(text)
	}
	return vals, nil
}

func (ins *inserter) exec(ctx context.Context, d *db.DB, rows [][]any) error {
	for start := 0; start < len(rows); start += ins.perStmt {
		chunk := rows[start:min(start+ins.perStmt, len(rows))]
		var b strings.Builder
		b.WriteString(ins.head)
		var args []any
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(ins.tuple)
			args = append(args, r...)
		}
		if _, err := d.Exec(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// resetIdentity makes the table's identity hand out ids above both the
// largest one present and the source's high-water mark hw.
func resetIdentity(ctx context.Context, d *db.DB, table, col string, hw int64) error {
	var top int64
	if err := d.QueryRow(ctx, `SELECT COALESCE(MAX(`+d.Ident(col)+`), 0) FROM `+d.Ident(table)).Scan(&top); err != nil {
		return err
	}
	v := max(top, hw)
	if v <= 0 {
		return nil
	}
	if d.Kind == db.Postgres {
		_, err := d.Exec(ctx, `SELECT setval(pg_get_serial_sequence(?, ?), ?, true)`, table, col, v)
		return err
	}
	return d.WithTx(ctx, func(ctx context.Context) error {
		if _, err := d.Exec(ctx, `UPDATE sqlite_sequence SET seq = ? WHERE name = ? AND seq < ?`, v, table, v); err != nil {
			return err
		}
		_, err := d.Exec(ctx, `INSERT INTO sqlite_sequence (name, seq) SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?)`, table, v, table)
		return err
	})
}

// restoreFiles writes every files/<storage_key> entry to the storage.
func (c *Config) restoreFiles(ctx context.Context, a *Archive, res *Result) error {
	for _, f := range a.zr.File {
		if !strings.HasPrefix(f.Name, filesDir) || strings.HasSuffix(f.Name, "/") {
			continue
		}
		key := strings.TrimPrefix(f.Name, filesDir)
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("file %s: %w", key, err)
		}
		n, err := c.Files.Put(ctx, key, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("restore file %s: %w", key, err)
		}
		res.Files++
		res.FileBytes += n
	}
	if res.Files != a.Manifest.Files.Count {
		return fmt.Errorf("archive holds %d files, manifest says %d", res.Files, a.Manifest.Files.Count)
	}
	c.debug("restored files", "count", res.Files, "bytes", res.FileBytes)
	return nil
}
