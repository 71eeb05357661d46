// Package events is the transactional outbox and the change feed. Every
// record change appends one row inside the writing transaction; the feed
// reads rows in commit order, and in-process subscribers are told after
// commit. Rules, webhooks and NATS publishing consume the outbox.
package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db"
)

// Change is one outbox row.
type Change struct {
	Seq      int64          `json:"seq,string"`
	Tx       int64          `json:"-"` // the writing transaction on PostgreSQL (see Cursor)
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
func (o *Outbox) Append(ctx context.Context, c Change) error {
	b, err := json.Marshal(c.Changes)
	if err != nil {
		return err
	}
	return o.AppendRaw(ctx, c, b)
}

// AppendRaw is Append with c.Changes already encoded as JSON.
func (o *Outbox) AppendRaw(ctx context.Context, c Change, changes []byte) error {
	return o.AppendRawWith(ctx, c, changes, "", nil)
}

// AppendRawWith is AppendRaw that also runs the INSERT statement with in the
// same transaction (the records service passes the change's audit row). On
// PostgreSQL both go to the server as one statement (a data-modifying WITH),
// which saves a round trip per record written; on SQLite, in process, it
// runs first.
func (o *Outbox) AppendRawWith(ctx context.Context, c Change, changes []byte, with string, withArgs []any) error {
	q, args, err := o.joined(ctx, `INSERT INTO outbox (entity, record_id, event, version, actor, at, changes)
		VALUES (?, ?, ?, ?, ?, ?, `+o.db.JSONParam()+`) RETURNING seq`,
		[]any{c.Entity, c.RecordID, c.Event, c.Version, actorArg(c.Actor), c.At.UnixMicro(), string(changes)}, with, withArgs)
	if err != nil {
		return err
	}
	if err := o.db.QueryRow(ctx, q, args...).Scan(&c.Seq); err != nil {
		return err
	}
	o.Notify(ctx, &c)
	return nil
}

// joined is the outbox statement q with the statement with: on
// PostgreSQL one statement (a data-modifying WITH); on SQLite, in process,
// with runs now and q stays as it is.
func (o *Outbox) joined(ctx context.Context, q string, args []any, with string, withArgs []any) (string, []any, error) {
	if with == "" {
		return q, args, nil
	}
	if o.db.Kind == db.Postgres {
		return "WITH w AS (" + with + ") " + q, append(withArgs[:len(withArgs):len(withArgs)], args...), nil
	}
	_, err := o.db.Exec(ctx, with, withArgs...)
	return q, args, err
}

func actorArg(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Notify tells the subscribers of c after the transaction in ctx commits,
// in the order of the calls. Append does it itself; a caller that writes c
// later with WriteMany calls it when the change happens, so that
// subscribers hear of changes in the order they were made, each with the
// seq WriteMany gave it.
func (o *Outbox) Notify(ctx context.Context, c *Change) {
	db.AfterCommit(ctx, func() {
		o.mu.RLock()
		subs := o.subs
		o.mu.RUnlock()
		for _, s := range subs {
			s(*c)
		}
	})
}

// ReserveSeqs takes the seqs of n changes to be written in that order with
// WriteMany: the feed's order is then theirs whatever order the database
// inserts the rows in.
func (o *Outbox) ReserveSeqs(ctx context.Context, n int) ([]int64, error) {
	return o.db.ReserveIDs(ctx, "outbox", "seq", n)
}

// WriteMany writes changes put off by the caller (see Notify), each with
// its reserved Seq, in one statement, with the INSERT statement with (the
// changes' audit rows; see AppendRawWith).
func (o *Outbox) WriteMany(ctx context.Context, cs []*Change, changes [][]byte, with string, withArgs []any) error {
	var b strings.Builder
	b.WriteString(`INSERT INTO outbox (seq, entity, record_id, event, version, actor, at, changes) VALUES `)
	args := make([]any, 0, 8*len(cs))
	for i, c := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, " + o.db.JSONParam() + ")")
		args = append(args, c.Seq, c.Entity, c.RecordID, c.Event, c.Version, actorArg(c.Actor), c.At.UnixMicro(), string(changes[i]))
	}
	q, args, err := o.joined(ctx, b.String(), args, with, withArgs)
	if err != nil {
		return err
	}
	_, err = o.db.Exec(ctx, q, args...)
	return err
}

// Cursor is a position in the feed. Readers follow it in commit order.
//
// On SQLite the single writer commits in seq order, so seq alone is the
// position (Tx is 0). On PostgreSQL seq values are handed out at insert
// time, not at commit, so a row with a smaller seq can become visible after
// one with a larger seq. Each row therefore also records its writing
// transaction (tx), and the feed returns rows in (tx, seq) order but only
// from transactions older than every transaction still running (the
// snapshot's xmin): every row such a transaction wrote is visible, and any
// row that appears later belongs to a transaction at or above that xmin, so
// it sorts after the cursor. Nothing is skipped and no lock is taken. A
// long-running writing transaction delays the feed; it never reorders it.
type Cursor struct{ Tx, Seq int64 }

// ParseCursor reads a cursor as String writes it ("seq" or "tx.seq"); ""
// is the start.
func ParseCursor(s string) (Cursor, bool) {
	if s == "" {
		return Cursor{}, true
	}
	txs, seqs, two := strings.Cut(s, ".")
	if !two {
		txs, seqs = "0", s
	}
	tx, err1 := strconv.ParseInt(txs, 10, 64)
	seq, err2 := strconv.ParseInt(seqs, 10, 64)
	if err1 != nil || err2 != nil || tx < 0 || seq < 0 {
		return Cursor{}, false
	}
	return Cursor{Tx: tx, Seq: seq}, true
}

func (c Cursor) String() string {
	if c.Tx == 0 {
		return strconv.FormatInt(c.Seq, 10)
	}
	return strconv.FormatInt(c.Tx, 10) + "." + strconv.FormatInt(c.Seq, 10)
}

// CursorOf is the position just after c.
func CursorOf(c Change) Cursor { return Cursor{Tx: c.Tx, Seq: c.Seq} }

// Since returns up to limit changes after cur, optionally for some entities
// only, in commit order.
func (o *Outbox) Since(ctx context.Context, cur Cursor, entities []string, limit int) ([]Change, error) {
	q := `SELECT seq, tx, entity, record_id, event, version, actor, at, changes FROM outbox WHERE seq > ?`
	args := []any{cur.Seq}
	order := ` ORDER BY seq`
	if o.db.Kind == db.Postgres {
		q = `SELECT seq, tx, entity, record_id, event, version, actor, at, changes FROM outbox
			WHERE (tx, seq) > (?, ?) AND tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint`
		args = []any{cur.Tx, cur.Seq}
		order = ` ORDER BY tx, seq`
	}
	if len(entities) > 0 {
		q += ` AND entity IN (` + strings.TrimSuffix(strings.Repeat("?,", len(entities)), ",") + `)`
		for _, e := range entities {
			args = append(args, e)
		}
	}
	q += order + ` LIMIT ?`
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
		if err := rows.Scan(&c.Seq, &c.Tx, &c.Entity, &c.RecordID, &c.Event, &c.Version, &actor, &at, &changes); err != nil {
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
