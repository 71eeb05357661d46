package grading

import (
	"net/http"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
)

// Surface is the module's HTTP route: recompute every account now. Rules
// are records (/api/v1/records/grade_rules); regrading one account is the
// records action regrade of accounts.
func (s *Service) Surface() httpapi.Surface { return surface{s} }

type surface struct{ s *Service }

type obj = map[string]any

func (h surface) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "POST", Path: "/api/v1/grading/recompute", Scope: auth.ScopeAdmin, Tag: "grading",
			Summary: "Queue the recomputation of every account's grade, value score, health and default payment terms (administrators); answers the job",
			Status:  http.StatusAccepted,
			Response: obj{"type": "object", "required": []string{"job"}, "properties": obj{
				"job": obj{"type": "string", "description": "the id of the queued grading.nightly job (GET /api/v1/jobs/{id})"}}},
			Errors: []int{401, 403}, Handle: h.recompute},
	}
}

func (h surface) recompute(w http.ResponseWriter, r *http.Request) error {
	if !httpapi.Caller(r).Admin {
		return apperr.Forbidden("admin_only")
	}
	j, err := h.s.jobs.Enqueue(r.Context(), KindNightly, nil, jobs.EnqueueOptions{UniqueKey: "manual"})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusAccepted, obj{"job": strconv.FormatInt(j.ID, 10)})
	return nil
}
