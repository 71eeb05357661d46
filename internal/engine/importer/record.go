package importer

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Entities holds the definition of import_jobs.
//
//go:embed entities/*.json
var Entities embed.FS

// Entity is the system entity whose records are the imports.
const Entity = "import_jobs"

// Grants are what every signed-in user may do with import jobs whatever
// their roles: read their own, and create them — which only the import
// routes can do (see beforeJob). Administrators see all.
func Grants() []access.Grant {
	return []access.Grant{
		{Entity: Entity, Actions: []string{access.Read, access.Create}, Scope: access.ScopeOwn},
	}
}

// engineKey marks the writes of import_jobs records the engine makes;
// other creates and updates are refused.
type engineKey struct{}

func engineCtx(ctx context.Context) context.Context { return context.WithValue(ctx, engineKey{}, true) }

func byEngine(ctx context.Context) bool { v, _ := ctx.Value(engineKey{}).(bool); return v }

// beforeJob keeps import_jobs the engine's: records are created and
// changed by the import routes and the import job only
// (import_job_readonly, 403); an administrator may delete one that is not
// queued or running (import_job_running, 409) — its state and error rows
// go with it — and nobody restores one.
func (e *Engine) beforeJob(ctx context.Context, c *records.Change) error {
	if byEngine(ctx) {
		return nil
	}
	switch c.Op {
	case records.OpCreate, records.OpUpdate:
		return apperr.Forbidden("import_job_readonly")
	case records.OpDelete:
		if s, _ := c.Old["status"].(string); s == StatusQueued || s == StatusRunning {
			return apperr.Conflict("import_job_running", "status", statusArg(s))
		}
	}
	return nil
}

// afterJob drops the engine's state of a deleted import (its row in
// imports, its checkpoint and its error rows), in the delete's
// transaction.
// A restore is refused here (restores run no before hooks): the import's
// state is gone.
func (e *Engine) afterJob(ctx context.Context, c *records.Change) error {
	switch {
	case c.Op == records.OpRestore && !byEngine(ctx):
		return apperr.Forbidden("import_job_readonly")
	case c.Op == records.OpDelete:
		return e.dropState(ctx, c.Old.ID())
	}
	return nil
}

func (e *Engine) dropState(ctx context.Context, id int64) error {
	for _, q := range []string{`DELETE FROM import_errors WHERE import_id = ?`, `DELETE FROM import_batches WHERE import_id = ?`,
		`DELETE FROM imports WHERE id = ?`} {
		if _, err := e.db.Exec(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

// fields are the import_jobs fields that show imp.
func (imp *Import) fields() map[string]any {
	mapping := map[string]any{}
	for _, c := range imp.Columns {
		mapping[c] = imp.Mapping[c]
	}
	m := map[string]any{"entity": imp.Entity, "file": imp.FileID, "file_name": imp.FileName, "format": imp.Format,
		"encoding": imp.Encoding, "status": imp.Status, "mapping": mapping,
		"dedupe":    map[string]any{"field": imp.Dedupe.Field, "match": imp.Dedupe.Match, "mode": imp.Dedupe.Mode},
		"row_count": num(int64(imp.Rows)), "total": num(imp.Total), "processed": num(imp.Processed), "created": num(imp.Created),
		"updated": num(imp.Updated), "skipped": num(imp.Skipped), "failed": num(imp.Failed), "error": nil,
		"started_at": nil, "finished_at": nil}
	if imp.Err != nil {
		m["error"] = imp.Err.Code
	}
	if imp.StartedAt != nil {
		m["started_at"] = meta.FormatTime(*imp.StartedAt)
	}
	if imp.FinishedAt != nil {
		m["finished_at"] = meta.FormatTime(*imp.FinishedAt)
	}
	return m
}

// num is an integer in the records API's input form.
func num(n int64) json.Number { return json.Number(strconv.FormatInt(n, 10)) }

// createRecord creates the import_jobs record of a new import as its
// uploader p (owner and creator) and sets imp.ID to its id; the caller's
// transaction then inserts the engine's row under that id.
func (e *Engine) createRecord(ctx context.Context, p *access.Principal, imp *Import) error {
	rec, err := e.recs.Create(engineCtx(ctx), p.WithSource(access.SourceImport), Entity, imp.fields())
	if err != nil {
		return err
	}
	imp.ID = rec.ID()
	return nil
}

// syncRecord writes the import's current state (its imports row) to its
// import_jobs record as the system, in the caller's transaction, with
// extra fields (the error report) on top.
func (e *Engine) syncRecord(ctx context.Context, id int64, extra map[string]any) error {
	imp, err := e.load(ctx, id, false)
	if err != nil {
		return err
	}
	in := imp.fields()
	for k, v := range extra {
		in[k] = v
	}
	_, err = e.recs.Update(engineCtx(ctx), access.System(), Entity, id, in, 0)
	return err
}

// storeReport writes the error report of an import with failing rows as
// an XLSX file (headers and messages in lang) and stores it with the
// files service; it returns the file's id, or "" when no row failed.
func (e *Engine) storeReport(ctx context.Context, id int64, lang string) (string, error) {
	imp, err := e.load(ctx, id, false)
	if err != nil || imp.Failed == 0 {
		return "", err
	}
	tmp, err := os.CreateTemp("", "tenon-import-report-*")
	if err != nil {
		return "", err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	if err := e.writeErrors(ctx, imp, ReportXLSX, lang, tmp); err != nil {
		return "", err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	name := i18n.Message(i18n.Lang(lang), "import_errors_file",
		map[string]any{"name": strings.TrimSuffix(imp.FileName, "."+imp.Format)}) + "." + ReportXLSX
	f, err := e.files.Upload(ctx, name, tmp, imp.CreatedBy)
	if err != nil {
		return "", err
	}
	return f.ID, nil
}

// reportLang is the language of an import's error report file: its
// uploader's, or zh-CN when they are gone.
func (e *Engine) reportLang(ctx context.Context, userID int64) string {
	p, err := e.access.Principal(ctx, userID)
	if err != nil || p.Lang == "" {
		if err != nil && !errors.Is(err, apperr.ErrUnauthenticated) {
			e.log.Warn("import: report language", "user", userID, "err", err)
		}
		return "zh-CN"
	}
	return p.Lang
}
