package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
)

// maxBody is the default limit of a JSON request body.
const maxBody = 4 << 20

// readBody reads a request body up to limit bytes (413 above it).
func readBody(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, apperr.New(apperr.ErrTooLarge, "body_too_large", "max", limit)
		}
		return nil, apperr.Invalid("bad_request")
	}
	if int64(len(b)) > limit {
		return nil, apperr.New(apperr.ErrTooLarge, "body_too_large", "max", limit)
	}
	return b, nil
}

// readObject reads a JSON request body (up to maxBody) and decodes it
// strictly as an object.
func readObject(r *http.Request) (map[string]any, error) {
	b, err := readBody(r, maxBody)
	if err != nil {
		return nil, err
	}
	return decodeObject(b)
}

// decodeObject strictly decodes a JSON object: malformed JSON, a non-object,
// trailing data, and keys that repeat (also when they differ only in case)
// at any depth are refused with 400. Numbers stay json.Number.
func decodeObject(b []byte) (map[string]any, error) {
	if err := checkKeys(b); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, apperr.Invalid("bad_json", "reason", jsonReason(err))
	}
	if dec.More() {
		return nil, apperr.Invalid("bad_json", "reason", "trailing data")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, apperr.Invalid("bad_json", "reason", "expected an object")
	}
	return m, nil
}

// decodeInto strictly decodes into a struct: unknown keys refused too.
func decodeInto(b []byte, v any) error {
	if err := checkKeys(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if strings.HasPrefix(err.Error(), "json: unknown field ") {
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return apperr.Invalid("unknown_field", "field", f)
		}
		return apperr.Invalid("bad_json", "reason", jsonReason(err))
	}
	if dec.More() {
		return apperr.Invalid("bad_json", "reason", "trailing data")
	}
	return nil
}

func jsonReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "syntax error at byte " + itoa(se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "wrong type for " + te.Field
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end"
	}
	return "invalid"
}

func itoa(n int64) string { return toString(n) }

// checkKeys walks the token stream and refuses duplicate keys (compared
// case-insensitively, since Go's decoder would fold them silently).
func checkKeys(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	type frame struct {
		obj    bool
		keys   map[string]bool
		expect bool // next string token in an object is a key
	}
	var stack []*frame
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return apperr.Invalid("bad_json", "reason", jsonReason(err))
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				depth++
				if depth > 32 {
					return apperr.Invalid("bad_json", "reason", "nested too deeply")
				}
				if top != nil && top.obj {
					top.expect = true
				}
				stack = append(stack, &frame{obj: t == '{', keys: map[string]bool{}, expect: t == '{'})
			case '}', ']':
				depth--
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].obj {
					stack[len(stack)-1].expect = true
				}
			}
		case string:
			if top != nil && top.obj && top.expect {
				k := strings.ToLower(t)
				if top.keys[k] {
					return apperr.Invalid("duplicate_key", "field", t)
				}
				top.keys[k] = true
				top.expect = false
				continue
			}
			if top != nil && top.obj {
				top.expect = true
			}
		default:
			if top != nil && top.obj {
				top.expect = true
			}
		}
	}
}
