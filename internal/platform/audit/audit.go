// Package audit is the append-only change log of P8: every field change of
// every record with who, when, through what, old and new value. Rows are
// only ever inserted; nothing in Tenon updates or deletes them.
package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/jsonx"
)

// Change is one field's old and new value, in API form.
type Change struct {
	Old any `json:"old"`
	New any `json:"new"`
}

// Entry is one audited change of a record.
type Entry struct {
	ID       int64             `json:"id,string"`
	Entity   string            `json:"entity"`
	RecordID int64             `json:"record_id,string"`
	Action   string            `json:"action"`
	Version  int64             `json:"version"`
	Actor    int64             `json:"actor,string,omitempty"`
	TokenID  int64             `json:"token_id,string,omitempty"`
	Source   string            `json:"source"`
	At       time.Time         `json:"at"`
	Changes  map[string]Change `json:"changes"`
}

// MarshalChanges encodes changes exactly as json.Marshal does (keys
// sorted, HTML characters escaped), without reflection for the common
// values: every record written has its changes encoded once.
func MarshalChanges(changes map[string]Change) ([]byte, error) {
	if changes == nil {
		return []byte("null"), nil
	}
	keys := make([]string, 0, len(changes))
	for k := range changes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := make([]byte, 0, 64*len(keys)+2)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonx.AppendString(b, k, true)
		b = append(b, `:{"old":`...)
		var err error
		if b, err = appendJSON(b, changes[k].Old); err != nil {
			return nil, err
		}
		b = append(b, `,"new":`...)
		if b, err = appendJSON(b, changes[k].New); err != nil {
			return nil, err
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// appendJSON appends x as json.Marshal encodes it.
func appendJSON(b []byte, x any) ([]byte, error) {
	switch t := x.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return jsonx.AppendString(b, t, true), nil
	case bool:
		return strconv.AppendBool(b, t), nil
	case int64:
		return strconv.AppendInt(b, t, 10), nil
	case int:
		return strconv.AppendInt(b, int64(t), 10), nil
	case []string:
		if t == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, s := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonx.AppendString(b, s, true)
		}
		return append(b, ']'), nil
	}
	j, err := json.Marshal(x)
	return append(b, j...), err
}

// Write appends an entry inside the caller's transaction.
func Write(ctx context.Context, d *db.DB, e Entry) error {
	b, err := MarshalChanges(e.Changes)
	if err != nil {
		return err
	}
	return WriteRaw(ctx, d, e, b)
}

// WriteRaw appends an entry whose changes are already encoded as JSON
// (e.Changes is ignored), for a caller that stores the same changes twice.
func WriteRaw(ctx context.Context, d *db.DB, e Entry, changes []byte) error {
	q, args := Insert(d, e, changes)
	_, err := d.Exec(ctx, q, args...)
	return err
}

// Insert is the statement WriteRaw runs, for a caller that sends it to the
// database together with another one (see events.Outbox.AppendRawWith).
func Insert(d *db.DB, e Entry, changes []byte) (string, []any) {
	return `INSERT INTO audit_log (entity, record_id, action, version, actor, token_id, source, at, changes)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ` + d.JSONParam() + `)`,
		[]any{e.Entity, e.RecordID, e.Action, e.Version, nullID(e.Actor), nullID(e.TokenID), e.Source, e.At.UnixMicro(), string(changes)}
}

// ReserveIDs takes the ids of n entries to be written in that order with
// InsertMany: the log's order is then theirs whatever order the database
// inserts the rows in.
func ReserveIDs(ctx context.Context, d *db.DB, n int) ([]int64, error) {
	return d.ReserveIDs(ctx, "audit_log", "id", n)
}

// InsertMany is the statement that appends entries (each with its
// reserved ID and its changes already encoded), for a caller that sends
// it together with another one (see events.Outbox.WriteMany).
func InsertMany(d *db.DB, es []Entry, changes [][]byte) (string, []any) {
	var b strings.Builder
	b.WriteString(`INSERT INTO audit_log (id, entity, record_id, action, version, actor, token_id, source, at, changes) VALUES `)
	args := make([]any, 0, 10*len(es))
	for i, e := range es {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, " + d.JSONParam() + ")")
		args = append(args, e.ID, e.Entity, e.RecordID, e.Action, e.Version, nullID(e.Actor), nullID(e.TokenID), e.Source, e.At.UnixMicro(), string(changes[i]))
	}
	return b.String(), args
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Query selects entries.
type Query struct {
	Entity   string
	RecordID int64
	Actor    int64
	From, To time.Time
	BeforeID int64 // paging: entries older than this id
	Limit    int
}

// Find returns entries newest first.
func Find(ctx context.Context, d *db.DB, q Query) ([]Entry, error) {
	sqlq := `SELECT id, entity, record_id, action, version, actor, token_id, source, at, changes FROM audit_log WHERE 1=1`
	var args []any
	if q.Entity != "" {
		sqlq += ` AND entity = ?`
		args = append(args, q.Entity)
	}
	if q.RecordID != 0 {
		sqlq += ` AND record_id = ?`
		args = append(args, q.RecordID)
	}
	if q.Actor != 0 {
		sqlq += ` AND actor = ?`
		args = append(args, q.Actor)
	}
	if !q.From.IsZero() {
		sqlq += ` AND at >= ?`
		args = append(args, q.From.UnixMicro())
	}
	if !q.To.IsZero() {
		sqlq += ` AND at < ?`
		args = append(args, q.To.UnixMicro())
	}
	if q.BeforeID != 0 {
		sqlq += ` AND id < ?`
		args = append(args, q.BeforeID)
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 200
	}
	sqlq += ` ORDER BY id DESC LIMIT ?`
	args = append(args, q.Limit)
	rows, err := d.Query(ctx, sqlq, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var actor, tok sql.NullInt64
		var at int64
		var changes []byte
		if err := rows.Scan(&e.ID, &e.Entity, &e.RecordID, &e.Action, &e.Version, &actor, &tok, &e.Source, &at, &changes); err != nil {
			return nil, err
		}
		e.Actor, e.TokenID = actor.Int64, tok.Int64
		e.At = time.UnixMicro(at).UTC()
		if err := json.Unmarshal(changes, &e.Changes); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
