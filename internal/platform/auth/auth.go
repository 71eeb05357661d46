package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tenon-crm/tenon/internal/platform/db"
)

// Users is how auth finds accounts; the records layer implements it.
// Checked credentials are cached for a second (see authCacheTTL): whoever
// deactivates or deletes a user calls Service.ForgetCredentials.
type Users interface {
	// ByLogin returns the user id and whether the account is active;
	// apperr.ErrNotFound if none. Login passes the login with surrounding
	// white space removed; ByLogin must not match more loosely than a
	// case-insensitive comparison, or the per-account throttle (keyed on the
	// lower-cased login) could be side-stepped with variants of one login.
	ByLogin(ctx context.Context, login string) (id int64, active bool, err error)
	// Active reports whether the user exists, is not deleted and is active.
	Active(ctx context.Context, id int64) (bool, error)
}

// Config tunes the service. Zero values pick the defaults in the comments.
type Config struct {
	// SessionTTL is a session's absolute lifetime (default 7 days).
	SessionTTL time.Duration
	// SessionIdle ends a session not used for this long (default 12 h).
	SessionIdle time.Duration
	// MaxFailures is how many failed logins one login may have within
	// Window before further attempts are refused (default 5).
	MaxFailures int
	// MaxFailuresIP is the same limit per client address (default 20).
	MaxFailuresIP int
	// Window is the sliding window of the throttles (default 15 min).
	Window time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Argon are the parameters of new password hashes.
	Argon ArgonParams
}

// Defaults of Config.
const (
	DefaultSessionTTL    = 7 * 24 * time.Hour
	DefaultSessionIdle   = 12 * time.Hour
	DefaultMaxFailures   = 5
	DefaultMaxFailuresIP = 20
	DefaultWindow        = 15 * time.Minute
)

// touchEvery bounds how often a session's last_seen_at or a token's
// last_used_at is written, so that authenticating is not a write per request.
const touchEvery = time.Minute

// Limits on what is stored in auth_events, so that a hostile client cannot
// make rows of any size.
const (
	maxLoginLen = 256
	maxIPLen    = 64
	maxUALen    = 512
)

// Event kinds written to auth_events.
const (
	EventLoginOK         = "login_ok"
	EventLoginFailed     = "login_failed"
	EventLoginThrottled  = "login_throttled"
	EventLogout          = "logout"
	EventSessionsRevoked = "sessions_revoked"
	EventPasswordChanged = "password_changed"
	EventTokenCreated    = "token_created"
	EventTokenRevoked    = "token_revoked"
)

// Service authenticates users. Build it with New; it is safe for concurrent
// use and keeps no state outside the database.
type Service struct {
	db    *db.DB
	users Users
	cfg   Config
	// dummy is a hash of a random password, verified when a login has no
	// password to check, so that an unknown login costs as much as a known
	// one.
	dummy string
	cache authCache
}

// New builds the service. cfg's zero fields take their defaults.
func New(d *db.DB, users Users, cfg Config) *Service {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = DefaultSessionIdle
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = DefaultMaxFailures
	}
	if cfg.MaxFailuresIP <= 0 {
		cfg.MaxFailuresIP = DefaultMaxFailuresIP
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Argon = cfg.Argon.withDefaults()
	s := &Service{db: d, users: users, cfg: cfg}
	s.dummy = s.hash(randomString(), nil)
	return s
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// LogEvent appends one row to auth_events. userID 0 is stored as NULL.
// Over-long values are cut, never refused: the trail must not fail a login.
func (s *Service) LogEvent(ctx context.Context, kind, login string, userID int64, ip, ua string) error {
	var uid any
	if userID != 0 {
		uid = userID
	}
	_, err := s.db.Exec(ctx, `INSERT INTO auth_events (at, kind, login, user_id, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?)`,
		s.now().UnixMicro(), kind, clip(login, maxLoginLen), uid, clip(ip, maxIPLen), clip(ua, maxUALen))
	if err != nil {
		return fmt.Errorf("auth: log event: %w", err)
	}
	return nil
}

// PurgeExpired deletes sessions past their absolute or idle expiry and
// login attempts older than the throttle window. A scheduled job calls it;
// nothing depends on it for correctness, only for table size.
func (s *Service) PurgeExpired(ctx context.Context) error {
	now := s.now()
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?`,
			now.UnixMicro(), now.Add(-s.cfg.SessionIdle).UnixMicro()); err != nil {
			return fmt.Errorf("auth: purge sessions: %w", err)
		}
		if _, err := s.db.Exec(ctx, `DELETE FROM login_attempts WHERE at <= ?`,
			now.Add(-s.cfg.Window).UnixMicro()); err != nil {
			return fmt.Errorf("auth: purge login attempts: %w", err)
		}
		return nil
	})
}

// randomString returns 32 random bytes, base64url without padding (43
// characters). crypto/rand.Read never fails on supported platforms.
func randomString() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// randomLen is len(randomString()).
const randomLen = 43

// hashSecret is what the database keeps instead of a session or API token.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// isBase64URL reports whether s uses only the base64url alphabet, so that
// garbage is refused before it reaches the database.
func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// clip makes s storable: valid UTF-8 (PostgreSQL refuses anything else),
// no NUL bytes (likewise), and at most n bytes, cut between characters.
func clip(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }
