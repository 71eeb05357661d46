package importer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// Import statuses: uploaded → checked (after a dry run) → queued → running
// → done | failed | cancelled.
const (
	StatusUploaded  = "uploaded"
	StatusChecked   = "checked"
	StatusQueued    = "queued"
	StatusRunning   = "running"
	StatusDone      = "done"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// De-duplication: how a row is matched (Match) and what happens to a row
// that matches an existing record (Mode).
const (
	MatchExact   = "exact"
	MatchCompany = "company"
	ModeSkip     = "skip"
	ModeUpdate   = "update"
	ModeCreate   = "create"
)

// Dedupe is an import's de-duplication setting; an empty Field means none.
type Dedupe struct {
	Field string `json:"field"`
	Match string `json:"match"`
	Mode  string `json:"mode"`
}

// Problem is a stored error: a message code and its arguments, rendered
// in the reader's language.
type Problem struct {
	Code string         `json:"code"`
	Args map[string]any `json:"args,omitempty"`
}

// Import is one row of the imports table.
type Import struct {
	ID        int64
	Entity    string
	FileID    string
	FileName  string
	Format    string
	Encoding  string
	Delimiter string
	Columns   []string
	Sample    [][]string
	Rows      int
	// Mapping maps every column to a field name ("" for ignored).
	Mapping map[string]string
	Dedupe  Dedupe
	Status  string
	// Counters of the run (its checkpoint is import_batches).
	Total, Processed, Created, Updated, Skipped, Failed int64
	Err                                                 *Problem
	// Version counts changes of the mapping (a dry run checks the mapping
	// it ran with is still the current one).
	Version    int64
	JobID      int64
	CreatedBy  int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
}

// View is an import as the API shows it (see the HTTP contract).
type View struct {
	ID         string            `json:"id"`
	Entity     string            `json:"entity"`
	FileName   string            `json:"file_name"`
	Format     string            `json:"format"`
	Encoding   string            `json:"encoding"`
	Status     string            `json:"status"`
	Columns    []string          `json:"columns"`
	Sample     [][]string        `json:"sample"`
	Rows       int               `json:"rows"`
	Mapping    map[string]string `json:"mapping"`
	Dedupe     Dedupe            `json:"dedupe"`
	Total      int64             `json:"total"`
	Processed  int64             `json:"processed"`
	Created    int64             `json:"created"`
	Updated    int64             `json:"updated"`
	Skipped    int64             `json:"skipped"`
	Failed     int64             `json:"failed"`
	Error      string            `json:"error"`
	CreatedAt  string            `json:"created_at"`
	CreatedBy  string            `json:"created_by"`
	StartedAt  *string           `json:"started_at"`
	FinishedAt *string           `json:"finished_at"`
}

// View renders the import for a reader of language lang.
func (imp *Import) View(lang string) View {
	v := View{ID: strconv.FormatInt(imp.ID, 10), Entity: imp.Entity, FileName: imp.FileName, Format: imp.Format,
		Encoding: imp.Encoding, Status: imp.Status, Columns: imp.Columns, Sample: imp.Sample, Rows: imp.Rows,
		Mapping: map[string]string{}, Dedupe: imp.Dedupe, Total: imp.Total, Processed: imp.Processed,
		Created: imp.Created, Updated: imp.Updated, Skipped: imp.Skipped, Failed: imp.Failed,
		CreatedAt: meta.FormatTime(imp.CreatedAt), CreatedBy: strconv.FormatInt(imp.CreatedBy, 10)}
	for _, c := range imp.Columns {
		v.Mapping[c] = imp.Mapping[c]
	}
	if v.Sample == nil {
		v.Sample = [][]string{}
	}
	if imp.Err != nil {
		v.Error = i18n.Message(i18n.Lang(lang), imp.Err.Code, imp.Err.Args)
	}
	if imp.StartedAt != nil {
		s := meta.FormatTime(*imp.StartedAt)
		v.StartedAt = &s
	}
	if imp.FinishedAt != nil {
		s := meta.FormatTime(*imp.FinishedAt)
		v.FinishedAt = &s
	}
	return v
}

const importColumns = `id, entity, file_id, file_name, file_format, file_encoding, csv_delimiter, headers, sample, row_count,
	mapping, dedupe, status, total_rows, processed_rows, created_rows, updated_rows, skipped_rows, failed_rows,
	error, version, job_id, created_by, created_at, updated_at, started_at, finished_at`

func scanImport(sc db.Scanner) (*Import, error) {
	var (
		imp                                       Import
		headers, sample, mapping, dedupe, problem []byte
		jobID, started, finished                  sql.NullInt64
		created, updated                          int64
	)
	err := sc.Scan(&imp.ID, &imp.Entity, &imp.FileID, &imp.FileName, &imp.Format, &imp.Encoding, &imp.Delimiter,
		&headers, &sample, &imp.Rows, &mapping, &dedupe, &imp.Status, &imp.Total, &imp.Processed, &imp.Created,
		&imp.Updated, &imp.Skipped, &imp.Failed, &problem, &imp.Version, &jobID, &imp.CreatedBy,
		&created, &updated, &started, &finished)
	if err != nil {
		return nil, err
	}
	for _, x := range []struct {
		raw []byte
		v   any
	}{{headers, &imp.Columns}, {sample, &imp.Sample}, {mapping, &imp.Mapping}, {dedupe, &imp.Dedupe}} {
		if err := json.Unmarshal(x.raw, x.v); err != nil {
			return nil, err
		}
	}
	if len(problem) > 0 && string(problem) != "null" {
		imp.Err = &Problem{}
		if err := json.Unmarshal(problem, imp.Err); err != nil {
			return nil, err
		}
	}
	imp.JobID = jobID.Int64
	imp.CreatedAt, imp.UpdatedAt = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	if started.Valid {
		t := time.UnixMicro(started.Int64).UTC()
		imp.StartedAt = &t
	}
	if finished.Valid {
		t := time.UnixMicro(finished.Int64).UTC()
		imp.FinishedAt = &t
	}
	return &imp, nil
}

// load reads an import; with lock, the row is locked until the
// transaction in ctx ends (PostgreSQL; SQLite's writer is single).
func (e *Engine) load(ctx context.Context, id int64, lock bool) (*Import, error) {
	q := `SELECT ` + importColumns + ` FROM imports WHERE id = ?`
	if lock && e.db.Kind == db.Postgres {
		q += ` FOR UPDATE`
	}
	imp, err := scanImport(e.db.QueryRow(ctx, q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFound()
	}
	return imp, err
}

// visible returns the import if p may see it: administrators see every
// import, others their own (404 otherwise).
func (e *Engine) visible(ctx context.Context, p *access.Principal, id int64, lock bool) (*Import, error) {
	imp, err := e.load(ctx, id, lock)
	if err != nil {
		return nil, err
	}
	if !p.Admin && imp.CreatedBy != p.UserID {
		return nil, apperr.NotFound()
	}
	return imp, nil
}

func (e *Engine) insert(ctx context.Context, imp *Import) error {
	cols, _ := json.Marshal(imp.Columns)
	sample, _ := json.Marshal(imp.Sample)
	mapping, _ := json.Marshal(imp.Mapping)
	dedupe, _ := json.Marshal(imp.Dedupe)
	j := e.db.JSONParam()
	_, err := e.db.Exec(ctx, `INSERT INTO imports (id, entity, file_id, file_name, file_format, file_encoding, csv_delimiter,
		headers, sample, row_count, mapping, dedupe, status, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, `+j+`, `+j+`, ?, `+j+`, `+j+`, ?, ?, ?, ?)`,
		imp.ID, imp.Entity, imp.FileID, imp.FileName, imp.Format, imp.Encoding, imp.Delimiter, string(cols), string(sample),
		imp.Rows, string(mapping), string(dedupe), imp.Status, imp.CreatedBy, imp.CreatedAt.UnixMicro(),
		imp.UpdatedAt.UnixMicro())
	return err
}

// setStatus moves an import to status when its status is one of from, and
// its import_jobs record with it, in one transaction; it reports whether
// it did.
func (e *Engine) setStatus(ctx context.Context, id int64, status string, problem *Problem, from ...string) (bool, error) {
	return e.transition(ctx, id, status, problem, "", from...)
}

// transition is setStatus that also sets the record's error report file
// (report, when not "").
func (e *Engine) transition(ctx context.Context, id int64, status string, problem *Problem, report string, from ...string) (bool, error) {
	var ok bool
	err := e.db.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if ok, err = e.moveStatus(ctx, id, status, problem, from...); err != nil || !ok {
			return err
		}
		var extra map[string]any
		if report != "" {
			extra = map[string]any{"error_report": report}
		}
		return e.syncRecord(ctx, id, extra)
	})
	return ok, err
}

func (e *Engine) moveStatus(ctx context.Context, id int64, status string, problem *Problem, from ...string) (bool, error) {
	now := e.now().UnixMicro()
	q := `UPDATE imports SET status = ?, updated_at = ?`
	args := []any{status, now}
	switch status {
	case StatusRunning:
		q += `, started_at = COALESCE(started_at, ?)`
		args = append(args, now)
	case StatusDone, StatusFailed, StatusCancelled:
		q += `, finished_at = ?`
		args = append(args, now)
	}
	if problem != nil {
		raw, _ := json.Marshal(problem)
		q += `, error = ` + e.db.JSONParam()
		args = append(args, string(raw))
	}
	q += ` WHERE id = ? AND status IN (` + marks(len(from)) + `)`
	args = append(args, id)
	for _, s := range from {
		args = append(args, s)
	}
	res, err := e.db.Exec(ctx, q, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func marks(n int) string {
	if n == 0 {
		return "NULL"
	}
	b := make([]byte, 0, 2*n)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '?')
	}
	return string(b)
}

// statusArg is a status as a message argument, in the message's language.
func statusArg(status string) i18n.Text { return i18n.T("import_status_" + status) }
