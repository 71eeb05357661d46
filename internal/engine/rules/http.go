package rules

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
)

// Surface is the engine's HTTP routes (rules themselves are records:
// /api/v1/records/rules).
func (e *Engine) Surface() httpapi.Surface { return surface{e} }

type surface struct{ e *Engine }

type obj = map[string]any

func (s surface) Routes() []httpapi.Route {
	idStr := obj{"type": "string"}
	actionRes := obj{"type": "object", "properties": obj{"index": obj{"type": "integer"}, "type": obj{"type": "string"},
		"status": obj{"type": "string", "enum": []string{"done", "queued", "skipped", "delivered", "failed", "rolled_back"}},
		"detail": obj{"type": "object"}}}
	runErr := obj{"type": "object", "properties": obj{"code": obj{"type": "string"}, "message": obj{"type": "string"},
		"action": obj{"type": "integer"}, "type": obj{"type": "string"}, "fields": obj{"type": "array", "items": obj{"type": "object"}}}}
	run := obj{"type": "object", "properties": obj{
		"id": idStr, "rule": idStr, "entity": obj{"type": "string"}, "record_id": obj{"type": []string{"string", "null"}},
		"trigger": obj{"type": "string"}, "outcome": obj{"type": "string", "enum": []string{"matched", "skipped", "failed", "loop_stopped"}},
		"actions": obj{"type": "array", "items": actionRes}, "error": runErr, "duration_ms": obj{"type": "number"},
		"depth": obj{"type": "integer"}, "job": idStr, "at": obj{"type": "string", "format": "date-time"}}}
	testBody := obj{"type": "object", "properties": obj{
		"record_id": idStr, "old": obj{"type": "object", "description": "field values before a change (API form)"},
		"payload": obj{"type": "object", "description": "an inbound webhook payload"}}}
	draftBody := obj{"type": "object", "required": []string{"rule"}, "properties": obj{
		"rule": obj{"type": "object", "required": []string{"entity", "trigger", "actions"}, "properties": obj{
			"name": obj{"type": "string"}, "entity": obj{"type": "string"}, "trigger": obj{"type": "object"},
			"condition": obj{"type": "string"}, "actions": obj{"type": "array", "items": obj{"type": "object"}}}},
		"record_id": idStr, "old": obj{"type": "object"}, "payload": obj{"type": "object"}}}
	testRes := obj{"type": "object", "properties": obj{
		"rule": idStr, "record_id": idStr,
		"trigger":   obj{"type": "object", "properties": obj{"type": obj{"type": "string"}, "matches": obj{"type": []string{"boolean", "null"}}, "basis": obj{"type": "string"}}},
		"condition": obj{"type": "object", "properties": obj{"source": obj{"type": "string"}, "matches": obj{"type": "boolean"}, "error": runErr}},
		"would_run": obj{"type": "boolean"}, "actions": obj{"type": "array", "items": actionRes}, "error": runErr}}
	return []httpapi.Route{
		{Method: "GET", Path: "/api/v1/rules/{id}/runs", Scope: auth.ScopeRecordsRead, Tag: "rules",
			Summary: "A rule's run log, newest first",
			Query: []httpapi.Param{{Name: "outcome", Description: "matched, skipped, failed or loop_stopped"},
				{Name: "before", Description: "continue below this run id (next_before)"}, {Name: "limit", Description: "at most 500 (default 50)"}},
			Response: obj{"type": "object", "properties": obj{"items": obj{"type": "array", "items": run}, "next_before": idStr}},
			Errors:   []int{400, 401, 403, 404}, Handle: s.runs},
		{Method: "POST", Path: "/api/v1/rules/{id}/test", Scope: auth.ScopeRecordsWrite, Tag: "rules",
			Summary: "Test a rule against a record: whether it would run and what each action would do; changes nothing",
			Body:    testBody, Response: testRes, Errors: []int{400, 401, 403, 404, 422}, Handle: s.test},
		{Method: "POST", Path: "/api/v1/rules/test", Scope: auth.ScopeRecordsWrite, Tag: "rules",
			Summary: "Test an unsaved rule against a record; changes nothing",
			Body:    draftBody, Response: testRes, Errors: []int{400, 401, 403, 404, 422}, Handle: s.testDraft},
		{Method: "POST", Path: "/api/v1/rules/{id}/hook", Public: true, Tag: "rules",
			Summary: "Inbound webhook of a rule (X-Tenon-Token header); a JSON object body is the payload",
			Body:    obj{"type": "object"}, Status: http.StatusAccepted,
			Response: obj{"type": "object", "properties": obj{"accepted": obj{"type": "boolean"}, "record": idStr}},
			Errors:   []int{400, 404, 413, 429}, Handle: s.hook},
	}
}

func (s surface) runs(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	limit, err := httpapi.IntQuery(r, "limit", 50)
	if err != nil {
		return err
	}
	f := RunFilter{Outcome: r.URL.Query().Get("outcome"), Limit: limit}
	if b := r.URL.Query().Get("before"); b != "" {
		if f.Before, err = strconv.ParseInt(b, 10, 64); err != nil {
			return apperr.Invalid("bad_cursor")
		}
	}
	page, err := s.e.Runs(r.Context(), httpapi.Caller(r), id, f)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, page)
	return nil
}

func (s surface) test(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	var in TestInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.e.Test(r.Context(), httpapi.Caller(r), id, in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (s surface) testDraft(w http.ResponseWriter, r *http.Request) error {
	var in TestInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.e.TestDraft(r.Context(), httpapi.Caller(r), in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (s surface) hook(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxHookBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.New(apperr.ErrTooLarge, "body_too_large", "max", maxHookBody)
		}
		return apperr.Invalid("bad_request")
	}
	res, err := s.e.Hook(r.Context(), id, r.Header.Get("X-Tenon-Token"), body)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusAccepted, res)
	return nil
}
