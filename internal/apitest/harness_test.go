package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/tenon-crm/tenon/internal/app"
	"github.com/tenon-crm/tenon/internal/module/demo"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
)

// env is one Tenon with the demo organisation behind a test HTTP server.
type env struct {
	t       testing.TB
	app     *app.App
	srv     *httptest.Server
	cfg     app.Config
	clients map[string]*client // see c
	stopped bool
}

// testClock is a controllable clock for the app, its jobs and sessions.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// testArgon are cheap password-hash parameters: a scenario signs in a few
// users, and at the default cost (19 MiB, two passes) hashing and verifying
// was nearly half of the suite's CPU. Hashes record their parameters, so
// everything else about passwords behaves as in production (the auth
// package tests the production parameters).
var testArgon = auth.ArgonParams{Time: 1, MemoryKiB: 64, Threads: 1}

// newEnv starts a fresh Tenon: SQLite in a temp dir, or a fresh PostgreSQL
// database when TENON_TEST_POSTGRES is set.
func newEnv(t testing.TB) *env { return openEnv(t, "tenon_api", nil) }

// openEnv starts a fresh Tenon with the demo organisation; on PostgreSQL
// its database is named after dbName. A clock (nil: real time) drives the
// app, its jobs and its sessions, which then last long enough for the
// months a scenario moves the clock through.
func openEnv(t testing.TB, dbName string, clk *testClock) *env {
	t.Helper()
	dsn := dbtest.SQLite(t)
	if dbtest.PostgresURL() != "" {
		dsn = dbtest.Postgres(t, dbName)
	}
	cfg := app.Config{DSN: dsn, DataDir: t.TempDir(), AdminPassword: "admin-pass-1", Stdout: io.Discard,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), AuthConfig: &auth.Config{MaxFailures: 5, MaxFailuresIP: 1000, Argon: testArgon}}
	if clk != nil {
		cfg.Now = clk.Now
		cfg.AuthConfig.SessionIdle, cfg.AuthConfig.SessionTTL = 400*24*time.Hour, 400*24*time.Hour
	}
	ctx := context.Background()
	a, err := app.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := demo.Load(ctx, a.Records, a.Auth); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, app: a, srv: httptest.NewServer(a.API.Handler()), cfg: cfg, clients: map[string]*client{}}
	t.Cleanup(e.stop)
	return e
}

// stop ends the event streams, the server and the app (once).
func (e *env) stop() {
	if e.stopped {
		return
	}
	e.stopped = true
	e.app.Notify.Close() // open event streams end first, so srv.Close does not wait
	e.srv.Close()
	if err := e.app.Close(); err != nil {
		e.t.Error(err)
	}
}

// c is the signed-in session of a demo user, made once per env.
func (e *env) c(login string) *client {
	if c, ok := e.clients[login]; ok {
		return c
	}
	c := e.as(login)
	e.clients[login] = c
	return c
}

// userIDs maps the logins of every user to their ids.
func (e *env) userIDs() map[string]string {
	out := map[string]string{}
	for _, u := range e.c("admin").do("GET", "/api/v1/records/users?per_page=100", nil, nil).want(200).items() {
		out[u["login"].(string)] = u["id"].(string)
	}
	return out
}

// client is a logged-in browser session of one user.
type client struct {
	e    *env
	hc   *http.Client
	csrf string
	lang string
}

func (e *env) as(login string) *client {
	e.t.Helper()
	pw := demo.Password
	if login == "admin" {
		pw = "admin-pass-1"
	}
	return e.login(login, pw)
}

// login signs in with a password and returns that browser session.
func (e *env) login(login, pw string) *client {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{e: e, hc: &http.Client{Jar: jar}}
	res := c.do("POST", "/api/v1/auth/login", map[string]any{"login": login, "password": pw}, nil)
	res.want(200)
	c.csrf = res.json()["csrf_token"].(string)
	return c
}

func (e *env) anon() *client { return &client{e: e, hc: &http.Client{}} }

type response struct {
	t      testing.TB
	status int
	header http.Header
	body   []byte
}

func (c *client) do(method, path string, body any, hdr map[string]string) *response {
	c.e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, c.e.srv.URL+path, rd)
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &response{t: c.e.t, status: res.StatusCode, header: res.Header, body: b}
}

func (r *response) want(status int) *response {
	r.t.Helper()
	if r.status != status {
		r.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

func (r *response) json() map[string]any {
	r.t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		r.t.Fatalf("not JSON: %s", r.body)
	}
	return m
}

func (r *response) items() []map[string]any {
	var out []map[string]any
	for _, x := range r.json()["items"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}
