package files

import (
	"context"
	"testing"

	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
	"github.com/tenon-crm/tenon/internal/platform/schema"
)

// forEachDB runs fn against a fresh, migrated SQLite database and, when
// TENON_TEST_POSTGRES is set, against a fresh PostgreSQL database.
func forEachDB(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	dbtest.ForEach(t, "tenon_files", func(t *testing.T, dsn string) { fn(t, openDB(t, dsn)) })
}

func openDB(t *testing.T, dsn string) *db.DB {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, dsn, db.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Migrate(ctx, schema.Migrations()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return d
}
