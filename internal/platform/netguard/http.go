package netguard

import (
	"net/http"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
)

// Surface is the routes of the outbound settings (administrators only).
func (g *Guard) Surface() httpapi.Surface { return surface{g} }

type surface struct{ g *Guard }

type obj = map[string]any

func (surface) Schemas() map[string]any {
	return map[string]any{
		"OutboundSettings": obj{"type": "object", "required": []string{"allow"}, "properties": obj{
			"allow": obj{"type": "array", "items": obj{"type": "string"},
				"description": "hosts outbound calls may reach although they are loopback, link-local or private: a name, an address or a CIDR range, with an optional port"},
			"updated_at": obj{"type": []string{"string", "null"}, "format": "date-time"},
			"updated_by": obj{"type": []string{"string", "null"}}}},
	}
}

func (s surface) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "GET", Path: "/api/v1/settings/outbound", Scope: auth.ScopeAdmin, Tag: "settings",
			Summary:  "The outbound allow-list: targets webhooks, rule calls and group robots may reach although they are loopback, link-local or private (administrators)",
			Response: httpapi.Ref("OutboundSettings"), Errors: []int{401, 403}, Handle: s.get},
		{Method: "PUT", Path: "/api/v1/settings/outbound", Scope: auth.ScopeAdmin, Tag: "settings",
			Summary: "Replace the outbound allow-list (administrators; audited)",
			Body: obj{"type": "object", "required": []string{"allow"}, "properties": obj{
				"allow": obj{"type": "array", "maxItems": MaxAllow, "items": obj{"type": "string"}}}},
			Response: httpapi.Ref("OutboundSettings"), Errors: []int{400, 401, 403, 422}, Handle: s.put},
	}
}

func (s surface) get(w http.ResponseWriter, r *http.Request) error {
	if !httpapi.Caller(r).Admin {
		return apperr.Forbidden("admin_only")
	}
	st, err := s.g.Settings(r.Context())
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, st.View())
	return nil
}

func (s surface) put(w http.ResponseWriter, r *http.Request) error {
	p := httpapi.Caller(r)
	if !p.Admin {
		return apperr.Forbidden("admin_only")
	}
	var in SettingsInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return err
	}
	if in.Allow == nil {
		return apperr.Fields(apperr.Field("allow", "required"))
	}
	st, err := s.g.SetSettings(r.Context(), p, in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, st.View())
	return nil
}
