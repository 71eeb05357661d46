package leadpool

import (
	"net/http"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Surface returns the module's routes: the pools a caller may use, a
// pool's leads, and the lead KPIs. The lead actions (claim, return, assign,
// assign_by_rules) are records actions.
func (s *Service) Surface() httpapi.Surface { return surface{s} }

type surface struct{ s *Service }

const tag = "Lead pools"

func obj(props map[string]any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

var (
	str     = map[string]any{"type": "string"}
	nullStr = map[string]any{"type": []string{"string", "null"}}
	integer = map[string]any{"type": "integer"}
	nullNum = map[string]any{"type": []string{"number", "null"}}
	nullInt = map[string]any{"type": []string{"integer", "null"}}
)

// Schemas names the component schemas of the routes.
func (surface) Schemas() map[string]any {
	return map[string]any{
		"LeadPool": obj(map[string]any{"id": str, "name": str, "region": nullStr, "recycle_days": integer, "claim_cap": integer,
			"count": integer}, "id", "name", "region", "recycle_days", "claim_cap", "count"),
		"LeadKPIs": obj(map[string]any{"from": str, "to": str, "total": integer,
			"by_source": map[string]any{"type": "array", "items": obj(map[string]any{"source": str, "count": integer}, "source", "count")},
			"valid":     nullInt, "valid_rate": nullNum, "converted": nullInt, "conversion_rate": nullNum,
			"responded": nullInt, "avg_first_response_minutes": nullNum,
		}, "from", "to", "total", "by_source"),
	}
}

func (sf surface) Routes() []httpapi.Route {
	s := sf.s
	return []httpapi.Route{
		{Method: "GET", Path: "/api/v1/lead-pools", Scope: auth.ScopeRecordsRead, Tag: tag,
			Summary: "The pools the caller may use (company-wide ones and those of the caller's regions) with the number of their leads the caller may read, and how many claimed leads the caller holds",
			Response: obj(map[string]any{"items": map[string]any{"type": "array", "items": httpapi.Ref("LeadPool")}, "claimed": integer},
				"items", "claimed"),
			Errors: []int{401, 403}, Handle: s.handlePools},
		{Method: "GET", Path: "/api/v1/lead-pools/kpis", Scope: auth.ScopeRecordsRead, Tag: tag,
			Summary: "Lead figures of a period over the leads the caller may read: count by channel, valid-lead rate, average first response, lead-to-opportunity rate",
			Query: []httpapi.Param{{Name: "from", Description: "first day (YYYY-MM-DD) or time (RFC 3339); default 30 days ago"},
				{Name: "to", Description: "last day (inclusive) or time (exclusive); default today"}},
			Response: httpapi.Ref("LeadKPIs"), Errors: []int{400, 401, 403}, Handle: s.handleKPIs},
		{Method: "GET", Path: "/api/v1/lead-pools/{id}/leads", Scope: auth.ScopeRecordsRead, Tag: tag,
			Summary: "The leads of a pool the caller may use, as the caller may list them (scope and hidden fields of leads apply)",
			Query: []httpapi.Param{{Name: "page"}, {Name: "per_page"}, {Name: "q", Description: "search text"},
				{Name: "sort", Description: "as in record lists; default -pooled_at"}, {Name: "filter", Description: "a filter expression ANDed in"}},
			Response: obj(map[string]any{"items": map[string]any{"type": "array", "items": map[string]any{"type": "object"}},
				"page": integer, "per_page": integer, "total": nullInt, "total_exact": map[string]any{"type": "boolean"}}, "items", "page", "per_page"),
			Errors: []int{400, 401, 403, 404}, Handle: s.handlePoolLeads},
	}
}

func (s *Service) handlePools(w http.ResponseWriter, r *http.Request) error {
	ctx, p := r.Context(), httpapi.Caller(r)
	pools, err := s.Pools(ctx, p)
	if err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(pools))
	for _, pool := range pools {
		n, err := s.PoolCount(ctx, p, pool.ID())
		if err != nil {
			return err
		}
		var region any
		if rg := text(pool["region"]); rg != "" {
			region = rg
		}
		items = append(items, map[string]any{"id": idText(pool.ID()), "name": text(pool["name"]), "region": region,
			"recycle_days": num(pool["recycle_days"]), "claim_cap": num(pool["claim_cap"]), "count": n})
	}
	claimed, err := s.Claimed(ctx, p.UserID)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"items": items, "claimed": claimed})
	return nil
}

func (s *Service) handleKPIs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	from, to, err := ParsePeriod(q.Get("from"), q.Get("to"), s.now())
	if err != nil {
		return err
	}
	k, err := s.KPIs(r.Context(), httpapi.Caller(r), from, to)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, k)
	return nil
}

func (s *Service) handlePoolLeads(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	page, err := httpapi.IntQuery(r, "page", 1)
	if err != nil {
		return err
	}
	per, err := httpapi.IntQuery(r, "per_page", 50)
	if err != nil {
		return err
	}
	if per > maxPoolPerPage {
		per = maxPoolPerPage
	}
	q := r.URL.Query()
	p := httpapi.Caller(r)
	res, err := s.PoolLeads(r.Context(), p, id, records.ListOptions{Page: page, PerPage: per, Q: strings.TrimSpace(q.Get("q")),
		Sort: q.Get("sort"), Filter: q.Get("filter")})
	if err != nil {
		return err
	}
	var total any
	if res.HasTotal {
		total = res.Total
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"items": s.recs.PublicAll(p, Leads, res.Items, nil), "page": res.Page,
		"per_page": res.PerPage, "total": total, "total_exact": res.HasTotal && res.TotalExact})
	return nil
}
