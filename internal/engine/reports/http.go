package reports

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/files"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Surface returns the engine's HTTP routes. Reports and dashboards
// themselves are records (/api/v1/records/reports, …/dashboards).
func (s *Service) Surface() httpapi.Surface { return surface{s} }

type surface struct{ s *Service }

type obj = map[string]any

var strSchema = obj{"type": "string"}

// paramDocs are the shared filters as query parameters.
var paramDocs = []httpapi.Param{
	{Name: "preset", Description: "a date range relative to today: this_month, this_quarter, this_year, last_30_days, last_90_days, last_12_months"},
	{Name: "from", Description: "first day (YYYY-MM-DD) of the report's date field"},
	{Name: "to", Description: "last day (YYYY-MM-DD, inclusive)"},
	{Name: "region", Description: "region (for sources with a region field)"},
	{Name: "owner", Description: "owner user id"},
	{Name: "product_line", Description: "product line (for sources with a product_line field)"},
}

var paramsSchema = obj{"type": "object", "additionalProperties": false, "properties": obj{
	"preset": strSchema, "from": strSchema, "to": strSchema, "region": strSchema, "owner": strSchema, "product_line": strSchema}}

var specSchema = obj{"type": "object", "description": "a report definition: the fields of a reports record",
	"required": []string{"source", "chart"}, "properties": obj{
		"name": strSchema, "name_en": strSchema, "source": strSchema, "filter": strSchema, "date_field": strSchema, "chart": strSchema,
		"dimensions": obj{"type": "array", "items": obj{"type": "object"}}, "measures": obj{"type": "array", "items": obj{"type": "object"}},
		"sort": obj{"type": "array", "items": obj{"type": "object"}}, "row_limit": obj{"type": "integer"}, "chart_options": obj{"type": "object"}}}

var resultSchema = obj{"type": "object", "properties": obj{
	"report": strSchema, "name": strSchema, "source": strSchema, "chart": strSchema, "chart_options": obj{"type": "object"},
	"columns": obj{"type": "array", "items": obj{"type": "object", "properties": obj{
		"key": strSchema, "label": strSchema, "role": strSchema, "field": strSchema, "type": strSchema, "bucket": strSchema, "op": strSchema, "format": strSchema, "unit": strSchema, "hidden": obj{"type": "boolean"}}}},
	"rows":      obj{"type": "array", "items": obj{"type": "array", "items": obj{}}},
	"totals":    obj{"type": "array", "items": obj{}},
	"labels":    obj{"type": "object", "additionalProperties": obj{"type": "object", "additionalProperties": strSchema}},
	"applied":   obj{"type": "array", "items": strSchema},
	"truncated": obj{"type": "boolean"}}}

var drillSchema = obj{"type": "object", "properties": obj{"entity": strSchema, "filter": strSchema}}

// Routes lists the engine's routes.
func (sf surface) Routes() []httpapi.Route {
	rr := auth.ScopeRecordsRead
	return []httpapi.Route{
		{Method: "GET", Path: "/api/v1/reports/{id}/data", Scope: rr, Tag: "reports",
			Summary: "A report's result as the caller may see it (their data scope and field rights; one query). " +
				"format=xlsx answers the result as a workbook (needs the export right on the report's source entity)",
			Query:    append([]httpapi.Param{{Name: "format", Description: "json (default) or xlsx"}}, paramDocs...),
			Response: resultSchema, Errors: []int{400, 401, 403, 404}, Handle: sf.data},
		{Method: "POST", Path: "/api/v1/reports/preview", Scope: rr, Tag: "reports",
			Summary: "The result of an unsaved definition, for the report builder (the same checks as a saved report)",
			Body: obj{"type": "object", "additionalProperties": false, "required": []string{"report"}, "properties": obj{
				"report": specSchema, "params": paramsSchema}},
			Response: resultSchema, Errors: []int{400, 401, 403, 422}, Handle: sf.preview},
		{Method: "POST", Path: "/api/v1/reports/{id}/drill", Scope: rr, Tag: "reports",
			Summary: "The records behind a cell: the entity and the filter whose list (as the same caller) counts the cell's number",
			Body: obj{"type": "object", "additionalProperties": false, "properties": obj{
				"keys":    obj{"type": "array", "items": obj{}, "description": "the row's dimension values as the data gave them (fewer for a subtotal)"},
				"measure": obj{"type": "integer", "description": "the measure's index (-1 or absent: the rows without a measure's condition)"},
				"params":  paramsSchema}},
			Response: drillSchema, Errors: []int{400, 401, 403, 404}, Handle: sf.drill},
		{Method: "GET", Path: "/api/v1/dashboards/{id}/export", Scope: rr, Tag: "reports",
			Summary: "A dashboard as an XLSX workbook, one sheet per report the caller may read and export",
			Query:   paramDocs, Errors: []int{401, 404}, Handle: sf.exportDashboard},
	}
}

// params reads the shared filters of a query string.
func params(r *http.Request, now time.Time) (Params, error) {
	q := r.URL.Query()
	f := Filters{Preset: q.Get("preset"), Params: Params{From: q.Get("from"), To: q.Get("to"), Region: q.Get("region"), ProductLine: q.Get("product_line")}}
	if o := q.Get("owner"); o != "" {
		id, err := strconv.ParseInt(o, 10, 64)
		if err != nil || id <= 0 {
			return Params{}, apperr.Invalid("report_bad_param", "name", "owner")
		}
		f.Owner = id
	}
	return f.Resolve(now)
}

// bodyParams are the shared filters of a request body.
type bodyParams struct {
	Preset      string `json:"preset"`
	From        string `json:"from"`
	To          string `json:"to"`
	Region      string `json:"region"`
	Owner       string `json:"owner"`
	ProductLine string `json:"product_line"`
}

func (b *bodyParams) resolve(now time.Time) (Params, error) {
	if b == nil {
		return Params{}, nil
	}
	f := Filters{Preset: b.Preset, Params: Params{From: b.From, To: b.To, Region: b.Region, ProductLine: b.ProductLine}}
	if b.Owner != "" {
		id, err := strconv.ParseInt(b.Owner, 10, 64)
		if err != nil || id <= 0 {
			return Params{}, apperr.Invalid("report_bad_param", "name", "owner")
		}
		f.Owner = id
	}
	return f.Resolve(now)
}

func (sf surface) data(w http.ResponseWriter, r *http.Request) error {
	ctx, p := r.Context(), httpapi.Caller(r)
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	spec, err := sf.s.Load(ctx, p, id)
	if err != nil {
		return err
	}
	prm, err := params(r, sf.s.now())
	if err != nil {
		return err
	}
	xlsx := false
	switch r.URL.Query().Get("format") {
	case "", "json":
	case "xlsx":
		xlsx = true
		if !p.RightsOn(spec.Source).Can(access.Export) {
			return apperr.Forbidden("action_not_allowed", "action", access.Export, "entity", spec.Source)
		}
	default:
		return apperr.Invalid("report_bad_param", "name", "format")
	}
	res, err := sf.s.Run(ctx, p, spec, prm, p.Lang)
	if err != nil {
		return err
	}
	if !xlsx {
		httpapi.WriteJSON(w, http.StatusOK, res)
		return nil
	}
	return sf.workbook(w, []*Result{res}, res.Name, p.Lang)
}

// workbook answers results as an XLSX attachment.
func (sf surface) workbook(w http.ResponseWriter, results []*Result, name, lang string) error {
	total := "合计"
	if lang == "en" {
		total = "Total"
	}
	b, err := Workbook(results, total)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	h.Set("Content-Disposition", files.ContentDisposition(fileName(name)+"-"+sf.s.now().In(meta.Shanghai).Format("20060102-150405")+".xlsx", false))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b)
	return err
}

func (sf surface) preview(w http.ResponseWriter, r *http.Request) error {
	ctx, p := r.Context(), httpapi.Caller(r)
	var body struct {
		Report Spec        `json:"report"`
		Params *bodyParams `json:"params"`
	}
	if err := httpapi.DecodeJSON(r, &body); err != nil {
		return err
	}
	prm, err := body.Params.resolve(sf.s.now())
	if err != nil {
		return err
	}
	if !p.RightsOn(Reports).Can(access.Create) {
		return apperr.Forbidden("action_not_allowed", "action", access.Create, "entity", Reports)
	}
	spec := body.Report
	spec.ID = 0
	if err := sf.s.check(p, &spec); err != nil {
		return err
	}
	res, err := sf.s.Run(ctx, p, &spec, prm, p.Lang)
	if err != nil {
		return asFieldError(err)
	}
	httpapi.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (sf surface) drill(w http.ResponseWriter, r *http.Request) error {
	ctx, p := r.Context(), httpapi.Caller(r)
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	var body struct {
		Keys    []any       `json:"keys"`
		Measure *int        `json:"measure"`
		Params  *bodyParams `json:"params"`
	}
	if err := httpapi.DecodeJSON(r, &body); err != nil {
		return err
	}
	spec, err := sf.s.Load(ctx, p, id)
	if err != nil {
		return err
	}
	prm, err := body.Params.resolve(sf.s.now())
	if err != nil {
		return err
	}
	m := -1
	if body.Measure != nil {
		m = *body.Measure
	}
	t, err := sf.s.Drill(ctx, p, spec, prm, body.Keys, m)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, t)
	return nil
}

func (sf surface) exportDashboard(w http.ResponseWriter, r *http.Request) error {
	ctx, p := r.Context(), httpapi.Caller(r)
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	rec, err := sf.s.recs.Get(ctx, p, Dashboards, id, records.GetOptions{})
	if err != nil {
		return err
	}
	cards, f, err := dashboardOf(rec)
	if err != nil {
		return err
	}
	prm, err := params(r, sf.s.now())
	if err != nil {
		return err
	}
	if r.URL.Query().Get("preset") == "" && r.URL.Query().Get("from") == "" && r.URL.Query().Get("to") == "" {
		if prm, err = f.Resolve(sf.s.now()); err != nil {
			return err
		}
	}
	results, err := sf.s.runCards(ctx, p, cards, prm, true)
	if err != nil {
		return err
	}
	name := str(rec["name"])
	if p.Lang == "en" && str(rec["name_en"]) != "" {
		name = str(rec["name_en"])
	}
	return sf.workbook(w, results, name, p.Lang)
}

// runCards runs a dashboard's reports as p, in reading order, leaving out
// those p may not read (or, for an export, not export).
func (s *Service) runCards(ctx context.Context, p *access.Principal, cards []Card, prm Params, export bool) ([]*Result, error) {
	var out []*Result
	for _, c := range sortCards(cards) {
		id, _ := strconv.ParseInt(c.Report, 10, 64)
		spec, err := s.Load(ctx, p, id)
		if err != nil {
			continue
		}
		if export && !p.RightsOn(spec.Source).Can(access.Export) {
			continue
		}
		r, err := s.Run(ctx, p, spec, prm, p.Lang)
		if err != nil {
			if ae, ok := apperr.As(err); ok && ae.Kind != nil {
				continue
			}
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
