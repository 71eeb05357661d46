package auth_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
)

func TestLoginSuccess(t *testing.T) {
	t.Parallel()
	each(t, auth.Config{}, func(t *testing.T, e *env) {
		e.addUser(t, 7, "Alice", "password1", true)
		for _, login := range []string{"Alice", "alice", "  ALICE "} {
			s, err := e.svc.Login(e.ctx, login, "password1", "198.51.100.4", "Firefox")
			if err != nil {
				t.Fatalf("login %q: %v", login, err)
			}
			if s.UserID != 7 || len(s.Token) != 43 || len(s.CSRF) != 43 || s.Token == s.CSRF {
				t.Fatalf("session %+v", s)
			}
			if want := t0.Add(auth.DefaultSessionTTL); !s.ExpiresAt.Equal(want) {
				t.Fatalf("expires %v, want %v", s.ExpiresAt, want)
			}
			sum := sha256.Sum256([]byte(s.Token))
			if n := e.count(t, `SELECT COUNT(*) FROM sessions WHERE id = ? AND user_id = 7 AND csrf = ? AND ip = ? AND user_agent = ?`,
				hex.EncodeToString(sum[:]), s.CSRF, "198.51.100.4", "Firefox"); n != 1 {
				t.Fatal("session row not keyed by the token's SHA-256")
			}
			e.assertNotStored(t, s.Token)
			if ev := e.lastEvent(t); ev != (event{auth.EventLoginOK, trim(login), 7, "198.51.100.4", "Firefox"}) {
				t.Fatalf("event %+v", ev)
			}
		}
	})
}

func trim(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	return s
}

// Every failing login looks the same: same sentinel, code and message.
func TestLoginFailuresAreIndistinguishable(t *testing.T) {
	t.Parallel()
	each(t, auth.Config{MaxFailures: 100, MaxFailuresIP: 100}, func(t *testing.T, e *env) {
		e.addUser(t, 1, "alice", "password1", true)
		e.addUser(t, 2, "bob", "password2", false)
		e.addUser(t, 3, "carol", "", true) // never got a password
		e.addUser(t, 4, "dave", "password4", true)
		e.deleteUser(t, 4)

		tests := []struct {
			name, login, password string
			userID                int64 // in the login_failed event
		}{
			{"wrong password", "alice", "password2", 1},
			{"unknown login", "mallory", "password1", 0},
			{"inactive user, right password", "bob", "password2", 2},
			{"no password set", "carol", "", 3},
			{"deleted user, right password", "dave", "password4", 0},
			{"empty login", "", "password1", 0},
			{"empty password", "alice", "", 1},
			{"overlong login", strings.Repeat("alice", 60), "password1", 0},
			{"login with NUL", "al\x00ice", "password1", 0},
			{"login not UTF-8", "\xffalice", "password1", 0},
		}
		var first string
		for _, tc := range tests {
			_, err := e.svc.Login(e.ctx, tc.login, tc.password, "192.0.2.9", "curl")
			wantErr(t, err, apperr.ErrUnauthenticated, "bad_credentials")
			if first == "" {
				first = err.Error()
			} else if err.Error() != first {
				t.Errorf("%s: %q differs from %q", tc.name, err.Error(), first)
			}
			if ae, _ := apperr.As(err); len(ae.Args) != 0 || len(ae.Fields) != 0 {
				t.Errorf("%s: error carries details %+v", tc.name, ae)
			}
			ev := e.lastEvent(t)
			if ev.Kind != auth.EventLoginFailed || ev.UserID != tc.userID || ev.IP != "192.0.2.9" {
				t.Errorf("%s: event %+v", tc.name, ev)
			}
		}
		if n := e.count(t, `SELECT COUNT(*) FROM sessions`); n != 0 {
			t.Fatalf("%d sessions after failures", n)
		}
	})
}

// step is one login attempt of a throttling scenario.
type step struct {
	advance         time.Duration
	login, password string
	ip              string
	code            string // "" ok, "bad_credentials", "too_many_attempts"
	retryAfter      int    // with too_many_attempts
}

func runSteps(t *testing.T, e *env, steps []step) {
	t.Helper()
	for i, st := range steps {
		e.clock.Advance(st.advance)
		_, err := e.svc.Login(e.ctx, st.login, st.password, st.ip, "ua")
		switch st.code {
		case "":
			if err != nil {
				t.Fatalf("step %d (%s from %s): %v", i, st.login, st.ip, err)
			}
		case "bad_credentials":
			wantErr(t, err, apperr.ErrUnauthenticated, st.code)
		case "too_many_attempts":
			wantErr(t, err, apperr.ErrThrottled, st.code)
			ae, _ := apperr.As(err)
			if got := ae.Args["retry_after"]; got != st.retryAfter {
				t.Fatalf("step %d: retry_after %v, want %d", i, got, st.retryAfter)
			}
			if ev := e.lastEvent(t); ev.Kind != auth.EventLoginThrottled {
				t.Fatalf("step %d: last event %+v", i, ev)
			}
		default:
			t.Fatalf("bad step code %q", st.code)
		}
	}
}

func TestThrottleByAccount(t *testing.T) {
	t.Parallel()
	each(t, auth.Config{MaxFailures: 3, MaxFailuresIP: 100, Window: 15 * time.Minute}, func(t *testing.T, e *env) {
		e.addUser(t, 1, "alice", "password1", true)
		runSteps(t, e, []step{
			{0, "alice", "nope", "192.0.2.1", "bad_credentials", 0},
			{time.Minute, "alice", "nope", "192.0.2.2", "bad_credentials", 0},
			{time.Minute, "ALICE", "nope", "192.0.2.3", "bad_credentials", 0},
			// The third failure was at t0+2m; the first leaves the window at
			// t0+15m, 12 minutes from t0+3m. The right password does not help.
			{time.Minute, "alice", "password1", "192.0.2.4", "too_many_attempts", 720},
			{0, " Alice ", "password1", "192.0.2.5", "too_many_attempts", 720},
			{12*time.Minute - 1500*time.Millisecond, "alice", "password1", "192.0.2.6", "too_many_attempts", 2},
			{time.Second, "alice", "password1", "192.0.2.6", "too_many_attempts", 1},
			{500 * time.Millisecond, "alice", "password1", "192.0.2.6", "", 0},
		})
		// Throttled attempts were not counted as failures.
		if n := e.count(t, `SELECT COUNT(*) FROM login_attempts WHERE key = 'ip:192.0.2.5'`); n != 0 {
			t.Fatalf("throttled attempt recorded as a failure")
		}
	})
}

// A login that does not exist is throttled exactly like one that does.
func TestThrottleUnknownLogin(t *testing.T) {
	t.Parallel()
	each(t, auth.Config{MaxFailures: 2, MaxFailuresIP: 100}, func(t *testing.T, e *env) {
		runSteps(t, e, []step{
			{0, "ghost", "x", "192.0.2.1", "bad_credentials", 0},
			{0, "ghost", "x", "192.0.2.1", "bad_credentials", 0},
			{time.Minute, "ghost", "x", "192.0.2.1", "too_many_attempts", 14 * 60},
		})
	})
}

func TestThrottleByIP(t *testing.T) {
	t.Parallel()
	each(t, auth.Config{MaxFailures: 100, MaxFailuresIP: 4}, func(t *testing.T, e *env) {
		e.addUser(t, 1, "alice", "password1", true)
		runSteps(t, e, []step{
			{0, "u1", "x", "203.0.113.7", "bad_credentials", 0},
			{0, "u2", "x", "203.0.113.7", "bad_credentials", 0},
			{0, "u3", "x", "::ffff:203.0.113.7", "bad_credentials", 0}, // the same IPv4 address
			{0, "u4", "x", "203.0.113.7", "bad_credentials", 0},
			{time.Minute, "alice", "password1", "203.0.113.7", "too_many_attempts", 14 * 60},
			{0, "alice", "password1", "203.0.113.8", "", 0},
			// IPv6 addresses are throttled per /64.
			{0, "u5", "x", "2001:db8:1:2::1", "bad_credentials", 0},
			{0, "u6", "x", "2001:db8:1:2::2", "bad_credentials", 0},
			{0, "u7", "x", "2001:db8:1:2:aaaa::3", "bad_credentials", 0},
			{0, "u8", "x", "2001:db8:1:2:ffff:ffff:ffff:ffff", "bad_credentials", 0},
			{0, "alice", "password1", "2001:db8:1:2::9", "too_many_attempts", 15 * 60},
			{0, "alice", "password1", "2001:db8:1:3::1", "", 0},
			// Without an address (command line) only the account counts.
			{0, "alice", "password1", "", "", 0},
			// Success does not clear the address's failures.
			{0, "alice", "password1", "203.0.113.7", "too_many_attempts", 14 * 60},
			{14 * time.Minute, "alice", "password1", "203.0.113.7", "", 0},
		})
	})
}

func TestSuccessResetsAccountCounter(t *testing.T) {
	t.Parallel()
	each(t, auth.Config{MaxFailures: 3, MaxFailuresIP: 100}, func(t *testing.T, e *env) {
		e.addUser(t, 1, "alice", "password1", true)
		runSteps(t, e, []step{
			{0, "alice", "x", "192.0.2.1", "bad_credentials", 0},
			{0, "alice", "x", "192.0.2.1", "bad_credentials", 0},
			{0, "alice", "password1", "192.0.2.1", "", 0},
			{0, "alice", "x", "192.0.2.1", "bad_credentials", 0},
			{0, "alice", "x", "192.0.2.1", "bad_credentials", 0},
			// Four failures within the window, but only two since the success.
			{0, "alice", "password1", "192.0.2.1", "", 0},
		})
		if n := e.count(t, `SELECT COUNT(*) FROM login_attempts WHERE key = 'login:alice'`); n != 0 {
			t.Fatalf("%d account failures left after success", n)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM login_attempts WHERE key = 'ip:192.0.2.1'`); n != 4 {
			t.Fatalf("%d address failures, want 4 (success keeps them)", n)
		}
	})
}

func TestInactiveUserLosesSessions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		disable func(t *testing.T, e *env, id int64)
	}{
		{"deactivated", func(t *testing.T, e *env, id int64) { e.setActive(t, id, false) }},
		{"deleted", func(t *testing.T, e *env, id int64) { e.deleteUser(t, id) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			each(t, auth.Config{}, func(t *testing.T, e *env) {
				e.addUser(t, 1, "alice", "password1", true)
				e.addUser(t, 2, "bob", "password2", true)
				s1 := e.mustLogin(t, "alice", "password1")
				s2 := e.mustLogin(t, "alice", "password1")
				sb := e.mustLogin(t, "bob", "password2")
				if _, err := e.svc.Authenticate(e.ctx, s1.Token); err != nil {
					t.Fatal(err)
				}

				tc.disable(t, e, 1)
				_, err := e.svc.Login(e.ctx, "alice", "password1", "192.0.2.1", "")
				wantErr(t, err, apperr.ErrUnauthenticated, "bad_credentials")
				_, err = e.svc.Authenticate(e.ctx, s1.Token)
				wantErr(t, err, apperr.ErrUnauthenticated, "session_expired")
				if n := e.count(t, `SELECT COUNT(*) FROM sessions WHERE user_id = 1`); n != 0 {
					t.Fatalf("%d sessions of the inactive user remain", n)
				}
				if ev := e.lastEvent(t); ev.Kind != auth.EventSessionsRevoked || ev.UserID != 1 {
					t.Fatalf("event %+v", ev)
				}
				if _, err := e.svc.Authenticate(e.ctx, sb.Token); err != nil {
					t.Fatalf("another user's session: %v", err)
				}
				// Coming back does not revive the deleted sessions.
				if tc.name == "deactivated" {
					e.setActive(t, 1, true)
					_, err = e.svc.Authenticate(e.ctx, s2.Token)
					wantErr(t, err, apperr.ErrUnauthenticated, "session_expired")
					e.mustLogin(t, "alice", "password1")
				}
			})
		})
	}
}
