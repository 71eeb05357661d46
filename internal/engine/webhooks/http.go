package webhooks

import (
	"net/http"

	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
)

// Surface is the engine's HTTP route. Webhooks and deliveries are records
// (/api/v1/records/webhooks, /api/v1/records/webhook_deliveries, and the
// replay action through the records API); the test action has a route of
// its own because it calls the target outside any transaction and answers
// {"ok"} rather than a record. Its path is the records action path, which
// it serves in place of the generic one.
func (e *Engine) Surface() httpapi.Surface { return surface{e} }

type surface struct{ e *Engine }

type obj = map[string]any

func (s surface) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "POST", Path: "/api/v1/records/" + Entity + "/{id}/actions/test", Scope: auth.ScopeRecordsWrite, Tag: "webhooks",
			Summary: "Send a signed ping (event \"ping\") to the webhook now; reports only whether a 2xx came back, with a generic reason (needs update on webhooks)",
			Response: obj{"type": "object", "required": []string{"ok"}, "properties": obj{
				"ok":      obj{"type": "boolean"},
				"reason":  obj{"type": "string", "enum": []string{"refused", "unreachable", "rejected"}},
				"message": obj{"type": "string"}}},
			Errors: []int{401, 403, 404}, Handle: s.test},
	}
}

func (s surface) test(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	res, err := s.e.Test(r.Context(), httpapi.Caller(r), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, res)
	return nil
}
