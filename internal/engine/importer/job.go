package importer

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"slices"
	"sync"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
)

// runPayload is the payload of an importer.run job.
type runPayload struct {
	Import int64 `json:"import,string"`
}

// errStopped ends a run whose import was cancelled (or finished by
// another process) before the batch in hand.
var errStopped = errors.New("import stopped")

// errRollback rolls a dry run's batch back.
var errRollback = errors.New("dry run: roll back")

// runJob runs an import: it writes the batches that have not committed
// yet (each batch's records, error rows, counters and checkpoint row in one
// transaction) and marks the import done. Once the import is cancelled no
// further batch starts. A refusal that no retry can cure
// (the entity or the user is gone, the user lost the right to import, the
// mapping no longer fits) fails the import at once with that reason; other
// errors are retried with back-off, and the last attempt's failure fails
// the import.
func (e *Engine) runJob(ctx context.Context, j *jobs.Job) error {
	var pl runPayload
	if err := j.Decode(&pl); err != nil {
		return jobs.Permanent(err)
	}
	imp, err := e.load(ctx, pl.Import, false)
	if errors.Is(err, apperr.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	ok, err := e.setStatus(ctx, imp.ID, StatusRunning, nil, StatusQueued, StatusRunning)
	if err != nil || !ok {
		return err // cancelled (or done) meanwhile: nothing to do
	}
	err = e.execute(ctx, imp)
	if err == nil {
		return nil
	}
	if errors.Is(err, errStopped) {
		return e.reportStopped(ctx, imp)
	}
	if ae, ok := apperr.As(err); ok {
		return e.fail(ctx, imp, &Problem{Code: ae.Code, Args: ae.Args})
	}
	if j.Attempts >= j.MaxAttempts {
		e.log.Error("import failed", "import", imp.ID, "err", err)
		if serr := e.fail(context.WithoutCancel(ctx), imp, &Problem{Code: "import_internal_error"}); serr != nil {
			return errors.Join(err, serr)
		}
	}
	return err
}

// fail ends a running import as failed with problem, with the error
// report of the batches that did commit on its record.
func (e *Engine) fail(ctx context.Context, imp *Import, problem *Problem) error {
	report, err := e.storeReport(ctx, imp.ID, e.reportLang(ctx, imp.CreatedBy))
	if err != nil {
		return err
	}
	_, err = e.transition(ctx, imp.ID, StatusFailed, problem, report, StatusRunning)
	return err
}

// reportStopped puts the error report on the record of an import
// cancelled while it ran, once its last batches have committed.
func (e *Engine) reportStopped(ctx context.Context, imp *Import) error {
	report, err := e.storeReport(ctx, imp.ID, e.reportLang(ctx, imp.CreatedBy))
	if err != nil || report == "" {
		return err
	}
	return e.db.WithTx(ctx, func(ctx context.Context) error {
		cur, err := e.load(ctx, imp.ID, true)
		if errors.Is(err, apperr.ErrNotFound) {
			return nil
		}
		if err != nil || cur.Status != StatusCancelled {
			return err
		}
		return e.syncRecord(ctx, imp.ID, map[string]any{"error_report": report})
	})
}

// execute runs the batches of an import that have not committed yet and
// marks it done.
func (e *Engine) execute(ctx context.Context, imp *Import) error {
	p, err := e.actor(ctx, imp.CreatedBy)
	if err != nil {
		return err
	}
	pl, err := e.compile(p, imp)
	if err != nil {
		return err
	}
	t, closeFile, err := e.openStored(ctx, imp)
	if err != nil {
		return err
	}
	defer closeFile()
	r := e.newRunner(p, imp, pl, false)
	if err := r.loadCompanies(ctx); err != nil {
		return err
	}
	nos, err := e.db.Int64s(ctx, `SELECT batch_no FROM import_batches WHERE import_id = ?`, imp.ID)
	if err != nil {
		return err
	}
	done := make(map[int64]bool, len(nos))
	for _, n := range nos {
		done[n] = true
	}
	if err := r.pass(ctx, t, done, r.commit); err != nil {
		return err
	}
	report, err := e.storeReport(ctx, imp.ID, p.Lang)
	if err != nil {
		return err
	}
	ok, err := e.transition(ctx, imp.ID, StatusDone, nil, report, StatusRunning)
	if err == nil && !ok {
		return errStopped
	}
	return err
}

// errBatchDone skips a batch that has committed already (written by
// another process that ran the job before its lease was lost).
var errBatchDone = errors.New("import: batch already written")

// commit writes one batch in one transaction: its checkpoint row first (a
// batch written already is skipped), then, if the import is still
// running, its rows, its error rows and the counters.
func (r *runner) commit(ctx context.Context, w *worker, b batch) error {
	prep, err := r.prepare(ctx, b.rows)
	if err != nil {
		return err
	}
	found, err := r.existing(ctx, prep)
	if err != nil {
		return err
	}
	var made map[string]int64
	err = r.e.db.WithTx(ctx, func(ctx context.Context) error {
		res, err := r.e.db.Exec(ctx, `INSERT INTO import_batches (import_id, batch_no) VALUES (?, ?)
			ON CONFLICT (import_id, batch_no) DO NOTHING`, r.imp.ID, b.no)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return cmp.Or(err, errBatchDone)
		}
		var status string
		if err := r.e.db.QueryRow(ctx, `SELECT status FROM imports WHERE id = ?`, r.imp.ID).Scan(&status); err != nil {
			return err
		}
		if status != StatusRunning {
			return errStopped
		}
		var outs []outcome
		if outs, made, err = r.apply(ctx, w, prep, found); err != nil {
			return err
		}
		if err := r.errorRows(ctx, prep, outs); err != nil {
			return err
		}
		c := count(outs)
		_, err = r.e.db.Exec(ctx, `UPDATE imports SET processed_rows = processed_rows + ?, created_rows = created_rows + ?,
			updated_rows = updated_rows + ?, skipped_rows = skipped_rows + ?, failed_rows = failed_rows + ?, updated_at = ?
			WHERE id = ?`, int64(len(outs)), c.created, c.updated, c.skipped, c.failed, r.e.now().UnixMicro(), r.imp.ID)
		if err != nil {
			return err
		}
		return r.e.syncRecord(ctx, r.imp.ID, nil)
	})
	if errors.Is(err, errBatchDone) {
		return nil
	}
	if err != nil {
		return err
	}
	if r.company != nil && len(made) > 0 {
		r.mu.Lock()
		for k, id := range made {
			r.company[k] = append(r.company[k], id)
		}
		r.mu.Unlock()
	}
	return nil
}

// batch is a group of rows written (or checked) in one transaction. Its
// number is the checkpoint's: main batch k holds the data rows k·B to
// (k+1)·B-1 (B = Limits.BatchSize) that were not deferred, deferred batch
// j is number deferredBase+j.
type batch struct {
	no   int64
	rows []dataRow
}

// deferredBase numbers the batches of deferred rows.
const deferredBase = 1 << 40

// worker is one goroutine writing batches.
type worker struct {
	// optimistic says the next batch is first tried without a savepoint
	// per row (see runner.apply).
	optimistic bool
}

// pass runs every batch of the file through process: the main batches,
// by Limits.Workers goroutines at once on PostgreSQL (one on SQLite,
// whose writer is single, and when a mapped link points at the imported
// entity itself), then the deferred rows in file order, one batch after
// the other. done names batches to skip.
//
// Rows depend on earlier rows only through their conflict keys (see
// conflictKeys): the de-duplication key and the values of unique fields.
// A row with a key that an earlier batch's row (or a deferred row) has is
// deferred: it runs after every main batch, in file order. So main batches
// are independent of one another and may run in any order and at once,
// while every row that depends on an earlier one runs after it, as a
// reading of the file from top to bottom would have it. The decision
// depends only on the file and the mapping, so a resumed run, and the dry
// run, defer the same rows and number the same batches.
func (r *runner) pass(ctx context.Context, t *table, done map[int64]bool, process func(context.Context, *worker, batch) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ch := make(chan batch)
	var wg sync.WaitGroup
	for range r.workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{optimistic: true}
			for b := range ch {
				if ctx.Err() != nil || r.stopped.Load() {
					continue
				}
				if err := process(ctx, w, b); errors.Is(err, errStopped) {
					r.stopped.Store(true)
				} else if err != nil {
					cancel(err)
				}
			}
		}()
	}
	deferred, err := r.stream(ctx, t, func(b batch) error {
		if r.stopped.Load() {
			return errStopped
		}
		if done[b.no] {
			return nil
		}
		select {
		case ch <- b:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	close(ch)
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	if err != nil {
		return err
	}
	if r.stopped.Load() {
		return errStopped
	}
	w := &worker{optimistic: true}
	size := r.e.limits.BatchSize
	for j := 0; j*size < len(deferred); j++ {
		b := batch{no: deferredBase + int64(j), rows: deferred[j*size : min((j+1)*size, len(deferred))]}
		if done[b.no] {
			continue
		}
		if err := process(ctx, w, b); err != nil {
			return err
		}
	}
	return nil
}

// workers is how many batches run at once.
func (r *runner) workers() int {
	if r.e.db.Kind != db.Postgres {
		return 1
	}
	for _, c := range r.pl.cols {
		if (c.t.typ == "link" || c.t.typ == "multi_link") && c.t.f.Target == r.pl.ent.Name {
			return 1 // rows may name records that earlier rows create
		}
	}
	return r.e.limits.Workers
}

// stream reads the data rows in file order, hands each main batch to emit
// as it fills, and returns the deferred rows.
func (r *runner) stream(ctx context.Context, t *table, emit func(batch) error) ([]dataRow, error) {
	size := int64(r.e.limits.BatchSize)
	first := map[string]int64{} // conflict key → main batch of its first row; -1 for a deferred row's
	var deferred []dataRow
	cur := batch{no: -1}
	for idx := int64(0); ; idx++ {
		if err := ctx.Err(); err != nil {
			return nil, context.Cause(ctx)
		}
		row, err := t.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		no := idx / size
		if no != cur.no {
			if len(cur.rows) > 0 {
				if err := emit(cur); err != nil {
					return nil, err
				}
			}
			cur = batch{no: no}
		}
		keys := r.conflictKeys(row)
		late := false
		for _, k := range keys {
			if f, ok := first[k]; ok && f < no {
				late = true
			}
		}
		if late {
			for _, k := range keys {
				first[k] = -1
			}
			deferred = append(deferred, row)
			continue
		}
		for _, k := range keys {
			if _, ok := first[k]; !ok {
				first[k] = no
			}
		}
		cur.rows = append(cur.rows, row)
	}
	if len(cur.rows) > 0 {
		if err := emit(cur); err != nil {
			return nil, err
		}
	}
	return deferred, nil
}

// actor is the user an import acts as: the one who uploaded it, with the
// rights they have now, marked as an import in the audit trail.
func (e *Engine) actor(ctx context.Context, userID int64) (*access.Principal, error) {
	p, err := e.access.Principal(ctx, userID)
	if err != nil {
		if errors.Is(err, apperr.ErrUnauthenticated) {
			return nil, apperr.Conflict("import_user_gone")
		}
		return nil, err
	}
	return p.WithSource(access.SourceImport), nil
}

// openStored opens an import's stored file as a table. The returned
// function closes it.
func (e *Engine) openStored(ctx context.Context, imp *Import) (*table, func(), error) {
	f, rc, err := e.files.Open(ctx, imp.FileID)
	if err != nil {
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, nil, apperr.Conflict("import_file_gone")
		}
		return nil, nil, err
	}
	ra, ok := rc.(io.ReaderAt)
	if !ok {
		b, err := io.ReadAll(rc)
		if err != nil {
			rc.Close()
			return nil, nil, err
		}
		ra = bytes.NewReader(b)
	}
	src, err := openSource(ra, f.Size, imp.Format, imp.Encoding, imp.Delimiter, e.limits)
	if err != nil {
		rc.Close()
		return nil, nil, err
	}
	t, err := openTable(src, e.limits)
	if err != nil {
		src.Close()
		rc.Close()
		return nil, nil, err
	}
	return t, func() { src.Close(); rc.Close() }, nil
}

// DryRunResult is what a dry run found (see the HTTP contract).
type DryRunResult struct {
	Total   int64      `json:"total"`
	Valid   int64      `json:"valid"`
	Invalid int64      `json:"invalid"`
	Create  int64      `json:"create"`
	Update  int64      `json:"update"`
	Skip    int64      `json:"skip"`
	Errors  []RowError `json:"errors"`
}

// RowError is one problem of a row, its message in the reader's language;
// Row is the spreadsheet row number (the header is row 1).
type RowError struct {
	Row     int64  `json:"row"`
	Column  string `json:"column"`
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// DryRun checks every row of an import the way the run would write it,
// and writes nothing: the same batches (see runner.pass) go through the
// same code and the records service (same normalisation, validation,
// links, hooks and unique indexes), each inside a savepoint that is then
// rolled back. What a rolled back batch would have written and deferred
// rows depend on — records its rows created (for de-duplication within the
// file) and values of unique fields — is remembered. The import becomes
// "checked".
func (e *Engine) DryRun(ctx context.Context, p *access.Principal, id int64) (*DryRunResult, error) {
	imp, err := e.visible(ctx, p, id, false)
	if err != nil {
		return nil, err
	}
	if imp.Status != StatusUploaded && imp.Status != StatusChecked {
		return nil, apperr.Conflict("import_not_editable", "status", statusArg(imp.Status))
	}
	actor := p.WithSource(access.SourceImport)
	pl, err := e.compile(actor, imp)
	if err != nil {
		return nil, err
	}
	r := e.newRunner(actor, imp, pl, true)
	if err := r.loadCompanies(ctx); err != nil {
		return nil, err
	}
	if pl.key != nil && pl.dedupe.Mode == ModeUpdate {
		if r.repeats, err = e.repeatedKeys(ctx, imp, r); err != nil {
			return nil, err
		}
	}
	t, closeFile, err := e.openStored(ctx, imp)
	if err != nil {
		return nil, err
	}
	defer closeFile()
	res := &DryRunResult{Errors: []RowError{}}
	var mu sync.Mutex
	err = r.pass(ctx, t, nil, func(ctx context.Context, w *worker, b batch) error {
		prep, outs, err := r.check(ctx, w, b.rows)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		c := count(outs)
		res.Create += c.created
		res.Update += c.updated
		res.Skip += c.skipped
		res.Invalid += c.failed
		for i, o := range outs {
			for _, ce := range o.errs {
				res.Errors = append(res.Errors, RowError{Row: prep[i].num, Column: ce.Column, Field: ce.Field, Code: ce.Code,
					Message: message(p.Lang, ce)})
			}
		}
		// Keep the first errors by row (batches may end in any order).
		slices.SortStableFunc(res.Errors, func(a, b RowError) int { return cmp.Compare(a.Row, b.Row) })
		res.Errors = res.Errors[:min(len(res.Errors), e.limits.MaxErrors)]
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Valid = res.Create + res.Update + res.Skip
	res.Total = res.Valid + res.Invalid
	err = e.db.WithTx(ctx, func(ctx context.Context) error {
		res, err := e.db.Exec(ctx, `UPDATE imports SET status = ?, updated_at = ? WHERE id = ? AND version = ? AND status IN (?, ?)`,
			StatusChecked, e.now().UnixMicro(), imp.ID, imp.Version, StatusUploaded, StatusChecked)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return e.syncRecord(ctx, imp.ID, nil)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// check runs one batch of a dry run and rolls it back.
func (r *runner) check(ctx context.Context, w *worker, rows []dataRow) ([]prepared, []outcome, error) {
	prep, err := r.prepare(ctx, rows)
	if err != nil {
		return nil, nil, err
	}
	found, err := r.existing(ctx, prep)
	if err != nil {
		return nil, nil, err
	}
	var outs []outcome
	err = r.e.db.WithTx(ctx, func(ctx context.Context) error {
		err := r.e.db.Savepoint(ctx, func(ctx context.Context) error {
			var err error
			if outs, _, err = r.apply(ctx, w, prep, found); err != nil {
				return err
			}
			return errRollback
		})
		if errors.Is(err, errRollback) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	r.remember(prep, outs)
	return prep, outs, nil
}

// repeatedKeys reads the file once for the keys that occur on more than
// one row (a dry run in update mode keeps the input of those only).
func (e *Engine) repeatedKeys(ctx context.Context, imp *Import, r *runner) (map[string]bool, error) {
	t, closeFile, err := e.openStored(ctx, imp)
	if err != nil {
		return nil, err
	}
	defer closeFile()
	seen := map[string]bool{}
	out := map[string]bool{}
	for {
		row, err := t.next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if k, _ := r.keyOf(row.cells[r.pl.key.index]); k != "" {
			if seen[k] {
				out[k] = true
			}
			seen[k] = true
		}
	}
}
