package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
)

// Surface is a capability's own HTTP routes (an engine's or a module's),
// mounted by the server next to the platform's routes. A surface lives in
// its capability's package and uses the exported helpers of this file, so
// the dependency points from the capability to httpapi, never back. Every
// route gets the same authentication, CSRF check, error mapping and logging
// as the platform's, and appears in the OpenAPI document.
type Surface interface {
	Routes() []Route
}

// SchemaSurface is a surface that also names component schemas (referenced
// from its routes with Ref).
type SchemaSurface interface {
	Surface
	Schemas() map[string]any
}

// Route is one operation: how it is served and how the OpenAPI document
// describes it.
type Route struct {
	Method string // GET, POST, PATCH, PUT, DELETE
	Path   string // e.g. /api/v1/approvals/{task}/approve
	// Scope is the API-token scope the route needs ("" for any token).
	Scope string
	// Public routes need no caller (inbound webhooks verify their own
	// signature); the handler sees no principal.
	Public  bool
	Tag     string
	Summary string
	Query   []Param        // query parameters
	Body    map[string]any // JSON schema of the request body (nil: none)
	// Status is the success status (default 200); Response the JSON schema
	// of its body (nil: no content).
	Status   int
	Response map[string]any
	// Stream marks a text/event-stream response.
	Stream bool
	// Errors lists the documented error statuses.
	Errors []int
	Handle func(w http.ResponseWriter, r *http.Request) error
}

// Param is a documented query parameter.
type Param struct{ Name, Description string }

// Ref is a JSON-schema reference to a component schema.
func Ref(name string) map[string]any { return ref(name) }

// Caller is the authenticated principal of a request served by a surface
// (nil on public routes).
func Caller(r *http.Request) *access.Principal { return principal(r) }

// WriteJSON writes v as JSON with the status.
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

// DecodeJSON reads the request body (at most 4 MB) and decodes it strictly
// into v: malformed JSON, repeated keys and unknown keys are refused with a
// 400 problem.
func DecodeJSON(r *http.Request, v any) error {
	b, err := readBody(r, maxBody)
	if err != nil {
		return err
	}
	return decodeInto(b, v)
}

// DecodeObject reads the request body (at most 4 MB) as a JSON object, with
// numbers kept as json.Number (for record values).
func DecodeObject(r *http.Request) (map[string]any, error) { return readObject(r) }

// IntQuery reads an integer query parameter (def when absent; 400 when not
// a number).
func IntQuery(r *http.Request, name string, def int) (int, error) { return intParam(r, name, def) }

// PathID reads an id path value; anything but a positive integer is a 404.
func PathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.NotFound()
	}
	return id, nil
}

// mountSurfaces registers the surfaces' routes.
func (s *Server) mountSurfaces() {
	for _, sf := range s.Surfaces {
		for _, rt := range sf.Routes() {
			if rt.Handle == nil || !strings.HasPrefix(rt.Path, "/") {
				panic(fmt.Sprintf("httpapi: bad surface route %s %s", rt.Method, rt.Path))
			}
			pattern := rt.Method + " " + rt.Path
			if rt.Public {
				s.mux.Handle(pattern, s.public(rt.Handle))
			} else {
				s.mux.Handle(pattern, s.authed(rt.Scope, rt.Handle))
			}
		}
	}
}

// surfacePaths adds the surfaces' operations and schemas to an OpenAPI
// document under construction.
func surfacePaths(surfaces []Surface, paths, schemas obj) {
	for _, sf := range surfaces {
		if ss, ok := sf.(SchemaSurface); ok {
			for k, v := range ss.Schemas() {
				schemas[k] = v
			}
		}
		for _, rt := range sf.Routes() {
			item, _ := paths[rt.Path].(obj)
			if item == nil {
				item = obj{}
				paths[rt.Path] = item
			}
			item[strings.ToLower(rt.Method)] = routeOperation(rt)
		}
	}
}

func routeOperation(rt Route) obj {
	op := obj{"summary": rt.Summary}
	if rt.Tag != "" {
		op["tags"] = []string{rt.Tag}
	}
	var params []obj
	for _, seg := range strings.Split(rt.Path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			params = append(params, pp(strings.TrimSuffix(strings.Trim(seg, "{}"), "...")))
		}
	}
	for _, q := range rt.Query {
		params = append(params, qp(q.Name, q.Description))
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if rt.Body != nil {
		op["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": rt.Body}}}
	}
	status := rt.Status
	if status == 0 {
		status = http.StatusOK
	}
	resp := obj{}
	switch {
	case rt.Stream:
		resp[strconv.Itoa(status)] = obj{"description": "server-sent events", "content": obj{"text/event-stream": obj{"schema": obj{"type": "string"}}}}
	case rt.Response != nil:
		resp[strconv.Itoa(status)] = obj{"description": "ok", "content": obj{"application/json": obj{"schema": rt.Response}}}
	default:
		resp[strconv.Itoa(status)] = obj{"description": "ok"}
	}
	for _, code := range rt.Errors {
		resp[strconv.Itoa(code)] = obj{"description": "error", "content": obj{"application/problem+json": obj{"schema": ref("Problem")}}}
	}
	op["responses"] = resp
	if rt.Public {
		op["security"] = []obj{}
	}
	return op
}
