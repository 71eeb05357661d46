package auth_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
)

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	const h = time.Hour
	tests := []struct {
		name string
		// gaps between uses of the session after login; the last one fails.
		gaps []time.Duration
	}{
		{"idle just under the limit keeps it alive", []time.Duration{12*h - time.Minute, 12*h - time.Minute, 12*h - time.Second, 12 * h}},
		{"idle from login", []time.Duration{12 * h}},
		{"idle counts from the last use, not from login", []time.Duration{10 * h, 12 * h}},
		{"absolute after 7 days despite use", append(repeat(6*h, 27), 6*h)}, // 27×6h = 162h alive, 168h dead
		{"absolute exactly", append(repeat(11*h+59*time.Minute, 14), 168*h-14*(11*h+59*time.Minute))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			each(t, auth.Config{}, func(t *testing.T, e *env) {
				e.addUser(t, 1, "alice", "password1", true)
				s := e.mustLogin(t, "alice", "password1")
				for i, gap := range tc.gaps {
					e.clock.Advance(gap)
					got, err := e.svc.Authenticate(e.ctx, s.Token)
					if i < len(tc.gaps)-1 {
						if err != nil {
							t.Fatalf("use %d after %v: %v", i, e.clock.Now().Sub(t0), err)
						}
						if got != s {
							t.Fatalf("Authenticate = %+v, want %+v", got, s)
						}
						continue
					}
					wantErr(t, err, apperr.ErrUnauthenticated, "session_expired")
				}
				if n := e.count(t, `SELECT COUNT(*) FROM sessions`); n != 0 {
					t.Fatalf("expired session row kept")
				}
			})
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestSessionTouchedAtMostOncePerMinute(t *testing.T) {
	t.Parallel()
	each(t, auth.Config{}, func(t *testing.T, e *env) {
		e.addUser(t, 1, "alice", "password1", true)
		s := e.mustLogin(t, "alice", "password1")
		steps := []struct {
			advance  time.Duration
			lastSeen time.Duration // since t0, after the call
		}{
			{0, 0},
			{30 * time.Second, 0},
			{29 * time.Second, 0},
			{time.Second, time.Minute},
			{59 * time.Second, time.Minute},
			{2 * time.Second, 2*time.Minute + time.Second},
		}
		for i, st := range steps {
			e.clock.Advance(st.advance)
			if _, err := e.svc.Authenticate(e.ctx, s.Token); err != nil {
				t.Fatal(err)
			}
			var got int64
			if err := e.db.QueryRow(e.ctx, `SELECT last_seen_at FROM sessions`).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if want := t0.Add(st.lastSeen).UnixMicro(); got != want {
				t.Fatalf("step %d: last_seen_at %v after t0, want %v", i, time.UnixMicro(got).Sub(t0), st.lastSeen)
			}
		}
	})
}

func TestAuthenticateRefusesGarbage(t *testing.T) {
	t.Parallel()
	each(t, auth.Config{}, func(t *testing.T, e *env) {
		e.addUser(t, 1, "alice", "password1", true)
		s := e.mustLogin(t, "alice", "password1")
		for name, tok := range map[string]string{
			"empty":           "",
			"short":           s.Token[:42],
			"long":            s.Token + "A",
			"bad alphabet":    s.Token[:42] + "=",
			"well-formed":     strings.Repeat("A", 43),
			"the CSRF token":  s.CSRF,
			"the stored hash": sessionID(t, e),
		} {
			_, err := e.svc.Authenticate(e.ctx, tok)
			if !errors.Is(err, apperr.ErrUnauthenticated) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if _, err := e.svc.Authenticate(e.ctx, s.Token); err != nil {
			t.Fatal(err)
		}
	})
}

func sessionID(t *testing.T, e *env) string {
	t.Helper()
	var id string
	if err := e.db.QueryRow(e.ctx, `SELECT id FROM sessions`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestLogout(t *testing.T) {
	t.Parallel()
	each(t, auth.Config{}, func(t *testing.T, e *env) {
		e.addUser(t, 1, "alice", "password1", true)
		s := e.mustLogin(t, "alice", "password1")
		other := e.mustLogin(t, "alice", "password1")

		if err := e.svc.Logout(e.ctx, s.Token); err != nil {
			t.Fatal(err)
		}
		if ev := e.lastEvent(t); ev.Kind != auth.EventLogout || ev.UserID != 1 {
			t.Fatalf("event %+v", ev)
		}
		_, err := e.svc.Authenticate(e.ctx, s.Token)
		wantErr(t, err, apperr.ErrUnauthenticated, "session_expired")
		if _, err := e.svc.Authenticate(e.ctx, other.Token); err != nil {
			t.Fatalf("the other session ended too: %v", err)
		}
		n := len(e.events(t))
		for _, tok := range []string{s.Token, "", "garbage"} {
			if err := e.svc.Logout(e.ctx, tok); err != nil {
				t.Fatalf("logout %q: %v", tok, err)
			}
		}
		if len(e.events(t)) != n {
			t.Fatal("logging out of nothing wrote an event")
		}
	})
}

func TestRevokeUserSessions(t *testing.T) {
	t.Parallel()
	each(t, auth.Config{}, func(t *testing.T, e *env) {
		e.addUser(t, 1, "alice", "password1", true)
		e.addUser(t, 2, "bob", "password2", true)
		a1 := e.mustLogin(t, "alice", "password1")
		a2 := e.mustLogin(t, "alice", "password1")
		b := e.mustLogin(t, "bob", "password2")
		if err := e.svc.RevokeUserSessions(e.ctx, 1); err != nil {
			t.Fatal(err)
		}
		for _, s := range []auth.Session{a1, a2} {
			_, err := e.svc.Authenticate(e.ctx, s.Token)
			wantErr(t, err, apperr.ErrUnauthenticated, "session_expired")
		}
		if _, err := e.svc.Authenticate(e.ctx, b.Token); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.RevokeUserSessions(e.ctx, 1); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCSRFMatches(t *testing.T) {
	t.Parallel()
	s := auth.Session{CSRF: "abc"}
	for got, want := range map[string]bool{"abc": true, "abd": false, "": false, "abcd": false, "ab": false} {
		if s.CSRFMatches(got) != want {
			t.Errorf("CSRFMatches(%q) = %v", got, !want)
		}
	}
	if (auth.Session{}).CSRFMatches("") {
		t.Error("an empty CSRF token matched")
	}
}

func TestPurgeExpired(t *testing.T) {
	t.Parallel()
	each(t, auth.Config{MaxFailures: 100, MaxFailuresIP: 100}, func(t *testing.T, e *env) {
		e.addUser(t, 1, "alice", "password1", true)
		old := e.mustLogin(t, "alice", "password1") // idle from t0
		_, _ = e.svc.Login(e.ctx, "alice", "x", "192.0.2.1", "")
		e.clock.Advance(10 * time.Hour)
		live := e.mustLogin(t, "alice", "password1")
		_, _ = e.svc.Login(e.ctx, "bob", "x", "192.0.2.2", "")
		e.clock.Advance(2 * time.Hour) // old is idle 12h, live 2h

		if err := e.svc.PurgeExpired(e.ctx); err != nil {
			t.Fatal(err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM sessions`); n != 1 {
			t.Fatalf("%d sessions, want 1", n)
		}
		if _, err := e.svc.Authenticate(e.ctx, live.Token); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.Authenticate(e.ctx, old.Token)
		wantErr(t, err, apperr.ErrUnauthenticated, "session_expired")
		// The failures from 12 h ago are gone; those from 2 h ago too (the
		// window is 15 min). A fresh one stays.
		_, _ = e.svc.Login(e.ctx, "carol", "x", "192.0.2.3", "")
		if err := e.svc.PurgeExpired(e.ctx); err != nil {
			t.Fatal(err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM login_attempts`); n != 2 {
			t.Fatalf("%d login attempts, want 2 (carol's login and address)", n)
		}
	})
}
