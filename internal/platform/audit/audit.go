// Package audit is the append-only change log of P8: every field change of
// every record with who, when, through what, old and new value. Rows are
// only ever inserted; nothing in Tenon updates or deletes them.
package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db"
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

// Write appends an entry inside the caller's transaction.
func Write(ctx context.Context, d *db.DB, e Entry) error {
	b, err := json.Marshal(e.Changes)
	if err != nil {
		return err
	}
	return WriteRaw(ctx, d, e, b)
}

// WriteRaw appends an entry whose changes are already encoded as JSON
// (e.Changes is ignored), for a caller that stores the same changes twice.
func WriteRaw(ctx context.Context, d *db.DB, e Entry, changes []byte) error {
	_, err := d.Exec(ctx, `INSERT INTO audit_log (entity, record_id, action, version, actor, token_id, source, at, changes)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, `+d.JSONParam()+`)`,
		e.Entity, e.RecordID, e.Action, e.Version, nullID(e.Actor), nullID(e.TokenID), e.Source, e.At.UnixMicro(), string(changes))
	return err
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
