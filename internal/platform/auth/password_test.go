package auth_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
)

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pw string
		code     string // "" = accepted
	}{
		{"ordinary", "password1", ""},
		{"exactly eight", "abcdefgh", ""},
		{"seven", "abcdefg", "too_short"},
		{"empty", "", "too_short"},
		{"eight CJK characters", "密码很安全的密码", ""},
		{"seven CJK characters are 21 bytes but too short", "密码很安全的密", "too_short"},
		{"one character repeated", "aaaaaaaaaa", "too_simple"},
		{"one CJK character repeated", "好好好好好好好好", "too_simple"},
		{"256 bytes", strings.Repeat("ab", 128), ""},
		{"257 bytes", strings.Repeat("ab", 128) + "c", "too_long"},
		{"invalid UTF-8", "abcdefgh\xff", "invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := auth.CheckPasswordPolicy(tc.pw)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantErr(t, err, apperr.ErrUnprocessable, "validation_failed")
			if got := fieldCodes(err); !slices.Equal(got, []string{"password:" + tc.code}) {
				t.Fatalf("field errors %v, want password:%s", got, tc.code)
			}
		})
	}
}

func TestSetPassword(t *testing.T) {
	t.Parallel()
	each(t, auth.Config{}, func(t *testing.T, e *env) {
		e.addUser(t, 1, "alice", "first-password", true)
		e.mustLogin(t, "alice", "first-password")

		if err := e.svc.SetPassword(e.ctx, 1, "short"); !slices.Equal(fieldCodes(err), []string{"password:too_short"}) {
			t.Fatalf("short password: %v", err)
		}
		if err := e.svc.SetPassword(e.ctx, 1, "second-password"); err != nil {
			t.Fatal(err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM user_passwords WHERE user_id = 1`); n != 1 {
			t.Fatalf("%d password rows, want 1 (upsert)", n)
		}
		if _, err := e.svc.Login(e.ctx, "alice", "first-password", "192.0.2.1", ""); err == nil {
			t.Fatal("old password still works")
		}
		e.mustLogin(t, "alice", "second-password")
		// Sessions survive a password change; RevokeUserSessions is separate.
		if n := e.count(t, `SELECT COUNT(*) FROM sessions WHERE user_id = 1`); n != 2 {
			t.Fatalf("%d sessions, want 2", n)
		}
		e.assertNotStored(t, "first-password")
		e.assertNotStored(t, "second-password")
		kinds := []string{}
		for _, ev := range e.events(t) {
			if ev.Kind == auth.EventPasswordChanged && ev.UserID == 1 {
				kinds = append(kinds, ev.Kind)
			}
		}
		if len(kinds) != 2 {
			t.Fatalf("%d password_changed events, want 2", len(kinds))
		}
	})
}

// A hash made with older parameters still verifies, and a successful login
// upgrades it to the configured ones.
func TestLoginRehashesOldParameters(t *testing.T) {
	t.Parallel()
	each(t, auth.Config{Argon: auth.ArgonParams{Time: 2, MemoryKiB: 128, Threads: 1}}, func(t *testing.T, e *env) {
		old := auth.New(e.db, users{e.db}, auth.Config{Argon: fastArgon})
		e.addUser(t, 1, "alice", "", true)
		if err := old.SetPassword(e.ctx, 1, "password1"); err != nil {
			t.Fatal(err)
		}
		hash := func() string {
			var h string
			if err := e.db.QueryRow(e.ctx, `SELECT hash FROM user_passwords WHERE user_id = 1`).Scan(&h); err != nil {
				t.Fatal(err)
			}
			return h
		}
		if h := hash(); !strings.Contains(h, "$m=64,t=1,p=1$") {
			t.Fatalf("setup hash %q", h)
		}
		e.mustLogin(t, "alice", "password1")
		if h := hash(); !strings.Contains(h, "$m=128,t=2,p=1$") {
			t.Fatalf("hash after login %q, want new parameters", h)
		}
		e.mustLogin(t, "alice", "password1")
	})
}
