package inbound

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
	"github.com/tenon-crm/tenon/internal/platform/signature"
)

// Surface is the engine's HTTP routes (endpoints themselves are records:
// /api/v1/records/inbound_endpoints).
func (e *Engine) Surface() httpapi.Surface { return surface{e} }

type surface struct{ e *Engine }

type obj = map[string]any

func (s surface) Routes() []httpapi.Route {
	idStr := obj{"type": "string"}
	result := obj{"type": "object", "required": []string{"created", "updated", "items"}, "properties": obj{
		"created": obj{"type": "integer"}, "updated": obj{"type": "integer"},
		"items": obj{"type": "array", "items": obj{"type": "object", "properties": obj{
			"external_id": obj{"type": "string"}, "id": idStr, "created": obj{"type": "boolean"}}}},
		"dry_run": obj{"type": "boolean"}}}
	fieldErr := obj{"type": "object", "properties": obj{"field": obj{"type": "string"}, "code": obj{"type": "string"}, "message": obj{"type": "string"}}}
	call := obj{"type": "object", "properties": obj{
		"id": idStr, "endpoint": idStr, "at": obj{"type": "string", "format": "date-time"}, "status": obj{"type": "integer"},
		"items": obj{"type": "integer"}, "created": obj{"type": "integer"}, "updated": obj{"type": "integer"},
		"error": obj{"type": []string{"object", "null"}, "properties": obj{"code": obj{"type": "string"}, "message": obj{"type": "string"},
			"reason": obj{"type": "string", "enum": []string{reasonInactive, reasonMalformed, reasonBadSignature, reasonStale, reasonReplay}},
			"fields": obj{"type": "array", "items": fieldErr}}},
		"remote_addr": obj{"type": "string"}, "body_bytes": obj{"type": "integer"}, "duration_ms": obj{"type": "number"}}}
	payload := obj{"description": "a JSON object (one item, or the object holding items_path) or an array of items",
		"oneOf": []obj{{"type": "object"}, {"type": "array", "items": obj{"type": "object"}}}}
	return []httpapi.Route{
		{Method: "POST", Path: "/api/v1/inbound/{endpoint_id}", Public: true, Tag: "inbound",
			Summary: "An ERP or MES pushes items to an inbound endpoint, signed with Tenon-Signature: t=<unix>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">; " +
				"each item is upserted by (source, external id), all in one transaction",
			Body: payload, Response: result, Errors: []int{400, 401, 413, 422, 429}, Handle: s.receive},
		{Method: "POST", Path: "/api/v1/inbound/{endpoint_id}/test", Scope: auth.ScopeRecordsWrite, Tag: "inbound",
			Summary: "Run a payload through an endpoint as a call would, without a signature, and roll everything back",
			Body:    payload, Response: result, Errors: []int{400, 401, 403, 404, 413, 422}, Handle: s.test},
		{Method: "GET", Path: "/api/v1/inbound/{endpoint_id}/calls", Scope: auth.ScopeRecordsRead, Tag: "inbound",
			Summary: "An endpoint's call log, newest first (kept 30 days)",
			Query: []httpapi.Param{{Name: "status", Description: "ok (2xx) or failed"},
				{Name: "before", Description: "continue below this call id (next_before)"}, {Name: "limit", Description: "at most 500 (default 50)"}},
			Response: obj{"type": "object", "properties": obj{"items": obj{"type": "array", "items": call}, "next_before": idStr}},
			Errors:   []int{400, 401, 403, 404}, Handle: s.calls},
	}
}

// readBody reads a call's body up to the limit (413 past it).
func (s surface) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	max := s.e.limits.MaxBody
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, apperr.New(apperr.ErrTooLarge, "body_too_large", "max", max)
		}
		return nil, apperr.Invalid("bad_request")
	}
	return body, nil
}

func (s surface) receive(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("endpoint_id"), 10, 64)
	if err != nil || id <= 0 {
		id = 0 // refused like any unknown endpoint
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	remote, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		remote = r.RemoteAddr
	}
	res, err := s.e.Receive(r.Context(), Call{Endpoint: id, Signature: r.Header.Get(signature.Header), Body: body, Remote: remote})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (s surface) test(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "endpoint_id")
	if err != nil {
		return err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	res, err := s.e.Test(r.Context(), httpapi.Caller(r), id, body)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (s surface) calls(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "endpoint_id")
	if err != nil {
		return err
	}
	limit, err := httpapi.IntQuery(r, "limit", 50)
	if err != nil {
		return err
	}
	f := CallFilter{Status: r.URL.Query().Get("status"), Limit: limit}
	if b := r.URL.Query().Get("before"); b != "" {
		if f.Before, err = strconv.ParseInt(b, 10, 64); err != nil {
			return apperr.Invalid("bad_cursor")
		}
	}
	page, err := s.e.Calls(r.Context(), httpapi.Caller(r), id, f)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, page)
	return nil
}
