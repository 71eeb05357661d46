package inbound

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Call is one inbound request as the HTTP layer hands it over.
type Call struct {
	Endpoint  int64
	Signature string // the Tenon-Signature header
	Body      []byte
	Remote    string // the peer's address
}

// Result is the answer to an accepted call: what each item became, in the
// order of the items.
type Result struct {
	Created int          `json:"created"`
	Updated int          `json:"updated"`
	Items   []ItemResult `json:"items"`
	// DryRun is set by Test: nothing was written.
	DryRun bool `json:"dry_run,omitempty"`
}

// ItemResult is one item of an accepted call.
type ItemResult struct {
	ExternalID string `json:"external_id"`
	ID         string `json:"id"`
	Created    bool   `json:"created"`
}

// errUnauthorized is what every refused signature check answers, whatever
// the reason (no such endpoint, inactive, malformed or wrong signature,
// stale timestamp, replay), so a caller learns nothing about which
// endpoints exist; the reason is in the call log.
func errUnauthorized() error { return apperr.New(apperr.ErrUnauthenticated, "inbound_unauthorized") }

// errAbort rolls back a call's transaction after a refusal decided inside
// it.
var errAbort = errors.New("inbound: call refused")

// dummySecret keys the HMAC computed for an unknown endpoint, so that
// refusing it takes as long as refusing a wrong signature.
const dummySecret = "tenon-inbound-no-such-endpoint-000000000000"

// Receive handles an inbound call (see the package documentation): the
// remote address's failures are checked first, then the signature, then,
// in one transaction, the endpoint's rate limit, the replay check, every
// item's upsert and the call's log row. A refusal after the signature was
// verified writes nothing but the log row, the signature (so the request
// cannot be replayed) and the rate-limit count.
func (e *Engine) Receive(ctx context.Context, c Call) (*Result, error) {
	start := time.Now()
	now := e.now()
	if c.Remote != "" {
		hits, err := e.hits(ctx, failBucket(c.Remote), now)
		if err != nil {
			return nil, err
		}
		if hits >= int64(e.limits.FailRate) {
			return nil, throttled(now)
		}
	}
	rec, err := e.endpoint(ctx, c.Endpoint)
	if err != nil {
		return nil, err
	}
	secret, active := dummySecret, false
	if rec != nil {
		if s, _ := rec["secret"].(string); s != "" {
			secret = s
		}
		active, _ = rec["active"].(bool)
	}
	sig, reason := verify(secret, c.Signature, c.Body, now, e.limits.Tolerance)
	switch {
	case rec == nil:
		return nil, e.refuse(ctx, 0, c, reasonNoEndpoint, start)
	case secret == dummySecret:
		reason = reasonBadSignature
	case reason == "" && !active:
		reason = reasonInactive
	}
	if reason != "" {
		return nil, e.refuse(ctx, rec.ID(), c, reason, start)
	}
	v := &verified{call: c, rec: rec, sig: sig.V1, expires: sig.Time.Unix() + int64(e.limits.Tolerance/time.Second), start: start, now: now}
	v.ep, v.compileErrs = e.compiledEndpoint(rec)
	v.payload, v.parsed = decodeBody(c.Body)
	var res *Result
	var refusal error
	err = e.db.WithTx(ctx, func(ctx context.Context) error {
		var err error
		res, refusal, err = e.accept(ctx, v)
		if err == nil && refusal != nil {
			err = errAbort
		}
		return err
	})
	if err == nil {
		return res, nil
	}
	if !errors.Is(err, errAbort) {
		return nil, err
	}
	if ae, ok := apperr.As(refusal); ok {
		switch ae.Kind {
		case apperr.ErrThrottled:
			return nil, refusal
		case apperr.ErrUnauthenticated:
			return nil, e.refuse(ctx, rec.ID(), c, reasonReplay, start)
		}
	}
	if err := e.logFailure(ctx, rec.ID(), c, refusal, v.sig, v.expires, start); err != nil {
		return nil, err
	}
	return nil, refusal
}

// verified is a call whose signature checked out, with what was derived
// from it before its transaction.
type verified struct {
	call        Call
	rec         records.Record
	ep          *Endpoint // nil when compileErrs
	compileErrs []apperr.FieldError
	payload     any
	parsed      bool
	sig         string // the matching v1
	expires     int64  // when the signature leaves the window (unix seconds)
	start, now  time.Time
}

// accept is the transaction of a verified call: the rate limit, the
// replay check, the items, the log row. A refusal is returned as such
// (the caller rolls back); err is a failure of the database.
func (e *Engine) accept(ctx context.Context, v *verified) (*Result, error, error) {
	id := v.rec.ID()
	rate := e.limits.DefaultRate
	if v.ep != nil {
		rate = v.ep.Rate
	} else if n, ok := v.rec["rate_limit"].(int64); ok && n > 0 {
		rate = int(n)
	}
	hits, err := e.hit(ctx, endpointBucket(id), v.now)
	if err != nil {
		return nil, nil, err
	}
	if hits > int64(rate) {
		return nil, throttled(v.now), nil
	}
	fresh, err := e.useSignature(ctx, id, v.sig, v.expires)
	switch {
	case err != nil:
		return nil, nil, err
	case !fresh:
		return nil, errUnauthorized(), nil
	case v.compileErrs != nil:
		return nil, &apperr.Error{Kind: apperr.ErrUnprocessable, Code: "inbound_endpoint_invalid", Fields: v.compileErrs}, nil
	case !v.parsed:
		return nil, apperr.Invalid("bad_json", "reason", i18n.T("inbound_body_not_json")), nil
	}
	res, refusal, err := e.apply(ctx, v.ep, v.payload)
	if err != nil || refusal != nil {
		return nil, refusal, err
	}
	err = e.logCall(ctx, callRow{endpoint: id, status: 200, items: len(res.Items), created: res.Created,
		updated: res.Updated, remote: v.call.Remote, bytes: len(v.call.Body), dur: time.Since(v.start)})
	return res, nil, err
}

// Test runs a payload through an endpoint as a call would (as the user it
// runs as, every item upserted) inside a transaction that is then rolled
// back: the result or the 422 a call would get, and nothing changes. p
// must be able to update the endpoint.
func (e *Engine) Test(ctx context.Context, p *access.Principal, id int64, body []byte) (*Result, error) {
	if err := e.recs.Check(ctx, p, Entity, id, access.Update); err != nil {
		return nil, err
	}
	rec, err := e.endpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, apperr.NotFound()
	}
	ep, errs := e.compiledEndpoint(rec)
	if errs != nil {
		return nil, &apperr.Error{Kind: apperr.ErrUnprocessable, Code: "inbound_endpoint_invalid", Fields: errs}
	}
	payload, ok := decodeBody(body)
	if !ok {
		return nil, apperr.Invalid("bad_json", "reason", i18n.T("inbound_body_not_json"))
	}
	var res *Result
	var refusal error
	err = e.db.WithTx(ctx, func(ctx context.Context) error {
		var err error
		res, refusal, err = e.apply(ctx, ep, payload)
		if err != nil {
			return err
		}
		return errAbort // roll back whatever the outcome
	})
	if !errors.Is(err, errAbort) {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	res.DryRun = true
	return res, nil
}

// apply upserts a payload's items as the endpoint's user, in the caller's
// transaction. A refusal (items that failed, a user that cannot act, a
// budget exceeded) is returned as refusal, with one error per item field
// (items[3].qty) or item (items[3]); err is a failure of the database.
func (e *Engine) apply(ctx context.Context, ep *Endpoint, payload any) (res *Result, refusal error, err error) {
	items, fe := ep.items(payload)
	if fe != nil {
		return nil, apperr.Fields(*fe), nil
	}
	if len(items) > e.limits.MaxItems {
		return nil, apperr.New(apperr.ErrTooLarge, "inbound_too_many_items", "max", e.limits.MaxItems), nil
	}
	p, refusal, err := e.runAs(ctx, ep)
	if refusal != nil || err != nil {
		return nil, refusal, err
	}
	rights := p.RightsOn(ep.Entity)
	res = &Result{Items: make([]ItemResult, 0, len(items))}
	budget := e.limits.EvalBudget
	payloadSize := -1
	vars := map[string]any{"payload": payload}
	// links caches the ids link_by_external_id resolved in this call; an
	// item's own key is dropped once upserted (a purged record's key then
	// names a new record).
	links := map[linkKey]string{}
	var errs []apperr.FieldError
	failed := 0
	for i, raw := range items {
		if len(errs) >= e.limits.MaxErrors {
			break
		}
		item, ok := raw.(map[string]any)
		if !ok {
			errs = append(errs, apperr.Field(itemPath(i), "not_object"))
			failed++
			continue
		}
		ext, ok := externalID(lookup(item, ep.extPath))
		if !ok {
			errs = append(errs, apperr.Field(itemPath(i)+"."+strings.Join(ep.extPath, "."), "inbound_external_id_missing"))
			failed++
			continue
		}
		vars["item"] = item
		itemSize := sizeOf(item)
		input := make(map[string]any, len(ep.mappings))
		var itemErrs []apperr.FieldError
		for _, m := range ep.mappings {
			charge := m.cost
			if m.item {
				charge += itemSize
			}
			if m.payload {
				if payloadSize < 0 {
					payloadSize = sizeOf(payload)
				}
				charge += payloadSize
			}
			if budget -= charge; budget < 0 {
				return nil, apperr.New(apperr.ErrUnprocessable, "inbound_eval_cut_off", "item", i, "max", e.limits.EvalBudget), nil
			}
			path := itemPath(i) + "." + m.field
			v, err := m.prog.Run(vars)
			if err != nil {
				ae, ok := apperr.As(err)
				if !ok {
					return nil, nil, err
				}
				reason, _ := ae.Args["reason"].(string)
				itemErrs = append(itemErrs, apperr.Field(path, "inbound_expression_failed", "expression", m.prog.String(), "reason", reason))
				continue
			}
			if m.kind == KindLinkByExtID && v != nil {
				lv, fe, err := e.linkValue(ctx, m, path, v, links)
				if err != nil {
					return nil, nil, err
				}
				if fe != nil {
					itemErrs = append(itemErrs, *fe)
					continue
				}
				v = lv
			}
			if v == nil && !m.clearNil {
				continue
			}
			if m.f != nil && rights.ReadOnly(m.field) {
				itemErrs = append(itemErrs, apperr.Field(path, "inbound_field_not_writable", "field", m.field))
				continue
			}
			input[m.field] = records.InputValue(m.f, v)
		}
		if len(itemErrs) > 0 {
			errs = append(errs, itemErrs...)
			failed++
			continue
		}
		rec, created, err := e.recs.Upsert(ctx, p, ep.Entity, ep.Source, ext, input)
		if err != nil {
			fes, ok := itemErrors(i, err)
			if !ok {
				return nil, nil, err
			}
			errs = append(errs, fes...)
			failed++
			continue
		}
		delete(links, linkKey{ep.Entity, ep.Source, ext})
		res.Items = append(res.Items, ItemResult{ExternalID: ext, ID: strconv.FormatInt(rec.ID(), 10), Created: created})
		if created {
			res.Created++
		} else {
			res.Updated++
		}
	}
	if len(errs) > 0 {
		if len(errs) > e.limits.MaxErrors {
			errs = errs[:e.limits.MaxErrors]
		}
		return nil, &apperr.Error{Kind: apperr.ErrUnprocessable, Code: "inbound_items_failed",
			Args: map[string]any{"failed": failed, "items": len(items)}, Fields: errs}, nil
	}
	return res, nil, nil
}

// items finds the payload's items: the array at items_path, or the body
// itself (an array of items, or one item).
func (ep *Endpoint) items(payload any) ([]any, *apperr.FieldError) {
	if ep.itemsPath != nil {
		list, ok := lookup(payload, ep.itemsPath).([]any)
		if !ok {
			fe := apperr.Field("items_path", "inbound_items_not_found", "path", strings.Join(ep.itemsPath, "."))
			return nil, &fe
		}
		return list, nil
	}
	if list, ok := payload.([]any); ok {
		return list, nil
	}
	return []any{payload}, nil
}

// runAs is the principal an endpoint's writes use: its user, who must be
// active, marked with the inbound source.
func (e *Engine) runAs(ctx context.Context, ep *Endpoint) (*access.Principal, error, error) {
	inactive := apperr.Fields(apperr.Field("run_as", "inbound_run_as_inactive"))
	active, err := e.users.Active(ctx, ep.RunAs)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, nil, err
	}
	if !active {
		return nil, inactive, nil
	}
	p, err := e.access.Principal(ctx, ep.RunAs)
	if err != nil {
		if _, ok := apperr.As(err); ok {
			return nil, inactive, nil
		}
		return nil, nil, err
	}
	return p.WithSource(Source), nil, nil
}

// linkValue resolves a link_by_external_id value (an external id, or a
// list of them for a multi_link) to the ids of the link's target records
// known by those ids in the mapping's source.
func (e *Engine) linkValue(ctx context.Context, m *mapping, path string, v any, cache map[linkKey]string) (any, *apperr.FieldError, error) {
	resolve := func(x any) (string, *apperr.FieldError, error) {
		ext, ok := externalID(x)
		if !ok {
			fe := apperr.Field(path, "inbound_link_invalid")
			return "", &fe, nil
		}
		key := linkKey{m.target, m.source, ext}
		if id, ok := cache[key]; ok {
			return id, nil, nil
		}
		id, found, err := e.recs.ExternalID(ctx, m.target, m.source, ext)
		if err != nil {
			return "", nil, err
		}
		if !found {
			fe := apperr.Field(path, "inbound_link_unknown", "entity", m.target, "source", m.source, "external_id", ext)
			return "", &fe, nil
		}
		cache[key] = strconv.FormatInt(id, 10)
		return cache[key], nil, nil
	}
	list, isList := v.([]any)
	if m.f.Type == "link" {
		if isList {
			fe := apperr.Field(path, "inbound_link_invalid")
			return nil, &fe, nil
		}
		return resolve(v)
	}
	if !isList {
		list = []any{v}
	}
	out := make([]any, 0, len(list))
	for _, x := range list {
		id, fe, err := resolve(x)
		if fe != nil || err != nil {
			return nil, fe, err
		}
		out = append(out, id)
	}
	return out, nil, nil
}

// linkKey names a record by entity, source and external id.
type linkKey struct{ entity, source, ext string }

// itemErrors turns a refused upsert into the errors of item i: its field
// errors under items[i], or one error on the item. ok is false for a
// failure that is not a refusal (a database error).
func itemErrors(i int, err error) ([]apperr.FieldError, bool) {
	ae, ok := apperr.As(err)
	if !ok {
		return nil, false
	}
	if len(ae.Fields) > 0 {
		out := make([]apperr.FieldError, len(ae.Fields))
		for j, f := range ae.Fields {
			out[j] = apperr.FieldError{Field: itemPath(i) + "." + f.Field, Code: f.Code, Args: f.Args}
		}
		return out, true
	}
	path := itemPath(i)
	if f, ok := ae.Args["field"].(string); ok && f != "" {
		path += "." + f
	}
	return []apperr.FieldError{{Field: path, Code: ae.Code, Args: ae.Args}}, true
}

func itemPath(i int) string { return fmt.Sprintf("items[%d]", i) }

// throttled is the 429 of a call over a rate limit, until the minute ends.
func throttled(now time.Time) error {
	return apperr.New(apperr.ErrThrottled, "inbound_throttled", "retry_after", 60-now.Unix()%60)
}

// Rate-limit buckets: an endpoint's verified calls, a remote address's
// refused ones.
func endpointBucket(id int64) string { return "e:" + strconv.FormatInt(id, 10) }
func failBucket(addr string) string  { return "f:" + addr }

// hits reads a bucket's count in the current minute.
func (e *Engine) hits(ctx context.Context, bucket string, now time.Time) (int64, error) {
	var n int64
	err := e.db.QueryRow(ctx, `SELECT hits FROM inbound_hits WHERE bucket = ? AND window_start = ?`, bucket, now.Unix()/60).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

// hit counts a call in a bucket's current minute and returns the count. On
// PostgreSQL the row stays locked until the transaction ends, so the calls
// of one endpoint are applied one at a time, in the order they arrive.
func (e *Engine) hit(ctx context.Context, bucket string, now time.Time) (int64, error) {
	var n int64
	err := e.db.QueryRow(ctx, `INSERT INTO inbound_hits (bucket, window_start, hits) VALUES (?, ?, 1)
		ON CONFLICT (bucket, window_start) DO UPDATE SET hits = inbound_hits.hits + 1 RETURNING hits`,
		bucket, now.Unix()/60).Scan(&n)
	return n, err
}

// useSignature records a verified signature; false when it was already
// used (a replay). A concurrent call with the same signature waits for the
// first to commit (PostgreSQL) or runs after it (SQLite).
func (e *Engine) useSignature(ctx context.Context, endpoint int64, sig string, expires int64) (bool, error) {
	res, err := e.db.Exec(ctx, `INSERT INTO inbound_signatures (endpoint_id, signature, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (endpoint_id, signature) DO NOTHING`, endpoint, sig, expires)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// refuse answers a call whose signature check failed: the remote
// address's failure count goes up and, for an existing endpoint, the call
// is logged with the reason.
func (e *Engine) refuse(ctx context.Context, endpoint int64, c Call, reason string, start time.Time) error {
	now := e.now()
	err := e.db.WithTx(ctx, func(ctx context.Context) error {
		if c.Remote != "" {
			if _, err := e.hit(ctx, failBucket(c.Remote), now); err != nil {
				return err
			}
		}
		if endpoint == 0 {
			return nil
		}
		return e.logCall(ctx, callRow{endpoint: endpoint, status: 401, remote: c.Remote, bytes: len(c.Body), dur: time.Since(start),
			err: &storedError{Code: "inbound_unauthorized", Reason: reason}})
	})
	if err != nil {
		return err
	}
	return errUnauthorized()
}

// logFailure records a verified call that was refused: its log row, its
// signature (a retry must be signed anew) and its count against the
// endpoint's rate limit, in one transaction.
func (e *Engine) logFailure(ctx context.Context, endpoint int64, c Call, refusal error, sig string, expires int64, start time.Time) error {
	now := e.now()
	return e.db.WithTx(ctx, func(ctx context.Context) error {
		if _, err := e.hit(ctx, endpointBucket(endpoint), now); err != nil {
			return err
		}
		if _, err := e.useSignature(ctx, endpoint, sig, expires); err != nil {
			return err
		}
		row := callRow{endpoint: endpoint, remote: c.Remote, bytes: len(c.Body), dur: time.Since(start), status: 500}
		if ae, ok := apperr.As(refusal); ok {
			row.status = statusOf(ae)
			row.err = storedOf(ae)
			if n, ok := ae.Args["items"].(int); ok {
				row.items = n
			}
		}
		return e.logCall(ctx, row)
	})
}

// statusOf is the HTTP status of a refusal after verification.
func statusOf(ae *apperr.Error) int {
	switch ae.Kind {
	case apperr.ErrInvalid:
		return 400
	case apperr.ErrTooLarge:
		return 413
	case apperr.ErrUnprocessable:
		return 422
	}
	return 500
}
