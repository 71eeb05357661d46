package client

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Record is a record as the API writes it: field name → value. Ids are
// strings, money and decimals strings ("12345.67"), integers json.Number,
// dates "YYYY-MM-DD", datetimes RFC 3339 strings, sub-tables []any of
// map[string]any. Linked records asked for with Expand are under "expand".
type Record map[string]any

// ID returns the record's id ("" when it has none).
func (r Record) ID() string { return r.String("id") }

// Version returns the record's version (+1 on every change; see IfVersion).
func (r Record) Version() int64 {
	n, _ := r.Int("version")
	return n
}

// String returns a field's value when it is a string (ids, text, money,
// dates…), "" otherwise.
func (r Record) String(field string) string {
	s, _ := r[field].(string)
	return s
}

// Int returns a field's value when it is an integer.
func (r Record) Int(field string) (int64, bool) {
	switch v := r[field].(type) {
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	case float64:
		return int64(v), v == float64(int64(v))
	case int64:
		return v, true
	case int:
		return int64(v), true
	}
	return 0, false
}

// Expanded returns the linked record embedded for field by Expand (nil
// when there is none, e.g. the caller may not read it).
func (r Record) Expanded(field string) Record {
	ex, _ := r["expand"].(map[string]any)
	m, _ := ex[field].(map[string]any)
	return Record(m)
}

// ListOptions are the parameters of a list (API.md "Records").
type ListOptions struct {
	// Filter is an expression: region == "华东" && amount >= 500000.
	Filter string
	// Sort is a comma list of fields, "-" for descending: "-amount,name".
	Sort    string
	Page    int // from 1
	PerPage int // default 50, at most 500
	// Fields narrows the fields returned (id and version always are).
	Fields []string
	// Q is a full-text search (Chinese substrings work).
	Q string
	// Expand embeds the records linked by these fields (Record.Expanded).
	Expand []string
	// Count is "" (exact up to a cap, then capped), "exact" or "none".
	Count string
	// Deleted lists the recycle bin.
	Deleted bool
}

func (o *ListOptions) query() url.Values {
	q := url.Values{}
	if o == nil {
		return q
	}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("filter", o.Filter)
	set("sort", o.Sort)
	if o.Page > 0 {
		q.Set("page", strconv.Itoa(o.Page))
	}
	if o.PerPage > 0 {
		q.Set("per_page", strconv.Itoa(o.PerPage))
	}
	set("fields", strings.Join(o.Fields, ","))
	set("q", o.Q)
	set("expand", strings.Join(o.Expand, ","))
	set("count", o.Count)
	if o.Deleted {
		q.Set("deleted", "true")
	}
	return q
}

// List is one page of records.
type List struct {
	Items   []Record `json:"items"`
	Page    int      `json:"page"`
	PerPage int      `json:"per_page"`
	// Total is nil with Count "none"; TotalExact false when it was capped
	// or estimated ("at least Total").
	Total      *int64 `json:"total"`
	TotalExact bool   `json:"total_exact"`
}

// List returns a page of the records of entity the caller may see.
func (c *Client) List(ctx context.Context, entity string, o *ListOptions) (*List, error) {
	var l List
	_, err := c.call(ctx, request{method: http.MethodGet, path: "/records/" + seg(entity), query: o.query()}, &l)
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// All iterates over every record of the list o describes, page after page
// (PerPage at a time, 500 when not set; o.Page is ignored and totals are
// not counted). Stop early by breaking out of the loop. Pages are read by
// number, so records written while iterating may shift a page: for a
// consistent pass over a large entity, filter on a stable field, or
// download it whole with Export.
//
//	for rec, err := range c.All(ctx, "leads", client.ListOptions{Filter: `region == "华东"`}) {
//		if err != nil { return err }
//		…
//	}
func (c *Client) All(ctx context.Context, entity string, o ListOptions) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		if o.PerPage <= 0 {
			o.PerPage = 500
		}
		o.Count = "none"
		for page := 1; ; page++ {
			o.Page = page
			l, err := c.List(ctx, entity, &o)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, r := range l.Items {
				if !yield(r, nil) {
					return
				}
			}
			if len(l.Items) < o.PerPage {
				return
			}
		}
	}
}

// GetOptions tune Get.
type GetOptions struct {
	Fields  []string
	Expand  []string
	Deleted bool // read it from the recycle bin
}

// Get reads one record (an *Error with status 404 when it does not exist
// or is outside the caller's data scope: see IsNotFound).
func (c *Client) Get(ctx context.Context, entity, id string, o *GetOptions) (Record, error) {
	q := url.Values{}
	if o != nil {
		if len(o.Fields) > 0 {
			q.Set("fields", strings.Join(o.Fields, ","))
		}
		if len(o.Expand) > 0 {
			q.Set("expand", strings.Join(o.Expand, ","))
		}
		if o.Deleted {
			q.Set("deleted", "true")
		}
	}
	var r Record
	_, err := c.call(ctx, request{method: http.MethodGet, path: "/records/" + seg(entity) + "/" + seg(id), query: q}, &r)
	return r, err
}

// WriteOption tunes a write.
type WriteOption func(*writeOptions)

type writeOptions struct {
	idempotencyKey string
	ifVersion      int64
}

func (w writeOptions) header() http.Header {
	h := http.Header{}
	if w.idempotencyKey != "" {
		h.Set("Idempotency-Key", w.idempotencyKey)
	}
	if w.ifVersion > 0 {
		h.Set("If-Match", `"`+strconv.FormatInt(w.ifVersion, 10)+`"`)
	}
	return h
}

func writeOpts(opts []WriteOption) writeOptions {
	var w writeOptions
	for _, o := range opts {
		o(&w)
	}
	return w
}

// IdempotencyKey makes a Create safe to retry: the same key and body
// within 24 hours return the first response and create nothing new; the
// same key with another body is refused (422).
func IdempotencyKey(key string) WriteOption { return func(w *writeOptions) { w.idempotencyKey = key } }

// IfVersion makes an Update or Delete apply only to the record at this
// version (optimistic locking): otherwise a 412 (IsPreconditionFailed)
// and nothing changes.
func IfVersion(v int64) WriteOption { return func(w *writeOptions) { w.ifVersion = v } }

// Create creates a record and returns it as stored (id, version, defaults,
// numbering, formulas).
func (c *Client) Create(ctx context.Context, entity string, values map[string]any, opts ...WriteOption) (Record, error) {
	var r Record
	_, err := c.call(ctx, request{method: http.MethodPost, path: "/records/" + seg(entity), body: values,
		header: writeOpts(opts).header()}, &r)
	return r, err
}

// Update changes the given fields of a record (a partial update).
func (c *Client) Update(ctx context.Context, entity, id string, values map[string]any, opts ...WriteOption) (Record, error) {
	var r Record
	_, err := c.call(ctx, request{method: http.MethodPatch, path: "/records/" + seg(entity) + "/" + seg(id), body: values,
		header: writeOpts(opts).header()}, &r)
	return r, err
}

// Delete moves a record to the recycle bin.
func (c *Client) Delete(ctx context.Context, entity, id string, opts ...WriteOption) error {
	_, err := c.call(ctx, request{method: http.MethodDelete, path: "/records/" + seg(entity) + "/" + seg(id),
		header: writeOpts(opts).header()}, nil)
	return err
}

// Restore brings a record back from the recycle bin.
func (c *Client) Restore(ctx context.Context, entity, id string) (Record, error) {
	var r Record
	_, err := c.call(ctx, request{method: http.MethodPost, path: "/records/" + seg(entity) + "/" + seg(id) + "/restore"}, &r)
	return r, err
}

// Action runs a domain action on a record (convert, win, submit,
// set_password…) with its input (nil for none) and returns the record as
// the action left it (nil when the action answers no record).
func (c *Client) Action(ctx context.Context, entity, id, action string, input map[string]any) (Record, error) {
	if input == nil {
		input = map[string]any{}
	}
	var r Record
	res, err := c.call(ctx, request{method: http.MethodPost, path: "/records/" + seg(entity) + "/" + seg(id) + "/actions/" + seg(action),
		body: input}, &r)
	if err != nil {
		return nil, err
	}
	if res.StatusCode == http.StatusNoContent {
		return nil, nil
	}
	return r, nil
}

// Upsert creates or updates the record an outside system knows by
// (source, externalID) — idempotent, so a retried call leaves one record —
// and reports whether it was created.
func (c *Client) Upsert(ctx context.Context, entity, source, externalID string, values map[string]any) (Record, bool, error) {
	var r Record
	res, err := c.call(ctx, request{method: http.MethodPut,
		path: "/records/" + seg(entity) + "/by-external-id/" + seg(source) + "/" + seg(externalID), body: values}, &r)
	if err != nil {
		return nil, false, err
	}
	return r, res.StatusCode == http.StatusCreated, nil
}

// HistoryEntry is one change in a record's audit trail.
type HistoryEntry struct {
	ID       string `json:"id"`
	Entity   string `json:"entity"`
	RecordID string `json:"record_id"`
	// Action is create, update, delete, restore, or an action's name.
	Action  string `json:"action"`
	Version int64  `json:"version"`
	Actor   string `json:"actor"`    // user id ("" for the system)
	TokenID string `json:"token_id"` // the API token used, if any
	// Source is ui, api, rule, flow, import or system.
	Source string    `json:"source"`
	At     time.Time `json:"at"`
	// Changes maps each changed field to {"old": …, "new": …}.
	Changes map[string]FieldChange `json:"changes"`
}

// FieldChange is the old and new value of a field in a history entry.
type FieldChange struct {
	Old any `json:"old"`
	New any `json:"new"`
}

// History returns a record's audit trail, newest first; before continues
// below an entry's id ("" for the newest).
func (c *Client) History(ctx context.Context, entity, id, before string) ([]HistoryEntry, error) {
	q := url.Values{}
	if before != "" {
		q.Set("before", before)
	}
	var out struct {
		Items []HistoryEntry `json:"items"`
	}
	_, err := c.call(ctx, request{method: http.MethodGet, path: "/records/" + seg(entity) + "/" + seg(id) + "/history", query: q}, &out)
	if err != nil {
		return nil, err
	}
	return out.Items, nil
}

// quote makes s a string literal of the filter language.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// and joins two filters.
func and(a, b string) string {
	switch {
	case strings.TrimSpace(a) == "":
		return b
	case strings.TrimSpace(b) == "":
		return a
	}
	return fmt.Sprintf("(%s) && (%s)", a, b)
}
