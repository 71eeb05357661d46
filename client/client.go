package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// Client talks to one Tenon server. It is safe for concurrent use; a
// session login (Login) is shared by every call of the client.
type Client struct {
	base  *url.URL
	hc    *http.Client
	token string
	lang  string
	agent string

	mu   sync.Mutex
	csrf string // the session's CSRF token, after Login
}

// Option configures a Client.
type Option func(*Client)

// WithToken authenticates every call with an API token (Authorization:
// Bearer). See Client.CreateToken.
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithHTTPClient makes the calls with hc (timeouts, proxies, TLS). The
// client keeps its own copy; a cookie jar is added to it for sessions when
// it has none.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		cp := *hc
		c.hc = &cp
	}
}

// WithLanguage asks for messages (problem titles and field errors, export
// headers) in lang: "zh-CN" (the server's default) or "en".
func WithLanguage(lang string) Option { return func(c *Client) { c.lang = lang } }

// WithUserAgent sets the User-Agent header (it shows in sign-in events).
func WithUserAgent(ua string) Option { return func(c *Client) { c.agent = ua } }

// New returns a client of the server at baseURL (for example
// "https://crm.example.com"; the API's /api/v1 is added to every path).
// Without WithToken it is anonymous until Login.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("tenon: bad base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("tenon: base URL %q is not an http(s) URL", baseURL)
	}
	c := &Client{base: u, agent: "tenon-go-client"}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.hc.Jar == nil {
		jar, err := cookiejar.New(nil)
		if err != nil {
			return nil, err
		}
		c.hc.Jar = jar
	}
	return c, nil
}

// Error is an error answered by the server: a problem (RFC 9457) with the
// HTTP status, a stable code and, for validation failures, one entry per
// field. Use errors.As to get it:
//
//	var e *client.Error
//	if errors.As(err, &e) && e.Status == http.StatusConflict { … }
type Error struct {
	Status int    `json:"status"`
	Code   string `json:"code"`  // stable, e.g. "unique_violation"
	Title  string `json:"title"` // in the client's language
	Detail string `json:"detail"`
	Type   string `json:"type"`
	// Fields are the per-field errors (422, and 409 naming a field).
	Fields []FieldError `json:"errors"`
	// RetryAfter is the Retry-After header of a 429, in seconds.
	RetryAfter int `json:"-"`
}

// FieldError is one field's validation failure.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tenon: %d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if msg := e.Detail; msg != "" {
		b.WriteString(": " + msg)
	} else if e.Title != "" {
		b.WriteString(": " + e.Title)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Code)
	}
	return b.String()
}

// Field returns the error of the named field, or nil.
func (e *Error) Field(name string) *FieldError {
	for i := range e.Fields {
		if e.Fields[i].Field == name {
			return &e.Fields[i]
		}
	}
	return nil
}

// IsNotFound reports whether err is a 404: no such record, or one outside
// the caller's data scope (the API does not tell them apart).
func IsNotFound(err error) bool { return statusOf(err) == http.StatusNotFound }

// IsConflict reports whether err is a 409 (a unique value taken, a record
// locked by an approval, a state that does not allow the action).
func IsConflict(err error) bool { return statusOf(err) == http.StatusConflict }

// IsPreconditionFailed reports whether err is a 412: the record changed
// since the version given with IfVersion.
func IsPreconditionFailed(err error) bool { return statusOf(err) == http.StatusPreconditionFailed }

func statusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// request is one call.
type request struct {
	method string
	path   string // below /api/v1
	query  url.Values
	body   any // JSON-encoded unless []byte
	header http.Header
}

// send makes a call and returns the response of a success (2xx); the
// caller closes its body. Anything else becomes an *Error.
func (c *Client) send(ctx context.Context, rq request) (*http.Response, error) {
	// rq.path has its segments escaped already (seg).
	target := c.base.String() + "/api/v1" + rq.path
	if len(rq.query) > 0 {
		target += "?" + rq.query.Encode()
	}
	var body io.Reader
	switch b := rq.body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("tenon: encode request: %w", err)
		}
		body = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, target, body)
	if err != nil {
		return nil, err
	}
	for k, v := range rq.header {
		req.Header[k] = v
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	if c.agent != "" {
		req.Header.Set("User-Agent", c.agent)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	} else if rq.method != http.MethodGet && rq.method != http.MethodHead {
		c.mu.Lock()
		csrf := c.csrf
		c.mu.Unlock()
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return res, nil
	}
	defer res.Body.Close()
	return nil, problem(res)
}

// problem decodes an error response (problem+json, or whatever a proxy
// answered) into an *Error.
func problem(res *http.Response) *Error {
	e := &Error{}
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if ct, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); ct == "application/problem+json" || ct == "application/json" {
		_ = json.Unmarshal(b, e)
	}
	e.Status = res.StatusCode
	if e.Title == "" {
		e.Title = http.StatusText(res.StatusCode)
	}
	if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil {
		e.RetryAfter = ra
	}
	return e
}

// call makes a call and decodes a JSON answer into out (when not nil).
// Numbers are kept exact (json.Number) in maps.
func (c *Client) call(ctx context.Context, rq request, out any) (*http.Response, error) {
	res, err := c.send(ctx, rq)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if out == nil || res.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, res.Body)
		return res, nil
	}
	dec := json.NewDecoder(res.Body)
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return nil, fmt.Errorf("tenon: decode %s %s: %w", rq.method, rq.path, err)
	}
	return res, nil
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }
