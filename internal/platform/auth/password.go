package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
)

// ArgonParams are the argon2id parameters of new password hashes. Stored
// hashes carry their own parameters, so changing these only affects new
// hashes (and re-hashing on the next successful login).
type ArgonParams struct {
	Time      uint32 // passes (default 2)
	MemoryKiB uint32 // memory in KiB (default 19456 = 19 MiB)
	Threads   uint8  // parallelism (default 1)
	KeyLen    uint32 // hash length in bytes (default 32)
	SaltLen   uint32 // salt length in bytes (default 16)
}

// DefaultArgon returns OWASP's minimum argon2id settings (t=2, m=19 MiB,
// p=1), about 25 ms per hash here, with a 32-byte key and a 16-byte salt.
func DefaultArgon() ArgonParams {
	return ArgonParams{Time: 2, MemoryKiB: 19 * 1024, Threads: 1, KeyLen: 32, SaltLen: 16}
}

func (p ArgonParams) withDefaults() ArgonParams {
	d := DefaultArgon()
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.MemoryKiB == 0 {
		p.MemoryKiB = d.MemoryKiB
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	if p.KeyLen < 16 {
		p.KeyLen = d.KeyLen
	}
	if p.SaltLen < 8 {
		p.SaltLen = d.SaltLen
	}
	// argon2 needs at least 8 KiB per lane.
	if p.MemoryKiB < 8*uint32(p.Threads) {
		p.MemoryKiB = 8 * uint32(p.Threads)
	}
	return p
}

// Password policy.
const (
	MinPasswordChars = 8
	MaxPasswordBytes = 256
)

// Bounds on parameters read from a stored hash, so that a corrupt row
// cannot make a login allocate gigabytes or spin for minutes.
const (
	maxArgonTime   = 64
	maxArgonMemory = 1 << 20 // KiB = 1 GiB
	maxArgonKey    = 128
)

// HashPassword returns the argon2id hash of pw as a PHC string
// $argon2id$v=19$m=...,t=...,p=...$salt$hash. It applies no policy; see
// SetPassword.
func (s *Service) HashPassword(pw string) (string, error) {
	salt := make([]byte, s.cfg.Argon.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	return s.hash(pw, salt), nil
}

// hash hashes pw with the configured parameters; a nil salt draws one.
func (s *Service) hash(pw string, salt []byte) string {
	p := s.cfg.Argon
	if salt == nil {
		salt = make([]byte, p.SaltLen)
		_, _ = rand.Read(salt)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// phc is a parsed argon2id PHC string.
type phc struct {
	params    ArgonParams
	salt, key []byte
}

var errBadHash = errors.New("auth: malformed password hash")

func parsePHC(s string) (phc, error) {
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return phc{}, errBadHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, errBadHash
	}
	var h phc
	var seen [3]bool
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return phc{}, errBadHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return phc{}, errBadHash
		}
		switch k {
		case "m":
			h.params.MemoryKiB, seen[0] = uint32(n), true
		case "t":
			h.params.Time, seen[1] = uint32(n), true
		case "p":
			if n > 255 {
				return phc{}, errBadHash
			}
			h.params.Threads, seen[2] = uint8(n), true
		default:
			return phc{}, errBadHash
		}
	}
	if !seen[0] || !seen[1] || !seen[2] {
		return phc{}, errBadHash
	}
	p := h.params
	if p.Time < 1 || p.Time > maxArgonTime || p.Threads < 1 ||
		p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxArgonMemory {
		return phc{}, errBadHash
	}
	var err error
	if h.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return phc{}, errBadHash
	}
	if h.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > maxArgonKey {
		return phc{}, errBadHash
	}
	h.params.SaltLen, h.params.KeyLen = uint32(len(h.salt)), uint32(len(h.key))
	return h, nil
}

// verifyPassword reports whether pw matches the PHC string. A malformed
// hash matches nothing.
func verifyPassword(hash, pw string) bool {
	h, err := parsePHC(hash)
	if err != nil {
		return false
	}
	p := h.params
	key := argon2.IDKey([]byte(pw), h.salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(key, h.key) == 1
}

// needsRehash reports whether a (valid) stored hash was made with other
// parameters than the configured ones.
func (s *Service) needsRehash(hash string) bool {
	h, err := parsePHC(hash)
	return err == nil && h.params != s.cfg.Argon
}

// CheckPasswordPolicy returns the 422 SetPassword would refuse pw with, or
// nil. The field is "password".
func CheckPasswordPolicy(pw string) error {
	var code string
	var kv []any
	switch {
	case len(pw) > MaxPasswordBytes:
		code, kv = "too_long", []any{"max", MaxPasswordBytes}
	case !utf8.ValidString(pw):
		code = "invalid"
	case utf8.RuneCountInString(pw) < MinPasswordChars:
		code, kv = "too_short", []any{"min", MinPasswordChars}
	case allOneRune(pw):
		code = "too_simple"
	default:
		return nil
	}
	return apperr.Fields(apperr.Field("password", code, kv...))
}

func allOneRune(s string) bool {
	first, _ := utf8.DecodeRuneInString(s)
	for _, r := range s {
		if r != first {
			return false
		}
	}
	return true
}

// SetPassword checks pw against the policy (at least 8 characters, not one
// character repeated, at most 256 bytes; else a 422 on the field
// "password") and stores its hash for userID. The caller has checked that
// the user exists and that the actor may set the password.
//
// Existing sessions and API tokens are kept: a user changing their own
// password should not be logged out. When an admin resets someone else's
// password (the account may be compromised), call RevokeUserSessions too.
func (s *Service) SetPassword(ctx context.Context, userID int64, pw string) error {
	if err := CheckPasswordPolicy(pw); err != nil {
		return err
	}
	// Hash outside the transaction: 25 ms of argon2 must not hold the
	// SQLite write lock.
	hash, err := s.HashPassword(pw)
	if err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `INSERT INTO user_passwords (user_id, hash, changed_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, changed_at = excluded.changed_at`,
			userID, hash, micros(s.now())); err != nil {
			return fmt.Errorf("auth: set password: %w", err)
		}
		return s.LogEvent(ctx, EventPasswordChanged, "", userID, "", "")
	})
}

// CheckPassword reports whether pw is userID's current password (a user
// changing their own password proves they know the old one).
func (s *Service) CheckPassword(ctx context.Context, userID int64, pw string) (bool, error) {
	var hash string
	err := s.db.QueryRow(ctx, `SELECT hash FROM user_passwords WHERE user_id = ?`, userID).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return verifyPassword(hash, pw), nil
}
