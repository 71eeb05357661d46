package db

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"time"
)

// groupWriter serialises SQLite writes through one connection and commits
// every transaction that queued up while the previous commit was syncing in
// one physical transaction. Each logical transaction runs in its own
// savepoint, so a failure rolls back only that caller's work, and each caller
// is answered only after the shared COMMIT is durable.
type groupWriter struct {
	db   *sql.DB
	reqs chan *writeReq
	done chan struct{}

	// conn is the writer connection, held for the writer's lifetime so that
	// its prepared statements can be reused across transactions.
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
}

// maxStmts bounds the statement cache; past it the cache starts over.
const maxStmts = 512

// stmtConn runs statements on the writer connection through the cache.
type stmtConn struct{ w *groupWriter }

func (c stmtConn) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := c.w.stmts[q]; ok {
		return st, nil
	}
	if len(c.w.stmts) >= maxStmts {
		for k, st := range c.w.stmts {
			st.Close()
			delete(c.w.stmts, k)
		}
	}
	st, err := c.w.conn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.w.stmts[q] = st
	return st, nil
}

func (c stmtConn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if len(args) == 0 { // DDL and multi-statement scripts are not cached
		return c.w.conn.ExecContext(ctx, q)
	}
	st, err := c.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (c stmtConn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (c stmtConn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := c.stmt(ctx, q)
	if err != nil {
		// Surface the error through a Row from the connection itself.
		return c.w.conn.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

type writeReq struct {
	ctx   context.Context
	fn    func(ctx context.Context) error
	st    *txState
	reply chan error
	done  bool // answered
}

func (r *writeReq) answer(err error) {
	r.done = true
	r.reply <- err
}

// maxBatch bounds how many logical transactions share one commit, so that
// one slow batch cannot hold the write lock for long.
var maxBatch = envInt("TENON_MAXBATCH", 128)

func newGroupWriter(db *sql.DB) (*groupWriter, error) {
	conn, err := db.Conn(context.Background())
	if err != nil {
		return nil, err
	}
	w := &groupWriter{db: db, reqs: make(chan *writeReq, 1024), done: make(chan struct{}), conn: conn, stmts: map[string]*sql.Stmt{}}
	go w.loop()
	return w, nil
}

func (w *groupWriter) stop() {
	close(w.reqs)
	<-w.done
	for _, st := range w.stmts {
		st.Close()
	}
	w.conn.Close()
}

func (w *groupWriter) do(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &writeReq{ctx: ctx, fn: fn, reply: make(chan error, 1)}
	defer func() {
		if p := recover(); p != nil { // send on a closed channel: shutting down
			err = fmt.Errorf("database is closing")
		}
	}()
	w.reqs <- r
	return <-r.reply
}

func (w *groupWriter) loop() {
	defer close(w.done)
	batch := make([]*writeReq, 0, maxBatch)
	var idle, busy time.Duration
	var nb, nr int
	last := time.Now()
	rep := time.Now()
	for first := range w.reqs {
		t0 := time.Now()
		idle += t0.Sub(last)
		batch = append(batch[:0], first)
	drain:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		w.run(batch)
		last = time.Now()
		busy += last.Sub(t0)
		nb++
		nr += len(batch)
		if os.Getenv("TENON_WSTAT") != "" && last.Sub(rep) > 5*time.Second {
			fmt.Fprintf(os.Stderr, "writer idle %v busy %v batches %d reqs %d avg %.1f\n", idle, busy, nb, nr, float64(nr)/float64(nb))
			idle, busy, nb, nr, rep = 0, 0, 0, 0, last
		}
	}
}

// run commits a batch. All members run in one transaction without
// savepoints (a savepoint per member would cost statements and make FTS5
// flush its buffer each time). If any member fails, the whole transaction is
// rolled back and every member is run again alone, so a failure never
// affects another caller. Transaction functions may therefore run more than
// once, as they may on PostgreSQL when a serialization failure is retried.
func (w *groupWriter) run(batch []*writeReq) {
	if len(batch) > 1 {
		if err := w.runBatch(batch); err == nil {
			return
		}
	}
	for _, r := range batch {
		if !r.done {
			w.runBatch([]*writeReq{r})
		}
	}
}

// runBatch runs reqs in one transaction and answers them only when it
// commits, or when there is a single request (whose error is final).
// Otherwise it returns the first error and answers nobody.
func (w *groupWriter) runBatch(reqs []*writeReq) error {
	ctx := context.Background()
	conn := w.conn
	answer := func(err error) {
		for _, r := range reqs {
			r.answer(err)
		}
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		if len(reqs) == 1 {
			answer(err)
		}
		return err
	}
	var live []*writeReq
	for _, r := range reqs {
		if err := r.ctx.Err(); err != nil {
			if len(reqs) == 1 {
				_, _ = conn.ExecContext(ctx, "ROLLBACK")
				answer(err)
				return err
			}
			r.answer(err) // a cancelled caller is answered now and left out
			continue
		}
		r.st = &txState{q: stmtConn{w}}
		if err := callSafely(context.WithValue(r.ctx, txKey{}, r.st), r.fn); err != nil {
			_, _ = conn.ExecContext(ctx, "ROLLBACK")
			if len(reqs) == 1 {
				answer(err)
			}
			return err
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
		return nil
	}
	for _, r := range live {
		if err := callSafely(context.WithValue(r.ctx, txKey{}, r.st), r.st.runBeforeCommit); err != nil {
			_, _ = conn.ExecContext(ctx, "ROLLBACK")
			if len(reqs) == 1 {
				answer(err)
			}
			return err
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
		for _, r := range live {
			r.answer(fmt.Errorf("commit: %w", err))
		}
		return nil
	}
	for _, r := range live {
		for _, f := range r.st.afterCommit {
			f()
		}
		r.answer(nil)
	}
	return nil
}

func callSafely(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in transaction: %v", p)
		}
	}()
	return fn(ctx)
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil {
		return v
	}
	return def
}
