package files

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/schema"
)

const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// forEachDB runs fn against a fresh, migrated SQLite database and, when
// TENON_TEST_POSTGRES is set (to a URL, or to anything for the default
// local server), against a fresh PostgreSQL database created for the test
// and dropped after it.
func forEachDB(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		d := openDB(t, "sqlite:"+filepath.Join(t.TempDir(), "tenon.db"))
		fn(t, d)
	})
	env := os.Getenv("TENON_TEST_POSTGRES")
	if env == "" {
		return
	}
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		admin := env
		if !strings.HasPrefix(admin, "postgres://") && !strings.HasPrefix(admin, "postgresql://") {
			admin = defaultPostgresURL
		}
		d := openDB(t, createPostgresDB(t, admin))
		fn(t, d)
	})
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

// createPostgresDB creates tenon_files_<random> on the server of admin and
// returns its URL; the database is dropped when the test ends (after the
// handles opened on it are closed, as cleanups run last-in first-out).
func createPostgresDB(t *testing.T, admin string) string {
	t.Helper()
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("TENON_TEST_POSTGRES: %v", err)
	}
	conn, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	name := "tenon_files_" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		conn.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
