package inbound

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// callRow is one row of the call log being written.
type callRow struct {
	endpoint                int64
	status                  int
	items, created, updated int
	err                     *storedError
	remote                  string
	bytes                   int
	dur                     time.Duration
}

// storedError is a call's error as the log keeps it: codes and arguments,
// rendered in the reader's language when read.
type storedError struct {
	Code   string         `json:"code"`
	Args   map[string]any `json:"args,omitempty"`
	Reason string         `json:"reason,omitempty"`
	Fields []storedField  `json:"fields,omitempty"`
}

type storedField struct {
	Field string         `json:"field"`
	Code  string         `json:"code"`
	Args  map[string]any `json:"args,omitempty"`
}

// storedOf keeps a refusal for the log.
func storedOf(ae *apperr.Error) *storedError {
	se := &storedError{Code: ae.Code, Args: ae.Args}
	for _, f := range ae.Fields {
		se.Fields = append(se.Fields, storedField{Field: f.Field, Code: f.Code, Args: f.Args})
	}
	return se
}

// logCall writes a row of the call log in the transaction in ctx.
func (e *Engine) logCall(ctx context.Context, r callRow) error {
	var errJSON any
	if r.err != nil {
		b, err := json.Marshal(r.err)
		if err != nil {
			return err
		}
		errJSON = string(b)
	}
	_, err := e.db.Exec(ctx, `INSERT INTO inbound_calls (endpoint_id, at, status, items, created, updated, error, remote_addr, body_bytes, duration_us)
		VALUES (?, ?, ?, ?, ?, ?, `+e.db.JSONParam()+`, ?, ?, ?)`,
		r.endpoint, e.now().UnixMicro(), r.status, r.items, r.created, r.updated, errJSON, r.remote, r.bytes, r.dur.Microseconds())
	return err
}

// CallLog is one row of an endpoint's call log as the API shows it.
type CallLog struct {
	ID         string     `json:"id"`
	Endpoint   string     `json:"endpoint"`
	At         string     `json:"at"`
	Status     int        `json:"status"`
	Items      int        `json:"items"`
	Created    int        `json:"created"`
	Updated    int        `json:"updated"`
	Error      *CallError `json:"error"`
	RemoteAddr string     `json:"remote_addr"`
	BodyBytes  int        `json:"body_bytes"`
	DurationMS float64    `json:"duration_ms"`
}

// CallError is a logged call's error in the reader's language. Reason says
// why a signature check failed (no_endpoint never appears: calls to
// unknown endpoints are not logged).
type CallError struct {
	Code    string           `json:"code"`
	Message string           `json:"message"`
	Reason  string           `json:"reason,omitempty"`
	Fields  []CallFieldError `json:"fields,omitempty"`
}

// CallFieldError is one field error of a logged call.
type CallFieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// CallPage is a page of the call log, newest first; NextBefore continues it.
type CallPage struct {
	Items      []CallLog `json:"items"`
	NextBefore string    `json:"next_before,omitempty"`
}

// CallFilter selects calls: Status "ok" (2xx) or "failed" (the rest).
type CallFilter struct {
	Status string
	Before int64
	Limit  int
}

// Calls lists an endpoint's call log for p, who must be able to read the
// endpoint.
func (e *Engine) Calls(ctx context.Context, p *access.Principal, id int64, f CallFilter) (CallPage, error) {
	if _, err := e.recs.Get(ctx, p, Entity, id, records.GetOptions{Fields: []string{"name"}}); err != nil {
		return CallPage{}, err
	}
	limit, err := records.PageLimit(f.Limit)
	if err != nil {
		return CallPage{}, err
	}
	f.Limit = limit
	q := `SELECT id, endpoint_id, at, status, items, created, updated, error, remote_addr, body_bytes, duration_us
		FROM inbound_calls WHERE endpoint_id = ?`
	args := []any{id}
	switch f.Status {
	case "":
	case "ok":
		q += ` AND status < 300`
	case "failed":
		q += ` AND status >= 300`
	default:
		return CallPage{}, apperr.Invalid("inbound_bad_status", "status", f.Status)
	}
	if f.Before > 0 {
		q += ` AND id < ?`
		args = append(args, f.Before)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit+1)
	rows, err := e.db.Query(ctx, q, args...)
	if err != nil {
		return CallPage{}, err
	}
	defer rows.Close()
	lang := i18n.Lang(p.Lang)
	page := CallPage{Items: []CallLog{}}
	var last int64
	for rows.Next() {
		var cid, ep, at, dur int64
		var status, items, created, updated, size int
		var errRaw []byte
		var remote string
		if err := rows.Scan(&cid, &ep, &at, &status, &items, &created, &updated, &errRaw, &remote, &size, &dur); err != nil {
			return CallPage{}, err
		}
		if len(page.Items) == f.Limit {
			page.NextBefore = strconv.FormatInt(last, 10)
			break
		}
		c := CallLog{ID: strconv.FormatInt(cid, 10), Endpoint: strconv.FormatInt(ep, 10), At: meta.FormatTime(time.UnixMicro(at)),
			Status: status, Items: items, Created: created, Updated: updated, RemoteAddr: remote, BodyBytes: size,
			DurationMS: float64(dur) / 1000}
		if len(errRaw) > 0 && string(errRaw) != "null" {
			var se storedError
			if json.Unmarshal(errRaw, &se) == nil {
				c.Error = se.render(lang)
			}
		}
		page.Items = append(page.Items, c)
		last = cid
	}
	return page, rows.Err()
}

// render writes a stored error in lang.
func (se *storedError) render(lang i18n.Lang) *CallError {
	out := &CallError{Code: se.Code, Reason: se.Reason, Message: i18n.Message(lang, se.Code, texts(se.Args))}
	if se.Reason != "" {
		out.Message = i18n.Message(lang, "inbound_call_refused", map[string]any{"reason": i18n.T("inbound_reason_" + se.Reason)})
	}
	for _, f := range se.Fields {
		out.Fields = append(out.Fields, CallFieldError{Field: f.Field, Code: f.Code, Message: i18n.Message(lang, f.Code, texts(f.Args))})
	}
	return out
}

// texts turns stored arguments that were translated texts (i18n.Text,
// stored as {"code": ...}) back into i18n.Text.
func texts(args map[string]any) map[string]any {
	for k, v := range args {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		code, ok := m["code"].(string)
		if !ok {
			continue
		}
		t := i18n.Text{Code: code}
		if a, ok := m["args"].(map[string]any); ok {
			t.Args = a
		}
		args[k] = t
	}
	return args
}

// purgeJob keeps the engine's tables small: signatures whose timestamp
// has left the tolerance window, rate-limit windows older than an hour,
// log rows older than Limits.KeepCalls and beyond Limits.KeepCallsPerEndpoint
// per endpoint.
func (e *Engine) purgeJob(ctx context.Context, _ *jobs.Job) error {
	now := e.now()
	if _, err := e.db.Exec(ctx, `DELETE FROM inbound_signatures WHERE expires_at < ?`, now.Unix()); err != nil {
		return err
	}
	if _, err := e.db.Exec(ctx, `DELETE FROM inbound_hits WHERE window_start < ?`, now.Unix()/60-60); err != nil {
		return err
	}
	if _, err := e.db.Exec(ctx, `DELETE FROM inbound_calls WHERE at < ?`, now.Add(-e.limits.KeepCalls).UnixMicro()); err != nil {
		return err
	}
	over, err := e.db.Int64s(ctx, `SELECT endpoint_id FROM inbound_calls GROUP BY endpoint_id HAVING COUNT(*) > ?`, e.limits.KeepCallsPerEndpoint)
	if err != nil {
		return err
	}
	for _, id := range over {
		var cut sql.NullInt64
		if err := e.db.QueryRow(ctx, `SELECT id FROM inbound_calls WHERE endpoint_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?`,
			id, e.limits.KeepCallsPerEndpoint).Scan(&cut); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if cut.Valid {
			if _, err := e.db.Exec(ctx, `DELETE FROM inbound_calls WHERE endpoint_id = ? AND id <= ?`, id, cut.Int64); err != nil {
				return err
			}
		}
	}
	return nil
}
