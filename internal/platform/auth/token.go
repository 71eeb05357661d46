package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
)

// TokenPrefix starts every API token, so that secret scanners and people
// can recognise one.
const TokenPrefix = "tnn_"

// Limits of CreateToken.
const (
	MaxTokenNameChars = 100
	// MaxTokenYears is how far ahead a token's expiry may be.
	MaxTokenYears = 5
)

// Token is an API token as listed: everything but the secret.
type Token struct {
	ID     int64
	UserID int64
	Name   string
	// Prefix is the first 8 characters after "tnn_", to tell tokens apart.
	Prefix     string
	Scopes     []string
	ExpiresAt  *time.Time // nil: never expires
	RevokedAt  *time.Time
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

func invalidToken() error { return apperr.New(apperr.ErrUnauthenticated, "invalid_token") }

// CreateToken makes an API token for userID and returns its plaintext, the
// only time it is ever available. name is 1–100 characters (trimmed);
// scopes are non-empty and from AllScopes (duplicates dropped); expiresAt,
// if not nil, is in the future and at most MaxTokenYears ahead; violations
// are one 422 with the fields "name", "scopes", "expires_at". A nil
// expiresAt makes a token that lasts until revoked.
func (s *Service) CreateToken(ctx context.Context, userID int64, name string, scopes []string, expiresAt *time.Time) (string, Token, error) {
	now := s.now()
	name = strings.TrimSpace(name)
	var fe []apperr.FieldError
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		fe = append(fe, apperr.Field("name", "required"))
	case n > MaxTokenNameChars:
		fe = append(fe, apperr.Field("name", "too_long", "max", MaxTokenNameChars))
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		fe = append(fe, apperr.Field("name", "invalid"))
	}
	canon, bad := canonicalScopes(scopes)
	switch {
	case bad != "":
		fe = append(fe, apperr.Field("scopes", "invalid_scope", "scope", clip(bad, 64)))
	case len(canon) == 0:
		fe = append(fe, apperr.Field("scopes", "required"))
	}
	var exp *time.Time
	if expiresAt != nil {
		e := fromMicros(micros(*expiresAt))
		limit := now.AddDate(MaxTokenYears, 0, 0)
		switch {
		case !e.After(now):
			fe = append(fe, apperr.Field("expires_at", "not_in_future"))
		case e.After(limit):
			fe = append(fe, apperr.Field("expires_at", "too_far", "max_years", MaxTokenYears))
		}
		exp = &e
	}
	if len(fe) > 0 {
		return "", Token{}, apperr.Fields(fe...)
	}

	secret := randomString()
	plain := TokenPrefix + secret
	tok := Token{
		UserID:    userID,
		Name:      name,
		Prefix:    secret[:8],
		Scopes:    canon,
		ExpiresAt: exp,
		CreatedAt: fromMicros(micros(now)),
	}
	scopesJSON, err := json.Marshal(canon)
	if err != nil {
		return "", Token{}, fmt.Errorf("auth: encode scopes: %w", err)
	}
	var expCol any
	if exp != nil {
		expCol = micros(*exp)
	}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		err := s.db.QueryRow(ctx, `INSERT INTO api_tokens (user_id, name, prefix, hash, scopes, expires_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			userID, tok.Name, tok.Prefix, hashSecret(plain), string(scopesJSON), expCol, micros(now)).Scan(&tok.ID)
		if err != nil {
			return fmt.Errorf("auth: create token: %w", err)
		}
		return s.LogEvent(ctx, EventTokenCreated, "", userID, "", "")
	})
	if err != nil {
		return "", Token{}, err
	}
	return plain, tok, nil
}

// canonicalScopes returns scopes deduplicated in AllScopes order, or the
// first unknown one.
func canonicalScopes(scopes []string) ([]string, string) {
	want := make(map[string]bool, len(scopes))
	for _, sc := range scopes {
		if !ValidScope(sc) {
			return nil, sc
		}
		want[sc] = true
	}
	var out []string
	for _, sc := range AllScopes() {
		if want[sc] {
			out = append(out, sc)
		}
	}
	return out, ""
}

const tokenColumns = `id, user_id, name, prefix, hash, scopes, expires_at, revoked_at, created_at, last_used_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanToken(r rowScanner) (Token, string, error) {
	var (
		t                          Token
		hash, scopes               string
		expires, revoked, lastUsed sql.NullInt64
		created                    int64
	)
	if err := r.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &hash, &scopes, &expires, &revoked, &created, &lastUsed); err != nil {
		return Token{}, "", err
	}
	if err := json.Unmarshal([]byte(scopes), &t.Scopes); err != nil {
		return Token{}, "", fmt.Errorf("auth: token %d scopes: %w", t.ID, err)
	}
	t.CreatedAt = fromMicros(created)
	t.ExpiresAt = optTime(expires)
	t.RevokedAt = optTime(revoked)
	t.LastUsedAt = optTime(lastUsed)
	return t, hash, nil
}

func optTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// AuthenticateToken returns the token presented as bearer (with or without
// a leading "Bearer "). Unknown, revoked and expired tokens, and tokens of
// users no longer active, give ErrUnauthenticated "invalid_token".
// last_used_at is written at most once a minute.
func (s *Service) AuthenticateToken(ctx context.Context, bearer string) (Token, error) {
	if len(bearer) > 7 && strings.EqualFold(bearer[:7], "Bearer ") {
		bearer = strings.TrimSpace(bearer[7:])
	}
	secret, ok := strings.CutPrefix(bearer, TokenPrefix)
	if !ok || len(secret) != randomLen || !isBase64URL(secret) {
		return Token{}, invalidToken()
	}
	hash := hashSecret(bearer)
	if c, ok := s.cache.get("t:"+hash, s.now()); ok && (c.token.ExpiresAt == nil || s.now().Before(*c.token.ExpiresAt)) {
		return c.token, nil
	}
	t, stored, err := scanToken(s.db.QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, invalidToken()
	}
	if err != nil {
		return Token{}, fmt.Errorf("auth: read token: %w", err)
	}
	now := s.now()
	if !constantTimeEqual(stored, hash) || t.RevokedAt != nil || (t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)) {
		return Token{}, invalidToken()
	}
	if ok, err := s.active(ctx, t.UserID); err != nil {
		return Token{}, err
	} else if !ok {
		return Token{}, invalidToken()
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= touchEvery {
		if _, err := s.db.Exec(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
			micros(now), t.ID, micros(now)); err != nil {
			return Token{}, fmt.Errorf("auth: touch token: %w", err)
		}
		lu := fromMicros(micros(now))
		t.LastUsedAt = &lu
	}
	s.cache.put("t:"+hash, cachedAuth{at: now, token: t})
	return t, nil
}

// ListTokens returns all of userID's tokens, revoked and expired ones too,
// newest first.
func (s *Service) ListTokens(ctx context.Context, userID int64) ([]Token, error) {
	return s.listTokens(ctx, `WHERE user_id = ?`, userID)
}

// ListAllTokens returns every user's tokens, newest first (for
// administrators, who revoke a leaving employee's integrations).
func (s *Service) ListAllTokens(ctx context.Context) ([]Token, error) {
	return s.listTokens(ctx, ``)
}

func (s *Service) listTokens(ctx context.Context, where string, args ...any) ([]Token, error) {
	rows, err := s.db.Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens `+where+` ORDER BY created_at DESC, id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("auth: list tokens: %w", err)
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		t, _, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("auth: list tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("auth: list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes one of userID's own tokens. A token of another user
// is ErrNotFound, like one that does not exist; revoking twice is fine.
func (s *Service) RevokeToken(ctx context.Context, userID, tokenID int64) error {
	return s.revokeToken(ctx, tokenID, `id = ? AND user_id = ?`, tokenID, userID)
}

// RevokeAnyToken revokes a token of any user (for administrators).
func (s *Service) RevokeAnyToken(ctx context.Context, tokenID int64) error {
	return s.revokeToken(ctx, tokenID, `id = ?`, tokenID)
}

func (s *Service) revokeToken(ctx context.Context, tokenID int64, where string, args ...any) error {
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		var revoked sql.NullInt64
		var userID int64
		err := s.db.QueryRow(ctx, `SELECT revoked_at, user_id FROM api_tokens WHERE `+where, args...).Scan(&revoked, &userID)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.NotFound()
		}
		if err != nil {
			return fmt.Errorf("auth: read token: %w", err)
		}
		if revoked.Valid {
			return nil
		}
		if _, err := s.db.Exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ?`, micros(s.now()), tokenID); err != nil {
			return fmt.Errorf("auth: revoke token: %w", err)
		}
		s.forget(ctx)
		return s.LogEvent(ctx, EventTokenRevoked, "", userID, "", "")
	})
}
