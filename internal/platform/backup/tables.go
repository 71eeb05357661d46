package backup

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// Logical column types of the archive. They say how a value is written in
// the JSON-lines files, independently of the database it came from.
const (
	TInt      = "int"      // JSON number (int64, exact)
	TText     = "text"     // JSON string
	TBool     = "bool"     // true / false
	TDecimal  = "decimal"  // JSON string with exactly Scale decimals
	TDateTime = "datetime" // JSON string, RFC 3339 UTC with microseconds
	TDate     = "date"     // JSON string YYYY-MM-DD
	TTime     = "time"     // JSON string HH:MM:SS
	TJSON     = "json"     // the JSON value itself
	TBytes    = "bytes"    // JSON string, standard base64
	TFloat    = "float"    // JSON number
)

// Column is one column of an archived table.
type Column struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Scale int    `json:"scale,omitempty"`
}

// Table kinds.
const (
	KindSystem = "system" // a table of the numbered migrations
	KindRecord = "record" // r_<entity>
	KindChild  = "child"  // r_<entity>__<subtable field>
)

// tableDesc is what the code knows about a table it backs up or restores.
type tableDesc struct {
	name    string
	kind    string
	entity  *meta.Entity // record and child tables
	serial  string       // identity column, if any
	order   []string     // ORDER BY of the export (the primary key)
	columns []Column
}

func (t *tableDesc) column(name string) (Column, bool) {
	for _, c := range t.columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// systemTables declares every table of the numbered migrations (package
// schema) except schema_migrations and settings, with the logical type of each column.
// A migration that adds a table or a column must extend this list; the
// descriptor test and every backup refuse a database that has a system
// table or column not declared here.
func systemTables() []tableDesc {
	i, t, b, j, by := TInt, TText, TBool, TJSON, TBytes
	out := []tableDesc{
		{name: "meta_entities", order: []string{"name"},
			columns: cols("name", t, "custom", b, "doc", t, "updated_at", i)},
		{name: "sequences", order: []string{"key"},
			columns: cols("key", t, "value", i)},
		{name: "audit_log", serial: "id", order: []string{"id"},
			columns: cols("id", i, "entity", t, "record_id", i, "action", t, "version", i, "actor", i,
				"token_id", i, "source", t, "at", i, "changes", j)},
		{name: "auth_events", serial: "id", order: []string{"id"},
			columns: cols("id", i, "at", i, "kind", t, "login", t, "user_id", i, "ip", t, "user_agent", t)},
		{name: "outbox", serial: "seq", order: []string{"seq"},
			columns: cols("seq", i, "entity", t, "record_id", i, "event", t, "version", i, "actor", i,
				"at", i, "changes", j)},
		{name: "idempotency_keys", order: []string{"user_id", "key"},
			columns: cols("user_id", i, "key", t, "request_hash", t, "status", i, "headers", t, "body", by,
				"created_at", i)},
		{name: "user_passwords", order: []string{"user_id"},
			columns: cols("user_id", i, "hash", t, "changed_at", i)},
		{name: "sessions", order: []string{"id"},
			columns: cols("id", t, "user_id", i, "csrf", t, "created_at", i, "expires_at", i, "last_seen_at", i,
				"ip", t, "user_agent", t)},
		{name: "api_tokens", serial: "id", order: []string{"id"},
			columns: cols("id", i, "user_id", i, "name", t, "prefix", t, "hash", t, "scopes", t, "expires_at", i,
				"revoked_at", i, "created_at", i, "last_used_at", i)},
		{name: "login_attempts", serial: "id", order: []string{"id"},
			columns: cols("id", i, "key", t, "at", i)},
		{name: "files", order: []string{"id"},
			columns: cols("id", t, "name", t, "size", i, "content_type", t, "sha256", t, "storage_key", t,
				"created_by", i, "created_at", i)},
		{name: "file_refs", order: []string{"file_id", "entity", "record_id", "field"},
			columns: cols("file_id", t, "entity", t, "record_id", i, "field", t)},
		{name: "record_shares", serial: "id", order: []string{"id"},
			columns: cols("id", i, "entity", t, "record_id", i, "user_id", i, "department_id", i, "access", t,
				"created_by", i, "created_at", i)},
		{name: "external_ids", order: []string{"entity", "source", "external_id"},
			columns: cols("entity", t, "source", t, "external_id", t, "record_id", i)},
		{name: "jobs", serial: "id", order: []string{"id"},
			columns: cols("id", i, "kind", t, "payload", j, "status", t, "priority", i, "run_at", i, "attempts", i,
				"max_attempts", i, "lease_owner", t, "lease_until", i, "last_error", t, "unique_key", t,
				"created_at", i, "updated_at", i, "finished_at", i)},
		{name: "job_schedules", order: []string{"name"},
			columns: cols("name", t, "spec", t, "timezone", t, "kind", t, "payload", j, "enabled", b,
				"next_run_at", i, "last_run_at", i, "last_job_id", i, "created_at", i, "updated_at", i)},
	}
	out = append(out, notifyTables()...)
	out = append(out, flowTables()...)
	out = append(out, webhooksTables()...)
	out = append(out, importsTables()...)
	out = append(out, inboundTables()...)
	return append(out, rulesTables()...)
}

// cols builds a column list from name, type pairs.
func cols(kv ...string) []Column {
	out := make([]Column, 0, len(kv)/2)
	for k := 0; k+1 < len(kv); k += 2 {
		out = append(out, Column{Name: kv[k], Type: kv[k+1]})
	}
	return out
}

// logicalType maps a field's storage type to the archive's logical type.
func logicalType(ct db.ColType) (string, error) {
	switch ct {
	case db.TText:
		return TText, nil
	case db.TBigInt:
		return TInt, nil
	case db.TBool:
		return TBool, nil
	case db.TDecimal:
		return TDecimal, nil
	case db.TDate:
		return TDate, nil
	case db.TDateTime:
		return TDateTime, nil
	case db.TTime:
		return TTime, nil
	case db.TJSON:
		return TJSON, nil
	case db.TFloat:
		return TFloat, nil
	}
	return "", fmt.Errorf("no logical type for column type %d", ct)
}

// fieldColumns are the columns of fields that have one (sub-tables have a
// child table instead), typed from metadata.
func fieldColumns(ts meta.Types, fields []meta.Field) ([]Column, error) {
	var out []Column
	for k := range fields {
		f := &fields[k]
		if f.Type == "subtable" {
			continue
		}
		ct, ok := ts.ColumnOf(f)
		if !ok {
			continue
		}
		lt, err := logicalType(ct)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		c := Column{Name: f.Name, Type: lt}
		if lt == TDecimal {
			c.Scale = f.ScaleOf()
		}
		out = append(out, c)
	}
	return out, nil
}

// recordTables describes the record table and child tables of every entity
// in the registry. search_grams (PostgreSQL) is derived and left out.
func recordTables(reg *meta.Registry) ([]tableDesc, error) {
	ts := reg.Types()
	var out []tableDesc
	for _, e := range reg.All() {
		fc, err := fieldColumns(ts, e.Fields)
		if err != nil {
			return nil, fmt.Errorf("entity %s: %w", e.Name, err)
		}
		cols := []Column{
			{Name: "id", Type: TInt}, {Name: "version", Type: TInt},
			{Name: "created_at", Type: TDateTime}, {Name: "updated_at", Type: TDateTime},
			{Name: "created_by", Type: TInt}, {Name: "owner", Type: TInt},
			{Name: "deleted_at", Type: TDateTime}, {Name: "deleted_by", Type: TInt},
			{Name: "search", Type: TText},
		}
		out = append(out, tableDesc{name: e.Table(), kind: KindRecord, entity: e, serial: "id",
			order: []string{"id"}, columns: append(cols, fc...)})
		for k := range e.Fields {
			f := &e.Fields[k]
			if f.Type != "subtable" {
				continue
			}
			sc, err := fieldColumns(ts, f.Fields)
			if err != nil {
				return nil, fmt.Errorf("entity %s, sub-table %s: %w", e.Name, f.Name, err)
			}
			cc := []Column{{Name: "id", Type: TInt}, {Name: "parent_id", Type: TInt}, {Name: "position", Type: TInt}}
			out = append(out, tableDesc{name: e.ChildTable(f.Name), kind: KindChild, entity: e, serial: "id",
				order: []string{"id"}, columns: append(cc, sc...)})
		}
	}
	return out, nil
}

// allTables is every table a backup holds: system tables first (so that
// meta_entities comes first), then record and child tables by name.
func allTables(reg *meta.Registry) ([]tableDesc, error) {
	sys := systemTables()
	for k := range sys {
		sys[k].kind = KindSystem
	}
	rec, err := recordTables(reg)
	if err != nil {
		return nil, err
	}
	sort.Slice(rec, func(a, b int) bool { return rec[a].name < rec[b].name })
	return append(sys, rec...), nil
}

// dbColumn is a column as the database reports it.
type dbColumn struct {
	Name string
	Type string // declared type, upper case
}

// listTables returns the tables of the database with their columns.
func listTables(ctx context.Context, d db.Dialect, q db.Querier) (map[string][]dbColumn, error) {
	var query string
	if d.Kind == db.Postgres {
		query = `SELECT c.table_name, c.column_name, UPPER(c.data_type) FROM information_schema.columns c
			JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
			WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
			ORDER BY c.table_name, c.ordinal_position`
	} else {
		query = `SELECT m.name, p.name, UPPER(p.type) FROM sqlite_master m, pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
			ORDER BY m.name, p.cid`
	}
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	out := map[string][]dbColumn{}
	for rows.Next() {
		var t string
		var c dbColumn
		if err := rows.Scan(&t, &c.Name, &c.Type); err != nil {
			return nil, err
		}
		out[t] = append(out[t], c)
	}
	return out, rows.Err()
}

// isRetired reports a table or column renamed away when its custom field
// was deleted (meta's retireField: "<name>__del<unix>").
func isRetired(name string) bool {
	i := strings.LastIndex(name, "__del")
	if i < 0 {
		return false
	}
	rest := name[i+len("__del"):]
	if rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// checkCoverage compares the database with the tables a backup will hold.
// A table or column it cannot place is an error: a backup must never leave
// data out silently. Derived data (SQLite full-text tables, search_grams)
// and the columns and tables of deleted custom fields are left out with a
// warning for the latter.
func checkCoverage(have map[string][]dbColumn, want []tableDesc) (warnings []string, err error) {
	wanted := map[string]*tableDesc{}
	fts := map[string]bool{}
	for k := range want {
		wanted[want[k].name] = &want[k]
		if want[k].kind == KindRecord {
			fts[want[k].entity.FTSTable()] = true
		}
	}
	var problems []string
	names := make([]string, 0, len(have))
	for n := range have {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		cols := have[name]
		t, ok := wanted[name]
		switch {
		case ok:
		case name == "schema_migrations", name == "settings":
			// Schema state of the target itself: migrations, and settings
			// derived from the binary (the search index version, set by
			// the restore's own index rebuild).
			continue
		case isDerivedFTS(name, fts):
			continue
		case isRetired(name):
			warnings = append(warnings, fmt.Sprintf("table %s (a deleted custom field) is not backed up", name))
			continue
		default:
			problems = append(problems, "table "+name)
			continue
		}
		for _, c := range cols {
			if _, ok := t.column(c.Name); ok {
				continue
			}
			switch {
			case t.kind == KindRecord && c.Name == "search_grams":
			case t.name == "outbox" && c.Name == "tx":
				// The writing transaction's id means nothing in another
				// database; restored rows are written with transaction 0,
				// before everything written after the restore.
			case t.kind != KindSystem && isRetired(c.Name):
				warnings = append(warnings, fmt.Sprintf("column %s.%s (a deleted custom field) is not backed up", name, c.Name))
			default:
				problems = append(problems, "column "+name+"."+c.Name)
			}
		}
		for _, c := range t.columns {
			if !hasColumn(cols, c.Name) {
				problems = append(problems, "missing column "+name+"."+c.Name)
			}
		}
	}
	for _, t := range want {
		if _, ok := have[t.name]; !ok {
			problems = append(problems, "missing table "+t.name)
		}
	}
	if len(problems) > 0 {
		return warnings, fmt.Errorf("the database does not match what backup knows (%s); this tenon cannot back it up completely",
			strings.Join(problems, ", "))
	}
	return warnings, nil
}

func hasColumn(cols []dbColumn, name string) bool {
	for _, c := range cols {
		if c.Name == name {
			return true
		}
	}
	return false
}

// isDerivedFTS matches an entity's FTS5 table and its shadow tables
// (r_x__fts_data, r_x__fts_idx, ...).
func isDerivedFTS(name string, fts map[string]bool) bool {
	if fts[name] {
		return true
	}
	if i := strings.LastIndex(name, "__fts_"); i >= 0 {
		return fts[name[:i+len("__fts")]]
	}
	return false
}
