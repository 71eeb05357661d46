package importer

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
)

// UploadFile is an uploaded file as the engine reads it: twice (analysis,
// then storage), and at random places (XLSX is a zip archive).
type UploadFile interface {
	io.ReaderAt
	io.ReadSeeker
}

// Upload checks a CSV or XLSX file for an import into entity by p, stores
// it and records the import (status uploaded) with the columns, a sample,
// the number of rows and a suggested mapping. p needs the right to create
// records of the entity.
func (e *Engine) Upload(ctx context.Context, p *access.Principal, entity, name string, f UploadFile, size int64) (*Import, error) {
	return e.upload(ctx, p, entity, name, f, size, nil)
}

// OneShot is what POST /api/v1/imports may do with the file at once
// besides uploading it (see doc.go): set the mapping and the
// de-duplication, then start the import or dry-run it.
type OneShot struct {
	// Mapping, when not nil, is the whole mapping: columns it does not
	// name are ignored.
	Mapping map[string]string
	// Dedupe holds the de-duplication keys given (field, match, mode).
	Dedupe *DedupeSettings
	// DryRun dry-runs the import instead of starting it.
	DryRun bool
}

// Starts reports whether the one-shot call starts the import.
func (o OneShot) Starts() bool { return !o.DryRun && (o.Mapping != nil || o.Dedupe != nil) }

// UploadAndRun uploads a file as Upload does and then, as o says, sets the
// mapping and de-duplication and starts the import, in one transaction
// (a refusal leaves nothing behind), or dry-runs it (the import stays,
// checked, with its dry run's result).
func (e *Engine) UploadAndRun(ctx context.Context, p *access.Principal, entity, name string, f UploadFile, size int64, o OneShot) (*Import, *DryRunResult, error) {
	settings := func(imp *Import) Settings {
		s := Settings{Dedupe: o.Dedupe}
		if o.Mapping != nil {
			s.Mapping = map[string]string{}
			for _, c := range imp.Columns {
				s.Mapping[c] = ""
			}
			for c, f := range o.Mapping {
				s.Mapping[c] = f
			}
		}
		return s
	}
	configured := o.Mapping != nil || o.Dedupe != nil
	if !o.DryRun {
		var out *Import
		_, err := e.upload(ctx, p, entity, name, f, size, func(ctx context.Context, imp *Import) error {
			if _, err := e.Configure(ctx, p, imp.ID, settings(imp)); err != nil {
				return err
			}
			var err error
			out, err = e.StartImport(ctx, p, imp.ID)
			return err
		})
		return out, nil, err
	}
	imp, err := e.upload(ctx, p, entity, name, f, size, func(ctx context.Context, imp *Import) error {
		if !configured {
			return nil
		}
		_, err := e.Configure(ctx, p, imp.ID, settings(imp))
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	res, err := e.DryRun(ctx, p, imp.ID)
	if err != nil {
		return nil, nil, err
	}
	imp, err = e.load(ctx, imp.ID, false)
	return imp, res, err
}

// upload is Upload, with then run in the transaction that records the
// import, after it.
func (e *Engine) upload(ctx context.Context, p *access.Principal, entity, name string, f UploadFile, size int64,
	then func(ctx context.Context, imp *Import) error) (*Import, error) {
	ent, ok := e.reg.Get(entity)
	if !ok {
		return nil, apperr.Fields(apperr.Field("entity", "unknown_entity", "entity", entity))
	}
	if err := checkCreate(p, ent); err != nil {
		return nil, err
	}
	if size > e.limits.MaxFileSize {
		return nil, apperr.New(apperr.ErrTooLarge, "import_file_too_large", "max", e.limits.MaxFileSize)
	}
	format, err := formatOf(name)
	if err != nil {
		return nil, err
	}
	info, err := analyze(f, size, format, e.limits)
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	stored, err := e.files.Upload(ctx, name, f, p.UserID)
	if err != nil {
		return nil, err
	}
	now := e.now().UTC()
	imp := &Import{Entity: ent.Name, FileID: stored.ID, FileName: stored.Name, Format: info.Format, Encoding: info.Encoding,
		Delimiter: info.Delimiter, Columns: info.Columns, Sample: info.Sample, Rows: info.Rows,
		Mapping: suggest(info.Columns, targets(p, ent)), Dedupe: Dedupe{Match: MatchExact, Mode: ModeSkip},
		Status: StatusUploaded, Version: 1, CreatedBy: p.UserID, CreatedAt: now, UpdatedAt: now}
	err = e.db.WithTx(ctx, func(ctx context.Context) error {
		if err := e.createRecord(ctx, p, imp); err != nil {
			return err
		}
		if err := e.insert(ctx, imp); err != nil || then == nil {
			return err
		}
		return then(ctx, imp)
	})
	if err != nil {
		return nil, err
	}
	return imp, nil
}

// Get returns an import p may see.
func (e *Engine) Get(ctx context.Context, p *access.Principal, id int64) (*Import, error) {
	return e.visible(ctx, p, id, false)
}

// ListPage is how many imports a page of List holds.
const ListPage = 50

// List returns p's imports (every import for administrators), newest
// first, optionally of one entity.
func (e *Engine) List(ctx context.Context, p *access.Principal, entity string, page int) ([]*Import, error) {
	if page < 1 || page > 100000 {
		return nil, apperr.Invalid("bad_paging", "max", ListPage)
	}
	q := `SELECT ` + importColumns + ` FROM imports WHERE 1 = 1`
	var args []any
	if !p.Admin {
		q += ` AND created_by = ?`
		args = append(args, p.UserID)
	}
	if entity != "" {
		q += ` AND entity = ?`
		args = append(args, entity)
	}
	q += ` ORDER BY id DESC LIMIT ? OFFSET ?`
	args = append(args, ListPage, (page-1)*ListPage)
	return db.QueryAll(ctx, e.db, func(sc db.Scanner) (*Import, error) { return scanImport(sc) }, q, args...)
}

// Settings is a change of an import's mapping and de-duplication (PATCH):
// the columns named get their new field ("" to ignore), the others keep
// theirs; the de-duplication keys given replace theirs.
type Settings struct {
	Mapping map[string]string `json:"mapping"`
	Dedupe  *DedupeSettings   `json:"dedupe"`
}

// DedupeSettings is a change of the de-duplication: the keys given
// replace the import's.
type DedupeSettings struct {
	Field *string `json:"field"`
	Match *string `json:"match"`
	Mode  *string `json:"mode"`
}

// Configure changes an import's mapping and de-duplication before it
// starts. A checked import goes back to uploaded: its dry run was of
// another mapping.
func (e *Engine) Configure(ctx context.Context, p *access.Principal, id int64, s Settings) (*Import, error) {
	var out *Import
	err := e.db.WithTx(ctx, func(ctx context.Context) error {
		imp, err := e.visible(ctx, p, id, true)
		if err != nil {
			return err
		}
		if imp.Status != StatusUploaded && imp.Status != StatusChecked {
			return apperr.Conflict("import_not_editable", "status", statusArg(imp.Status))
		}
		ent, ok := e.reg.Get(imp.Entity)
		if !ok {
			return apperr.Conflict("import_entity_gone", "entity", imp.Entity)
		}
		mapping := map[string]string{}
		for k, v := range imp.Mapping {
			mapping[k] = v
		}
		for k, v := range s.Mapping {
			mapping[k] = v
		}
		d := imp.Dedupe
		if s.Dedupe != nil {
			if s.Dedupe.Field != nil {
				d.Field = *s.Dedupe.Field
			}
			if s.Dedupe.Match != nil {
				d.Match = *s.Dedupe.Match
			}
			if s.Dedupe.Mode != nil {
				d.Mode = *s.Dedupe.Mode
			}
		}
		if err := checkSettings(p, ent, imp.Columns, mapping, d); err != nil {
			return err
		}
		rawMap, _ := json.Marshal(mapping)
		rawDedupe, _ := json.Marshal(d)
		j := e.db.JSONParam()
		if _, err := e.db.Exec(ctx, `UPDATE imports SET mapping = `+j+`, dedupe = `+j+`, status = ?, version = version + 1,
			updated_at = ? WHERE id = ?`, string(rawMap), string(rawDedupe), StatusUploaded, e.now().UnixMicro(), id); err != nil {
			return err
		}
		if err := e.syncRecord(ctx, id, nil); err != nil {
			return err
		}
		out, err = e.load(ctx, id, false)
		return err
	})
	return out, err
}

// StartImport queues an import (status queued) as a job, in the same
// transaction. Its mapping must hold for p now.
func (e *Engine) StartImport(ctx context.Context, p *access.Principal, id int64) (*Import, error) {
	var out *Import
	err := e.db.WithTx(ctx, func(ctx context.Context) error {
		imp, err := e.visible(ctx, p, id, true)
		if err != nil {
			return err
		}
		if imp.Status != StatusUploaded && imp.Status != StatusChecked {
			return apperr.Conflict("import_not_startable", "status", statusArg(imp.Status))
		}
		if _, err := e.compile(p, imp); err != nil {
			return err
		}
		job, err := e.jobs.Enqueue(ctx, KindRun, runPayload{Import: imp.ID},
			jobs.EnqueueOptions{UniqueKey: "import:" + strconv.FormatInt(imp.ID, 10)})
		if err != nil {
			return err
		}
		if _, err := e.db.Exec(ctx, `UPDATE imports SET status = ?, total_rows = row_count, job_id = ?, updated_at = ?
			WHERE id = ?`, StatusQueued, job.ID, e.now().UnixMicro(), id); err != nil {
			return err
		}
		if err := e.syncRecord(ctx, id, nil); err != nil {
			return err
		}
		out, err = e.load(ctx, id, false)
		return err
	})
	return out, err
}

// Cancel cancels an import that has not ended. A running import stops
// after the batch it is writing: that batch commits, the next does not
// start.
func (e *Engine) Cancel(ctx context.Context, p *access.Principal, id int64) (*Import, error) {
	var out *Import
	err := e.db.WithTx(ctx, func(ctx context.Context) error {
		imp, err := e.visible(ctx, p, id, true)
		if err != nil {
			return err
		}
		ok, err := e.setStatus(ctx, id, StatusCancelled, nil, StatusUploaded, StatusChecked, StatusQueued, StatusRunning)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.Conflict("import_not_cancellable", "status", statusArg(imp.Status))
		}
		out, err = e.load(ctx, id, false)
		return err
	})
	return out, err
}

// purgeJob deletes the import_jobs records of finished imports older than
// Limits.Keep and of imports never started older than
// Limits.KeepUnstarted, and with them their batches and error rows; the
// records go to the trash, whose purge releases their files.
func (e *Engine) purgeJob(ctx context.Context, _ *jobs.Job) error {
	now := e.now()
	for {
		ids, err := e.db.Int64s(ctx, `SELECT id FROM imports
			WHERE (status IN (?, ?, ?) AND updated_at < ?) OR (status IN (?, ?) AND updated_at < ?) ORDER BY id LIMIT 200`,
			StatusDone, StatusFailed, StatusCancelled, now.Add(-e.limits.Keep).UnixMicro(),
			StatusUploaded, StatusChecked, now.Add(-e.limits.KeepUnstarted).UnixMicro())
		if err != nil || len(ids) == 0 {
			return err
		}
		for _, id := range ids {
			// Deleting the record drops the engine's state with it
			// (afterJob), in one transaction.
			err := e.db.WithTx(ctx, func(ctx context.Context) error {
				err := e.recs.Delete(engineCtx(ctx), access.System(), Entity, id, 0)
				if errors.Is(err, apperr.ErrNotFound) {
					return e.dropState(ctx, id)
				}
				return err
			})
			if err != nil && !errors.Is(err, apperr.ErrNotFound) {
				return err
			}
		}
	}
}
