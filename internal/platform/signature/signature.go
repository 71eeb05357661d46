// Package signature is the Tenon-Signature scheme, the one way Tenon signs
// and checks an HTTP body with a shared secret: outbound webhooks and the
// call_webhook action of rules sign what they send, inbound endpoints
// check what they receive, and the Go client offers both to integrators.
//
// The header is
//
//	Tenon-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>
//
// where <t> is the timestamp exactly as written in the header and <body>
// the raw bytes sent. A header may carry several v1 values (a sender
// signing with an old and a new secret while the receiver switches); any
// one matching is enough. Other keys are ignored, so a later scheme (v2)
// can be added beside v1.
//
// Verify compares every v1 in constant time and then bounds the timestamp
// by a tolerance, which limits how long a captured request can be
// replayed; receivers that must refuse any replay also remember what they
// accepted (Verified.V1 is a key for that). Its errors say which check
// failed, ErrMalformed, ErrMismatch or ErrStale, for the caller's log;
// a caller tells the remote side no more than "unauthorized".
//
// The package depends on the standard library only (the Go client
// imports it).
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Header is the HTTP header that carries the signature.
const Header = "Tenon-Signature"

// Bounds of a header Parse accepts: longer headers are malformed, v1
// values past MaxV1 are ignored.
const (
	MaxHeader = 1024
	MaxV1     = 8
)

// The kinds of refusal of Verify (Parse only returns ErrMalformed).
var (
	// ErrMalformed: no header, not "t=<unix seconds>" once, no v1 value
	// of 64 hex digits, or longer than MaxHeader.
	ErrMalformed = errors.New("signature: malformed Tenon-Signature header")
	// ErrMismatch: no v1 value is the body's signature with the secret
	// and the header's timestamp (a wrong secret, a changed body or a
	// changed timestamp).
	ErrMismatch = errors.New("signature: no v1 value matches the body")
	// ErrStale: the signature matches, but its timestamp is further from
	// the receiver's clock than the tolerance, either way.
	ErrStale = errors.New("signature: timestamp outside the tolerance")
)

// Sign returns the header value signing body, sent at t, with secret:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

// mac is HMAC-SHA256 of "<ts>.<body>" keyed with secret.
func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte("."))
	h.Write(body)
	return h.Sum(nil)
}

// Parsed is a well-formed header.
type Parsed struct {
	// Time is the signed timestamp (whole seconds).
	Time time.Time
	// V1 holds the v1 values, decoded (32 bytes each), in header order;
	// at most MaxV1.
	V1 [][]byte

	ts string // t as written: what was signed
}

// Parse reads "t=<unix seconds>,v1=<hex>[,v1=<hex>...]" in any order,
// with optional spaces around each part. t must appear once, as a
// positive decimal number; v1 values that are not 64 hex digits (either
// case) are skipped; parts without "=" and other keys are ignored. The
// error is ErrMalformed when there is no usable t or v1.
func Parse(header string) (Parsed, error) {
	var p Parsed
	if len(header) > MaxHeader {
		return Parsed{}, ErrMalformed
	}
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			if p.ts != "" || !digits(v) {
				return Parsed{}, ErrMalformed
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return Parsed{}, ErrMalformed
			}
			p.ts, p.Time = v, time.Unix(n, 0)
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size || len(p.V1) >= MaxV1 {
				continue
			}
			p.V1 = append(p.V1, b)
		}
	}
	if p.ts == "" || len(p.V1) == 0 {
		return Parsed{}, ErrMalformed
	}
	return p, nil
}

// digits reports whether s is a non-empty run of ASCII digits (no sign,
// no spaces: what was signed is the text itself).
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Verified is a header that checked out.
type Verified struct {
	// Time is the signed timestamp.
	Time time.Time
	// V1 is the value that matched, in lower-case hex: a key to remember
	// the request by, for receivers that refuse replays.
	V1 string
}

// Verify checks header against body and secret at the receiver's clock
// now. Every v1 value is compared with the expected one in constant time
// (all of them, whether or not one already matched). The timestamp is
// checked after the signature, so ErrStale is only ever told of a
// request signed with the secret: it must lie within tolerance of now,
// before or after; a tolerance of zero or less skips that check (a
// receiver that bounds replays otherwise). The error is ErrMalformed,
// ErrMismatch or ErrStale.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) (Verified, error) {
	p, err := Parse(header)
	if err != nil {
		return Verified{}, err
	}
	want := mac(secret, p.ts, body)
	match := -1
	for i, v := range p.V1 {
		if hmac.Equal(v, want) && match < 0 {
			match = i
		}
	}
	if match < 0 {
		return Verified{}, ErrMismatch
	}
	if tolerance > 0 {
		if d := now.Sub(p.Time); d > tolerance || d < -tolerance {
			return Verified{}, ErrStale
		}
	}
	return Verified{Time: p.Time, V1: hex.EncodeToString(p.V1[match])}, nil
}
