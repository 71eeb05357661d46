//go:build unix

package importer_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/app"
	"github.com/tenon-crm/tenon/internal/engine/importer"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// The kill test re-executes its own test binary: the parent runs
// TestImportKilledMidRunResumes, each child runs runChild (through
// TestMain) on the parent's database and data directory.
const (
	childEnv   = "TENON_IMPORT_TEST_CHILD"   // "block" or "resume"
	dsnEnv     = "TENON_IMPORT_TEST_DSN"     // the database
	dataDirEnv = "TENON_IMPORT_TEST_DATADIR" // where the uploaded file is
	blockEnv   = "TENON_IMPORT_TEST_BLOCK"   // the company whose write blocks
	// killRows rows, 500 to a batch; the first child blocks inside the
	// write of a row, mid-batch, and is killed there.
	killRows = 6000
	// stall fails a wait that has seen no progress for this long: a guard
	// against a hung test, not a performance assertion.
	stall = 3 * time.Minute
)

// TestMain runs the package's tests, or a child of the kill test.
func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		if err := runChild(mode); err != nil {
			fmt.Fprintf(os.Stderr, "child %s: %v\n", mode, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// killFile is the CSV of the kill test: row i is company 公司i with e-mail
// e<i>; every hundredth row repeats the e-mail of the row 250 above it (a
// duplicate, which updates that row's record; deferred when that row is in
// an earlier batch, two in five) and every 250th row has an invalid number
// (failed).
func killFile() (data []byte, created, updated, failed int) {
	var b strings.Builder
	b.WriteString("公司名称,邮箱,序号\r\n")
	for i := range killRows {
		email := fmt.Sprintf("e%d@x.com", i)
		seq := fmt.Sprint(i)
		switch {
		case i%100 == 99 && i >= 250:
			email = fmt.Sprintf("e%d@x.com", i-250)
			updated++
		case i%250 == 125:
			seq = "bad"
			failed++
		default:
			created++
		}
		fmt.Fprintf(&b, "公司%d,%s,%s\r\n", i, email, seq)
	}
	return []byte(b.String()), created, updated, failed
}

// TestImportKilledMidRunResumes: a Tenon process running an import is
// killed with SIGKILL while it is inside a batch's transaction, with
// earlier batches committed — once in the main pass (row 3210), once in
// the pass of deferred rows (row 1099 repeats row 849's e-mail, of an
// earlier batch); a fresh process resumes the import (once the dead one's
// lease has expired) and the import ends with every row exactly once:
// each valid row one record, each duplicate skipped, each invalid row one
// error row, the counters matching.
func TestImportKilledMidRunResumes(t *testing.T) {
	for _, blockRow := range []string{"公司3210", "公司1099"} {
		t.Run(blockRow, func(t *testing.T) { killAndResume(t, blockRow) })
	}
}

func killAndResume(t *testing.T, blockRow string) {
	dbtest.ForEach(t, "tenon_impkill", func(t *testing.T, dsn string) {
		ctx := context.Background()
		dataDir := t.TempDir()
		a := openApp(t, dsn, dataDir, 0)
		if err := a.Meta.CreateEntity(ctx, &meta.Entity{Name: "kl_leads", Label: meta.Label{"zh-CN": "线索", "en": "Leads"},
			TitleField: "company", Fields: []meta.Field{
				{Name: "company", Type: "text", Required: true, Label: meta.Label{"zh-CN": "公司名称", "en": "Company"}},
				{Name: "email", Type: "email", Unique: true, Label: meta.Label{"zh-CN": "邮箱", "en": "E-mail"}},
				{Name: "seq", Type: "integer", Label: meta.Label{"zh-CN": "序号", "en": "No."}}}}); err != nil {
			t.Fatal(err)
		}
		p, err := a.Access.Principal(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		data, wantCreated, wantUpdated, wantFailed := killFile()
		tmp, err := os.CreateTemp(t.TempDir(), "kill-*.csv")
		if err != nil {
			t.Fatal(err)
		}
		tmp.Write(data)
		imp, err := a.Importer.Upload(ctx, p, "kl_leads", "kill.csv", tmp, int64(len(data)))
		tmp.Close()
		if err != nil {
			t.Fatal(err)
		}
		field, match, mode := "email", importer.MatchExact, importer.ModeUpdate
		s := importer.Settings{}
		s.Dedupe = &importer.DedupeSettings{Field: &field, Match: &match, Mode: &mode}
		if _, err := a.Importer.Configure(ctx, p, imp.ID, s); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Importer.StartImport(ctx, p, imp.ID); err != nil {
			t.Fatal(err)
		}
		state := func() *importer.Import {
			t.Helper()
			cur, err := a.Importer.Get(ctx, p, imp.ID)
			if err != nil {
				t.Fatal(err)
			}
			return cur
		}
		countRows := func(q string, args ...any) int {
			t.Helper()
			var n int
			if err := a.DB.QueryRow(ctx, q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		// The first process writes batches until it blocks inside the
		// write of blockRow, its batch's transaction open.
		first := startChild(t, "block", dsn, dataDir, blockRow)
		waitFor(t, "the first process blocked mid-batch, earlier batches committed", []*child{first}, func() (bool, int64) {
			cur := state()
			return first.blocked() && cur.Processed >= 500, cur.Processed
		})
		if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		first.killed = true
		<-first.exited
		var ee *exec.ExitError
		if !errors.As(first.err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("want death by SIGKILL, got %v", first.err)
		}
		after := state()
		// What the dead process left is whole batches: the blocked batch
		// is gone, and the counters match the records.
		records := countRows(`SELECT COUNT(*) FROM r_kl_leads`)
		if after.Status != importer.StatusRunning || after.Processed >= killRows || int64(records) != after.Created ||
			countRows(`SELECT COUNT(*) FROM r_kl_leads WHERE company = ?`, blockRow) != 0 {
			t.Fatalf("after the kill: %+v, %d records", after, records)
		}
		t.Logf("killed in the write of %s with %d of %d rows processed (%d records)", blockRow, after.Processed, killRows, records)

		// A fresh process, whose clock is past the dead one's lease,
		// resumes and finishes.
		second := startChild(t, "resume", dsn, dataDir, "")
		waitFor(t, "the import finished by the second process", []*child{second}, func() (bool, int64) {
			cur := state()
			return cur.Status == importer.StatusDone, cur.Processed
		})
		second.stop(t)

		done := state()
		if done.Processed != killRows || done.Created != int64(wantCreated) || done.Updated != int64(wantUpdated) ||
			done.Failed != int64(wantFailed) || done.Total != killRows {
			t.Fatalf("finished: %+v; want %d created, %d updated, %d failed", done, wantCreated, wantUpdated, wantFailed)
		}
		if n := countRows(`SELECT COUNT(*) FROM r_kl_leads`); n != wantCreated {
			t.Fatalf("%d records, want %d", n, wantCreated)
		}
		if n := countRows(`SELECT COUNT(DISTINCT company) FROM r_kl_leads`); n != wantCreated {
			t.Fatalf("%d distinct companies among %d records: a row was written twice", n, wantCreated)
		}
		if n := countRows(`SELECT COUNT(*) FROM r_kl_leads WHERE company = ?`, blockRow); n != 1 {
			t.Fatalf("the blocked row: %d records", n)
		}
		if n := countRows(`SELECT COUNT(*) FROM import_errors WHERE import_id = ?`, imp.ID); n != wantFailed {
			t.Fatalf("%d error rows, want %d", n, wantFailed)
		}
		if n := countRows(`SELECT COUNT(*) FROM audit_log WHERE entity = 'kl_leads' AND action = 'create'`); n != wantCreated {
			t.Fatalf("%d creations audited, want %d", n, wantCreated)
		}
		if n := countRows(`SELECT COUNT(*) FROM audit_log WHERE entity = 'kl_leads' AND action = 'update'`); n != wantUpdated {
			t.Fatalf("%d updates audited, want %d", n, wantUpdated)
		}
		var attempts int
		if err := a.DB.QueryRow(ctx, `SELECT attempts FROM jobs WHERE kind = ?`, importer.KindRun).Scan(&attempts); err != nil || attempts != 2 {
			t.Fatalf("job attempts %d (%v), want 2", attempts, err)
		}
	})
}

// openApp opens a migrated Tenon on dsn whose clock runs skew ahead.
func openApp(t testing.TB, dsn, dataDir string, skew time.Duration) *app.App {
	t.Helper()
	ctx := context.Background()
	a, err := app.Open(ctx, app.Config{DSN: dsn, DataDir: dataDir, AdminPassword: "admin-pass-1", Stdout: io.Discard,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return time.Now().Add(skew) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return a
}

// runChild is a Tenon process running jobs until SIGTERM. In mode block
// the write of blockRow announces itself on standard output and never
// returns; in mode resume its clock runs two minutes ahead, past the
// lease of the killed process's job.
func runChild(mode string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	go func() { // the parent holds our stdin open: no child outlives it
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	skew := time.Duration(0)
	if mode == "resume" {
		skew = 2 * time.Minute
	}
	a, err := app.Open(ctx, app.Config{DSN: os.Getenv(dsnEnv), DataDir: os.Getenv(dataDirEnv), AdminPassword: "admin-pass-1",
		Stdout: io.Discard, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Now: func() time.Time { return time.Now().Add(skew) }})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Migrate(ctx); err != nil {
		return err
	}
	if mode == "block" {
		blockRow := os.Getenv(blockEnv)
		a.Records.Use("kl_leads", records.Hook{Before: func(ctx context.Context, c *records.Change) error {
			if c.New["company"] == blockRow {
				fmt.Println("BLOCKED")
				select {} // inside the batch's transaction, until killed
			}
			return nil
		}})
	}
	fmt.Println("RUNNING")
	return a.Jobs.Run(ctx)
}

// child is a started child process.
type child struct {
	cmd     *exec.Cmd
	out     strings.Builder // standard error, for failures
	mu      sync.Mutex
	isBlock bool
	exited  chan struct{}
	err     error
	killed  bool
}

func (c *child) blocked() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.isBlock }

func (c *child) hasExited() bool {
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

// stop ends a child with SIGTERM and waits for it.
func (c *child) stop(t *testing.T) {
	t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(stall):
		t.Fatal("the child did not stop on SIGTERM")
	}
}

func startChild(t *testing.T, mode, dsn, dataDir, blockRow string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.timeout=20m")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, dsnEnv+"="+dsn, dataDirEnv+"="+dataDir, blockEnv+"="+blockRow)
	c := &child{cmd: cmd, exited: make(chan struct{})}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var reading sync.WaitGroup
	reading.Add(2)
	go func() {
		defer reading.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "BLOCKED" {
				c.mu.Lock()
				c.isBlock = true
				c.mu.Unlock()
			}
		}
	}()
	go func() {
		defer reading.Done()
		b, _ := io.ReadAll(stderr)
		c.mu.Lock()
		c.out.Write(b)
		c.mu.Unlock()
	}()
	go func() {
		reading.Wait()
		c.err = cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		if !c.hasExited() {
			_ = cmd.Process.Kill()
			<-c.exited
		}
		if t.Failed() {
			c.mu.Lock()
			t.Logf("child %s stderr:\n%s", mode, c.out.String())
			c.mu.Unlock()
		}
	})
	return c
}

// waitFor polls cond until it holds; it fails when a child that should be
// running exits, or when cond's progress value stays the same for stall.
func waitFor(t *testing.T, what string, children []*child, cond func() (bool, int64)) {
	t.Helper()
	last, since := int64(-1), time.Now()
	for {
		ok, progress := cond()
		if ok {
			return
		}
		for _, c := range children {
			if !c.killed && c.hasExited() {
				t.Fatalf("waiting for %s: the child exited: %v", what, c.err)
			}
		}
		if progress != last {
			last, since = progress, time.Now()
		} else if time.Since(since) > stall {
			t.Fatalf("waiting for %s: no progress for %v", what, stall)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
