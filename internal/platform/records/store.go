package records

import (
	"context"
	"database/sql"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

var errNoRows = sql.ErrNoRows

func (v *view) dbValue(f *meta.Field, x any) any {
	return meta.ToDB(v.s.types.ResultOf(f), v.s.db.Dialect, f, x)
}

// insert writes the main row and returns its id.
func (v *view) insert(ctx context.Context, rec Record) (int64, error) {
	d := v.s.db
	var shape rowShape
	vals := v.newRow(rec, false, &shape, nil)
	var id int64
	err := d.QueryRow(ctx, "INSERT INTO "+d.Ident(v.e.Table())+" ("+strings.Join(shape.cols, ", ")+") VALUES ("+strings.Join(shape.marks, ", ")+") RETURNING id", vals...).Scan(&id)
	if err != nil {
		return 0, v.uniqueConflict(err)
	}
	return id, nil
}

// gramsMark is the placeholder of search_grams on PostgreSQL, bound to
// gramsArg: the terms as one text the server splits (terms are letters and
// digits only), which costs less on both sides than a text[] parameter
// of a hundred elements.
const gramsMark = "string_to_array(?, ' ')"

func gramsArg(text string) string { return strings.Join(grams(text), " ") }

// rowShape is the quoted columns of a new row and their placeholders.
type rowShape struct{ cols, marks []string }

// newRow appends to vals the values of a new record's row (the id when rec
// has one, system columns, fields, search text): with all, one per column
// of the table, NULL where rec has none, in the same order for every
// record; otherwise only those rec has. shape, when not nil, receives the
// columns.
func (v *view) newRow(rec Record, all bool, shape *rowShape, vals []any) []any {
	d := v.s.db
	add := func(col, mark string, x any) {
		vals = append(vals, x)
		if shape != nil {
			shape.cols, shape.marks = append(shape.cols, d.Ident(col)), append(shape.marks, mark)
		}
	}
	if id := rec.ID(); id != 0 {
		add("id", "?", id)
	}
	add("version", "?", rec["version"])
	add("created_at", "?", meta.TimeToDB(d.Dialect, rec["created_at"].(timeT)))
	add("updated_at", "?", meta.TimeToDB(d.Dialect, rec["updated_at"].(timeT)))
	add("created_by", "?", rec["created_by"])
	add("owner", "?", rec["owner"])
	for _, f := range v.columns() {
		x, ok := rec[f.Name]
		switch {
		case ok && x != nil:
			add(f.Name, v.mark(f), v.dbValue(f, x))
		case all:
			add(f.Name, v.mark(f), nil)
		}
	}
	if v.e.HasSearch() {
		text := v.s.searchText(v.e, rec)
		add("search", "?", text)
		if d.Kind == db.Postgres {
			add("search_grams", gramsMark, gramsArg(text))
		}
	}
	return vals
}

// mark is the placeholder of a column (JSON needs a cast on PostgreSQL).
func (v *view) mark(f *meta.Field) string {
	if t, _ := v.s.types.ColumnOf(f); t == db.TJSON {
		return v.s.db.JSONParam()
	}
	return "?"
}

// update writes the changed columns of the main row.
func (v *view) update(ctx context.Context, rec, old Record, changed []string) error {
	d := v.s.db
	sets := []string{"version = ?", "updated_at = ?"}
	vals := []any{rec["version"], meta.TimeToDB(d.Dialect, rec["updated_at"].(timeT))}
	for _, n := range changed {
		if n == "owner" {
			sets = append(sets, "owner = ?")
			vals = append(vals, rec["owner"])
			continue
		}
		f := v.e.Field(n)
		if f == nil || f.Type == "subtable" {
			continue
		}
		if _, ok := v.s.types.ColumnOf(f); !ok {
			continue
		}
		sets = append(sets, d.Ident(n)+" = "+v.mark(f))
		if x, ok := rec[n]; ok && x != nil {
			vals = append(vals, v.dbValue(f, x))
		} else {
			vals = append(vals, nil)
		}
	}
	if v.e.HasSearch() && v.searchChanged(changed) {
		text := v.s.searchText(v.e, rec)
		sets, vals = append(sets, "search = ?"), append(vals, text)
		if d.Kind == db.Postgres {
			sets, vals = append(sets, "search_grams = "+gramsMark), append(vals, gramsArg(text))
		}
	}
	vals = append(vals, old.ID(), old.Version())
	res, err := d.Exec(ctx, "UPDATE "+d.Ident(v.e.Table())+" SET "+strings.Join(sets, ", ")+" WHERE id = ? AND version = ?", vals...)
	if err != nil {
		return v.uniqueConflict(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errVersionRace
	}
	return nil
}

// writeChildren replaces the rows of every sub-table present in rec. Rows
// that kept their id keep it; new rows get new ids.
func (v *view) writeChildren(ctx context.Context, rec, old Record) error {
	d := v.s.db
	for i := range v.e.Fields {
		f := &v.e.Fields[i]
		if f.Type != "subtable" {
			continue
		}
		rows, ok := rec[f.Name].([]Record)
		if !ok {
			continue
		}
		if old != nil {
			if prev, ok := old[f.Name].([]Record); ok && rowsEqual(prev, rows) {
				continue
			}
		}
		table := d.Ident(v.e.ChildTable(f.Name))
		if old != nil {
			if _, err := d.Exec(ctx, "DELETE FROM "+table+" WHERE parent_id = ?", rec.ID()); err != nil {
				return err
			}
		}
		if err := v.insertChildren(ctx, f, table, rec.ID(), rows); err != nil {
			return err
		}
		if d.Kind == db.Postgres {
			// Rows inserted with explicit ids must not collide with later
			// generated ones.
			if _, err := d.Exec(ctx, "SELECT setval(pg_get_serial_sequence('"+v.e.ChildTable(f.Name)+"', 'id'), GREATEST((SELECT COALESCE(MAX(id), 1) FROM "+table+"), 1))"); err != nil {
				return err
			}
		}
	}
	return v.syncFileRefs(ctx, rec, old)
}

// childChunk bounds the rows of one multi-row INSERT of a sub-table.
const childChunk = 100

// insertChildren inserts a record's sub-table rows, many per statement:
// rows that keep their id and new rows go in separate statements (new
// rows take generated ids), each row with every column (NULL where it has
// no value), and the ids come back with the rows' positions.
func (v *view) insertChildren(ctx context.Context, f *meta.Field, table string, parent int64, rows []Record) error {
	d := v.s.db
	cv := childView(v, f)
	subs := cv.cols()
	var kept, fresh []int
	for pos, row := range rows {
		if id, ok := row["id"].(int64); ok && id > 0 {
			kept = append(kept, pos)
		} else {
			fresh = append(fresh, pos)
		}
	}
	for _, g := range []struct {
		positions []int
		withID    bool
	}{{kept, true}, {fresh, false}} {
		withID := g.withID
		for start := 0; start < len(g.positions); start += childChunk {
			chunk := g.positions[start:min(start+childChunk, len(g.positions))]
			cols := []string{"parent_id", "position"}
			if withID {
				cols = append(cols, "id")
			}
			for _, sf := range subs {
				cols = append(cols, d.Ident(sf.Name))
			}
			vals := make([]any, 0, len(chunk)*len(cols))
			tuples := make([]string, 0, len(chunk))
			marks := make([]string, 0, len(cols))
			for _, pos := range chunk {
				row := rows[pos]
				marks = append(marks[:0], "?", "?")
				vals = append(vals, parent, int64(pos))
				if withID {
					marks = append(marks, "?")
					vals = append(vals, row["id"])
				}
				for _, sf := range subs {
					x, ok := row[sf.Name]
					if !ok || x == nil {
						marks = append(marks, "NULL")
						continue
					}
					marks = append(marks, v.mark(sf))
					vals = append(vals, v.dbValue(sf, x))
				}
				tuples = append(tuples, "("+strings.Join(marks, ", ")+")")
			}
			q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " + strings.Join(tuples, ", ") + " RETURNING id, position"
			res, err := d.Query(ctx, q, vals...)
			if err != nil {
				return err
			}
			for res.Next() {
				var id, pos int64
				if err := res.Scan(&id, &pos); err != nil {
					res.Close()
					return err
				}
				rows[pos]["id"] = id
			}
			err = res.Err()
			res.Close()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// syncFileRefs records which files this record holds.
func (v *view) syncFileRefs(ctx context.Context, rec, old Record) error {
	if v.s.files == nil {
		return nil
	}
	isFile := func(t string) bool { return t == "file" || t == "image" || t == "signature" }
	for i := range v.e.Fields {
		f := &v.e.Fields[i]
		var ids, prev []string
		switch {
		case isFile(f.Type):
			if s, ok := rec[f.Name].(string); ok {
				ids = []string{s}
			}
			if old != nil {
				if s, ok := old[f.Name].(string); ok {
					prev = []string{s}
				}
			}
		case f.Type == "subtable":
			for j := range f.Fields {
				sf := &f.Fields[j]
				if !isFile(sf.Type) {
					continue
				}
				ids, prev = nil, nil
				rows, _ := rec[f.Name].([]Record)
				for _, r := range rows {
					if s, ok := r[sf.Name].(string); ok {
						ids = append(ids, s)
					}
				}
				if old != nil {
					rows, _ := old[f.Name].([]Record)
					for _, r := range rows {
						if s, ok := r[sf.Name].(string); ok {
							prev = append(prev, s)
						}
					}
				}
				if old == nil || !equalValues(ids, prev) {
					if err := v.s.files.SetRefs(ctx, v.e.Name, rec.ID(), f.Name+"."+sf.Name, ids); err != nil {
						return err
					}
				}
			}
			continue
		default:
			continue
		}
		if old == nil && len(ids) == 0 || old != nil && equalValues(ids, prev) {
			continue
		}
		if err := v.s.files.SetRefs(ctx, v.e.Name, rec.ID(), f.Name, ids); err != nil {
			return err
		}
	}
	return nil
}

func (v *view) searchChanged(changed []string) bool {
	for _, n := range changed {
		if f := v.e.Field(n); f != nil && f.IsSearchable() {
			return true
		}
	}
	return false
}

// index keeps SQLite's full-text index in step with a write (PostgreSQL's
// grams are written with the row itself). A new record is left to the
// indexer (see indexer.go), which is told after the commit. An update of
// searchable text rewrites the entry of a record the indexer has passed;
// one it has not reached is read afresh when it gets there. The FTS write is
// queued to just before commit: see db.BeforeCommit.
func (v *view) index(ctx context.Context, rec Record, created bool, changed []string) error {
	d := v.s.db
	if !v.e.HasSearch() || d.Kind != db.SQLite {
		return nil
	}
	if created {
		db.AfterCommit(ctx, v.s.nudgeIndexer)
		return nil
	}
	if !v.searchChanged(changed) {
		return nil
	}
	id := rec.ID()
	terms := strings.Join(grams(v.s.searchText(v.e, rec)), " ")
	fts := d.Ident(v.e.FTSTable())
	return db.BeforeCommit(ctx, func(ctx context.Context) error {
		upTo, err := v.s.indexedTo(ctx, v.e)
		if err != nil || id > upTo {
			return err
		}
		if _, err := d.Exec(ctx, "DELETE FROM "+fts+" WHERE rowid = ?", id); err != nil {
			return err
		}
		_, err = d.Exec(ctx, "INSERT INTO "+fts+" (rowid, g) VALUES (?, ?)", id, terms)
		return err
	})
}

// OptimizeSearch compacts every SQLite full-text index into one segment
// (after a rebuild or a bulk load). It does nothing on PostgreSQL.
func (s *Service) OptimizeSearch(ctx context.Context) error {
	if s.db.Kind != db.SQLite {
		return nil
	}
	for _, e := range s.reg.All() {
		if !e.HasSearch() {
			continue
		}
		fts := s.db.Ident(e.FTSTable())
		if _, err := s.db.Exec(ctx, "INSERT INTO "+fts+" ("+fts+") VALUES ('optimize')"); err != nil {
			return err
		}
	}
	return nil
}
