package auth_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
)

func at(d time.Duration) *time.Time { t := t0.Add(d); return &t }

func TestCreateTokenValidation(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	tests := []struct {
		name      string
		tokName   string
		scopes    []string
		expiresAt *time.Time
		want      []string // field:code, nil = accepted
	}{
		{"minimal", "ci", []string{"records:read"}, nil, nil},
		{"expiry tomorrow", "ci", []string{"records:read"}, at(day), nil},
		{"expiry 5 years ahead", "ci", []string{"admin"}, ptr(t0.AddDate(5, 0, 0)), nil},
		{"100 characters", strings.Repeat("名", 100), []string{"meta:read"}, nil, nil},
		{"empty name", "  ", []string{"records:read"}, nil, []string{"name:required"}},
		{"101 characters", strings.Repeat("名", 101), []string{"records:read"}, nil, []string{"name:too_long"}},
		{"control character", "ci\x00", []string{"records:read"}, nil, []string{"name:invalid"}},
		{"no scopes", "ci", nil, nil, []string{"scopes:required"}},
		{"empty scopes", "ci", []string{}, nil, []string{"scopes:required"}},
		{"unknown scope", "ci", []string{"records:read", "records:delete"}, nil, []string{"scopes:invalid_scope"}},
		{"scope case matters", "ci", []string{"Admin"}, nil, []string{"scopes:invalid_scope"}},
		{"expiry now", "ci", []string{"records:read"}, at(0), []string{"expires_at:not_in_future"}},
		{"expiry past", "ci", []string{"records:read"}, at(-time.Hour), []string{"expires_at:not_in_future"}},
		{"expiry beyond 5 years", "ci", []string{"records:read"}, ptr(t0.AddDate(5, 0, 0).Add(time.Microsecond)), []string{"expires_at:too_far"}},
		{"everything wrong", "", []string{"x"}, at(-day), []string{"name:required", "scopes:invalid_scope", "expires_at:not_in_future"}},
	}
	each(t, auth.Config{}, func(t *testing.T, e *env) {
		e.addUser(t, 1, "alice", "password1", true)
		for _, tc := range tests {
			plain, tok, err := e.svc.CreateToken(e.ctx, 1, tc.tokName, tc.scopes, tc.expiresAt)
			if tc.want == nil {
				if err != nil || plain == "" || tok.ID == 0 {
					t.Errorf("%s: %v", tc.name, err)
				}
				continue
			}
			if !errors.Is(err, apperr.ErrUnprocessable) || !slices.Equal(fieldCodes(err), tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, fieldCodes(err), tc.want)
			}
		}
		if n := e.count(t, `SELECT COUNT(*) FROM api_tokens`); n != 4 {
			t.Fatalf("%d tokens stored, want the 4 valid ones", n)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestTokenLifecycle(t *testing.T) {
	t.Parallel()
	each(t, auth.Config{}, func(t *testing.T, e *env) {
		e.addUser(t, 1, "alice", "password1", true)
		e.addUser(t, 2, "bob", "password2", true)

		plain, tok, err := e.svc.CreateToken(e.ctx, 1, " ERP sync ", []string{"records:write", "records:read", "records:write"}, at(30*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^tnn_[A-Za-z0-9_-]{43}$`).MatchString(plain) {
			t.Fatalf("plaintext %q", plain)
		}
		want := auth.Token{ID: tok.ID, UserID: 1, Name: "ERP sync", Prefix: plain[4:12],
			Scopes: []string{"records:read", "records:write"}, ExpiresAt: at(30 * 24 * time.Hour), CreatedAt: t0}
		assertToken(t, tok, want)

		// Shown once: the database has only its hash.
		sum := sha256.Sum256([]byte(plain))
		if n := e.count(t, `SELECT COUNT(*) FROM api_tokens WHERE hash = ?`, hex.EncodeToString(sum[:])); n != 1 {
			t.Fatal("token not stored as its SHA-256")
		}
		e.assertNotStored(t, plain[4:])

		for _, bearer := range []string{plain, "Bearer " + plain, "bearer  " + plain} {
			got, err := e.svc.AuthenticateToken(e.ctx, bearer)
			if err != nil {
				t.Fatalf("%q: %v", bearer, err)
			}
			want.LastUsedAt = &t0
			assertToken(t, got, want)
		}

		list, err := e.svc.ListTokens(e.ctx, 1)
		if err != nil || len(list) != 1 {
			t.Fatalf("list: %v %v", list, err)
		}
		assertToken(t, list[0], want)
		if list, _ := e.svc.ListTokens(e.ctx, 2); len(list) != 0 {
			t.Fatalf("bob sees %v", list)
		}

		// Only the owner can revoke; someone else's token does not exist.
		wantErr(t, e.svc.RevokeToken(e.ctx, 2, tok.ID), apperr.ErrNotFound, "not_found")
		wantErr(t, e.svc.RevokeToken(e.ctx, 1, tok.ID+100), apperr.ErrNotFound, "not_found")
		if _, err := e.svc.AuthenticateToken(e.ctx, plain); err != nil {
			t.Fatalf("token revoked by a stranger: %v", err)
		}
		e.clock.Advance(time.Hour)
		if err := e.svc.RevokeToken(e.ctx, 1, tok.ID); err != nil {
			t.Fatal(err)
		}
		if ev := e.lastEvent(t); ev.Kind != auth.EventTokenRevoked || ev.UserID != 1 {
			t.Fatalf("event %+v", ev)
		}
		if err := e.svc.RevokeToken(e.ctx, 1, tok.ID); err != nil {
			t.Fatalf("second revoke: %v", err)
		}
		_, err = e.svc.AuthenticateToken(e.ctx, plain)
		wantErr(t, err, apperr.ErrUnauthenticated, "invalid_token")
		list, _ = e.svc.ListTokens(e.ctx, 1)
		want.RevokedAt = at(time.Hour)
		assertToken(t, list[0], want)
	})
}

func assertToken(t *testing.T, got, want auth.Token) {
	t.Helper()
	eqTime := func(a, b *time.Time) bool { return a == nil && b == nil || a != nil && b != nil && a.Equal(*b) }
	if got.ID != want.ID || got.UserID != want.UserID || got.Name != want.Name || got.Prefix != want.Prefix ||
		!slices.Equal(got.Scopes, want.Scopes) || !got.CreatedAt.Equal(want.CreatedAt) ||
		!eqTime(got.ExpiresAt, want.ExpiresAt) || !eqTime(got.RevokedAt, want.RevokedAt) || !eqTime(got.LastUsedAt, want.LastUsedAt) {
		t.Fatalf("token\n got %s\nwant %s", fmtToken(got), fmtToken(want))
	}
}

func fmtToken(t auth.Token) string {
	f := func(p *time.Time) string {
		if p == nil {
			return "nil"
		}
		return p.Sub(t0).String()
	}
	return strings.Join([]string{t.Name, t.Prefix, strings.Join(t.Scopes, ","), "created " + t.CreatedAt.Sub(t0).String(),
		"expires " + f(t.ExpiresAt), "revoked " + f(t.RevokedAt), "used " + f(t.LastUsedAt)}, " | ")
}

func TestTokenRefused(t *testing.T) {
	t.Parallel()
	each(t, auth.Config{}, func(t *testing.T, e *env) {
		e.addUser(t, 1, "alice", "password1", true)
		plain, tok, err := e.svc.CreateToken(e.ctx, 1, "ci", []string{"records:read"}, at(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		s := e.mustLogin(t, "alice", "password1")
		for name, bearer := range map[string]string{
			"empty":            "",
			"prefix only":      "tnn_",
			"no prefix":        plain[4:],
			"other prefix":     "ghp_" + plain[4:],
			"short":            plain[:len(plain)-1],
			"bad alphabet":     plain[:len(plain)-1] + "+",
			"unknown":          "tnn_" + strings.Repeat("A", 43),
			"session token":    s.Token,
			"tnn_ + session":   "tnn_" + s.Token,
			"stored hash":      tokenHash(t, e, tok.ID),
			"basic scheme":     "Basic " + plain,
			"trailing garbage": plain + "x",
		} {
			_, err := e.svc.AuthenticateToken(e.ctx, bearer)
			wantErr(t, err, apperr.ErrUnauthenticated, "invalid_token")
			_ = name
		}

		// Expiry: alive until the instant it expires.
		e.clock.Advance(time.Hour - time.Microsecond)
		if _, err := e.svc.AuthenticateToken(e.ctx, plain); err != nil {
			t.Fatalf("before expiry: %v", err)
		}
		e.setActive(t, 1, false)
		_, err = e.svc.AuthenticateToken(e.ctx, plain)
		wantErr(t, err, apperr.ErrUnauthenticated, "invalid_token")
		e.setActive(t, 1, true)
		if _, err := e.svc.AuthenticateToken(e.ctx, plain); err != nil {
			t.Fatalf("reactivated user: %v", err)
		}
		e.clock.Advance(time.Microsecond)
		_, err = e.svc.AuthenticateToken(e.ctx, plain)
		wantErr(t, err, apperr.ErrUnauthenticated, "invalid_token")

		// A deleted user's tokens stop working.
		plain2, _, err := e.svc.CreateToken(e.ctx, 1, "ci2", []string{"records:read"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		e.deleteUser(t, 1)
		_, err = e.svc.AuthenticateToken(e.ctx, plain2)
		wantErr(t, err, apperr.ErrUnauthenticated, "invalid_token")
	})
}

func tokenHash(t *testing.T, e *env, id int64) string {
	t.Helper()
	var h string
	if err := e.db.QueryRow(e.ctx, `SELECT hash FROM api_tokens WHERE id = ?`, id).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestTokenTouchedAtMostOncePerMinute(t *testing.T) {
	t.Parallel()
	each(t, auth.Config{}, func(t *testing.T, e *env) {
		e.addUser(t, 1, "alice", "password1", true)
		plain, tok, err := e.svc.CreateToken(e.ctx, 1, "ci", []string{"records:read"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tok.LastUsedAt != nil {
			t.Fatal("new token marked used")
		}
		steps := []struct{ advance, lastUsed time.Duration }{
			{0, 0},
			{59 * time.Second, 0},
			{time.Second, time.Minute},
			{30 * time.Second, time.Minute},
			{10 * time.Minute, 10*time.Minute + 90*time.Second},
		}
		for i, st := range steps {
			e.clock.Advance(st.advance)
			got, err := e.svc.AuthenticateToken(e.ctx, plain)
			if err != nil {
				t.Fatal(err)
			}
			list, _ := e.svc.ListTokens(e.ctx, 1)
			want := t0.Add(st.lastUsed)
			if got.LastUsedAt == nil || !got.LastUsedAt.Equal(want) || !list[0].LastUsedAt.Equal(want) {
				t.Fatalf("step %d: last used %v / %v, want %v", i, got.LastUsedAt, list[0].LastUsedAt, want)
			}
		}
	})
}

func TestListTokensNewestFirst(t *testing.T) {
	t.Parallel()
	each(t, auth.Config{}, func(t *testing.T, e *env) {
		e.addUser(t, 1, "alice", "password1", true)
		for _, name := range []string{"a", "b", "c"} {
			if _, _, err := e.svc.CreateToken(e.ctx, 1, name, []string{"records:read"}, nil); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(time.Second)
		}
		list, err := e.svc.ListTokens(e.ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tok := range list {
			names = append(names, tok.Name)
		}
		if !slices.Equal(names, []string{"c", "b", "a"}) {
			t.Fatalf("order %v", names)
		}
	})
}
