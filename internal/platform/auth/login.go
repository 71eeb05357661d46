package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
)

// Session is a logged-in browser. Token is the secret for the cookie; it is
// returned by Login and echoed by Authenticate, and never stored.
type Session struct {
	Token  string
	UserID int64
	// CSRF is the value state-changing requests must send in X-CSRF-Token.
	CSRF string
	// ExpiresAt is the absolute end of the session (the cookie's Expires);
	// it ends earlier after SessionIdle without use.
	ExpiresAt time.Time
}

// CSRFMatches reports, in constant time, whether got is the session's CSRF
// token.
func (s Session) CSRFMatches(got string) bool {
	return s.CSRF != "" && constantTimeEqual(s.CSRF, got)
}

func badCredentials() error { return apperr.New(apperr.ErrUnauthenticated, "bad_credentials") }

// Login checks a login and password and opens a session.
//
// Every way of failing (unknown login, wrong password, inactive account,
// no password set) returns the same ErrUnauthenticated "bad_credentials" and
// costs one argon2 verification, so that neither the answer nor its timing
// tells which logins exist. Before the password is checked, the failures of
// this login and of this address within Window are counted; over the limit
// the answer is ErrThrottled "too_many_attempts" with "retry_after" seconds,
// whatever the password. A throttled attempt is not counted as a failure.
// Success clears the login's failures (not the address's).
//
// ip may be empty (command line), which skips the per-address throttle.
// IPv6 addresses are throttled per /64, which one client usually owns.
//
// Call it outside a transaction: a failure must be recorded although the
// login fails, and the argon2 work is done before any write so that it never
// holds the SQLite write lock. Concurrent attempts may each pass the
// throttle check before any of them records its failure, so the limits can
// be overshot by the number of requests in flight; that is accepted.
func (s *Service) Login(ctx context.Context, login, password, ip, userAgent string) (Session, error) {
	login = strings.TrimSpace(login)
	now := s.now()
	loginKey := "login:" + clip(strings.ToLower(login), maxLoginLen)
	ipKey := ""
	if ip != "" {
		ipKey = "ip:" + throttleAddr(ip)
	}

	wait, err := s.retryAfter(ctx, loginKey, s.cfg.MaxFailures, now)
	if err != nil {
		return Session{}, err
	}
	if ipKey != "" {
		w, err := s.retryAfter(ctx, ipKey, s.cfg.MaxFailuresIP, now)
		if err != nil {
			return Session{}, err
		}
		wait = max(wait, w)
	}
	if wait > 0 {
		if err := s.LogEvent(ctx, EventLoginThrottled, login, 0, ip, userAgent); err != nil {
			return Session{}, err
		}
		secs := int((wait + time.Second - 1) / time.Second)
		return Session{}, apperr.New(apperr.ErrThrottled, "too_many_attempts", "retry_after", secs)
	}

	var (
		userID int64
		active bool
		hash   string
	)
	// A login that could not have been stored is not looked up.
	if len(login) > 0 && len(login) <= maxLoginLen && utf8.ValidString(login) && strings.IndexByte(login, 0) < 0 {
		userID, active, err = s.users.ByLogin(ctx, login)
		if errors.Is(err, apperr.ErrNotFound) {
			userID, err = 0, nil
		}
		if err != nil {
			return Session{}, fmt.Errorf("auth: find user: %w", err)
		}
	}
	if userID != 0 {
		err := s.db.QueryRow(ctx, `SELECT hash FROM user_passwords WHERE user_id = ?`, userID).Scan(&hash)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return Session{}, fmt.Errorf("auth: read password: %w", err)
		}
	}
	// Always run one verification, against a dummy hash when there is
	// nothing real to check.
	ok := false
	if hash != "" {
		ok = verifyPassword(hash, password)
	} else {
		verifyPassword(s.dummy, password)
	}
	ok = ok && active

	if !ok {
		err := s.db.WithTx(ctx, func(ctx context.Context) error {
			for _, key := range []string{loginKey, ipKey} {
				if key == "" {
					continue
				}
				if _, err := s.db.Exec(ctx, `INSERT INTO login_attempts (key, at) VALUES (?, ?)`, key, micros(now)); err != nil {
					return fmt.Errorf("auth: record failure: %w", err)
				}
			}
			return s.LogEvent(ctx, EventLoginFailed, login, userID, ip, userAgent)
		})
		if err != nil {
			return Session{}, err
		}
		return Session{}, badCredentials()
	}

	// Upgrade a hash made with older parameters, outside the transaction.
	rehash := ""
	if s.needsRehash(hash) {
		if rehash, err = s.HashPassword(password); err != nil {
			return Session{}, err
		}
	}
	var sess Session
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `DELETE FROM login_attempts WHERE key = ?`, loginKey); err != nil {
			return fmt.Errorf("auth: clear failures: %w", err)
		}
		if rehash != "" {
			// Only if no one changed the password meanwhile.
			if _, err := s.db.Exec(ctx, `UPDATE user_passwords SET hash = ? WHERE user_id = ? AND hash = ?`,
				rehash, userID, hash); err != nil {
				return fmt.Errorf("auth: rehash: %w", err)
			}
		}
		var err error
		if sess, err = s.openSession(ctx, userID, now, ip, userAgent); err != nil {
			return err
		}
		return s.LogEvent(ctx, EventLoginOK, login, userID, ip, userAgent)
	})
	if err != nil {
		return Session{}, err
	}
	return sess, nil
}

// retryAfter returns how long until key has fewer than limit failures
// within the window, or 0 if it has fewer already. A failure at time a
// counts while now < a+Window, so the wait ends when the limit-th most
// recent failure leaves the window.
func (s *Service) retryAfter(ctx context.Context, key string, limit int, now time.Time) (time.Duration, error) {
	rows, err := s.db.Query(ctx, `SELECT at FROM login_attempts WHERE key = ? AND at > ? ORDER BY at DESC LIMIT ?`,
		key, micros(now.Add(-s.cfg.Window)), limit)
	if err != nil {
		return 0, fmt.Errorf("auth: count failures: %w", err)
	}
	defer rows.Close()
	var n int
	var at int64
	for rows.Next() {
		if err := rows.Scan(&at); err != nil {
			return 0, fmt.Errorf("auth: count failures: %w", err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("auth: count failures: %w", err)
	}
	if n < limit {
		return 0, nil
	}
	return max(fromMicros(at).Add(s.cfg.Window).Sub(now), 0), nil
}

// throttleAddr is the throttle key of a client address: the address itself
// for IPv4, its /64 for IPv6, the raw (cut) text if it does not parse.
func throttleAddr(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return clip(ip, maxIPLen)
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}
