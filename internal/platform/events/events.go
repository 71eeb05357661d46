// Package events is the transactional outbox and the change feed. Every
// record change appends one row inside the writing transaction; the feed
// reads rows in commit order, and in-process subscribers are told after
// commit. Rules, webhooks and NATS publishing consume the outbox.
package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db"
)

// Change is one outbox row.
type Change struct {
	Seq      int64          `json:"seq,string"`
	Entity   string         `json:"entity"`
	RecordID int64          `json:"record_id,string"`
	Event    string         `json:"event"`
	Version  int64          `json:"version"`
	Actor    int64          `json:"actor,string,omitempty"`
	At       time.Time      `json:"occurred_at"`
	Changes  map[string]any `json:"changes"`
}

// Outbox writes and reads the outbox and fans out to subscribers.
type Outbox struct {
	db   *db.DB
	mu   sync.RWMutex
	subs []func(Change)
}

// New builds the outbox.
func New(d *db.DB) *Outbox { return &Outbox{db: d} }

// Subscribe registers fn to be called after each committed change (in the
// committing goroutine: keep it short and non-blocking).
func (o *Outbox) Subscribe(fn func(Change)) {
	o.mu.Lock()
	o.subs = append(o.subs, fn)
	o.mu.Unlock()
}

// Append adds a change inside the caller's transaction.
//
// Readers follow seq, so seq order must be commit order. On SQLite the
// single writer gives that. On PostgreSQL sequence values are handed out at
// insert time, not at commit, so the insert is deferred to just before the
// commit and made under a transaction-level advisory lock: appends are
// serialised only across "insert + commit", not across whole transactions.
func (o *Outbox) Append(ctx context.Context, c Change) error {
	b, err := json.Marshal(c.Changes)
	if err != nil {
		return err
	}
	return o.AppendRaw(ctx, c, b)
}

// AppendRaw is Append with c.Changes already encoded as JSON.
func (o *Outbox) AppendRaw(ctx context.Context, c Change, changes []byte) error {
	if o.db.Kind == db.Postgres {
		return db.BeforeCommit(ctx, func(ctx context.Context) error {
			if _, err := o.db.Exec(ctx, `SELECT pg_advisory_xact_lock(7312003)`); err != nil {
				return err
			}
			return o.insert(ctx, c, changes)
		})
	}
	return o.insert(ctx, c, changes)
}

func (o *Outbox) insert(ctx context.Context, c Change, changes []byte) error {
	var actor any
	if c.Actor != 0 {
		actor = c.Actor
	}
	if err := o.db.QueryRow(ctx, `INSERT INTO outbox (entity, record_id, event, version, actor, at, changes)
		VALUES (?, ?, ?, ?, ?, ?, `+o.db.JSONParam()+`) RETURNING seq`,
		c.Entity, c.RecordID, c.Event, c.Version, actor, c.At.UnixMicro(), string(changes)).Scan(&c.Seq); err != nil {
		return err
	}
	db.AfterCommit(ctx, func() {
		o.mu.RLock()
		subs := o.subs
		o.mu.RUnlock()
		for _, s := range subs {
			s(c)
		}
	})
	return nil
}

// Since returns up to limit changes after seq, optionally for some entities
// only, in commit order.
func (o *Outbox) Since(ctx context.Context, seq int64, entities []string, limit int) ([]Change, error) {
	q := `SELECT seq, entity, record_id, event, version, actor, at, changes FROM outbox WHERE seq > ?`
	args := []any{seq}
	if len(entities) > 0 {
		q += ` AND entity IN (` + strings.TrimSuffix(strings.Repeat("?,", len(entities)), ",") + `)`
		for _, e := range entities {
			args = append(args, e)
		}
	}
	q += ` ORDER BY seq LIMIT ?`
	args = append(args, limit)
	rows, err := o.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var actor sql.NullInt64
		var at int64
		var changes []byte
		if err := rows.Scan(&c.Seq, &c.Entity, &c.RecordID, &c.Event, &c.Version, &actor, &at, &changes); err != nil {
			return nil, err
		}
		c.Actor = actor.Int64
		c.At = time.UnixMicro(at).UTC()
		if err := json.Unmarshal(changes, &c.Changes); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Last returns the newest seq (0 when empty).
func (o *Outbox) Last(ctx context.Context) (int64, error) {
	var n int64
	err := o.db.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM outbox`).Scan(&n)
	return n, err
}
