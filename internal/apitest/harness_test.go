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
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/tenon-crm/tenon/internal/app"
	"github.com/tenon-crm/tenon/internal/module/demo"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
)

// env is one Tenon with the demo organisation behind a test HTTP server.
type env struct {
	t   testing.TB
	app *app.App
	srv *httptest.Server
}

// newEnv starts a fresh Tenon: SQLite in a temp dir, or a fresh PostgreSQL
// database when TENON_TEST_POSTGRES is set.
func newEnv(t testing.TB) *env {
	t.Helper()
	dsn := dbtest.SQLite(t)
	if dbtest.PostgresURL() != "" {
		dsn = dbtest.Postgres(t, "tenon_api")
	}
	cfg := app.Config{DSN: dsn, DataDir: t.TempDir(), AdminPassword: "admin-pass-1", Stdout: io.Discard,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), AuthConfig: &auth.Config{MaxFailures: 5, MaxFailuresIP: 1000}}
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
	srv := httptest.NewServer(a.API.Handler())
	t.Cleanup(func() { srv.Close(); a.Close() })
	return &env{t: t, app: a, srv: srv}
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
