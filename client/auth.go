package client

import (
	"context"
	"net/http"
	"time"
)

// Login signs in with a password and keeps the session (a cookie, and the
// CSRF token every later write sends) for the client's calls. It returns
// the user. Wrong credentials are a 401 that does not say which part was
// wrong; repeated failures a 429 (Error.RetryAfter).
func (c *Client) Login(ctx context.Context, login, password string) (Record, error) {
	var out struct {
		User Record `json:"user"`
		CSRF string `json:"csrf_token"`
	}
	_, err := c.call(ctx, request{method: http.MethodPost, path: "/auth/login",
		body: map[string]string{"login": login, "password": password}}, &out)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.csrf = out.CSRF
	c.mu.Unlock()
	return out.User, nil
}

// Logout ends the session.
func (c *Client) Logout(ctx context.Context) error {
	_, err := c.call(ctx, request{method: http.MethodPost, path: "/auth/logout"}, nil)
	c.mu.Lock()
	c.csrf = ""
	c.mu.Unlock()
	return err
}

// Me is the signed-in caller.
type Me struct {
	User  Record   `json:"user"`
	Roles []string `json:"roles"`
	Admin bool     `json:"admin"`
}

// Me returns the caller (401 when the client is not signed in).
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var m Me
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/auth/me"}, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// Scopes of API tokens.
const (
	ScopeRecordsRead  = "records:read"
	ScopeRecordsWrite = "records:write"
	ScopeMetaRead     = "meta:read"
	ScopeMetaWrite    = "meta:write"
	ScopeFilesRead    = "files:read"
	ScopeFilesWrite   = "files:write"
	ScopeAdmin        = "admin" // every scope
)

// TokenRequest asks for an API token.
type TokenRequest struct {
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Token is an API token. Token (the secret) is only in CreateToken's answer.
type Token struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	Scopes    []string   `json:"scopes"`
	ExpiresAt *time.Time `json:"expires_at"`
	CreatedAt time.Time  `json:"created_at"`
	Token     string     `json:"token"`
}

// CreateToken mints an API token for the signed-in user (a session: tokens
// do not mint tokens). The token never has more rights than its user; use
// it with WithToken.
func (c *Client) CreateToken(ctx context.Context, req TokenRequest) (*Token, error) {
	var t Token
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/auth/tokens", body: req}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}
