package db

import (
	"context"
	"slices"
)

// Defer queues fn, a write its caller has put off so that several can go to
// the database as one statement, on the transaction in ctx. Queued writes
// run in order before the next statement the transaction runs through this
// package, before a savepoint begins or is released, and before commit: so
// whatever the transaction does next sees them as if they had been made at
// once. A savepoint rolled back drops what was queued inside it. When fn
// fails, the statement that ran it fails, and so does every later one up
// to the end of the savepoint or transaction it happened in, even if that
// error is ignored (QueryRow cannot return it: its query runs, and the
// failure surfaces at the end). Outside a transaction fn runs at once.
func Defer(ctx context.Context, fn func(ctx context.Context) error) error {
	st, ok := ctx.Value(txKey{}).(*txState)
	if !ok {
		return fn(ctx)
	}
	st.deferred = append(st.deferred, fn)
	return nil
}

// Flush runs the writes queued with Defer on the transaction in ctx now.
func Flush(ctx context.Context) error {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		return st.flush(ctx)
	}
	return nil
}

// flush runs the deferred writes (the statements they run find the queue
// empty), then reports a failure of this or an earlier flush.
func (st *txState) flush(ctx context.Context) error {
	for len(st.deferred) > 0 && st.failed == nil {
		fns := st.deferred
		st.deferred = nil
		for _, fn := range fns {
			if err := fn(ctx); err != nil {
				st.failed = err
				break
			}
		}
	}
	st.deferred = nil
	return st.failed
}

// ReserveIDs takes n values of the generated key column of table for rows
// the caller will insert with these keys, in ascending order, inside the
// transaction in ctx. On PostgreSQL they come from the column's sequence; on
// SQLite, whose single writer holds the table, the next n keys are claimed
// in sqlite_sequence, so the table's key must be AUTOINCREMENT. Either way no
// other insert gets them, and rows inserted with them in order sort in that
// order.
func (d *DB) ReserveIDs(ctx context.Context, table, column string, n int) ([]int64, error) {
	if n <= 0 {
		return nil, nil
	}
	if d.Kind == Postgres {
		ids, err := d.Int64s(ctx, `SELECT nextval(s) FROM (SELECT pg_get_serial_sequence(?, ?) AS s) q, generate_series(1, ?)`, table, column, n)
		if err != nil {
			return nil, err
		}
		slices.Sort(ids)
		return ids, nil
	}
	var last int64
	if err := d.QueryRow(ctx, `SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?), 0), COALESCE((SELECT MAX(`+d.Ident(column)+`) FROM `+d.Ident(table)+`), 0))`,
		table).Scan(&last); err != nil {
		return nil, err
	}
	res, err := d.Exec(ctx, `UPDATE sqlite_sequence SET seq = ? WHERE name = ?`, last+int64(n), table)
	if err != nil {
		return nil, err
	}
	if k, err := res.RowsAffected(); err != nil {
		return nil, err
	} else if k == 0 {
		if _, err := d.Exec(ctx, `INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)`, table, last+int64(n)); err != nil {
			return nil, err
		}
	}
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = last + 1 + int64(i)
	}
	return ids, nil
}
