package crm

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
)

// Surface is the module's HTTP routes. Leads, accounts, contacts,
// activities and web forms are records (/api/v1/records/...), merge is a
// records action; convert has a route of its own at the records action
// path (served in place of the generic one) because it answers the
// records it made rather than the lead.
func (m *Module) Surface() httpapi.Surface { return surface{m} }

type surface struct{ m *Module }

type obj = map[string]any

func (s surface) Routes() []httpapi.Route {
	idStr := obj{"type": "string"}
	rec := obj{"type": "object", "description": "a record as the caller may see it"}
	nullRec := obj{"type": []string{"object", "null"}}
	return []httpapi.Route{
		{Method: "GET", Path: "/api/v1/crm/duplicates", Scope: auth.ScopeRecordsRead, Tag: "crm",
			Summary: "Leads and accounts the caller may read that share a normalised company name, phone or e-mail with the values given",
			Query: []httpapi.Param{{Name: "entity", Description: "leads or accounts (what is being entered)"},
				{Name: "company", Description: "company or account name"}, {Name: "phone", Description: "phone"},
				{Name: "email", Description: "e-mail (leads)"}, {Name: "exclude", Description: "a record id to leave out (the one being edited)"}},
			Response: obj{"type": "object", "properties": obj{"items": obj{"type": "array", "items": obj{"type": "object", "properties": obj{
				"entity": obj{"type": "string"}, "id": idStr, "title": obj{"type": "string"}, "owner": idStr, "status": obj{"type": "string"},
				"match": obj{"type": "array", "items": obj{"type": "string", "enum": []string{"company", "phone", "email"}}}}}}}},
			Errors: []int{400, 401}, Handle: s.duplicates},
		{Method: "POST", Path: "/api/v1/records/leads/{id}/actions/convert", Scope: auth.ScopeRecordsWrite, Tag: "crm",
			Summary: "Convert a lead into an account (an existing one with the same normalised name that the caller may read is reused), " +
				"a contact and optionally an opportunity, in one transaction; a converted lead is refused (409)",
			Body: obj{"type": "object", "properties": obj{"account": idStr, "create_opportunity": obj{"type": "boolean"},
				"opportunity": obj{"type": "object", "properties": obj{"name": obj{"type": "string"}, "amount": obj{"type": "string"},
					"expected_close": obj{"type": "string", "format": "date"}}}}},
			Response: obj{"type": "object", "properties": obj{"lead": rec, "account": rec, "contact": nullRec, "opportunity": nullRec,
				"account_reused": obj{"type": "boolean"}}},
			Errors: []int{400, 401, 403, 404, 409, 422}, Handle: s.convert},
		{Method: "POST", Path: "/api/v1/crm/transfer", Scope: auth.ScopeRecordsWrite, Tag: "crm",
			Summary: "Move a leaving rep's accounts, leads and open opportunities to another user (administrators, or the rep's manager " +
				"with update rights on all of them); ordinary audited updates of the owner, one transaction per batch",
			Body: obj{"type": "object", "required": []string{"from", "to"}, "properties": obj{"from": idStr, "to": idStr,
				"entities": obj{"type": "array", "items": obj{"type": "string", "enum": []string{Accounts, Leads, Opportunities}}}}},
			Response: obj{"type": "object", "properties": obj{"counts": obj{"type": "object", "additionalProperties": obj{"type": "integer"}}}},
			Errors:   []int{400, 401, 403, 422}, Handle: s.transfer},
		{Method: "GET", Path: "/api/v1/crm/accounts/{id}/overview", Scope: auth.ScopeRecordsRead, Tag: "crm",
			Summary: "An account's 360° overview as the caller may see it: the account, the decision chain, open opportunities, " +
				"one timeline of activities and changes, credit data (readable fields only), files and counts",
			Response: obj{"type": "object", "properties": obj{"account": rec, "decision_chain": obj{"type": "array"},
				"opportunities": obj{"type": "array"}, "timeline": obj{"type": "array"}, "credit": nullRec, "files": obj{"type": "array"},
				"counts": obj{"type": "object"}}},
			Errors: []int{401, 404}, Handle: s.overview},
		{Method: "POST", Path: "/api/v1/public/forms/{key}", Public: true, Tag: "crm",
			Summary: "Web-to-lead: a public form submission (JSON or application/x-www-form-urlencoded) creates a lead; the honeypot " +
				"field website_url must stay empty; limited per sender address and per form",
			Body: obj{"type": "object", "properties": obj{"company": obj{"type": "string"}, "contact_name": obj{"type": "string"},
				"phone": obj{"type": "string"}, "email": obj{"type": "string"}, "requirement": obj{"type": "string"}, Honeypot: obj{"type": "string"}}},
			Status: http.StatusCreated, Response: obj{"type": "object", "properties": obj{"ok": obj{"type": "boolean"}, "message": obj{"type": "string"}}},
			Errors: []int{400, 404, 413, 422, 429}, Handle: s.submit},
		{Method: "OPTIONS", Path: "/api/v1/public/forms/{key}", Public: true, Tag: "crm",
			Summary: "CORS pre-flight of the web-to-lead endpoint (any origin)", Status: http.StatusNoContent, Handle: s.preflight},
		{Method: "GET", Path: "/api/v1/public/forms/{key}/embed.js", Public: true, Tag: "crm",
			Summary: "A script that renders the web form where it is included and posts it to the web-to-lead endpoint",
			Errors:  []int{404}, Handle: s.embed},
	}
}

func (s surface) duplicates(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	dq := DuplicateQuery{Entity: q.Get("entity"), Company: q.Get("company"), Phone: q.Get("phone"), Email: q.Get("email")}
	if x := q.Get("exclude"); x != "" {
		id, err := strconv.ParseInt(x, 10, 64)
		if err != nil || id <= 0 {
			return apperr.Invalid("bad_id")
		}
		dq.Exclude = id
	}
	items, err := s.m.Duplicates(r.Context(), httpapi.Caller(r), dq)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, obj{"items": items})
	return nil
}

func (s surface) convert(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	in := map[string]any{}
	if r.ContentLength != 0 {
		if in, err = httpapi.DecodeObject(r); err != nil {
			return err
		}
	}
	p := httpapi.Caller(r)
	c, err := s.m.Convert(r.Context(), p, id, in)
	if err != nil {
		return err
	}
	out := obj{"lead": s.m.recs.Public(p, Leads, c.Lead, nil), "account": s.m.recs.Public(p, Accounts, c.Account, nil),
		"contact": nil, "opportunity": nil, "account_reused": c.AccountReused}
	if c.Contact != nil {
		out["contact"] = s.m.recs.Public(p, Contacts, c.Contact, nil)
	}
	if c.Opportunity != nil {
		out["opportunity"] = s.m.recs.Public(p, Opportunities, c.Opportunity, nil)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s surface) transfer(w http.ResponseWriter, r *http.Request) error {
	var in TransferInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return err
	}
	counts, err := s.m.Transfer(r.Context(), httpapi.Caller(r), in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, obj{"counts": counts})
	return nil
}

func (s surface) overview(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	ov, err := s.m.AccountOverview(r.Context(), httpapi.Caller(r), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, ov)
	return nil
}

// cors lets any site that embeds a form post to it (the endpoint takes no
// cookies and answers nothing but a thank-you).
func cors(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Accept")
	h.Set("Access-Control-Max-Age", "86400")
}

func (s surface) preflight(w http.ResponseWriter, _ *http.Request) error {
	cors(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s surface) submit(w http.ResponseWriter, r *http.Request) error {
	cors(w)
	vals, isJSON, err := s.readSubmission(w, r)
	if err != nil {
		return err
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	res, err := s.m.Submit(r.Context(), r.PathValue("key"), Submission{Values: vals, IP: ip})
	if err != nil {
		return err
	}
	msg := res.Form.ThankYou
	if isJSON || strings.Contains(r.Header.Get("Accept"), "application/json") {
		httpapi.WriteJSON(w, http.StatusCreated, obj{"ok": true, "message": msg})
		return nil
	}
	// A plain HTML form post gets a small page.
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(http.StatusCreated)
	if msg == "" {
		msg = "提交成功，我们会尽快与您联系。Thank you, we will be in touch soon."
	}
	fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`+
		`<title>%s</title></head><body style="font-family:sans-serif;padding:2em"><p>%s</p></body></html>`,
		html.EscapeString(res.Form.Name), html.EscapeString(msg))
	return nil
}

// readSubmission reads a JSON object of strings, or a form-encoded body.
func (s surface) readSubmission(w http.ResponseWriter, r *http.Request) (map[string]string, bool, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.m.public.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, false, apperr.New(apperr.ErrTooLarge, "body_too_large", "max", s.m.public.MaxBody)
		}
		return nil, false, apperr.Invalid("bad_request")
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	out := map[string]string{}
	switch ct {
	case "application/json":
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, true, apperr.Invalid("bad_json", "reason", "not an object")
		}
		for k, x := range m {
			switch v := x.(type) {
			case string:
				out[k] = v
			case float64, bool:
				out[k] = fmt.Sprint(v)
			}
		}
		return out, true, nil
	case "application/x-www-form-urlencoded", "":
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, false, apperr.Invalid("bad_request")
		}
		for k, v := range q {
			if len(v) > 0 {
				out[k] = v[0]
			}
		}
		return out, false, nil
	}
	return nil, false, apperr.Invalid("crm_form_content_type")
}

func (s surface) embed(w http.ResponseWriter, r *http.Request) error {
	pf, _, err := s.m.Form(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, err = io.WriteString(w, EmbedScript(pf))
	return err
}
