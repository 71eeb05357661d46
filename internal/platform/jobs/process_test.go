//go:build unix

package jobs_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
)

// The multi-process test re-executes its own test binary: the parent runs
// TestThreeProcessesOneKilled, each child runs runChild (through TestMain) with
// procChildEnv naming it and procDSNEnv giving the database.
const (
	procChildEnv = "TENON_JOBS_TEST_CHILD"
	procDSNEnv   = "TENON_JOBS_TEST_DSN"

	procJobs     = 1000
	procChildren = 3
	procWorkers  = 4
	// procLease is short so that the killed child's jobs come back soon;
	// heartbeats (every third of it) keep the survivors' leases alive.
	procLease = 2 * time.Second

	procKindInTx    = "proc.intx"    // exactly once: runs in the transaction that marks it done
	procKindOutside = "proc.outside" // at least once: runs outside, recorded with the job id as key

	// procGate is the advisory lock the parent holds while gated jobs wait
	// for it inside their handlers: it is what keeps a child mid-run.
	procGate = 4004
	// procStall fails a wait that has seen no progress for this long: it
	// guards against a hung test and is no performance assertion.
	procStall = 90 * time.Second
)

// procPayload is the payload of the test's jobs; a gated job's handler
// waits for procGate after it has written its effect.
type procPayload struct {
	N     int  `json:"n"`
	Gated bool `json:"gated"`
}

// procJob is the kind of job i and whether it is gated: one job in 12.5 is
// gated, alternately of each kind, so that every worker of every child
// ends up blocked on a gated job after about 150 jobs have run; a fifth of
// the others run outside a transaction.
func procJob(i int) (string, bool) {
	switch i % 25 {
	case 0:
		return procKindInTx, true
	case 12:
		return procKindOutside, true
	}
	if i%5 == 4 {
		return procKindOutside, false
	}
	return procKindInTx, false
}

// TestThreeProcessesOneKilled (PostgreSQL): three Tenon processes (this
// test binary re-executed) run 1,000 due jobs on one database; one of them
// is killed with SIGKILL while each of its workers is inside a handler
// that has already written its effect. Every job ends done; the killed
// process's jobs are claimed again by the others once their leases have
// expired; the others stop cleanly on SIGTERM. Each handler writes one
// row per job, counting runs: an InTx job's effect commits exactly once
// (the killed process's uncommitted one is rolled back), while a job run
// outside a transaction is run again when its process died after the
// effect (at least once; the job id keys the effect).
//
// To kill a process that is certainly mid-run, the parent holds an
// advisory lock that gated jobs wait for in their handlers after writing
// their effect (InTx ones inside the transaction that marks them done, the
// others outside any transaction, their lease kept by heartbeats). Ungated
// jobs run freely until every worker of every child is blocked in a gated
// job; then the parent picks the victim, records the jobs it holds, kills
// it, and lets the gate go.
func TestThreeProcessesOneKilled(t *testing.T) {
	if dbtest.PostgresURL() == "" {
		t.Skip("PostgreSQL only (TENON_TEST_POSTGRES): several processes share one PostgreSQL; on SQLite one process runs jobs")
	}
	t.Parallel()
	ctx := context.Background()
	dsn := dbtest.Postgres(t, "tenon_jobsproc")
	d0 := openDB(t, dsn)
	for _, s := range []string{
		// One row per job: a second run of a job adds to runs instead of
		// failing, so a double run is counted, never hidden by a rollback.
		`CREATE TABLE proc_effects (job_id BIGINT PRIMARY KEY, kind TEXT NOT NULL, child TEXT NOT NULL,
			pid BIGINT NOT NULL, attempt BIGINT NOT NULL, runs BIGINT NOT NULL, ran_at BIGINT NOT NULL)`,
	} {
		if _, err := d0.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	seed := newQueue(t, d0, jobs.Options{})
	seed.Register(procKindInTx, ok, jobs.HandlerOptions{})
	seed.Register(procKindOutside, ok, jobs.HandlerOptions{})
	gated := map[int64]bool{}
	if err := d0.WithTx(ctx, func(ctx context.Context) error {
		clear(gated)
		for i := range procJobs {
			kind, g := procJob(i)
			j, err := seed.Enqueue(ctx, kind, procPayload{N: i, Gated: g}, jobs.EnqueueOptions{})
			if err != nil {
				return err
			}
			gated[j.ID] = g
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	releaseGate := holdGate(t, dsn)

	var tag [4]byte
	_, _ = rand.Read(tag[:])
	app := "tenonjobs_" + hex.EncodeToString(tag[:]) + "_"
	var children []*procChild
	for i := range procChildren {
		name := fmt.Sprintf("c%d", i+1)
		children = append(children, startChild(t, name, dsn+"&application_name="+app+name))
	}
	// wait polls cond until it holds. It fails at once when a child that
	// should be running has exited, and when cond's progress value has not
	// changed for procStall.
	wait := func(what string, cond func() (bool, int64)) {
		t.Helper()
		last, since := int64(-1), time.Now()
		for {
			ok, progress := cond()
			if ok {
				return
			}
			for _, c := range children {
				if !c.killed && c.hasExited() {
					t.Fatalf("waiting for %s: child %s exited: %v\n%s", what, c.name, c.err, c.out.String())
				}
			}
			if progress != last {
				last, since = progress, time.Now()
			} else if time.Since(since) > procStall {
				t.Fatalf("waiting for %s: no progress for %v", what, procStall)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// Phase 1: every worker of every child blocked in a gated job.
	var held map[string][]heldJob
	wait("every worker of the three processes blocked in a gated handler", func() (bool, int64) {
		blocked := gateWaiters(t, d0)
		held = runningJobs(t, d0)
		done := countByStatus(t, seed)[jobs.StatusDone]
		all := true
		for _, c := range children {
			if blocked[app+c.name] != procWorkers || len(held[c.name]) != procWorkers {
				all = false
			}
		}
		total := 0
		for _, n := range blocked {
			total += n
		}
		return all, done*100 + int64(total)
	})
	doneBefore := countByStatus(t, seed)[jobs.StatusDone]
	if doneBefore == 0 {
		t.Fatal("no job ran before the kill")
	}
	for name, hs := range held {
		for _, h := range hs {
			if !gated[h.id] {
				t.Fatalf("child %s holds ungated job %d while all its workers are blocked", name, h.id)
			}
		}
	}

	// The victim: preferably a child holding jobs of both kinds, so that
	// both recoveries are exercised (the row lock of an InTx job, the
	// lease of a job outside a transaction).
	victim := children[0]
	for _, c := range children {
		if kinds(held[c.name]) == 2 {
			victim = c
			break
		}
	}
	orphans := held[victim.name]
	t.Logf("%d jobs done before the kill; killing %s (pid %d) holding %v", doneBefore, victim.name, victim.pid(), orphans)
	if kinds(orphans) < 2 {
		t.Logf("no child held both kinds: only %s is recovered this run", orphans[0].kind)
	}

	killAt := time.Now().UnixMicro()
	victim.killed = true
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s: %v", victim.name, err)
	}
	<-victim.exited
	var ee *exec.ExitError
	if !errors.As(victim.err, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() ||
		ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("%s: want death by SIGKILL, got %v\n%s", victim.name, victim.err, victim.out.String())
	}
	// The victim's InTx handlers are still waiting in the server for the
	// gate, their transactions open; once it is granted they find their
	// client gone and roll back.
	releaseGate()

	// Phase 2: the two survivors finish the rest.
	wait("every job done", func() (bool, int64) {
		by := countByStatus(t, seed)
		if by[jobs.StatusDead] != 0 || by[jobs.StatusFailed] != 0 || by[jobs.StatusCancelled] != 0 {
			t.Fatalf("jobs ended badly: %v", by)
		}
		return by[jobs.StatusDone] == procJobs, by[jobs.StatusDone]
	})

	// The survivors stop cleanly on SIGTERM (their Run context ends).
	for _, c := range children {
		if c == victim {
			continue
		}
		if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatalf("SIGTERM %s: %v", c.name, err)
		}
	}
	for _, c := range children {
		if c == victim {
			continue
		}
		select {
		case <-c.exited:
		case <-time.After(procStall):
			t.Fatalf("%s did not stop on SIGTERM", c.name) // its output is logged once it is killed
		}
		if c.err != nil || !strings.Contains(c.out.String(), "child "+c.name+": stopped cleanly") {
			t.Fatalf("%s did not stop cleanly: %v\n%s", c.name, c.err, c.out.String())
		}
	}

	// Every job done once, none dead, failed or left over.
	by := countByStatus(t, seed)
	if by[jobs.StatusDone] != procJobs {
		t.Fatalf("statuses %v, want %d done", by, procJobs)
	}
	effects := loadEffects(t, d0)
	if len(effects) != procJobs {
		t.Fatalf("%d jobs have an effect, want %d", len(effects), procJobs)
	}
	orphaned := map[int64]bool{}
	for _, o := range orphans {
		orphaned[o.id] = true
	}
	perChild := map[string]int{}
	reruns := 0
	for id, e := range effects {
		perChild[e.child]++
		if _, ok := gated[id]; !ok {
			t.Fatalf("effect of unknown job %d", id)
		}
		switch {
		case e.kind == procKindInTx && (e.runs != 1 || e.attempt != e.jobAttempts):
			// The effect commits with "done": once, by the last attempt.
			t.Errorf("InTx job %d: effect written %d times, by attempt %d of %d", id, e.runs, e.attempt, e.jobAttempts)
		case e.kind == procKindOutside && (e.runs > e.jobAttempts || e.attempt != e.jobAttempts):
			// At least once, but each run is an attempt of its own, and
			// the one recorded done ran last.
			t.Errorf("job %d: run %d times, last by attempt %d of %d", id, e.runs, e.attempt, e.jobAttempts)
		case e.runs > 1 && !orphaned[id]:
			reruns++
		}
	}
	if reruns > 0 {
		t.Logf("%d of the survivors' jobs outside a transaction ran again after a lost lease (at least once)", reruns)
	}

	// The victim's jobs were claimed again by the survivors, after the
	// lease it held had run out, and InTx ones only after it died (its
	// open transaction kept their rows locked). The victim's InTx effects
	// were rolled back, so those jobs ran once; its effects outside a
	// transaction stay, so those jobs ran (at least) twice.
	for _, o := range orphans {
		e := effects[o.id]
		runsOK := e.runs == 1
		if o.kind == procKindOutside {
			runsOK = e.runs >= 2
		}
		if e.child == victim.name || e.jobAttempts < 2 || !runsOK {
			t.Errorf("victim's job %d (%s): %d runs, the last by %s in attempt %d of %d; want the last by a survivor on a later attempt, the victim's run kept only outside a transaction",
				o.id, o.kind, e.runs, e.child, e.attempt, e.jobAttempts)
		}
		if e.ranAt < o.leaseUntil {
			t.Errorf("victim's job %d (%s) run again at %d, before its lease ran out at %d", o.id, o.kind, e.ranAt, o.leaseUntil)
		}
		if o.kind == procKindInTx && e.ranAt < killAt {
			t.Errorf("victim's InTx job %d run again at %d, before the kill at %d", o.id, e.ranAt, killAt)
		}
	}
	t.Logf("jobs run per process (last run): %v", perChild)
}

// TestMain runs the package's tests, or, in a process started by
// TestThreeProcessesOneKilled (procChildEnv set), that child instead.
func TestMain(m *testing.M) {
	if name := os.Getenv(procChildEnv); name != "" {
		if err := runChild(name); err != nil {
			fmt.Fprintf(os.Stderr, "child %s: %v\n", name, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild is a child of TestThreeProcessesOneKilled: a Tenon process
// running the queue until SIGTERM.
func runChild(name string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// The parent holds our stdin open: if it dies, no child outlives it.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		fmt.Fprintf(os.Stderr, "child %s: parent gone\n", name)
		os.Exit(3)
	}()

	d, err := db.Open(ctx, os.Getenv(procDSNEnv), db.Options{})
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer d.Close()
	q, err := jobs.New(d, jobs.Options{Owner: name, Workers: procWorkers, Lease: procLease,
		Poll: 50 * time.Millisecond, Log: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		return err
	}
	pid := os.Getpid()
	effect := func(ctx context.Context, j *jobs.Job) error {
		start := time.Now().UnixMicro()
		var p procPayload
		if err := j.Decode(&p); err != nil {
			return jobs.Permanent(err)
		}
		if _, err := d.Exec(ctx, `INSERT INTO proc_effects (job_id, kind, child, pid, attempt, runs, ran_at)
			VALUES (?, ?, ?, ?, ?, 1, ?)
			ON CONFLICT (job_id) DO UPDATE SET runs = proc_effects.runs + 1, child = EXCLUDED.child,
			pid = EXCLUDED.pid, attempt = EXCLUDED.attempt, ran_at = EXCLUDED.ran_at`,
			j.ID, j.Kind, name, pid, j.Attempts, start); err != nil {
			return err
		}
		if p.Gated {
			// In the job's transaction for InTx, its effect not yet
			// committed; on its own otherwise, the effect committed
			// (the lock is taken and let go at once).
			if _, err := d.Exec(ctx, `SELECT pg_advisory_xact_lock_shared(?)`, int64(procGate)); err != nil {
				return err
			}
		}
		return nil
	}
	// Long timeouts: gated handlers wait as long as the parent needs; quick
	// retries: a stray failure must not stall the test.
	opts := jobs.HandlerOptions{Timeout: 5 * time.Minute, BackoffBase: 50 * time.Millisecond}
	q.Register(procKindOutside, effect, opts)
	opts.InTx = true
	q.Register(procKindInTx, effect, opts)

	fmt.Printf("child %s: running as pid %d\n", name, pid)
	if err := q.Run(ctx); err != nil {
		return fmt.Errorf("Run: %w", err)
	}
	fmt.Printf("child %s: stopped cleanly\n", name)
	return nil
}

// procChild is a started child process.
type procChild struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bytes.Buffer // stdout and stderr; read only after exited
	exited chan struct{} // closed when Wait has returned err
	err    error
	killed bool // by the test: its exit is expected
}

func (c *procChild) pid() int { return c.cmd.Process.Pid }

func (c *procChild) hasExited() bool {
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

// startChild re-executes the test binary as the child name on dsn. A child
// still running when the test ends is killed.
func startChild(t *testing.T, name, dsn string) *procChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.timeout=10m") // TestMain runs the child
	cmd.Env = append(os.Environ(), procChildEnv+"="+name, procDSNEnv+"="+dsn)
	c := &procChild{name: name, cmd: cmd, out: &bytes.Buffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = c.out, c.out
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child %s: %v", name, err)
	}
	go func() {
		c.err = cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		if !c.hasExited() {
			_ = cmd.Process.Kill()
			<-c.exited
		}
		if t.Failed() {
			t.Logf("output of child %s:\n%s", name, c.out.String())
		}
	})
	return c
}

// holdGate takes procGate on a connection of its own and returns the
// function that lets it go (also called when the test ends).
func holdGate(t *testing.T, dsn string) (release func()) {
	t.Helper()
	ctx := context.Background()
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		pool.Close()
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(procGate)); err != nil {
		conn.Close()
		pool.Close()
		t.Fatal(err)
	}
	released := false
	release = func() {
		if released {
			return
		}
		released = true
		var ok bool
		err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1)`, int64(procGate)).Scan(&ok)
		conn.Close()
		pool.Close()
		if err != nil || !ok {
			t.Errorf("release the gate: %v (unlocked: %v)", err, ok)
		}
	}
	t.Cleanup(release)
	return release
}

// gateWaiters counts, by application name, the sessions waiting for
// procGate in this database.
func gateWaiters(t *testing.T, d *db.DB) map[string]int {
	t.Helper()
	rows, err := d.Query(context.Background(), `SELECT a.application_name, COUNT(*)
		FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND NOT l.granted AND l.classid = 0 AND l.objid = ? AND l.objsubid = 1
		AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		GROUP BY a.application_name`, procGate)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var app string
		var n int
		if err := rows.Scan(&app, &n); err != nil {
			t.Fatal(err)
		}
		out[app] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// heldJob is a running job as the other processes see it.
type heldJob struct {
	id         int64
	kind       string
	leaseUntil int64
}

func (h heldJob) String() string { return fmt.Sprintf("%d(%s)", h.id, h.kind) }

func kinds(hs []heldJob) int {
	var ks []string
	for _, h := range hs {
		if !slices.Contains(ks, h.kind) {
			ks = append(ks, h.kind)
		}
	}
	return len(ks)
}

// runningJobs returns the running jobs by the child owning their lease
// (lease_owner is the owner's name, "#", then a per-claim suffix).
func runningJobs(t *testing.T, d *db.DB) map[string][]heldJob {
	t.Helper()
	rows, err := d.Query(context.Background(),
		`SELECT id, kind, lease_owner, lease_until FROM jobs WHERE status = 'running' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]heldJob{}
	for rows.Next() {
		var h heldJob
		var owner string
		if err := rows.Scan(&h.id, &h.kind, &owner, &h.leaseUntil); err != nil {
			t.Fatal(err)
		}
		name, _, _ := strings.Cut(owner, "#")
		out[name] = append(out[name], h)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// procEffect is a job's row of proc_effects with the job's attempts.
type procEffect struct {
	kind, child          string
	attempt, runs, ranAt int64
	jobAttempts          int64
}

func loadEffects(t *testing.T, d *db.DB) map[int64]procEffect {
	t.Helper()
	rows, err := d.Query(context.Background(), `SELECT e.job_id, e.kind, e.child, e.attempt, e.runs, e.ran_at, j.attempts
		FROM proc_effects e JOIN jobs j ON j.id = e.job_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]procEffect{}
	for rows.Next() {
		var id int64
		var e procEffect
		if err := rows.Scan(&id, &e.kind, &e.child, &e.attempt, &e.runs, &e.ranAt, &e.jobAttempts); err != nil {
			t.Fatal(err)
		}
		out[id] = e
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
