package notify_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/events"
	"github.com/tenon-crm/tenon/internal/platform/expr"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/notify"
	"github.com/tenon-crm/tenon/internal/platform/records"
	"github.com/tenon-crm/tenon/internal/platform/schema"
)

// clock is a controllable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// deps is one Tenon process's worth of the services notify needs, built
// by hand so tests can choose the notify options.
type deps struct {
	t     testing.TB
	db    *db.DB
	recs  *records.Service
	acc   *access.Service
	q     *jobs.Queue
	n     *notify.Service
	clock *clock
	users map[string]int64
}

// open builds the services on dsn (migrating it); seed creates users.
func open(t testing.TB, dsn string, clk *clock, opt notify.Options) *deps {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, dsn, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	reg := meta.NewRegistry(d, meta.DefaultTypes(), func(src string, vars []string) (meta.Evaluator, error) {
		return expr.CompileProgram(src, vars)
	})
	if err := reg.AddBuiltin(access.Entities, "entities"); err != nil {
		t.Fatal(err)
	}
	if err := reg.AddBuiltin(notify.Entities, "entities"); err != nil {
		t.Fatal(err)
	}
	if err := d.Migrate(ctx, schema.Migrations()); err != nil {
		t.Fatal(err)
	}
	if err := reg.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := reg.SyncAll(ctx); err != nil {
		t.Fatal(err)
	}
	recs := records.New(records.Config{DB: d, Registry: reg, Outbox: events.New(d), Now: clk.Now})
	acc := access.New(d)
	q, err := jobs.New(d, jobs.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	opt.DB, opt.Records, opt.Access, opt.Jobs, opt.Now = d, recs, acc, q, clk.Now
	n := notify.New(opt)
	acc.AddBaseline(notify.Grants()...)
	return &deps{t: t, db: d, recs: recs, acc: acc, q: q, n: n, clock: clk, users: map[string]int64{}}
}

// seed creates users: wang (zh-CN), lucy (en), li (no e-mail) and an
// inactive one.
func (d *deps) seed() {
	d.t.Helper()
	for _, u := range []map[string]any{
		{"login": "wang", "name": "王总", "email": "wang@demo.tenon.local", "active": true},
		{"login": "lucy", "name": "Lucy", "email": "lucy@demo.tenon.local", "active": true, "language": "en"},
		{"login": "li", "name": "李工", "active": true},
		{"login": "gone", "name": "离职", "email": "gone@demo.tenon.local", "active": false},
	} {
		rec, err := d.recs.Create(context.Background(), access.System(), "users", u)
		if err != nil {
			d.t.Fatal(err)
		}
		d.users[u["login"].(string)] = rec.ID()
	}
	d.loadUsers()
}

// loadUsers reads the user ids (a second process on the same database).
func (d *deps) loadUsers() {
	rows, err := d.db.Query(context.Background(), `SELECT id, login FROM r_users`)
	if err != nil {
		d.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var login string
		if err := rows.Scan(&id, &login); err != nil {
			d.t.Fatal(err)
		}
		d.users[login] = id
	}
}

func (d *deps) principal(login string) *access.Principal {
	d.t.Helper()
	p, err := d.acc.Principal(context.Background(), d.users[login])
	if err != nil {
		d.t.Fatal(err)
	}
	return p
}

// admin is an administrator principal acting as a user of the org.
func (d *deps) admin() *access.Principal {
	p := *d.principal("wang")
	p.Admin = true
	return &p
}

func (d *deps) settings(in notify.SettingsInput) {
	d.t.Helper()
	if _, err := d.n.SetSettings(context.Background(), d.admin(), in); err != nil {
		d.t.Fatal(err)
	}
}

func (d *deps) runDue() int {
	d.t.Helper()
	n, err := d.q.RunDue(context.Background())
	if err != nil {
		d.t.Fatal(err)
	}
	return n
}

// jobsOf lists the jobs of a kind, newest first.
func (d *deps) jobsOf(kind string) []jobs.Job {
	d.t.Helper()
	page, err := d.q.List(context.Background(), jobs.Filter{Kind: kind, Limit: 500})
	if err != nil {
		d.t.Fatal(err)
	}
	return page.Jobs
}

func (d *deps) count(q string, args ...any) int {
	d.t.Helper()
	var n int
	if err := d.db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		d.t.Fatal(err)
	}
	return n
}

func ptr[T any](v T) *T { return &v }
