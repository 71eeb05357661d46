package notify

import (
	"net/http"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
)

// Surface returns the HTTP routes of the inbox, its event stream,
// preferences, e-mail settings and robot tests.
func (s *Service) Surface() httpapi.Surface { return surface{s} }

type surface struct{ s *Service }

const tag = "Notifications"

var errorsRead = []int{400, 401, 403}

func obj(props map[string]any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

var (
	str      = map[string]any{"type": "string"}
	nullStr  = map[string]any{"type": []string{"string", "null"}}
	boolean  = map[string]any{"type": "boolean"}
	integer  = map[string]any{"type": "integer"}
	unreadOK = obj(map[string]any{"unread": integer}, "unread")
)

// Schemas names the component schemas of the routes.
func (surface) Schemas() map[string]any {
	return map[string]any{
		"Notification": obj(map[string]any{
			"id": str, "kind": str, "title": str, "body": str,
			"entity": nullStr, "record_id": nullStr, "actor": nullStr, "actor_name": nullStr,
			"created_at": map[string]any{"type": "string", "format": "date-time"},
			"read_at":    map[string]any{"type": []string{"string", "null"}, "format": "date-time"},
			"read":       boolean,
		}, "id", "kind", "title", "body", "created_at", "read"),
		"NotifySettings": obj(map[string]any{
			"email_enabled": boolean, "smtp_host": str, "smtp_port": integer, "smtp_username": str,
			"smtp_password_set": boolean, "smtp_tls": map[string]any{"type": "string", "enum": []string{TLSNone, TLSStartTLS, TLSImplicit}},
			"smtp_ca": str, "from_address": str, "from_name": str, "base_url": str, "robots_allow_private": boolean,
			"updated_at": nullStr,
		}),
		"NotifyPreferences": obj(map[string]any{
			"items": map[string]any{"type": "array", "items": obj(map[string]any{
				"kind": str, "label": str, "in_app": boolean, "email": boolean, "default_in_app": boolean, "default_email": boolean})},
			"email_available": boolean,
		}, "items", "email_available"),
	}
}

func (sf surface) Routes() []httpapi.Route {
	s := sf.s
	return []httpapi.Route{
		{Method: "GET", Path: "/api/v1/notifications", Scope: auth.ScopeRecordsRead, Tag: tag,
			Summary: "The caller's notifications, newest first, with the unread count",
			Query: []httpapi.Param{{Name: "unread", Description: "true: unread ones only"},
				{Name: "before", Description: "a notification id: continue below it (next_before of the previous page)"},
				{Name: "limit", Description: "page size, default 20, at most 100"}},
			Response: obj(map[string]any{"items": map[string]any{"type": "array", "items": httpapi.Ref("Notification")},
				"unread": integer, "next_before": nullStr}, "items", "unread", "next_before"),
			Errors: errorsRead, Handle: s.handleList},
		{Method: "POST", Path: "/api/v1/notifications/{id}/read", Scope: auth.ScopeRecordsWrite, Tag: tag,
			Summary: "Mark one of the caller's notifications read", Response: unreadOK,
			Errors: []int{401, 403, 404}, Handle: s.handleRead},
		{Method: "POST", Path: "/api/v1/notifications/read-all", Scope: auth.ScopeRecordsWrite, Tag: tag,
			Summary:  "Mark all of the caller's notifications read",
			Response: obj(map[string]any{"unread": integer, "marked": integer}, "unread", "marked"),
			Errors:   []int{401, 403}, Handle: s.handleReadAll},
		{Method: "GET", Path: "/api/v1/notifications/stream", Scope: auth.ScopeRecordsRead, Tag: tag,
			Summary: "Server-sent events of the caller's inbox: \"unread\" {unread} and \"notification\" {notification, unread} (event id = notification id; Last-Event-ID replays what was missed)",
			Stream:  true, Errors: []int{401, 403, 503}, Handle: s.handleStream},
		{Method: "GET", Path: "/api/v1/notify/preferences", Scope: auth.ScopeRecordsRead, Tag: tag,
			Summary: "The caller's delivery preferences per event kind", Response: httpapi.Ref("NotifyPreferences"),
			Errors: []int{401, 403}, Handle: s.handleGetPrefs},
		{Method: "PUT", Path: "/api/v1/notify/preferences", Scope: auth.ScopeRecordsWrite, Tag: tag,
			Summary: "Change some of the caller's delivery preferences",
			Body: obj(map[string]any{"items": map[string]any{"type": "array", "items": obj(map[string]any{
				"kind": str, "in_app": boolean, "email": boolean}, "kind")}}, "items"),
			Response: httpapi.Ref("NotifyPreferences"), Errors: []int{400, 401, 403, 422}, Handle: s.handlePutPrefs},
		{Method: "GET", Path: "/api/v1/notify/settings", Scope: auth.ScopeAdmin, Tag: tag,
			Summary:  "E-mail (SMTP) and delivery settings (administrators; the password is never returned)",
			Response: httpapi.Ref("NotifySettings"), Errors: []int{401, 403}, Handle: s.handleGetSettings},
		{Method: "PUT", Path: "/api/v1/notify/settings", Scope: auth.ScopeAdmin, Tag: tag,
			Summary: "Change the e-mail and delivery settings (absent keys keep their value; \"smtp_password\": \"\" removes it)",
			Body: obj(map[string]any{"email_enabled": boolean, "smtp_host": str, "smtp_port": integer, "smtp_username": str,
				"smtp_password": str, "smtp_tls": str, "smtp_ca": str, "from_address": str, "from_name": str, "base_url": str,
				"robots_allow_private": boolean}),
			Response: httpapi.Ref("NotifySettings"), Errors: []int{400, 401, 403, 422}, Handle: s.handlePutSettings},
		{Method: "POST", Path: "/api/v1/notify/settings/test", Scope: auth.ScopeAdmin, Tag: tag,
			Summary:  "Send a test e-mail now with the saved settings (to the caller's address unless \"to\" is given)",
			Body:     obj(map[string]any{"to": str}),
			Response: obj(map[string]any{"ok": boolean, "to": str}, "ok", "to"),
			Errors:   []int{400, 401, 403, 409, 422}, Handle: s.handleTestEmail},
		{Method: "POST", Path: "/api/v1/notify/channels/{id}/test", Scope: auth.ScopeRecordsWrite, Tag: tag,
			Summary:  "Post a test message to a group robot now (needs update on notify_channels)",
			Response: obj(map[string]any{"ok": boolean}, "ok"),
			Errors:   []int{401, 403, 404, 422}, Handle: s.handleTestChannel},
	}
}

func (s *Service) handleList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	o := ListOptions{}
	switch q.Get("unread") {
	case "", "false", "0":
	case "true", "1":
		o.UnreadOnly = true
	default:
		return apperr.Invalid("bad_request")
	}
	if b := q.Get("before"); b != "" {
		id, err := strconv.ParseInt(b, 10, 64)
		if err != nil || id <= 0 {
			return apperr.Invalid("bad_cursor")
		}
		o.Before = id
	}
	limit, err := httpapi.IntQuery(r, "limit", 20)
	if err != nil {
		return err
	}
	o.Limit = limit
	if limit == 0 {
		return apperr.Invalid("bad_paging", "max", MaxPage)
	}
	page, err := s.List(r.Context(), httpapi.Caller(r), o)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, page)
	return nil
}

func (s *Service) handleRead(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	n, err := s.MarkRead(r.Context(), httpapi.Caller(r), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"unread": n})
	return nil
}

func (s *Service) handleReadAll(w http.ResponseWriter, r *http.Request) error {
	p := httpapi.Caller(r)
	marked, err := s.MarkAllRead(r.Context(), p)
	if err != nil {
		return err
	}
	n, err := s.Unread(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"unread": n, "marked": marked})
	return nil
}

func (s *Service) handleStream(w http.ResponseWriter, r *http.Request) error {
	return s.Stream(w, r, httpapi.Caller(r))
}

func (s *Service) handleGetPrefs(w http.ResponseWriter, r *http.Request) error {
	p := httpapi.Caller(r)
	v, err := s.Preferences(r.Context(), p.UserID, i18n.Lang(p.Lang))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, v)
	return nil
}

func (s *Service) handlePutPrefs(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Items []PrefInput `json:"items"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return err
	}
	p := httpapi.Caller(r)
	if err := s.SetPreferences(r.Context(), p.UserID, in.Items); err != nil {
		return err
	}
	return s.handleGetPrefs(w, r)
}

func (s *Service) handleGetSettings(w http.ResponseWriter, r *http.Request) error {
	if !httpapi.Caller(r).Admin {
		return apperr.Forbidden("admin_only")
	}
	st, err := s.Settings(r.Context())
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, st.View())
	return nil
}

func (s *Service) handlePutSettings(w http.ResponseWriter, r *http.Request) error {
	p := httpapi.Caller(r)
	if !p.Admin {
		return apperr.Forbidden("admin_only")
	}
	var in SettingsInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return err
	}
	st, err := s.SetSettings(r.Context(), p, in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, st.View())
	return nil
}

func (s *Service) handleTestEmail(w http.ResponseWriter, r *http.Request) error {
	p := httpapi.Caller(r)
	if !p.Admin {
		return apperr.Forbidden("admin_only")
	}
	var in struct {
		To string `json:"to"`
	}
	if r.ContentLength != 0 {
		if err := httpapi.DecodeJSON(r, &in); err != nil {
			return err
		}
	}
	to, err := s.SendTestEmail(r.Context(), p, in.To)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "to": to})
	return nil
}

func (s *Service) handleTestChannel(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.TestChannel(r.Context(), httpapi.Caller(r), id); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"ok": true})
	return nil
}
