package auth_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
	"github.com/tenon-crm/tenon/internal/platform/schema"
)

// t0 is where every test clock starts.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// clock is a test clock that only moves when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// users is the test stand-in for the records layer: a minimal r_users.
type users struct{ d *db.DB }

func (u users) ByLogin(ctx context.Context, login string) (int64, bool, error) {
	var id int64
	var active bool
	err := u.d.QueryRow(ctx, `SELECT id, active FROM r_users WHERE lower(login) = lower(?) AND deleted_at IS NULL`, login).Scan(&id, &active)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, apperr.NotFound()
	}
	return id, active, err
}

func (u users) Active(ctx context.Context, id int64) (bool, error) {
	var active bool
	err := u.d.QueryRow(ctx, `SELECT active FROM r_users WHERE id = ? AND deleted_at IS NULL`, id).Scan(&active)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return active, err
}

// env is one fresh database with the service under test.
type env struct {
	db    *db.DB
	svc   *auth.Service
	clock *clock
	ctx   context.Context
}

// fastArgon keeps tests quick; the parameters are read back from each hash,
// so nothing else depends on them.
var fastArgon = auth.ArgonParams{Time: 1, MemoryKiB: 64, Threads: 1}

// each runs fn on a fresh SQLite database and, when TENON_TEST_POSTGRES is
// set, on a fresh PostgreSQL database. cfg's Now and (unless set) Argon are
// filled in.
func each(t *testing.T, cfg auth.Config, fn func(t *testing.T, e *env)) {
	t.Helper()
	dbtest.ForEach(t, "tenon_auth", func(t *testing.T, dsn string) {
		d, err := db.Open(context.Background(), dsn, db.Options{MaxReaders: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		fn(t, setup(t, d, cfg))
	})
}

func setup(t *testing.T, d *db.DB, cfg auth.Config) *env {
	t.Helper()
	ctx := context.Background()
	if err := d.Migrate(ctx, schema.Migrations()); err != nil {
		t.Fatal(err)
	}
	active := "INTEGER NOT NULL DEFAULT 1"
	if d.Kind == db.Postgres {
		active = "BOOLEAN NOT NULL DEFAULT TRUE"
	}
	if _, err := d.Exec(ctx, `CREATE TABLE r_users (id BIGINT PRIMARY KEY, login TEXT UNIQUE NOT NULL, active `+active+`, deleted_at BIGINT)`); err != nil {
		t.Fatal(err)
	}
	c := &clock{now: t0}
	cfg.Now = c.Now
	if cfg.Argon == (auth.ArgonParams{}) {
		cfg.Argon = fastArgon
	}
	return &env{db: d, svc: auth.New(d, users{d}, cfg), clock: c, ctx: ctx}
}

// addUser creates a user; an empty password leaves it without one.
func (e *env) addUser(t *testing.T, id int64, login, password string, active bool) {
	t.Helper()
	if _, err := e.db.Exec(e.ctx, `INSERT INTO r_users (id, login, active) VALUES (?, ?, ?)`, id, login, active); err != nil {
		t.Fatal(err)
	}
	if password != "" {
		if err := e.svc.SetPassword(e.ctx, id, password); err != nil {
			t.Fatal(err)
		}
	}
}

func (e *env) setActive(t *testing.T, id int64, active bool) {
	t.Helper()
	if _, err := e.db.Exec(e.ctx, `UPDATE r_users SET active = ? WHERE id = ?`, active, id); err != nil {
		t.Fatal(err)
	}
	e.svc.ForgetCredentials(e.ctx) // as the org hooks do on every change to a user
}

func (e *env) deleteUser(t *testing.T, id int64) {
	t.Helper()
	if _, err := e.db.Exec(e.ctx, `UPDATE r_users SET deleted_at = ? WHERE id = ?`, e.clock.Now().UnixMicro(), id); err != nil {
		t.Fatal(err)
	}
	e.svc.ForgetCredentials(e.ctx)
}

func (e *env) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(e.ctx, query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (e *env) mustLogin(t *testing.T, login, password string) auth.Session {
	t.Helper()
	s, err := e.svc.Login(e.ctx, login, password, "192.0.2.1", "test-agent")
	if err != nil {
		t.Fatalf("login %q: %v", login, err)
	}
	return s
}

// event is one auth_events row.
type event struct {
	Kind, Login string
	UserID      int64
	IP, UA      string
}

func (e *env) events(t *testing.T) []event {
	t.Helper()
	rows, err := e.db.Query(e.ctx, `SELECT kind, login, COALESCE(user_id, 0), ip, user_agent FROM auth_events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []event
	for rows.Next() {
		var ev event
		if err := rows.Scan(&ev.Kind, &ev.Login, &ev.UserID, &ev.IP, &ev.UA); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) lastEvent(t *testing.T) event {
	t.Helper()
	evs := e.events(t)
	if len(evs) == 0 {
		t.Fatal("no auth events")
	}
	return evs[len(evs)-1]
}

// assertNotStored fails if secret occurs in any column of the tables auth
// writes.
func (e *env) assertNotStored(t *testing.T, secret string) {
	t.Helper()
	for _, table := range []string{"user_passwords", "sessions", "api_tokens", "login_attempts", "auth_events"} {
		rows, err := e.db.Query(e.ctx, `SELECT * FROM `+table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				s := fmt.Sprint(v)
				if b, ok := v.([]byte); ok {
					s = string(b)
				}
				if strings.Contains(s, secret) {
					t.Errorf("%s.%s holds the secret", table, cols[i])
				}
			}
		}
		rows.Close()
	}
}

// wantErr checks err's sentinel and code; kind nil means no error.
func wantErr(t *testing.T, err error, kind error, code string) {
	t.Helper()
	if kind == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error %v, want %v", err, kind)
	}
	ae, ok := apperr.As(err)
	if !ok || ae.Code != code {
		t.Fatalf("error %v, want code %q", err, code)
	}
}

// fieldCodes lists a 422's field errors as "field:code".
func fieldCodes(err error) []string {
	ae, ok := apperr.As(err)
	if !ok {
		return nil
	}
	var out []string
	for _, f := range ae.Fields {
		out = append(out, f.Field+":"+f.Code)
	}
	return out
}
