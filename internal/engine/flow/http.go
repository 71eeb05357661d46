package flow

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/files"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Surface returns the engine's HTTP routes.
func (e *Engine) Surface() httpapi.SchemaSurface { return surface{e} }

type surface struct{ e *Engine }

type obj = map[string]any

var (
	str   = obj{"type": "string"}
	strs  = obj{"type": "array", "items": str}
	integ = obj{"type": "integer"}
)

// Schemas names the component schemas of the routes.
func (s surface) Schemas() map[string]any {
	node := obj{"type": "object", "properties": obj{"id": str, "name": str}}
	files := obj{"type": "array", "items": obj{"type": "object", "properties": obj{"id": str, "name": str, "size": integ, "content_type": str}}}
	task := obj{"type": "object", "properties": obj{
		"id": str, "kind": obj{"type": "string", "enum": []string{KindApproval, KindCC}},
		"status": obj{"type": "string", "enum": []string{TaskQueued, TaskPending, TaskWaiting, TaskApproved, TaskRejected,
			TaskReturned, TaskDelegated, TaskEscalated, TaskCancelled, TaskCC}},
		"origin": obj{"type": "string", "enum": []string{OriginBase, OriginBefore, OriginAfter}},
		"node":   node, "assignee": str, "added_by": str, "from_task": str,
		"created_at": obj{"type": "string", "format": "date-time"}, "due_at": obj{"type": "string", "format": "date-time"},
		"acted_at": obj{"type": "string", "format": "date-time"}, "comment": str, "attachments": files}}
	inbox := obj{"allOf": []any{httpapi.Ref("FlowTask"), obj{"type": "object", "properties": obj{
		"instance": obj{"type": "object", "properties": obj{"id": str, "status": str, "flow": str, "version": integ, "submitter": str}},
		"entity":   str, "entity_label": obj{"type": "object", "additionalProperties": str}, "record_id": str, "title": str}}}}
	instance := obj{"type": "object", "properties": obj{
		"id": str, "definition": str, "flow": str, "version": integ, "entity": str, "record_id": str, "title": str,
		"status":    obj{"type": "string", "enum": []string{StatusRunning, StatusApproved, StatusRejected, StatusWithdrawn, StatusReturned}},
		"submitter": str, "started_at": obj{"type": "string", "format": "date-time"}, "ended_at": obj{"type": "string", "format": "date-time"},
		"current": obj{"type": "array", "items": node}, "reject_targets": obj{"type": "array", "items": node},
		"tasks": obj{"type": "array", "items": httpapi.Ref("FlowTask")},
		"steps": obj{"type": "array", "items": obj{"type": "object", "properties": obj{
			"id": str, "kind": str, "node": node, "task": str, "actor": str, "comment": str, "attachments": files,
			"data": obj{"type": "object"}, "at": obj{"type": "string", "format": "date-time"}}}}}}
	return map[string]any{"FlowTask": task, "FlowInboxItem": inbox, "FlowInstance": instance}
}

// actionBody documents the body of each task action.
func actionBody(action string) obj {
	props := obj{"comment": str, "attachments": obj{"type": "array", "items": str, "description": "file ids from POST /api/v1/files"}}
	switch action {
	case ActReject:
		props["to"] = obj{"type": "string", "description": `"start" (default: the flow ends as rejected) or the id of an earlier approval node (see reject_targets)`}
	case ActDelegate:
		props["to"] = obj{"type": "string", "description": "the user id who takes over the task"}
	case ActAddApprover:
		props["user"] = obj{"type": "string", "description": "the user id to add"}
		props["position"] = obj{"type": "string", "enum": []string{"before", "after"}}
	}
	return obj{"type": "object", "additionalProperties": false, "properties": props}
}

// Routes lists the engine's routes.
func (s surface) Routes() []httpapi.Route {
	rr, rw := auth.ScopeRecordsRead, auth.ScopeRecordsWrite
	tag := "Approvals"
	acted := obj{"type": "object", "properties": obj{"task": httpapi.Ref("FlowTask"),
		"instance": obj{"type": "object", "properties": obj{"id": str, "status": str}}}}
	out := []httpapi.Route{
		{Method: "GET", Path: "/api/v1/approvals", Scope: rr, Tag: tag, Summary: "The caller's approval tasks (inbox)",
			Query: []httpapi.Param{{Name: "box", Description: "pending (default), done or cc"},
				{Name: "assignee", Description: "administrators: another user's id, or all"},
				{Name: "page", Description: "from 1"}, {Name: "per_page", Description: "default 50, at most 500"}},
			Response: obj{"type": "object", "properties": obj{"items": obj{"type": "array", "items": httpapi.Ref("FlowInboxItem")},
				"page": integ, "per_page": integ, "total": integ}},
			Errors: []int{400, 401, 403}, Handle: s.inbox},
		{Method: "POST", Path: "/api/v1/records/{entity}/{id}/submit", Scope: rw, Tag: tag,
			Summary: "Submit a record for approval (starts the matching flow, or resubmits a returned one)",
			Body:    obj{"type": "object", "properties": obj{"definition": obj{"type": "string", "description": "a flow definition id (default: the first published submit flow whose condition holds)"}}},
			Status:  201, Response: httpapi.Ref("FlowInstance"), Errors: []int{400, 401, 403, 404, 409, 422}, Handle: s.submit},
		{Method: "GET", Path: "/api/v1/records/{entity}/{id}/approvals", Scope: rr, Tag: tag,
			Summary: "A record's approval flows with their tasks and timelines, and whether the caller may submit it",
			Response: obj{"type": "object", "properties": obj{"items": obj{"type": "array", "items": httpapi.Ref("FlowInstance")},
				"can_submit": obj{"type": "boolean", "description": "the caller may update the record and a published submit flow applies to it (or its flow was returned to the caller)"},
				"submit_flow": obj{"type": []string{"object", "null"}, "description": "the flow a submission would start or resume",
					"properties": obj{"id": str, "name": str}}}},
			Errors: []int{401, 403, 404}, Handle: s.recordApprovals},
		{Method: "GET", Path: "/api/v1/flow-instances/{id}", Scope: rr, Tag: tag, Summary: "One flow instance",
			Response: httpapi.Ref("FlowInstance"), Errors: []int{401, 404}, Handle: s.instance},
		{Method: "POST", Path: "/api/v1/flow-instances/{id}/withdraw", Scope: rw, Tag: tag, Summary: "Withdraw a running flow (its submitter)",
			Body:     obj{"type": "object", "properties": obj{"comment": str}},
			Response: httpapi.Ref("FlowInstance"), Errors: []int{400, 401, 403, 404, 409}, Handle: s.withdraw},
		{Method: "POST", Path: "/api/v1/flow-definitions/{id}/validate", Scope: rr, Tag: tag, Summary: "Check a flow definition as publishing would",
			Response: obj{"type": "object", "properties": obj{"valid": obj{"type": "boolean"}}},
			Errors:   []int{401, 403, 404, 422}, Handle: s.validate},
		{Method: "POST", Path: "/api/v1/flow-definitions/{id}/publish", Scope: rw, Tag: tag,
			Summary:  "Validate a flow definition and publish its graph as a new version",
			Response: obj{"type": "object", "description": "the flow_definitions record"},
			Errors:   []int{401, 403, 404, 422}, Handle: s.publish},
		{Method: "GET", Path: "/api/v1/flow-definitions/{id}/versions", Scope: rr, Tag: tag, Summary: "A flow definition's published versions",
			Response: obj{"type": "object", "properties": obj{"items": obj{"type": "array", "items": obj{"type": "object", "properties": obj{
				"version": integ, "name": str, "entity": str, "trigger": str, "condition": str, "graph": obj{"type": "object"},
				"published_at": obj{"type": "string", "format": "date-time"}, "published_by": str}}}}},
			Errors: []int{401, 403, 404}, Handle: s.versions},
		{Method: "GET", Path: "/api/v1/flow-attachments/{file}", Scope: auth.ScopeFilesRead, Tag: tag,
			Summary:  "Download an attachment of an approval step (for whoever may see its flow)",
			Response: obj{"type": "string", "format": "binary"}, Errors: []int{401, 404}, Handle: s.attachment},
	}
	for _, a := range []string{ActApprove, ActReject, ActReturn, ActDelegate, ActComment, ActAddApprover} {
		out = append(out, httpapi.Route{Method: "POST", Path: "/api/v1/approvals/{task}/" + a, Scope: rw, Tag: tag,
			Summary: "Act on an approval task: " + a, Body: actionBody(a), Response: acted,
			Errors: []int{400, 401, 404, 409, 422}, Handle: s.act(a)})
	}
	return out
}

// decodeOptional decodes a JSON body strictly into v; an empty body leaves
// v as it is.
func decodeOptional(r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return httpapi.DecodeJSON(r, v)
}

func (s surface) inbox(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	iq := InboxQuery{Box: q.Get("box")}
	if iq.Box == "" {
		iq.Box = BoxPending
	}
	switch a := q.Get("assignee"); a {
	case "", "me":
	case "all":
		iq.Assignee = -1
	default:
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 {
			return apperr.Invalid("flow_bad_assignee")
		}
		iq.Assignee = id
	}
	var err error
	if iq.Page, err = httpapi.IntQuery(r, "page", 1); err != nil {
		return err
	}
	if iq.PerPage, err = httpapi.IntQuery(r, "per_page", 50); err != nil {
		return err
	}
	if iq.Page < 1 || iq.PerPage < 1 || iq.PerPage > records.MaxPerPage {
		return apperr.Invalid("bad_paging", "max", records.MaxPerPage)
	}
	items, total, err := s.e.Inbox(r.Context(), httpapi.Caller(r), iq)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, obj{"items": items, "page": iq.Page, "per_page": iq.PerPage, "total": total})
	return nil
}

func (s surface) act(action string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := httpapi.PathID(r, "task")
		if err != nil {
			return err
		}
		var in Input
		if err := decodeOptional(r, &in); err != nil {
			return err
		}
		t, inst, err := s.e.Act(r.Context(), httpapi.Caller(r), id, action, in)
		if err != nil {
			return err
		}
		tv, err := s.e.fileInfo().task(r.Context(), t)
		if err != nil {
			return err
		}
		httpapi.WriteJSON(w, http.StatusOK, obj{"task": tv, "instance": obj{"id": idString(inst.ID), "status": inst.Status}})
		return nil
	}
}

// Submit starts the record's flow (or resubmits a returned one) for a
// caller who may update the record.
func (e *Engine) Submit(ctx context.Context, p *access.Principal, entity string, id, definitionID int64) (*InstanceView, bool, error) {
	var instID int64
	var resumed bool
	err := e.db.WithTx(ctx, func(ctx context.Context) error {
		if err := e.rs.Check(ctx, p, entity, id, access.Update); err != nil {
			return err
		}
		var err error
		instID, resumed, err = e.start(ctx, p, entity, id, definitionID, TriggerSubmit, false)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	v, err := e.Instance(ctx, p, instID)
	return v, resumed, err
}

func (s surface) submit(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	var body struct {
		Definition string `json:"definition,omitempty"`
	}
	if err := decodeOptional(r, &body); err != nil {
		return err
	}
	var def int64
	if body.Definition != "" {
		if def, err = strconv.ParseInt(body.Definition, 10, 64); err != nil || def <= 0 {
			return apperr.Fields(apperr.Field("definition", "invalid_id"))
		}
	}
	v, resumed, err := s.e.Submit(r.Context(), httpapi.Caller(r), r.PathValue("entity"), id, def)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if resumed {
		status = http.StatusOK
	}
	httpapi.WriteJSON(w, status, v)
	return nil
}

func (s surface) recordApprovals(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	rf, err := s.e.RecordApprovals(r.Context(), httpapi.Caller(r), r.PathValue("entity"), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, rf)
	return nil
}

func (s surface) instance(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	v, err := s.e.Instance(r.Context(), httpapi.Caller(r), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, v)
	return nil
}

func (s surface) withdraw(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	var body struct {
		Comment string `json:"comment,omitempty"`
	}
	if err := decodeOptional(r, &body); err != nil {
		return err
	}
	p := httpapi.Caller(r)
	if _, err := s.e.Withdraw(r.Context(), p, id, body.Comment); err != nil {
		return err
	}
	v, err := s.e.Instance(r.Context(), p, id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, v)
	return nil
}

func (s surface) validate(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.e.Validate(r.Context(), httpapi.Caller(r), id); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, obj{"valid": true})
	return nil
}

func (s surface) publish(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	p := httpapi.Caller(r)
	rec, err := s.e.Publish(r.Context(), p, id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, s.e.rs.Public(p, DefinitionEntity, rec, nil))
	return nil
}

func (s surface) versions(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.e.rs.Get(ctx, httpapi.Caller(r), DefinitionEntity, id, records.GetOptions{Fields: []string{"id"}}); err != nil {
		return err
	}
	vs, err := s.e.st.versionsOf(ctx, id)
	if err != nil {
		return err
	}
	items := make([]obj, 0, len(vs))
	for _, v := range vs {
		items = append(items, obj{"version": v.Version, "name": v.Name, "entity": v.Entity, "trigger": v.Trigger, "condition": v.Condition,
			"graph": rawJSON(v.Graph), "published_at": v.PublishedAt, "published_by": idString(v.PublishedBy)})
	}
	httpapi.WriteJSON(w, http.StatusOK, obj{"items": items})
	return nil
}

// attachment serves a file attached to an approval step to whoever may
// see one of the instances that hold it.
func (s surface) attachment(w http.ResponseWriter, r *http.Request) error {
	e := s.e
	if e.files == nil {
		return apperr.NotFound()
	}
	ctx := r.Context()
	p := httpapi.Caller(r)
	id := r.PathValue("file")
	refs, err := e.files.Refs(ctx, id)
	if err != nil {
		return err
	}
	allowed := false
	for _, ref := range refs {
		n, ok := strings.CutPrefix(ref.Field, "_flow_")
		if !ok {
			continue
		}
		iid, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			continue
		}
		in, err := e.st.instance(ctx, iid, false)
		if errors.Is(err, apperr.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if ok, err := e.mayView(ctx, p, in); err != nil {
			return err
		} else if ok {
			allowed = true
			break
		}
	}
	if !allowed {
		return apperr.NotFound()
	}
	f, rc, err := e.files.Open(ctx, id)
	if err != nil {
		return err
	}
	defer rc.Close()
	ct := "application/octet-stream"
	inline := files.IsImage(f.ContentType)
	if inline {
		ct = f.ContentType
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", files.ContentDisposition(f.Name, inline))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("ETag", `"`+f.SHA256+`"`)
	http.ServeContent(w, r, "", f.CreatedAt, rc)
	return nil
}
