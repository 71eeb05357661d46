package records

import (
	"context"
	"testing"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
	"github.com/tenon-crm/tenon/internal/platform/expr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/schema"
)

// openTestRegistry opens a fresh migrated database (SQLite, or PostgreSQL
// named after dbName when TENON_TEST_POSTGRES is set) with a registry
// holding the built-in entities, for a test to add its own to.
func openTestRegistry(t testing.TB, dbName string) (*db.DB, *meta.Registry) {
	t.Helper()
	ctx := context.Background()
	dsn := dbtest.SQLite(t)
	if dbtest.PostgresURL() != "" {
		dsn = dbtest.Postgres(t, dbName)
	}
	d, err := db.Open(ctx, dsn, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Migrate(ctx, schema.Migrations()); err != nil {
		t.Fatal(err)
	}
	reg := meta.NewRegistry(d, meta.DefaultTypes(), func(src string, vars []string) (meta.Evaluator, error) {
		return expr.CompileProgram(src, vars)
	})
	if err := reg.AddBuiltin(access.Entities, "entities"); err != nil {
		t.Fatal(err)
	}
	if err := reg.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := reg.SyncAll(ctx); err != nil {
		t.Fatal(err)
	}
	return d, reg
}
