package httpapi

import (
	"net/http"
	"sort"

	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// openapi serves an OpenAPI 3.1 document generated from the routes and the
// entity metadata in force at this moment, custom entities included.
func (s *Server) openapi(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.Document(s.Version))
	return nil
}

// Document is the OpenAPI document of the server's routes and surfaces
// over the entity metadata in force now.
func (s *Server) Document(version string) map[string]any {
	return BuildOpenAPI(s.Meta.All(), version, s.Surfaces...)
}

type obj = map[string]any

// BuildOpenAPI returns the document for the given entities and surfaces.
func BuildOpenAPI(entities []*meta.Entity, version string, surfaces ...Surface) obj {
	str, boolT, intT := obj{"type": "string"}, obj{"type": "boolean"}, obj{"type": "integer"}
	schemas := obj{
		"Problem": obj{"type": "object", "required": []string{"type", "title", "status"}, "properties": obj{
			"type": obj{"type": "string"}, "title": obj{"type": "string"}, "status": obj{"type": "integer"},
			"detail": obj{"type": "string"}, "code": obj{"type": "string"},
			"errors": obj{"type": "array", "items": obj{"type": "object", "properties": obj{
				"field": obj{"type": "string"}, "code": obj{"type": "string"}, "message": obj{"type": "string"}}}}}},
		"Label": obj{"type": "object", "description": "a text by language", "properties": obj{"zh-CN": str, "en": str}},
		"Field": obj{"type": "object", "required": []string{"name", "type"}, "properties": obj{
			"name": str, "type": obj{"type": "string", "enum": fieldTypeNames()}, "label": ref("Label"), "help": ref("Label"),
			"required": boolT, "required_if": str, "visible_if": str, "unique": boolT, "index": boolT,
			"default": obj{}, "min": str, "max": str, "max_length": intT, "pattern": str, "scale": intT,
			"options": obj{"type": "array", "items": obj{"oneOf": []obj{str, {"type": "object", "properties": obj{
				"value": str, "label": ref("Label"), "color": str}}}}}, "options_from": str, "target": str, "currency": str,
			"fields": obj{"type": "array", "items": ref("Field")}, "expression": str, "result_type": str,
			"source": str, "op": str, "of": str, "searchable": boolT, "readonly": boolT, "secret": boolT, "custom": boolT}},
		"Entity": obj{"type": "object", "required": []string{"name"}, "properties": obj{
			"name": str, "label": ref("Label"), "module": str, "title_field": str,
			"numbering": obj{"type": "object", "properties": obj{"field": str, "pattern": str, "reset": str}},
			"indexes": obj{"type": "array", "items": obj{"type": "object", "properties": obj{
				"fields": obj{"type": "array", "items": str}, "unique": boolT}}},
			"fields": obj{"type": "array", "items": ref("Field")}, "layouts": obj{}, "views": obj{},
			"actions": obj{"type": "array", "items": obj{"type": "object", "properties": obj{"name": str, "label": ref("Label")}}},
			"system":  boolT, "custom": boolT,
			"permissions":     obj{"type": "array", "items": str, "description": "the caller's actions on the entity (read only)"},
			"readonly_fields": obj{"type": "array", "items": str, "description": "fields the caller may not change (read only)"}}},
		"Token": obj{"type": "object", "properties": obj{"id": str, "user_id": str, "name": str, "prefix": str,
			"scopes":     obj{"type": "array", "items": obj{"type": "string", "enum": auth.AllScopes()}},
			"expires_at": obj{"type": []string{"string", "null"}, "format": "date-time"}, "revoked_at": obj{"type": []string{"string", "null"}, "format": "date-time"},
			"created_at": obj{"type": "string", "format": "date-time"}, "last_used_at": obj{"type": []string{"string", "null"}, "format": "date-time"},
			"token": obj{"type": "string", "description": "the secret, only in the response that creates it"}}},
		"Me": obj{"type": "object", "properties": obj{"user": obj{"type": "object"}, "roles": obj{"type": "array", "items": str},
			"admin": boolT, "csrf_token": str}},
		"AuditEntry": obj{"type": "object", "properties": obj{"id": str, "entity": str, "record_id": str, "action": str,
			"version": intT, "actor": str, "token_id": str, "source": str, "at": obj{"type": "string", "format": "date-time"},
			"changes": obj{"type": "object", "additionalProperties": obj{"type": "object", "properties": obj{"old": obj{}, "new": obj{}}}}}},
		"SearchGroup": obj{"type": "object", "properties": obj{"entity": str, "label": ref("Label"), "has_more": boolT,
			"items": obj{"type": "array", "items": obj{"type": "object", "properties": obj{"id": str, "title": obj{}}}}}},
		"Change": obj{"type": "object", "properties": obj{"seq": obj{"type": "string"}, "entity": obj{"type": "string"},
			"record_id": obj{"type": "string"}, "event": obj{"type": "string"}, "version": obj{"type": "integer"},
			"occurred_at": obj{"type": "string", "format": "date-time"}, "changes": obj{"type": "object"}}},
	}
	paths := obj{}
	errResp := func(codes ...string) obj {
		out := obj{}
		for _, c := range codes {
			out[c] = obj{"description": "error", "content": obj{"application/problem+json": obj{"schema": ref("Problem")}}}
		}
		return out
	}
	merge := func(a, b obj) obj {
		for k, v := range b {
			a[k] = v
		}
		return a
	}
	jsonBody := func(schema obj) obj {
		return obj{"required": true, "content": obj{"application/json": obj{"schema": schema}}}
	}
	ok := func(code string, schema obj) obj {
		return obj{code: obj{"description": "ok", "content": obj{"application/json": obj{"schema": schema}}}}
	}
	listParams := []obj{
		qp("filter", "Filter expression, e.g. region == \"华东\" && amount >= 500000"),
		qp("sort", "Comma list of fields, '-' for descending"),
		qp("page", "Page number from 1"), qp("per_page", "Page size, default 50, at most 500"),
		qp("fields", "Comma list of fields to return"), qp("q", "Full-text search (substrings, Chinese included)"),
		qp("expand", "Comma list of link fields to embed under \"expand\""),
		qp("count", "Omitted: exact total up to 1000 (100 for a search with q), above that total=1000 (100) and total_exact=false; exact: always exact; none: no total"),
		qp("deleted", "true: list the recycle bin"),
	}
	for _, e := range entities {
		name := schemaName(e.Name)
		schemas[name] = entitySchema(e)
		base := "/api/v1/records/" + e.Name
		tag := []string{e.Name}
		paths[base] = obj{
			"get": obj{"tags": tag, "summary": "List " + e.Label.Get("en", e.Name), "parameters": listParams,
				"responses": merge(ok("200", obj{"type": "object", "properties": obj{"items": obj{"type": "array", "items": ref(name)},
					"page": obj{"type": "integer"}, "per_page": obj{"type": "integer"}, "total": obj{"type": []string{"integer", "null"}},
					"total_exact": obj{"type": "boolean"}}}), errResp("400", "401", "403"))},
			"post": obj{"tags": tag, "summary": "Create", "requestBody": jsonBody(ref(name)),
				"parameters": []obj{hp("Idempotency-Key")},
				"responses":  merge(ok("201", ref(name)), errResp("400", "401", "403", "409", "413", "422"))},
		}
		paths[base+"/{id}"] = obj{
			"parameters": []obj{pp("id")},
			"get":        obj{"tags": tag, "summary": "Read", "parameters": []obj{qp("expand", "link fields to embed"), qp("fields", "fields to return"), qp("deleted", "true: read it from the recycle bin")}, "responses": merge(ok("200", ref(name)), errResp("401", "403", "404"))},
			"patch":      obj{"tags": tag, "summary": "Update", "parameters": []obj{hp("If-Match")}, "requestBody": jsonBody(ref(name)), "responses": merge(ok("200", ref(name)), errResp("400", "401", "403", "404", "409", "412", "422"))},
			"delete":     obj{"tags": tag, "summary": "Move to the recycle bin", "parameters": []obj{hp("If-Match")}, "responses": merge(obj{"204": obj{"description": "deleted"}}, errResp("401", "403", "404", "412"))},
		}
		paths[base+"/{id}/restore"] = obj{"post": obj{"tags": tag, "parameters": []obj{pp("id")}, "responses": merge(ok("200", ref(name)), errResp("404", "409"))}}
		paths[base+"/{id}/history"] = obj{"get": obj{"tags": tag, "parameters": []obj{pp("id"), qp("before", "entry id: older entries")},
			"responses": merge(ok("200", obj{"type": "object", "properties": obj{"items": obj{"type": "array", "items": ref("AuditEntry")}}}), errResp("404"))}}
		for _, a := range e.Actions {
			paths[base+"/{id}/actions/"+a.Name] = obj{"post": obj{"tags": tag, "summary": a.Label.Get("en", a.Name), "parameters": []obj{pp("id")},
				"responses": merge(ok("200", ref(name)), errResp("404", "409", "422"))}}
		}
		paths[base+"/by-external-id/{source}/{external_id}"] = obj{"put": obj{"tags": tag, "summary": "Idempotent upsert",
			"parameters": []obj{pp("source"), pp("external_id")}, "requestBody": jsonBody(ref(name)),
			"responses": merge(merge(ok("200", ref(name)), ok("201", ref(name))), errResp("400", "422"))}}
	}
	paths["/api/v1/auth/login"] = obj{"post": obj{"tags": []string{"auth"}, "requestBody": jsonBody(obj{"type": "object",
		"properties": obj{"login": obj{"type": "string"}, "password": obj{"type": "string"}}, "required": []string{"login", "password"}}),
		"responses": merge(ok("200", ref("Me")), errResp("400", "401", "429"))}}
	paths["/api/v1/auth/logout"] = obj{"post": obj{"tags": []string{"auth"}, "responses": obj{"204": obj{"description": "logged out"}}}}
	paths["/api/v1/auth/me"] = obj{"get": obj{"tags": []string{"auth"}, "responses": merge(ok("200", ref("Me")), errResp("401"))}}
	paths["/api/v1/search"] = obj{"get": obj{"tags": []string{"search"}, "summary": "Search every readable entity",
		"parameters": []obj{qp("q", "text to find (substring)"), qp("per_entity", "titles per entity, default 5, at most 20")},
		"responses":  merge(ok("200", obj{"type": "object", "properties": obj{"items": obj{"type": "array", "items": ref("SearchGroup")}}}), errResp("400", "401"))}}
	paths["/api/v1/auth/scopes"] = obj{"get": obj{"tags": []string{"auth"}, "summary": "Scopes an API token may have",
		"responses": ok("200", obj{"type": "object", "properties": obj{"items": obj{"type": "array", "items": obj{"type": "string", "enum": auth.AllScopes()}}}})}}
	paths["/api/v1/auth/tokens"] = obj{
		"get": obj{"tags": []string{"auth"}, "parameters": []obj{qp("user", "all: every user's tokens (administrators)")},
			"responses": ok("200", obj{"type": "object", "properties": obj{"items": obj{"type": "array", "items": ref("Token")}}})},
		"post": obj{"tags": []string{"auth"}, "requestBody": jsonBody(obj{"type": "object", "properties": obj{"name": obj{"type": "string"}, "scopes": obj{"type": "array", "items": obj{"type": "string"}}, "expires_at": obj{"type": "string", "format": "date-time"}}}), "responses": merge(ok("201", obj{"type": "object"}), errResp("422"))},
	}
	paths["/api/v1/auth/tokens/{id}"] = obj{"delete": obj{"tags": []string{"auth"}, "parameters": []obj{pp("id")}, "responses": merge(obj{"204": obj{"description": "revoked"}}, errResp("404"))}}
	paths["/api/v1/changes"] = obj{"get": obj{"tags": []string{"changes"}, "parameters": []obj{qp("since", "cursor from the previous page's next"), qp("entity", "comma list"), qp("limit", "at most 1000")},
		"responses": ok("200", obj{"type": "object", "properties": obj{"items": obj{"type": "array", "items": ref("Change")}, "next": obj{"type": "string"}, "has_more": obj{"type": "boolean"}}})}}
	paths["/api/v1/meta/entities"] = obj{
		"get":  obj{"tags": []string{"meta"}, "responses": ok("200", obj{"type": "object", "properties": obj{"items": obj{"type": "array", "items": ref("Entity")}}})},
		"post": obj{"tags": []string{"meta"}, "requestBody": jsonBody(ref("Entity")), "responses": merge(ok("201", ref("Entity")), errResp("400", "403", "422"))},
	}
	paths["/api/v1/meta/entities/{entity}"] = obj{"get": obj{"tags": []string{"meta"}, "parameters": []obj{pp("entity")}, "responses": merge(ok("200", ref("Entity")), errResp("404"))}}
	paths["/api/v1/meta/entities/{entity}/fields"] = obj{"post": obj{"tags": []string{"meta"}, "parameters": []obj{pp("entity")}, "requestBody": jsonBody(ref("Field")), "responses": merge(ok("201", ref("Field")), errResp("400", "403", "422"))}}
	paths["/api/v1/meta/entities/{entity}/fields/{field}"] = obj{
		"parameters": []obj{pp("entity"), pp("field")},
		"patch":      obj{"tags": []string{"meta"}, "requestBody": jsonBody(ref("Field")), "responses": merge(ok("200", ref("Field")), errResp("400", "404", "409", "422"))},
		"delete":     obj{"tags": []string{"meta"}, "responses": merge(obj{"204": obj{"description": "deleted"}}, errResp("404", "409"))},
	}
	paths["/api/v1/files"] = obj{"post": obj{"tags": []string{"files"}, "requestBody": obj{"required": true, "content": obj{"multipart/form-data": obj{"schema": obj{"type": "object", "properties": obj{"file": obj{"type": "string", "format": "binary"}}}}}},
		"responses": merge(ok("201", obj{"type": "object"}), errResp("413", "422"))}}
	paths["/api/v1/files/{id}"] = obj{"get": obj{"tags": []string{"files"}, "parameters": []obj{pp("id")}, "responses": merge(obj{"200": obj{"description": "the file"}}, errResp("404"))}}
	surfacePaths(surfaces, paths, schemas)
	return obj{
		"openapi": "3.1.0",
		"info":    obj{"title": "Tenon API", "version": version, "description": "Self-hosted CRM for manufacturers. Errors are application/problem+json; see the Problem schema."},
		"servers": []obj{{"url": "/"}},
		"paths":   paths,
		"components": obj{"schemas": schemas, "securitySchemes": obj{
			"bearer":  obj{"type": "http", "scheme": "bearer"},
			"session": obj{"type": "apiKey", "in": "cookie", "name": SessionCookie}}},
		"security": []obj{{"bearer": []string{}}, {"session": []string{}}},
	}
}

// fieldTypeNames lists the built-in field types, sorted.
func fieldTypeNames() []string {
	var out []string
	for n := range meta.DefaultTypes() {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }
func qp(name, desc string) obj {
	return obj{"name": name, "in": "query", "required": false, "description": desc, "schema": obj{"type": "string"}}
}
func pp(name string) obj {
	return obj{"name": name, "in": "path", "required": true, "schema": obj{"type": "string"}}
}
func hp(name string) obj {
	return obj{"name": name, "in": "header", "required": false, "schema": obj{"type": "string"}}
}

func schemaName(entity string) string {
	out := []byte{}
	up := true
	for i := 0; i < len(entity); i++ {
		c := entity[i]
		if c == '_' {
			up = true
			continue
		}
		if up && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up = false
		out = append(out, c)
	}
	return string(out)
}

func entitySchema(e *meta.Entity) obj {
	props := obj{
		"id": obj{"type": "string", "readOnly": true}, "version": obj{"type": "integer", "readOnly": true},
		"created_at": obj{"type": "string", "format": "date-time", "readOnly": true},
		"updated_at": obj{"type": "string", "format": "date-time", "readOnly": true},
		"created_by": obj{"type": []string{"string", "null"}, "readOnly": true},
		"owner":      obj{"type": []string{"string", "null"}},
	}
	var required []string
	for i := range e.Fields {
		f := &e.Fields[i]
		props[f.Name] = fieldSchema(f)
		if f.Required {
			required = append(required, f.Name)
		}
	}
	s := obj{"type": "object", "title": e.Label.Get("en", e.Name), "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func fieldSchema(f *meta.Field) obj {
	var s obj
	switch f.Type {
	case "integer", "rating":
		s = obj{"type": []string{"integer", "null"}}
	case "decimal", "money", "percent", "rollup":
		s = obj{"type": []string{"string", "null"}, "pattern": `^-?\d+(\.\d+)?$`}
	case "boolean":
		s = obj{"type": []string{"boolean", "null"}}
	case "date":
		s = obj{"type": []string{"string", "null"}, "format": "date"}
	case "datetime":
		s = obj{"type": []string{"string", "null"}, "format": "date-time"}
	case "multi_select", "tags", "multi_link":
		s = obj{"type": []string{"array", "null"}, "items": obj{"type": "string"}}
	case "address", "geo", "json":
		s = obj{"type": []string{"object", "null"}}
	case "subtable":
		sub := &meta.Entity{Name: f.Name, Fields: f.Fields}
		row := entitySchema(sub)
		props := row["properties"].(obj)
		for _, k := range []string{"version", "created_at", "updated_at", "created_by", "owner"} {
			delete(props, k)
		}
		s = obj{"type": "array", "items": row}
	case "select":
		vals := []any{nil}
		for _, o := range f.Options {
			vals = append(vals, o.Value)
		}
		s = obj{"type": []string{"string", "null"}}
		if f.OptionsFrom == "" {
			s["enum"] = vals
		}
	default:
		s = obj{"type": []string{"string", "null"}}
	}
	if f.Label != nil {
		s["title"] = f.Label.Get("en", f.Name)
		s["x-label-zh"] = f.Label.Get("zh-CN", f.Name)
	}
	if f.IsComputed() {
		s["readOnly"] = true
	}
	if f.MaxLength > 0 {
		s["maxLength"] = f.MaxLength
	}
	return s
}
