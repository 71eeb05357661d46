package marketing

import (
	"net/http"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
)

// Surface is the module's HTTP route: the ROI table.
func (s *Service) Surface() httpapi.Surface { return surface{s} }

type surface struct{ s *Service }

type obj = map[string]any

func (h surface) Routes() []httpapi.Route {
	figure := obj{"type": []string{"string", "null"}, "description": "a decimal as a string; null when hidden from the caller or undefined"}
	count := obj{"type": []string{"integer", "null"}}
	row := obj{"type": "object", "required": []string{"campaign", "name", "cost", "leads", "opportunities", "wins", "amount", "lead_to_win_rate", "roi"},
		"properties": obj{
			"campaign": obj{"type": "string"}, "name": obj{"type": "string"}, "kind": obj{"type": "string"},
			"region": obj{"type": "string"}, "started_on": obj{"type": "string", "format": "date"},
			"cost": figure, "leads": count, "opportunities": count, "wins": count, "amount": figure,
			"lead_to_win_rate": figure, "roi": figure}}
	return []httpapi.Route{
		{Method: "GET", Path: "/api/v1/marketing/roi", Scope: auth.ScopeRecordsRead, Tag: "marketing",
			Summary: "Campaign ROI: per campaign the caller may read, its cost, the attributed leads, opportunities, wins and won amount the caller may read, lead→win rate (wins/leads) and ROI ((amount−cost)/cost)",
			Query: []httpapi.Param{{Name: "from", Description: "campaigns started on or after this date (YYYY-MM-DD)"},
				{Name: "to", Description: "campaigns started on or before this date (YYYY-MM-DD)"},
				{Name: "sort", Description: "cost, leads, opportunities, wins, amount, lead_to_win_rate or roi; - for descending (default: newest campaign first)"}},
			Response: obj{"type": "object", "required": []string{"items"}, "properties": obj{"items": obj{"type": "array", "items": row}}},
			Errors:   []int{400, 401, 403}, Handle: h.roi},
	}
}

func (h surface) roi(w http.ResponseWriter, r *http.Request) error {
	var q ROIQuery
	var err error
	if q.From, err = dateParam(r, "from"); err != nil {
		return err
	}
	if q.To, err = dateParam(r, "to"); err != nil {
		return err
	}
	rows, err := h.s.ROI(r.Context(), httpapi.Caller(r), q)
	if err != nil {
		return err
	}
	if by := r.URL.Query().Get("sort"); by != "" {
		if err := SortROI(rows, by); err != nil {
			return err
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, obj{"items": rows})
	return nil
}

func dateParam(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, apperr.Invalid("marketing_bad_date", "param", name)
	}
	return t, nil
}
