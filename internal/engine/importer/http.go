package importer

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/files"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
)

// Surface is the engine's HTTP routes (see doc.go).
func (e *Engine) Surface() httpapi.Surface { return surface{e} }

type surface struct{ e *Engine }

type obj = map[string]any

func (s surface) Routes() []httpapi.Route {
	str, num := obj{"type": "string"}, obj{"type": "integer"}
	nullTime := obj{"type": []string{"string", "null"}, "format": "date-time"}
	dedupe := obj{"type": "object", "properties": obj{"field": str,
		"match": obj{"type": "string", "enum": []string{MatchExact, MatchCompany}},
		"mode":  obj{"type": "string", "enum": []string{ModeSkip, ModeUpdate, ModeCreate}}}}
	imp := obj{"type": "object", "properties": obj{
		"id": str, "entity": str, "file_name": str, "format": obj{"type": "string", "enum": []string{FormatCSV, FormatXLSX}},
		"encoding": obj{"type": "string", "enum": []string{EncUTF8, EncUTF8BOM, EncGB18030, ""}},
		"status": obj{"type": "string", "enum": []string{StatusUploaded, StatusChecked, StatusQueued, StatusRunning,
			StatusDone, StatusFailed, StatusCancelled}},
		"columns": obj{"type": "array", "items": str},
		"sample":  obj{"type": "array", "items": obj{"type": "array", "items": str}},
		"rows":    num,
		"mapping": obj{"type": "object", "additionalProperties": str, "description": "column → field name (\"\" = ignored)"},
		"dedupe":  dedupe, "total": num, "processed": num, "created": num, "updated": num, "skipped": num, "failed": num,
		"error": str, "created_at": obj{"type": "string", "format": "date-time"}, "created_by": str,
		"started_at": nullTime, "finished_at": nullTime}}
	settings := obj{"type": "object", "properties": obj{
		"mapping": obj{"type": "object", "additionalProperties": str}, "dedupe": dedupe}}
	dry := obj{"type": "object", "properties": obj{"total": num, "valid": num, "invalid": num, "create": num,
		"update": num, "skip": num, "errors": obj{"type": "array", "items": obj{"type": "object", "properties": obj{
			"row": num, "column": str, "field": str, "code": str, "message": str}}}}}
	return []httpapi.Route{
		{Method: "POST", Path: "/api/v1/imports", Scope: auth.ScopeRecordsWrite, Tag: "imports",
			Summary: "Upload a file to import (multipart/form-data: file = .csv or .xlsx, entity; optional mapping (JSON), mode " +
				"(skip|update|create), dedupe (JSON), dry_run (true|false)): 201 with the columns, a sample and a suggested mapping; " +
				"with mapping or mode the import starts at once (202, queued); with dry_run=true 200 with the dry run's result " +
				"and the import (checked). The import is an import_jobs record",
			Status: http.StatusCreated, Response: imp, Errors: []int{400, 401, 403, 409, 413, 422}, Handle: s.upload},
		{Method: "GET", Path: "/api/v1/imports", Scope: auth.ScopeRecordsRead, Tag: "imports",
			Summary:  "Imports, newest first: the caller's own (administrators: all)",
			Query:    []httpapi.Param{{Name: "entity", Description: "only imports into this entity"}, {Name: "page", Description: "from 1; 50 per page"}},
			Response: obj{"type": "object", "properties": obj{"items": obj{"type": "array", "items": imp}}},
			Errors:   []int{400, 401}, Handle: s.list},
		{Method: "GET", Path: "/api/v1/imports/{id}", Scope: auth.ScopeRecordsRead, Tag: "imports",
			Summary: "An import and its progress", Response: imp, Errors: []int{401, 404}, Handle: s.get},
		{Method: "PATCH", Path: "/api/v1/imports/{id}", Scope: auth.ScopeRecordsWrite, Tag: "imports",
			Summary: "Change the mapping (columns named) and the de-duplication before the import starts",
			Body:    settings, Response: imp, Errors: []int{400, 401, 403, 404, 409, 422}, Handle: s.configure},
		{Method: "POST", Path: "/api/v1/imports/{id}/dry-run", Scope: auth.ScopeRecordsWrite, Tag: "imports",
			Summary:  "Check every row as the import would write it; writes nothing (errors: the first 200)",
			Response: dry, Errors: []int{401, 403, 404, 409, 422}, Handle: s.dryRun},
		{Method: "POST", Path: "/api/v1/imports/{id}/start", Scope: auth.ScopeRecordsWrite, Tag: "imports",
			Summary: "Start the import (a job writing batches)", Status: http.StatusAccepted, Response: imp,
			Errors: []int{401, 403, 404, 409, 422}, Handle: s.start},
		{Method: "POST", Path: "/api/v1/imports/{id}/cancel", Scope: auth.ScopeRecordsWrite, Tag: "imports",
			Summary: "Cancel an import; a running one stops after its current batch", Response: imp,
			Errors: []int{401, 404, 409}, Handle: s.cancel},
		// One pattern serves both downloads: /imports/{id}/errors and
		// /imports/template/{entity} would match the same paths, which the
		// router refuses.
		{Method: "GET", Path: "/api/v1/imports/{id}/{part}", Scope: auth.ScopeRecordsRead, Tag: "imports",
			Summary: "Downloads: /api/v1/imports/{id}/errors — the failing rows with 行号/Row and 错误/Error columns; " +
				"/api/v1/imports/template/{entity} — an empty file with the importable fields' labels (required ones marked *)",
			Query:  []httpapi.Param{{Name: "format", Description: "csv or xlsx (errors: csv by default; template: xlsx)"}},
			Errors: []int{400, 401, 403, 404}, Handle: s.download},
	}
}

func (s surface) upload(w http.ResponseWriter, r *http.Request) error {
	p := httpapi.Caller(r)
	limit := s.e.limits.MaxFileSize
	tooLarge := apperr.New(apperr.ErrTooLarge, "import_file_too_large", "max", limit)
	r.Body = http.MaxBytesReader(w, r.Body, limit+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return apperr.Invalid("bad_request")
	}
	var (
		entity, name string
		tmp          *os.File
		size         int64
		one          OneShot
		mode         *string
		errs         []apperr.FieldError
	)
	defer func() {
		if tmp != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return tooLarge
			}
			return apperr.Invalid("bad_request")
		}
		switch part.FormName() {
		case "entity":
			b, _ := io.ReadAll(io.LimitReader(part, 256))
			entity = strings.TrimSpace(string(b))
		case "mapping", "dedupe", "mode", "dry_run":
			b, rerr := io.ReadAll(io.LimitReader(part, 1<<20))
			if rerr != nil {
				part.Close()
				return apperr.Invalid("bad_request")
			}
			if fe := parseOneShot(part.FormName(), b, &one, &mode); fe != nil {
				errs = append(errs, *fe)
			}
		case "file":
			if tmp != nil {
				part.Close()
				return apperr.Invalid("bad_request")
			}
			name = files.SanitizeName(part.FileName())
			if tmp, err = os.CreateTemp("", "tenon-import-*"); err != nil {
				part.Close()
				return err
			}
			size, err = io.Copy(tmp, io.LimitReader(part, limit+1))
			if err != nil {
				part.Close()
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return tooLarge
				}
				return apperr.Invalid("bad_request")
			}
			if size > limit {
				part.Close()
				return tooLarge
			}
		}
		part.Close()
	}
	if tmp == nil || size == 0 {
		errs = append(errs, apperr.Field("file", "required"))
	}
	if entity == "" {
		errs = append(errs, apperr.Field("entity", "required"))
	}
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	if mode != nil {
		if one.Dedupe == nil {
			one.Dedupe = &DedupeSettings{}
		}
		one.Dedupe.Mode = mode
	}
	if !one.DryRun && !one.Starts() {
		imp, err := s.e.Upload(r.Context(), p, entity, name, tmp, size)
		if err != nil {
			return err
		}
		httpapi.WriteJSON(w, http.StatusCreated, imp.View(p.Lang))
		return nil
	}
	imp, res, err := s.e.UploadAndRun(r.Context(), p, entity, name, tmp, size, one)
	if err != nil {
		return err
	}
	if one.DryRun {
		httpapi.WriteJSON(w, http.StatusOK, oneShotDryRun{DryRunResult: res, Import: imp.View(p.Lang)})
		return nil
	}
	httpapi.WriteJSON(w, http.StatusAccepted, imp.View(p.Lang))
	return nil
}

// oneShotDryRun answers POST /imports with dry_run=true: the dry run's
// result and the import (checked).
type oneShotDryRun struct {
	*DryRunResult
	Import View `json:"import"`
}

// parseOneShot reads one of the optional parts of POST /imports into o
// (mode into *mode); it answers the part's error.
func parseOneShot(part string, b []byte, o *OneShot, mode **string) *apperr.FieldError {
	v := strings.TrimSpace(string(b))
	switch part {
	case "mapping":
		m := map[string]string{}
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			fe := apperr.Field("mapping", "import_mapping_invalid")
			return &fe
		}
		o.Mapping = m
	case "dedupe":
		d := &DedupeSettings{}
		if err := json.Unmarshal([]byte(v), d); err != nil {
			fe := apperr.Field("dedupe", "import_dedupe_invalid")
			return &fe
		}
		if o.Dedupe != nil && o.Dedupe.Mode != nil && d.Mode == nil {
			d.Mode = o.Dedupe.Mode
		}
		o.Dedupe = d
	case "mode":
		*mode = &v
	case "dry_run":
		switch strings.ToLower(v) {
		case "true", "1":
			o.DryRun = true
		case "false", "0", "":
			o.DryRun = false
		default:
			fe := apperr.Field("dry_run", "import_dry_run_invalid")
			return &fe
		}
	}
	return nil
}

func (s surface) list(w http.ResponseWriter, r *http.Request) error {
	page, err := httpapi.IntQuery(r, "page", 1)
	if err != nil {
		return err
	}
	p := httpapi.Caller(r)
	imps, err := s.e.List(r.Context(), p, r.URL.Query().Get("entity"), page)
	if err != nil {
		return err
	}
	items := make([]View, len(imps))
	for i, imp := range imps {
		items[i] = imp.View(p.Lang)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (s surface) get(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	p := httpapi.Caller(r)
	imp, err := s.e.Get(r.Context(), p, id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, imp.View(p.Lang))
	return nil
}

func (s surface) configure(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	var in Settings
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return err
	}
	p := httpapi.Caller(r)
	imp, err := s.e.Configure(r.Context(), p, id, in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, imp.View(p.Lang))
	return nil
}

func (s surface) dryRun(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	res, err := s.e.DryRun(r.Context(), httpapi.Caller(r), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (s surface) start(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	p := httpapi.Caller(r)
	imp, err := s.e.StartImport(r.Context(), p, id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusAccepted, imp.View(p.Lang))
	return nil
}

func (s surface) cancel(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	p := httpapi.Caller(r)
	imp, err := s.e.Cancel(r.Context(), p, id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, imp.View(p.Lang))
	return nil
}

// download serves /imports/{id}/errors and /imports/template/{entity}.
func (s surface) download(w http.ResponseWriter, r *http.Request) error {
	p := httpapi.Caller(r)
	format := r.URL.Query().Get("format")
	var (
		name  string
		write func(io.Writer) error
		err   error
	)
	switch {
	case r.PathValue("id") == "template":
		name, write, err = s.e.Template(r.Context(), p, r.PathValue("part"), format, p.Lang)
	case r.PathValue("part") == "errors":
		id, perr := httpapi.PathID(r, "id")
		if perr != nil {
			return perr
		}
		name, write, err = s.e.ErrorReport(r.Context(), p, id, format, p.Lang)
	default:
		return apperr.NotFound()
	}
	if err != nil {
		return err
	}
	if format == "" && r.PathValue("id") == "template" {
		format = ReportXLSX
	}
	h := w.Header()
	h.Set("Content-Type", ContentType(format))
	h.Set("Content-Disposition", files.ContentDisposition(name, false))
	w.WriteHeader(http.StatusOK)
	if err := write(w); err != nil {
		s.e.log.Warn("import: download", "path", r.URL.Path, "err", err)
	}
	return nil
}
