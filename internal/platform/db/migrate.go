package db

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Migration is one numbered, frozen schema step. Once released, its SQL never
// changes; a later migration alters what an earlier one made.
type Migration struct {
	Version  int
	Name     string
	SQLite   string
	Postgres string
}

// ErrSchemaTooNew means the database was migrated by a newer Tenon.
type ErrSchemaTooNew struct{ DB, Known int }

func (e ErrSchemaTooNew) Error() string {
	return fmt.Sprintf("database schema version %d is newer than this binary knows (%d); run a newer tenon", e.DB, e.Known)
}

// SchemaVersion returns the highest applied migration (0 for a new database).
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	if err := d.ensureMigrationTable(ctx); err != nil {
		return 0, err
	}
	var v int
	err := d.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

func (d *DB) ensureMigrationTable(ctx context.Context) error {
	return d.WithTx(ctx, func(ctx context.Context) error {
		_, err := d.Q(ctx).ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`)
		return err
	})
}

// Migrate applies the migrations not yet applied, each in its own
// transaction, and refuses a database whose schema is newer than ms.
func (d *DB) Migrate(ctx context.Context, ms []Migration) error {
	known := 0
	for i, m := range ms {
		if m.Version != i+1 {
			return fmt.Errorf("migration %q has version %d, want %d", m.Name, m.Version, i+1)
		}
		known = m.Version
	}
	if err := d.ensureMigrationTable(ctx); err != nil {
		return err
	}
	return d.WithTx(ctx, func(ctx context.Context) error {
		if d.Kind == Postgres {
			// One migrator at a time across instances.
			if _, err := d.Exec(ctx, `SELECT pg_advisory_xact_lock(7312001)`); err != nil {
				return err
			}
		}
		var cur int
		if err := d.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
			return err
		}
		if cur > known {
			return ErrSchemaTooNew{DB: cur, Known: known}
		}
		for _, m := range ms[cur:] {
			body := m.SQLite
			if d.Kind == Postgres {
				body = m.Postgres
			}
			for _, stmt := range SplitStatements(body) {
				if _, err := d.Q(ctx).ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("migration %d %s: %w", m.Version, m.Name, err)
				}
			}
			if _, err := d.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, time.Now().UTC().Format(time.RFC3339)); err != nil {
				return err
			}
		}
		return nil
	})
}

// SplitStatements splits a migration script on semicolons that end a line.
// Migration scripts keep one statement per ';'-terminated block.
func SplitStatements(s string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "--") || (t == "" && cur.Len() == 0) {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}
