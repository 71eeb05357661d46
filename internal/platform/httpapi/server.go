package httpapi

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/events"
	"github.com/tenon-crm/tenon/internal/platform/files"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// SessionCookie is the name of the session cookie.
const SessionCookie = "tenon_session"

// Deps are the services the API exposes.
type Deps struct {
	Log     *slog.Logger
	DB      *db.DB
	Meta    *meta.Registry
	Records *records.Service
	Auth    *auth.Service
	Access  *access.Service
	Files   *files.Service
	Outbox  *events.Outbox
	Jobs    *jobs.Queue // nil: no job endpoints
	Metrics *Metrics
	// Surfaces are the engines' and modules' own routes (see Surface).
	Surfaces []Surface
	// UI serves the web app at "/" (nil: a plain notice).
	UI      http.Handler
	Version string
	// SecureCookies sets the Secure flag on the session cookie (behind TLS).
	SecureCookies bool
}

// Server is the HTTP API.
type Server struct {
	Deps
	mux *http.ServeMux
	cop *http.CrossOriginProtection
}

// New builds the server and its routes.
func New(d Deps) *Server {
	s := &Server{Deps: d, mux: http.NewServeMux(), cop: http.NewCrossOriginProtection()}
	if s.Metrics == nil {
		s.Metrics = NewMetrics()
	}
	s.routes()
	return s
}

// Handler returns the root handler with middleware applied.
func (s *Server) Handler() http.Handler {
	return s.recoverer(s.logRequests(s.secure(s.mux)))
}

type ctxKey int

const (
	principalKey ctxKey = iota
	sessionKey
)

// principal returns the authenticated caller of a request.
func principal(r *http.Request) *access.Principal {
	p, _ := r.Context().Value(principalKey).(*access.Principal)
	return p
}

// handler is an API handler that returns an error instead of writing one.
type handler func(w http.ResponseWriter, r *http.Request) error

// public wraps a handler that needs no authentication.
func (s *Server) public(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, r, s.Log, err)
		}
	})
}

// authed wraps a handler that needs a caller; scope is the API-token scope
// the route needs ("" for routes every token may use).
func (s *Server) authed(scope string, h handler) http.Handler {
	return s.public(func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.authenticate(w, r)
		if err != nil {
			return err
		}
		if p.TokenID != 0 && scope != "" && !auth.ScopeAllows(p.Scopes, scope) {
			return apperr.Forbidden("scope_not_allowed")
		}
		ctx := context.WithValue(r.Context(), principalKey, p)
		return h(w, r.WithContext(ctx))
	})
}

// authenticate resolves a bearer token or a session cookie to a principal.
// Cookie-authenticated requests that change state must carry the session's
// CSRF token and pass the cross-origin check.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*access.Principal, error) {
	ctx := r.Context()
	lang := string(i18n.FromHeader(r.Header.Get("Accept-Language")))
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return nil, apperr.New(apperr.ErrUnauthenticated, "unauthenticated")
		}
		t, err := s.Auth.AuthenticateToken(ctx, strings.TrimSpace(tok))
		if err != nil {
			return nil, err
		}
		base, err := s.Access.Principal(ctx, t.UserID)
		if err != nil {
			return nil, err
		}
		p := base.WithSource(access.SourceAPI)
		p.TokenID, p.Scopes, p.Lang = t.ID, t.Scopes, lang
		return p, nil
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, apperr.New(apperr.ErrUnauthenticated, "unauthenticated")
	}
	sess, err := s.Auth.Authenticate(ctx, c.Value)
	if err != nil {
		return nil, err
	}
	if unsafeMethod(r.Method) {
		if err := s.cop.Check(r); err != nil {
			return nil, apperr.Forbidden("csrf_failed")
		}
		got := r.Header.Get("X-CSRF-Token")
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
			return nil, apperr.Forbidden("csrf_failed")
		}
	}
	base, err := s.Access.Principal(ctx, sess.UserID)
	if err != nil {
		return nil, err
	}
	p := base.WithSource(access.SourceUI)
	p.Lang = lang
	return p, nil
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// clientIP is the peer address (a proxy in front must be trusted explicitly
// before X-Forwarded-For would be believed; Tenon does not believe it).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-src 'self' blob:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
		if strings.HasPrefix(r.URL.Path, "/api/") {
			h.Set("Cache-Control", "no-store")
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
		next.ServeHTTP(w, r)
	})
}

// maxUpload bounds every request body; JSON bodies have a lower limit.
const maxUpload = 64 << 20

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		d := time.Since(start)
		s.Metrics.Observe(r.Method, sw.status, d)
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			return
		}
		s.Log.LogAttrs(r.Context(), slog.LevelInfo, "http",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Int64("bytes", sw.bytes),
			slog.Duration("duration", d), slog.String("ip", clientIP(r)))
	})
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.Log.Error("panic", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				writeError(w, r, s.Log, errPanic)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

var errPanic = &panicError{}

type panicError struct{}

func (*panicError) Error() string { return "panic" }
