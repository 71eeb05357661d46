package backup

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
)

// declared is the SQL type each logical type has on each database.
func declared(kind db.Kind, c Column) string {
	sqlite := map[string]string{TInt: "INTEGER", TText: "TEXT", TBool: "INTEGER", TDecimal: "INTEGER",
		TDateTime: "TEXT", TDate: "TEXT", TTime: "TEXT", TJSON: "TEXT", TBytes: "BLOB", TFloat: "REAL"}
	pg := map[string]string{TInt: "BIGINT", TText: "TEXT", TBool: "BOOLEAN", TDecimal: "NUMERIC",
		TDateTime: "TIMESTAMP WITH TIME ZONE", TDate: "DATE", TTime: "TIME WITHOUT TIME ZONE", TJSON: "JSONB",
		TBytes: "BYTEA", TFloat: "DOUBLE PRECISION"}
	if kind == db.Postgres {
		return pg[c.Type]
	}
	return sqlite[c.Type]
}

// TestDescriptorsCoverDatabase fails when the migrations create a system
// table or column that systemTables does not declare (or declares with a
// type the database does not have), so a new migration cannot be left out
// of backups silently. Record tables are checked against metadata too.
func TestDescriptorsCoverDatabase(t *testing.T) {
	dbtest.ForEach(t, "tenon_backup", func(t *testing.T, dsn string) {
		ctx := context.Background()
		a := openApp(t, dsn)
		if err := a.MigrateSchema(ctx); err != nil {
			t.Fatal(err)
		}
		if err := a.Meta.CreateEntity(ctx, gadget()); err != nil {
			t.Fatal(err)
		}
		have, err := listTables(ctx, a.DB.Dialect, a.DB.Q(ctx))
		if err != nil {
			t.Fatal(err)
		}
		want, err := allTables(a.Meta)
		if err != nil {
			t.Fatal(err)
		}
		warnings, err := checkCoverage(have, want)
		if err != nil {
			t.Fatal(err)
		}
		if len(warnings) > 0 {
			t.Errorf("warnings on a fresh database: %v", warnings)
		}
		for _, td := range want {
			for _, c := range td.columns {
				var got string
				for _, dc := range have[td.name] {
					if dc.Name == c.Name {
						got = dc.Type
					}
				}
				if w := declared(a.DB.Kind, c); !strings.HasPrefix(got, w) {
					t.Errorf("%s.%s is %s in the database but declared %s (%s expected)", td.name, c.Name, got, c.Type, w)
				}
			}
		}
		for _, td := range systemTables() {
			if len(td.order) == 0 {
				t.Errorf("%s has no export order", td.name)
			}
		}

		// A migration adding a table and a column that nobody declared.
		for _, q := range []string{`CREATE TABLE widgets (id BIGINT PRIMARY KEY, note TEXT)`,
			`ALTER TABLE sessions ADD COLUMN device TEXT`} {
			if _, err := a.DB.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		have, err = listTables(ctx, a.DB.Dialect, a.DB.Q(ctx))
		if err != nil {
			t.Fatal(err)
		}
		_, err = checkCoverage(have, want)
		if err == nil || !strings.Contains(err.Error(), "table widgets") || !strings.Contains(err.Error(), "column sessions.device") {
			t.Fatalf("undeclared table and column not reported: %v", err)
		}
		var buf bytes.Buffer
		if _, err := Backup(ctx, configOf(t, a), &buf); err == nil || !strings.Contains(err.Error(), "widgets") {
			t.Fatalf("backup of a database with an undeclared table: %v", err)
		}
	})
}
