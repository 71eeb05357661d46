package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

type loginRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	b, err := readBody(r, 16<<10)
	if err != nil {
		return err
	}
	var req loginRequest
	if err := decodeInto(b, &req); err != nil {
		return err
	}
	sess, err := s.Auth.Login(r.Context(), req.Login, req.Password, clientIP(r), r.UserAgent())
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: sess.Token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.SecureCookies, Expires: sess.ExpiresAt})
	user, err := s.userJSON(r, sess.UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": user, "csrf_token": sess.CSRF})
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		if err := s.Auth.Logout(r.Context(), c.Value); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	user, err := s.userJSON(r, p.UserID)
	if err != nil {
		return err
	}
	out := map[string]any{"user": user, "roles": p.Roles, "admin": p.Admin}
	if c, err := r.Cookie(SessionCookie); err == nil && p.TokenID == 0 {
		if sess, err := s.Auth.Authenticate(r.Context(), c.Value); err == nil {
			out["csrf_token"] = sess.CSRF
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// userJSON is the caller's own user record (always readable by its owner).
func (s *Server) userJSON(r *http.Request, id int64) (records.Record, error) {
	sys := systemPrincipal()
	rec, err := s.Records.Get(r.Context(), sys, "users", id, records.GetOptions{})
	if err != nil {
		return nil, err
	}
	return s.Records.Public(sys, "users", rec, nil), nil
}

type tokenRequest struct {
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	ExpiresAt *time.Time `json:"expires_at"`
}

type tokenJSON struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Token      string     `json:"token,omitempty"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p.TokenID != 0 {
		return apperr.Forbidden("scope_not_allowed") // tokens do not mint tokens
	}
	b, err := readBody(r, 16<<10)
	if err != nil {
		return err
	}
	var req tokenRequest
	if err := decodeInto(b, &req); err != nil {
		return err
	}
	plain, t, err := s.Auth.CreateToken(r.Context(), p.UserID, req.Name, req.Scopes, req.ExpiresAt)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, tokenJSON{ID: strconv.FormatInt(t.ID, 10), Name: t.Name, Prefix: t.Prefix, Scopes: t.Scopes,
		ExpiresAt: t.ExpiresAt, CreatedAt: t.CreatedAt, Token: plain})
	return nil
}

// listTokens lists the caller's tokens; ?user=all lists everyone's, for
// administrators.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var ts []auth.Token
	var err error
	if r.URL.Query().Get("user") == "all" {
		if !p.Admin {
			return errAdminOnly
		}
		ts, err = s.Auth.ListAllTokens(r.Context())
	} else {
		ts, err = s.Auth.ListTokens(r.Context(), p.UserID)
	}
	if err != nil {
		return err
	}
	out := make([]tokenJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, tokenJSON{ID: strconv.FormatInt(t.ID, 10), UserID: strconv.FormatInt(t.UserID, 10), Name: t.Name,
			Prefix: t.Prefix, Scopes: t.Scopes, ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt, CreatedAt: t.CreatedAt,
			LastUsedAt: t.LastUsedAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return errBadID
	}
	// Administrators revoke anyone's token; others only their own.
	p := principal(r)
	if p.Admin {
		err = s.Auth.RevokeAnyToken(r.Context(), id)
	} else {
		err = s.Auth.RevokeToken(r.Context(), p.UserID, id)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// scopes lists the scopes a token may be given, for the token screen.
func (s *Server) scopes(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"items": auth.AllScopes()})
	return nil
}
