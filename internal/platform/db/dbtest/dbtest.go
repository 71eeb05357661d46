// Package dbtest gives test suites fresh databases: a SQLite file in the
// test's temp dir, and, when TENON_TEST_POSTGRES is set, a PostgreSQL
// database of the test's own, dropped when the test ends.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver for the admin connection
)

// DefaultPostgres is used when TENON_TEST_POSTGRES is set but not a URL.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresURL returns the server to test against, or "" when PostgreSQL
// tests are off.
func PostgresURL() string {
	v := os.Getenv("TENON_TEST_POSTGRES")
	if v == "" {
		return ""
	}
	if !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
		return DefaultPostgres
	}
	return v
}

// SQLite returns the DSN of a new SQLite file.
func SQLite(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "tenon.db")
}

// Postgres creates a database named <prefix>_<random> on the test server and
// returns its DSN; it is dropped (forcing out open connections) when the test
// ends. Handles opened on it should be closed by cleanups registered later,
// which run first.
func Postgres(t testing.TB, prefix string) string {
	t.Helper()
	base := PostgresURL()
	if base == "" {
		t.Fatal("TENON_TEST_POSTGRES is not set")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("TENON_TEST_POSTGRES: %v", err)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := prefix + "_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// ForEach runs fn as a parallel subtest on SQLite and, when enabled, on
// PostgreSQL, each with the DSN of a fresh database. With
// TENON_TEST_ONLY_POSTGRES set as well, the SQLite subtest is left out (CI
// runs the SQLite suite on its own beside the PostgreSQL one).
func ForEach(t *testing.T, prefix string, fn func(t *testing.T, dsn string)) {
	t.Helper()
	pg := PostgresURL() != ""
	if !pg || os.Getenv("TENON_TEST_ONLY_POSTGRES") == "" {
		t.Run("sqlite", func(t *testing.T) {
			t.Parallel()
			fn(t, SQLite(t))
		})
	}
	if !pg {
		return
	}
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, Postgres(t, prefix))
	})
}
