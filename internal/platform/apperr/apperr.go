// Package apperr is Tenon's error contract. Every domain error wraps one of
// a few sentinels; the HTTP layer maps each to one status (see API.md) and
// renders Code and the field errors as problem+json in the caller's language.
package apperr

import (
	"errors"
	"fmt"
)

// The sentinels. The comment names the HTTP status each maps to.
var (
	ErrInvalid         = errors.New("invalid request")     // 400
	ErrUnauthenticated = errors.New("not authenticated")   // 401
	ErrForbidden       = errors.New("forbidden")           // 403
	ErrNotFound        = errors.New("not found")           // 404
	ErrConflict        = errors.New("conflict")            // 409
	ErrPrecondition    = errors.New("precondition failed") // 412
	ErrTooLarge        = errors.New("too large")           // 413
	ErrUnprocessable   = errors.New("validation failed")   // 422
	ErrThrottled       = errors.New("too many requests")   // 429
	ErrUnavailable     = errors.New("service unavailable") // 503
)

// FieldError is one per-field validation failure.
type FieldError struct {
	Field string `json:"field"`
	Code  string `json:"code"`
	// Args fill the translated message (for example a maximum length).
	Args map[string]any `json:"-"`
	// Message is set by the HTTP layer from Code and Args.
	Message string `json:"message"`
}

// Error is a domain error: a sentinel kind, a stable code for translation,
// arguments for the message, and optional field errors.
type Error struct {
	Kind   error
	Code   string
	Args   map[string]any
	Fields []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		return fmt.Sprintf("%s: %s (%d field errors, first %s: %s)", e.Kind, e.Code, len(e.Fields), e.Fields[0].Field, e.Fields[0].Code)
	}
	if len(e.Args) > 0 {
		return fmt.Sprintf("%s: %s %v", e.Kind, e.Code, e.Args)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Code)
}

func (e *Error) Unwrap() error { return e.Kind }

// New builds an Error of kind with a code and alternating key/value args.
func New(kind error, code string, kv ...any) *Error {
	e := &Error{Kind: kind, Code: code}
	if len(kv) > 0 {
		e.Args = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			e.Args[fmt.Sprint(kv[i])] = kv[i+1]
		}
	}
	return e
}

// Invalid is a 400 with a code.
func Invalid(code string, kv ...any) *Error { return New(ErrInvalid, code, kv...) }

// NotFound is a 404.
func NotFound() *Error { return New(ErrNotFound, "not_found") }

// Forbidden is a 403.
func Forbidden(code string, kv ...any) *Error { return New(ErrForbidden, code, kv...) }

// Conflict is a 409.
func Conflict(code string, kv ...any) *Error { return New(ErrConflict, code, kv...) }

// Fields is a 422 carrying per-field errors.
func Fields(fs ...FieldError) *Error {
	return &Error{Kind: ErrUnprocessable, Code: "validation_failed", Fields: fs}
}

// Field builds one FieldError.
func Field(field, code string, kv ...any) FieldError {
	f := FieldError{Field: field, Code: code}
	if len(kv) > 0 {
		f.Args = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			f.Args[fmt.Sprint(kv[i])] = kv[i+1]
		}
	}
	return f
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
