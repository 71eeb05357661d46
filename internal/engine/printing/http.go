package printing

import (
	"net/http"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/files"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
)

// Surface returns the engine's HTTP routes.
func (s *Service) Surface() httpapi.Surface { return surface{s} }

type surface struct{ s *Service }

type obj = map[string]any

var str = obj{"type": "string"}

// Routes lists the engine's routes.
func (sf surface) Routes() []httpapi.Route {
	rr := auth.ScopeRecordsRead
	return []httpapi.Route{
		{Method: "GET", Path: "/api/v1/records/{entity}/{id}/print", Scope: rr, Tag: "printing",
			Summary: "The record as a PDF (application/pdf, inline, named after the record's title) through a print template, " +
				"with what the caller may read; needs the print right on the entity; logged in the record's history (action print)",
			Query:  []httpapi.Param{{Name: "template", Description: "a print_templates id (default: the entity's default template)"}},
			Errors: []int{401, 403, 404, 422}, Handle: sf.print},
		{Method: "POST", Path: "/api/v1/print-templates/preview", Scope: rr, Tag: "printing",
			Summary: "A PDF of a draft template on a record, for the template editor (needs update on print_templates and print on the entity); " +
				"not logged. Template errors are 422 with the line and column",
			Body: obj{"type": "object", "additionalProperties": false, "required": []string{"entity", "record", "body"}, "properties": obj{
				"entity": str, "record": obj{"type": "string", "description": "the id of the record to print"},
				"name": str, "body": str, "header": str, "footer": str,
				"paper": obj{"type": "string", "enum": []string{"A4", "A4-landscape", "A5", "A5-landscape"}},
				"lang":  obj{"type": "string", "enum": []string{"zh-CN", "en"}},
				"logo":  obj{"type": "string", "description": "a file id (an upload of the caller's, or a saved template's logo)"}}},
			Errors: []int{400, 401, 403, 404, 422}, Handle: sf.preview},
		{Method: "GET", Path: "/api/v1/print-templates/for/{entity}", Scope: rr, Tag: "printing",
			Summary: "The active print templates of an entity, default first, for a caller who may print it (empty otherwise): the print menu",
			Response: obj{"type": "object", "properties": obj{"items": obj{"type": "array", "items": obj{"type": "object", "properties": obj{
				"id": str, "name": str, "is_default": obj{"type": "boolean"}, "paper": str}}}}},
			Errors: []int{401}, Handle: sf.forEntity},
	}
}

func (sf surface) print(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	var tid int64
	if v := r.URL.Query().Get("template"); v != "" {
		if tid, err = strconv.ParseInt(v, 10, 64); err != nil || tid <= 0 {
			return apperr.Invalid("bad_id")
		}
	}
	out, name, err := sf.s.Render(r.Context(), httpapi.Caller(r), r.PathValue("entity"), id, tid)
	if err != nil {
		return err
	}
	writePDF(w, out, name)
	return nil
}

// previewBody is the draft template of a preview.
type previewBody struct {
	Entity string `json:"entity"`
	Record string `json:"record"`
	Name   string `json:"name"`
	Body   string `json:"body"`
	Header string `json:"header"`
	Footer string `json:"footer"`
	Paper  string `json:"paper"`
	Lang   string `json:"lang"`
	Logo   string `json:"logo"`
}

func (sf surface) preview(w http.ResponseWriter, r *http.Request) error {
	var b previewBody
	if err := httpapi.DecodeJSON(r, &b); err != nil {
		return err
	}
	id, err := strconv.ParseInt(b.Record, 10, 64)
	if err != nil || id <= 0 {
		return apperr.Fields(apperr.Field("record", "invalid_id"))
	}
	out, name, err := sf.s.Preview(r.Context(), httpapi.Caller(r), Template{Name: b.Name, Entity: b.Entity, Paper: b.Paper,
		Lang: b.Lang, Logo: b.Logo, Header: b.Header, Body: b.Body, Footer: b.Footer}, id)
	if err != nil {
		return err
	}
	writePDF(w, out, name)
	return nil
}

func (sf surface) forEntity(w http.ResponseWriter, r *http.Request) error {
	items, err := sf.s.ForEntity(r.Context(), httpapi.Caller(r), r.PathValue("entity"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, obj{"items": items})
	return nil
}

func writePDF(w http.ResponseWriter, b []byte, name string) {
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", files.ContentDisposition(name, true))
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
