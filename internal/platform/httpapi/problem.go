package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
)

// statusOf maps an error's sentinel to its HTTP status (API.md "Errors").
func statusOf(err error) int {
	switch {
	case errors.Is(err, apperr.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, apperr.ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, apperr.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, apperr.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, apperr.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, apperr.ErrPrecondition):
		return http.StatusPreconditionFailed
	case errors.Is(err, apperr.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, apperr.ErrUnprocessable):
		return http.StatusUnprocessableEntity
	case errors.Is(err, apperr.ErrThrottled):
		return http.StatusTooManyRequests
	case errors.Is(err, apperr.ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

type problem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail,omitempty"`
	Code   string              `json:"code"`
	Errors []apperr.FieldError `json:"errors,omitempty"`
}

// writeError renders err as problem+json. Errors that are not domain errors
// are logged with their detail and shown as a plain 500: no internals leak.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	lang := i18n.FromHeader(r.Header.Get("Accept-Language"))
	status := statusOf(err)
	p := problem{Status: status, Title: i18n.Message(lang, "status."+strconv.Itoa(status), nil)}
	if ae, ok := apperr.As(err); ok && status != http.StatusInternalServerError {
		p.Code = ae.Code
		p.Detail = i18n.Message(lang, ae.Code, ae.Args)
		for _, f := range ae.Fields {
			f.Message = i18n.Message(lang, f.Code, f.Args)
			p.Errors = append(p.Errors, f)
		}
		if ra, ok := ae.Args["retry_after"]; ok && status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", toString(ra))
		}
	} else if errors.Is(err, context.Canceled) {
		return
	} else {
		status = http.StatusInternalServerError
		p.Status, p.Code = status, "internal"
		p.Title = i18n.Message(lang, "status.500", nil)
		p.Detail = i18n.Message(lang, "internal", nil)
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	p.Type = "https://tenon.dev/problems/" + p.Code
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Language", string(lang))
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

func toString(v any) string {
	switch t := v.(type) {
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'f', 0, 64)
	case string:
		return t
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// writeJSON encodes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
