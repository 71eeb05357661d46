// Package cli parses Tenon's command line (API.md "Command line") into an
// app.Config and runs the command.
package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/app"
	"github.com/tenon-crm/tenon/internal/module/demo"
	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
)

const usage = `usage:
  tenon serve   [--db DSN] [--addr HOST:PORT] [--data DIR] [--demo]
  tenon migrate [--db DSN]
  tenon user add --login L [--name N] [--role R]... [--department D] [--region R]... --password-stdin [--db DSN]
  tenon demo    [--db DSN]
  tenon backup  [--db DSN] [--data DIR] --out FILE
  tenon restore [--db DSN] [--data DIR] --in FILE
  tenon version

DSN: sqlite:PATH (default sqlite:./tenon-data/tenon.db) or postgres://user:pass@host:port/db?sslmode=disable
Environment: TENON_DB, TENON_ADDR (default 127.0.0.1:8080), TENON_DATA_DIR (default ./tenon-data),
             TENON_ADMIN_PASSWORD, TENON_SQLITE_SYNC (FULL or NORMAL), TENON_LOG (info or debug),
             TENON_DB_READERS (read connections), TENON_SQLITE_CACHE_MB (page cache per read connection)`

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Run executes one command.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("no command")
	}
	cmd, rest := args[0], args[1:]
	if cmd == "user" {
		if len(rest) == 0 || rest[0] != "add" {
			return errors.New("usage: tenon user add --login L ... --password-stdin")
		}
		cmd, rest = "user add", rest[1:]
	}
	fs := flag.NewFlagSet("tenon "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := app.Config{
		DSN: env("TENON_DB", ""), Addr: env("TENON_ADDR", "127.0.0.1:8080"), DataDir: env("TENON_DATA_DIR", "./tenon-data"),
		AdminPassword: os.Getenv("TENON_ADMIN_PASSWORD"), Synchronous: env("TENON_SQLITE_SYNC", "FULL"), Stdout: stdout,
	}
	for _, v := range []struct {
		name string
		dst  *int
	}{{"TENON_DB_READERS", &cfg.Readers}, {"TENON_SQLITE_CACHE_MB", &cfg.CacheMB}} {
		if s := os.Getenv(v.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 4096 {
				return fmt.Errorf("%s: want a number from 1 to 4096, got %q", v.name, s)
			}
			*v.dst = n
		}
	}
	fs.StringVar(&cfg.DSN, "db", cfg.DSN, "database DSN")
	var withDemo bool
	var login, name, dept, pwStdin = "", "", "", false
	var roles, regions multi
	switch cmd {
	case "serve":
		fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address")
		fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory")
		fs.BoolVar(&withDemo, "demo", false, "load the demo company into an empty database")
	case "migrate", "demo":
		fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory")
	case "user add":
		fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory")
		fs.StringVar(&login, "login", "", "login")
		fs.StringVar(&name, "name", "", "display name")
		fs.StringVar(&dept, "department", "", "department name or code")
		fs.Var(&roles, "role", "role name (repeatable)")
		fs.Var(&regions, "region", "region code (repeatable)")
		fs.BoolVar(&pwStdin, "password-stdin", false, "read the password from standard input")
	case "backup", "restore":
		return runArchive(ctx, cmd, fs, rest, &cfg, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "tenon", app.Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		fmt.Fprintln(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	level := slog.LevelInfo
	if os.Getenv("TENON_LOG") == "debug" {
		level = slog.LevelDebug
	}
	cfg.Log = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	// The demo company is written as it happened: its loader moves the
	// app's clock through the past year, then gives it back.
	clk := demo.NewTimeMachine(time.Now)
	if cmd == "demo" || withDemo {
		cfg.Now = clk.Now
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Migrate(ctx); err != nil {
		return err
	}
	switch cmd {
	case "migrate":
		v, _ := a.DB.SchemaVersion(ctx)
		fmt.Fprintf(stdout, "schema at version %d\n", v)
		return nil
	case "demo":
		return loadDemo(ctx, a, clk, stdout)
	case "user add":
		if login == "" || !pwStdin {
			return errors.New("--login and --password-stdin are required")
		}
		pw, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return err
		}
		return addUser(ctx, a, login, name, dept, roles, regions, strings.TrimRight(pw, "\r\n"), stdout)
	}
	if withDemo {
		if err := loadDemo(ctx, a, clk, stdout); err != nil && !isDemoLoaded(err) {
			return err
		}
	}
	tuneGC()
	return a.Serve(ctx)
}

// tuneGC sets the collector for a server whose live heap is small but
// whose requests allocate a lot: with Go's default (GOGC=100) it collected
// several times a second under load and preempted every goroutine each
// time. Collecting at 5× the live heap, with a soft limit that keeps the
// whole process inside a 250 MB budget (SQLite's page caches and sorts
// live outside the Go heap), costs far less CPU. A 128 MiB limit let a
// 100,000-row export of a SQLite table peak at 251 MB RSS; 96 MiB peaked
// at 175 MB at the same speed. GOGC and GOMEMLIMIT still win when set.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(96 << 20)
	}
}

func isDemoLoaded(err error) bool {
	ae, ok := apperr.As(err)
	return ok && ae.Code == "demo_not_empty"
}

func loadDemo(ctx context.Context, a *app.App, clk *demo.TimeMachine, stdout io.Writer) error {
	defer clk.Release()
	if err := demo.Load(ctx, a.Records, a.Auth); err != nil {
		if isDemoLoaded(err) {
			fmt.Fprintln(stdout, "demo data already loaded")
		}
		return err
	}
	if err := demo.LoadCompany(ctx, a.Records, clk); err != nil {
		return err
	}
	if err := a.LoadQuotingDemo(ctx, clk); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo company loaded; demo users (gm, sales.manager, rep.east, rep.south, ...) have the password %s\n", demo.Password)
	return nil
}

func addUser(ctx context.Context, a *app.App, login, name, dept string, roles, regions []string, pw string, stdout io.Writer) error {
	sys := access.System()
	if name == "" {
		name = login
	}
	in := map[string]any{"login": login, "name": name, "active": true}
	var roleIDs []any
	for _, r := range roles {
		res, err := a.Records.List(ctx, sys, "roles", recordsFilter("name", r))
		if err != nil {
			return err
		}
		if len(res.Items) != 1 {
			return fmt.Errorf("no role named %q", r)
		}
		roleIDs = append(roleIDs, fmt.Sprint(res.Items[0].ID()))
	}
	if len(roleIDs) > 0 {
		in["roles"] = roleIDs
	}
	if dept != "" {
		res, err := a.Records.List(ctx, sys, "departments", recordsFilterOr("name", "code", dept))
		if err != nil {
			return err
		}
		if len(res.Items) != 1 {
			return fmt.Errorf("no department named %q", dept)
		}
		in["department"] = fmt.Sprint(res.Items[0].ID())
	}
	if len(regions) > 0 {
		rs := make([]any, len(regions))
		for i, r := range regions {
			rs[i] = r
		}
		in["regions"] = rs
	}
	return a.DB.WithTx(ctx, func(ctx context.Context) error {
		rec, err := a.Records.Create(ctx, sys, "users", in)
		if err != nil {
			return describe(err)
		}
		if err := a.Auth.SetPassword(ctx, rec.ID(), pw); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "created user %s (id %d)\n", login, rec.ID())
		return nil
	})
}

// describe turns a domain error into a one-line message for the terminal.
func describe(err error) error {
	ae, ok := apperr.As(err)
	if !ok || len(ae.Fields) == 0 {
		return err
	}
	var parts []string
	for _, f := range ae.Fields {
		parts = append(parts, f.Field+": "+f.Code)
	}
	return errors.New(strings.Join(parts, "; "))
}
