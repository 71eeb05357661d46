package inbound

import (
	"errors"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/signature"
)

// Refusal reasons of a call (kept in the call log, never told to the
// caller).
const (
	reasonNoEndpoint   = "no_endpoint"
	reasonInactive     = "inactive"
	reasonMalformed    = "malformed"
	reasonBadSignature = "bad_signature"
	reasonStale        = "stale"
	reasonReplay       = "replay"
)

// verify checks a call's Tenon-Signature (package signature) against its
// body with the secret and the clock: what checked out on success, or the
// reason of the refusal (malformed, bad_signature, stale).
func verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) (signature.Verified, string) {
	v, err := signature.Verify(secret, header, body, now, tolerance)
	switch {
	case err == nil:
		return v, ""
	case errors.Is(err, signature.ErrStale):
		return v, reasonStale
	case errors.Is(err, signature.ErrMismatch):
		return v, reasonBadSignature
	}
	return v, reasonMalformed
}
