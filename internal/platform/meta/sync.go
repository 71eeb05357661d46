package meta

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db"
)

// column is one physical column wanted by a definition.
type column struct {
	name string
	ddl  string
}

func recordColumns(d db.Dialect, ts Types, fields []Field) []column {
	var out []column
	for i := range fields {
		f := &fields[i]
		t, ok := ts.ColumnOf(f)
		if !ok || f.Type == "subtable" {
			continue
		}
		out = append(out, column{name: f.Name, ddl: d.Ident(f.Name) + " " + d.Type(t, f.ScaleOf())})
	}
	return out
}

// existingColumns lists the columns of a table (empty when it does not exist).
func existingColumns(ctx context.Context, d *db.DB, table string) (map[string]bool, error) {
	var q string
	var args []any
	if d.Kind == db.Postgres {
		q = `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?`
		args = []any{table}
	} else {
		q = `SELECT name FROM pragma_table_info(?)`
		args = []any{table}
	}
	rows, err := d.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		cols[n] = true
	}
	return cols, rows.Err()
}

// SyncEntity makes the database match a definition: it creates missing
// tables, adds missing columns and creates missing indexes. It never drops
// or rewrites anything, so adding a field is instant on any table size
// (ADD COLUMN without a default is a metadata change on both databases).
func SyncEntity(ctx context.Context, d *db.DB, ts Types, e *Entity) error {
	exec := func(q string) error {
		_, err := d.Q(ctx).ExecContext(ctx, q)
		return err
	}
	table := e.Table()
	have, err := existingColumns(ctx, d, table)
	if err != nil {
		return err
	}
	ts0 := d.Type(db.TDateTime, 0)
	big := d.Type(db.TBigInt, 0)
	if len(have) == 0 {
		cols := []string{
			d.IDColumn(),
			`"version" ` + big + ` NOT NULL DEFAULT 1`,
			`"created_at" ` + ts0 + ` NOT NULL`,
			`"updated_at" ` + ts0 + ` NOT NULL`,
			`"created_by" ` + big,
			`"owner" ` + big,
			`"deleted_at" ` + ts0,
			`"deleted_by" ` + big,
			`"search" TEXT`,
		}
		if d.Kind == db.Postgres {
			cols = append(cols, `"search_grams" TEXT[]`)
		}
		for _, c := range recordColumns(d.Dialect, ts, e.Fields) {
			cols = append(cols, c.ddl)
		}
		if err := exec("CREATE TABLE " + d.Ident(table) + " (\n  " + strings.Join(cols, ",\n  ") + "\n)"); err != nil {
			return err
		}
	} else {
		for _, c := range recordColumns(d.Dialect, ts, e.Fields) {
			if !have[c.name] {
				if err := exec("ALTER TABLE " + d.Ident(table) + " ADD COLUMN " + c.ddl); err != nil {
					return err
				}
			}
		}
	}
	for _, ix := range wantedIndexes(e) {
		if err := exec(indexDDL(d, table, ix)); err != nil {
			return err
		}
	}
	if hasSearch(e) {
		if d.Kind == db.Postgres {
			if err := exec(fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s USING GIN ("search_grams")`,
				d.Ident(indexName(table, []string{"search_grams"}, false)), d.Ident(table))); err != nil {
				return err
			}
		} else {
			if err := exec(ftsDDL(d, e)); err != nil {
				return err
			}
			if err := exec(ftsUsermerge(d, e)); err != nil {
				return err
			}
		}
	}
	for i := range e.Fields {
		f := &e.Fields[i]
		if f.Type != "subtable" {
			continue
		}
		if err := syncChild(ctx, d, ts, e, f); err != nil {
			return err
		}
	}
	return nil
}

// ftsDDL creates an entity's SQLite full-text table. Its terms are the
// grams made by the records service, one token each, and a query is an AND
// of single terms, so positions are not needed: detail=none keeps only which
// rows hold a term, which makes the index several times smaller and its
// flushes and merges (on every commit) cheaper. contentless_delete lets a
// row's terms be removed without keeping the text a second time.
func ftsDDL(d *db.DB, e *Entity) string {
	return fmt.Sprintf(`CREATE VIRTUAL TABLE IF NOT EXISTS %s USING fts5(g, content='', contentless_delete=1, detail=none, tokenize='unicode61 remove_diacritics 0')`,
		d.Ident(e.FTSTable()))
}

// ftsUsermerge sets how many segments of one level an explicit 'merge' of
// the records service's indexer combines: two, so that compacting after a
// burst of creates merges segments of similar size (each record rewritten
// a logarithmic number of times) instead of everything into one segment
// each time.
func ftsUsermerge(d *db.DB, e *Entity) string {
	fts := d.Ident(e.FTSTable())
	return `INSERT INTO ` + fts + ` (` + fts + `, rank) VALUES ('usermerge', 2)`
}

// RecreateSearchTable drops and recreates an entity's SQLite full-text
// table, empty, so that it can be rebuilt with the current options.
func RecreateSearchTable(ctx context.Context, d *db.DB, e *Entity) error {
	if d.Kind != db.SQLite || !hasSearch(e) {
		return nil
	}
	return d.WithTx(ctx, func(ctx context.Context) error {
		if _, err := d.Exec(ctx, "DROP TABLE IF EXISTS "+d.Ident(e.FTSTable())); err != nil {
			return err
		}
		if _, err := d.Exec(ctx, ftsDDL(d, e)); err != nil {
			return err
		}
		_, err := d.Exec(ctx, ftsUsermerge(d, e))
		return err
	})
}

func syncChild(ctx context.Context, d *db.DB, ts Types, e *Entity, f *Field) error {
	table := e.ChildTable(f.Name)
	have, err := existingColumns(ctx, d, table)
	if err != nil {
		return err
	}
	q := d.Q(ctx)
	if len(have) == 0 {
		cols := []string{
			d.IDColumn(),
			`"parent_id" ` + d.Type(db.TBigInt, 0) + ` NOT NULL`,
			`"position" ` + d.Type(db.TBigInt, 0) + ` NOT NULL`,
		}
		for _, c := range recordColumns(d.Dialect, ts, f.Fields) {
			cols = append(cols, c.ddl)
		}
		if _, err := q.ExecContext(ctx, "CREATE TABLE "+d.Ident(table)+" (\n  "+strings.Join(cols, ",\n  ")+"\n)"); err != nil {
			return err
		}
	} else {
		for _, c := range recordColumns(d.Dialect, ts, f.Fields) {
			if !have[c.name] {
				if _, err := q.ExecContext(ctx, "ALTER TABLE "+d.Ident(table)+" ADD COLUMN "+c.ddl); err != nil {
					return err
				}
			}
		}
	}
	ix := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s ("parent_id", "position")`, d.Ident(indexName(table, []string{"parent_id"}, false)), d.Ident(table))
	if _, err := q.ExecContext(ctx, ix); err != nil {
		return err
	}
	for _, sf := range f.Fields {
		if (sf.Type == "link" || sf.Index) && sf.Type != "subtable" {
			if _, err := q.ExecContext(ctx, fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (%s)`,
				d.Ident(indexName(table, []string{sf.Name}, false)), d.Ident(table), d.Ident(sf.Name))); err != nil {
				return err
			}
		}
	}
	return nil
}

// wantedIndexes: owner, every link/user/department field (related lists and
// scopes), every unique or indexed field, and the declared composites.
// wantedIndexes lists an entity's indexes: owner, unique fields, the fields
// lists are usually filtered by, and the declared ones. A single-field index
// that a declared index already starts with is left out: it would cost every
// write and serve no query the declared one does not.
func wantedIndexes(e *Entity) []Index {
	covered := map[string]bool{}
	for _, ix := range e.Indexes {
		covered[ix.Fields[0]] = true
	}
	out := []Index{}
	if !covered["owner"] {
		out = append(out, Index{Fields: []string{"owner"}})
	}
	for _, f := range e.Fields {
		switch {
		case f.Unique:
			out = append(out, Index{Fields: []string{f.Name}, Unique: true})
		case covered[f.Name]:
		case f.Index || f.Type == "link" || f.Type == "user" || f.Type == "department" || f.Type == "autonumber" || f.Name == "region":
			out = append(out, Index{Fields: []string{f.Name}})
		}
	}
	return append(out, e.Indexes...)
}

func indexDDL(d *db.DB, table string, ix Index) string {
	cols := make([]string, len(ix.Fields))
	for i, f := range ix.Fields {
		cols[i] = d.Ident(f)
	}
	kw := "INDEX"
	if ix.Unique {
		kw = "UNIQUE INDEX"
	}
	return fmt.Sprintf(`CREATE %s IF NOT EXISTS %s ON %s (%s) WHERE "deleted_at" IS NULL`,
		kw, d.Ident(indexName(table, ix.Fields, ix.Unique)), d.Ident(table), strings.Join(cols, ", "))
}

// indexName is deterministic and short enough for PostgreSQL's 63 bytes.
func indexName(table string, fields []string, unique bool) string {
	base := "ix_" + table + "_" + strings.Join(fields, "_")
	if unique {
		base = "ux_" + table + "_" + strings.Join(fields, "_")
	}
	if len(base) <= 60 {
		return base
	}
	h := sha256.Sum256([]byte(base))
	return base[:50] + "_" + hex.EncodeToString(h[:4])
}

// IndexName is exported for the records layer, which maps unique violations
// back to fields.
func IndexName(table string, fields []string, unique bool) string {
	return indexName(table, fields, unique)
}

func hasSearch(e *Entity) bool {
	for i := range e.Fields {
		if e.Fields[i].IsSearchable() {
			return true
		}
	}
	return false
}

// HasSearch reports whether the entity has a full-text index.
func (e *Entity) HasSearch() bool { return hasSearch(e) }

// retireField renames a deleted field's column(s) so that a new field of the
// same name starts empty; RENAME COLUMN is instant on both databases.
func retireField(ctx context.Context, d *db.DB, ts Types, e *Entity, f *Field) error {
	suffix := fmt.Sprintf("__del%d", time.Now().Unix())
	q := d.Q(ctx)
	if f.Type == "subtable" {
		_, err := q.ExecContext(ctx, fmt.Sprintf(`ALTER TABLE %s RENAME TO %s`,
			d.Ident(e.ChildTable(f.Name)), d.Ident(e.ChildTable(f.Name)+suffix)))
		return err
	}
	if _, ok := ts.ColumnOf(f); !ok {
		return nil
	}
	for _, unique := range []bool{false, true} {
		if _, err := q.ExecContext(ctx, `DROP INDEX IF EXISTS `+d.Ident(indexName(e.Table(), []string{f.Name}, unique))); err != nil {
			return err
		}
	}
	_, err := q.ExecContext(ctx, fmt.Sprintf(`ALTER TABLE %s RENAME COLUMN %s TO %s`,
		d.Ident(e.Table()), d.Ident(f.Name), d.Ident(f.Name+suffix)))
	return err
}
