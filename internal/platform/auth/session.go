package auth

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
)

func sessionExpired() error { return apperr.New(apperr.ErrUnauthenticated, "session_expired") }

// openSession stores a new session for userID and returns it with its
// secret token. It runs in the caller's transaction.
func (s *Service) openSession(ctx context.Context, userID int64, now time.Time, ip, ua string) (Session, error) {
	sess := Session{
		Token:     randomString(),
		UserID:    userID,
		CSRF:      randomString(),
		ExpiresAt: fromMicros(micros(now.Add(s.cfg.SessionTTL))),
	}
	_, err := s.db.Exec(ctx, `INSERT INTO sessions (id, user_id, csrf, created_at, expires_at, last_seen_at, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		hashSecret(sess.Token), userID, sess.CSRF, micros(now), micros(sess.ExpiresAt), micros(now),
		clip(ip, maxIPLen), clip(ua, maxUALen))
	if err != nil {
		return Session{}, fmt.Errorf("auth: create session: %w", err)
	}
	return sess, nil
}

// Authenticate returns the session whose cookie holds token. A token that
// is unknown, past its absolute expiry or idle for SessionIdle, or whose
// user is no longer active, gives ErrUnauthenticated "session_expired"; an
// inactive user's sessions are all deleted on the way. last_seen_at is
// written at most once a minute, so most calls only read.
func (s *Service) Authenticate(ctx context.Context, token string) (Session, error) {
	if len(token) != randomLen || !isBase64URL(token) {
		return Session{}, sessionExpired()
	}
	id := hashSecret(token)
	if c, ok := s.cache.get("s:"+id, s.now()); ok && s.now().Before(c.session.ExpiresAt) {
		return c.session, nil
	}
	var (
		storedID, csrf            string
		userID, expires, lastSeen int64
	)
	err := s.db.QueryRow(ctx, `SELECT id, user_id, csrf, expires_at, last_seen_at FROM sessions WHERE id = ?`, id).
		Scan(&storedID, &userID, &csrf, &expires, &lastSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, sessionExpired()
	}
	if err != nil {
		return Session{}, fmt.Errorf("auth: read session: %w", err)
	}
	if !constantTimeEqual(storedID, id) {
		return Session{}, sessionExpired()
	}
	now := s.now()
	if now.UnixMicro() >= expires || !now.Before(fromMicros(lastSeen).Add(s.cfg.SessionIdle)) {
		if _, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
			return Session{}, fmt.Errorf("auth: delete session: %w", err)
		}
		return Session{}, sessionExpired()
	}
	if ok, err := s.active(ctx, userID); err != nil {
		return Session{}, err
	} else if !ok {
		if err := s.RevokeUserSessions(ctx, userID); err != nil {
			return Session{}, err
		}
		return Session{}, sessionExpired()
	}
	if now.Sub(fromMicros(lastSeen)) >= touchEvery {
		// The condition makes concurrent requests write once.
		if _, err := s.db.Exec(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?`,
			micros(now), id, micros(now)); err != nil {
			return Session{}, fmt.Errorf("auth: touch session: %w", err)
		}
	}
	sess := Session{Token: token, UserID: userID, CSRF: csrf, ExpiresAt: fromMicros(expires)}
	s.cache.put("s:"+id, cachedAuth{at: now, session: sess})
	return sess, nil
}

// active asks Users whether userID may still act; a user that is gone is
// simply not active.
func (s *Service) active(ctx context.Context, userID int64) (bool, error) {
	ok, err := s.users.Active(ctx, userID)
	if errors.Is(err, apperr.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("auth: check user: %w", err)
	}
	return ok, nil
}

// Logout ends the session of token. An unknown token is not an error:
// logging out twice is fine.
func (s *Service) Logout(ctx context.Context, token string) error {
	if len(token) != randomLen || !isBase64URL(token) {
		return nil
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		s.forget(ctx)
		var userID int64
		err := s.db.QueryRow(ctx, `DELETE FROM sessions WHERE id = ? RETURNING user_id`, hashSecret(token)).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("auth: delete session: %w", err)
		}
		return s.LogEvent(ctx, EventLogout, "", userID, "", "")
	})
}

// RevokeUserSessions ends every session of userID: on deactivation, and
// when an admin resets the user's password. API tokens are not touched;
// AuthenticateToken refuses them while the user is inactive.
func (s *Service) RevokeUserSessions(ctx context.Context, userID int64) error {
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		s.forget(ctx) // the user's API tokens too, which are checked against the user being active
		res, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
		if err != nil {
			return fmt.Errorf("auth: revoke sessions: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.LogEvent(ctx, EventSessionsRevoked, "", userID, "", "")
	})
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
