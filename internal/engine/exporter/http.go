package exporter

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/files"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
)

// Surface is the exporter's HTTP route.
func (x *Exporter) Surface() httpapi.Surface { return surface{x} }

type surface struct{ x *Exporter }

func (s surface) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "GET", Path: "/api/v1/records/{entity}/export", Scope: auth.ScopeRecordsRead, Tag: "transfer",
			Summary: "Download the list the caller sees (scope and field rights) as a CSV (UTF-8 with BOM) or XLSX file, " +
				"with the list's filter, sort and q; header row = field labels in the caller's language",
			Query: []httpapi.Param{
				{Name: "format", Description: "csv (default) or xlsx"},
				{Name: "filter", Description: "a filter expression, as for the list"},
				{Name: "sort", Description: "sort keys, as for the list (-amount,name)"},
				{Name: "q", Description: "full-text search, as for the list"},
				{Name: "fields", Description: "the columns in order (comma list); default: every readable field"},
				{Name: "lang", Description: "en or zh-CN: the language of the labels (default: Accept-Language)"},
			},
			Errors: []int{400, 401, 403, 404}, Handle: s.export},
	}
}

func (s surface) export(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	d, err := s.x.Prepare(httpapi.Caller(r), r.PathValue("entity"), Options{Format: q.Get("format"),
		Filter: q.Get("filter"), Sort: q.Get("sort"), Q: q.Get("q"), Fields: splitList(q.Get("fields")), Lang: q.Get("lang")})
	if err != nil {
		return err
	}
	out := &download{w: w, d: d}
	rc := http.NewResponseController(w)
	err = d.Write(r.Context(), out, func() { _ = rc.Flush() })
	if err == nil || !out.started {
		return err // before the first byte: an ordinary problem response
	}
	// Part of the file is out: a problem cannot follow it, and a file cut
	// short must not look complete. Aborting the handler breaks the
	// connection without the final chunk, so the client sees a failed
	// transfer.
	if !errors.Is(err, context.Canceled) {
		s.x.log.ErrorContext(r.Context(), "export failed after the first byte", "entity", d.entity.Name, "err", err)
	}
	panic(http.ErrAbortHandler)
}

// download sends the response headers with the first byte of the file.
type download struct {
	w       http.ResponseWriter
	d       *Download
	started bool
}

func (o *download) Write(b []byte) (int, error) {
	if !o.started {
		o.started = true
		h := o.w.Header()
		h.Set("Content-Type", o.d.ContentType)
		h.Set("Content-Disposition", files.ContentDisposition(o.d.Name, false))
		o.w.WriteHeader(http.StatusOK)
	}
	return o.w.Write(b)
}

// splitList reads a comma list parameter.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
