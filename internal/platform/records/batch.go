package records

import (
	"context"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/audit"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/events"
)

// Batched creates.
//
// An import writes hundreds of records in one transaction, and each create
// is a row, an audit entry and an outbox event: on PostgreSQL two
// statements, each a round trip and the server's work of a statement. A
// caller that expects many creates of one entity says so with WithBatch;
// those creates then put off their row, audit and outbox writes
// (db.Defer). Everything else about each create happens as for a single
// one, in the same order — before hooks, validation, numbering, links,
// after hooks, the subscribers' notice — with the record's id reserved in
// advance. The put-off rows, entries and events go to the database as one
// multi-row INSERT each (per few hundred) as soon as anything else touches
// the database in the transaction, or the savepoint or transaction ends:
// whatever runs next sees exactly what single creates would have left.
// Ids, audit ids and outbox seqs are reserved in creation order, so the
// records, the audit log and the change feed are the same as those of
// single creates. A refused write (a unique value taken, a record outside
// the creator's scope) fails the flush, and with it the savepoint or
// transaction: a caller that wants to know which row was refused writes
// the rows again one by one (the importer does).

// batchKey holds a *batchHint in a context.
type batchKey struct{}

// batchHint is what a caller of WithBatch expects.
type batchHint struct {
	entity string
	left   int // creates still expected (how many ids to reserve)
}

// WithBatch returns a context in which creates of entity, about n of them,
// put off their writes as described above. It matters only inside a
// transaction; n is how many record ids to reserve at once (a record id not
// used is a gap in the ids, as a rolled-back create leaves).
func WithBatch(ctx context.Context, entity string, n int) context.Context {
	return context.WithValue(ctx, batchKey{}, &batchHint{entity: entity, left: n})
}

// writesKey holds a transaction's *writes (db.TxValue: a savepoint rolled
// back drops it together with the writes it had queued).
type writesKey struct{}

// writes are the creates a transaction has put off and not written yet.
type writes struct {
	s       *Service
	hint    *batchHint
	ids     map[string][]int64 // reserved record ids not used yet, by table
	rows    []*newRows         // in order of their first row
	byKey   map[rowsKey]*newRows
	changes []loggedChange
	queued  bool // the flush is queued (db.Defer)
}

// rowsKey groups the put-off rows of a table by creator (the scope a
// flush checks is the creator's).
type rowsKey struct {
	table string
	p     *access.Principal
}

// newRows are the put-off rows of one table and creator.
type newRows struct {
	v     *view // a creating view (columns, scope, unique fields)
	shape rowShape
	ids   []int64
	vals  []any // len(shape.cols) per row
}

// loggedChange is a put-off audit entry (nil: the entity is not audited)
// and outbox event (nil: no outbox), with their changes encoded.
type loggedChange struct {
	entry *audit.Entry
	ev    *events.Change
	raw   []byte
}

// batchFor returns the transaction's put-off writes when creates of v's
// entity are batched in ctx (see WithBatch), nil otherwise.
func (s *Service) batchFor(ctx context.Context, v *view) *writes {
	h, ok := ctx.Value(batchKey{}).(*batchHint)
	if !ok || h.entity != v.e.Name || !db.InTx(ctx) {
		return nil
	}
	w, _ := db.TxValue(ctx, writesKey{}).(*writes)
	if w == nil {
		w = &writes{s: s, ids: map[string][]int64{}, byKey: map[rowsKey]*newRows{}}
		db.SetTxValue(ctx, writesKey{}, w)
	}
	w.hint = h
	return w
}

// insert puts off the row of a new record and returns its reserved id.
func (w *writes) insert(ctx context.Context, v *view, rec Record) (int64, error) {
	table := v.e.Table()
	if len(w.ids[table]) == 0 {
		ids, err := w.s.db.ReserveIDs(ctx, table, "id", max(w.hint.left, 1))
		if err != nil {
			return 0, err
		}
		w.ids[table] = ids
	}
	id := w.ids[table][0]
	w.ids[table] = w.ids[table][1:]
	w.hint.left--
	rec["id"] = id
	k := rowsKey{table, v.p}
	r := w.byKey[k]
	if r == nil {
		r = &newRows{v: v}
		r.vals = v.newRow(rec, true, &r.shape, nil)
		w.byKey[k] = r
		w.rows = append(w.rows, r)
	} else {
		r.vals = v.newRow(rec, true, nil, r.vals)
	}
	r.ids = append(r.ids, id)
	return id, w.queue(ctx)
}

// change puts off the audit entry and outbox event of a create; the
// subscribers are told of the event (after commit) in its turn.
func (w *writes) change(ctx context.Context, entry *audit.Entry, ev *events.Change, raw []byte) {
	if ev != nil {
		w.s.outbox.Notify(ctx, ev)
	}
	w.changes = append(w.changes, loggedChange{entry: entry, ev: ev, raw: raw})
}

func (w *writes) queue(ctx context.Context) error {
	if w.queued {
		return nil
	}
	w.queued = true
	return db.Defer(ctx, w.flush)
}

// flush writes what was put off: the rows (and checks them against their
// creators' scopes), then the audit entries and outbox events.
func (w *writes) flush(ctx context.Context) error {
	rows, changes := w.rows, w.changes
	w.rows, w.changes, w.byKey, w.queued = nil, nil, map[rowsKey]*newRows{}, false
	for _, r := range rows {
		if err := r.write(ctx); err != nil {
			return err
		}
	}
	return w.s.writeChanges(ctx, changes)
}

// Multi-row statements hold at most maxBatchRows rows and maxBatchParams
// parameters (SQLite allows 32,766; PostgreSQL 65,535).
const (
	maxBatchRows   = 512
	maxBatchParams = 30000
)

// inChunks calls fn for consecutive ranges covering [0, n) whose sizes
// are powers of two no larger than most, largest first: a few distinct
// statement texts per table, which the statement caches keep.
func inChunks(n, most int, fn func(lo, hi int) error) error {
	size := 1
	for size*2 <= most {
		size *= 2
	}
	for lo := 0; lo < n; {
		for size > n-lo {
			size /= 2
		}
		if err := fn(lo, lo+size); err != nil {
			return err
		}
		lo += size
	}
	return nil
}

// write inserts the rows and checks that the creator may see each of them
// (see checkScopeAfter).
func (r *newRows) write(ctx context.Context) error {
	d := r.v.s.db
	table := d.Ident(r.v.e.Table())
	width := len(r.shape.cols)
	head := "INSERT INTO " + table + " (" + strings.Join(r.shape.cols, ", ") + ") VALUES "
	tuple := "(" + strings.Join(r.shape.marks, ", ") + ")"
	err := inChunks(len(r.ids), min(maxBatchRows, maxBatchParams/width), func(lo, hi int) error {
		_, err := d.Exec(ctx, head+repeatJoin(tuple, hi-lo), r.vals[lo*width:hi*width]...)
		return err
	})
	if err != nil {
		return r.v.uniqueConflict(err)
	}
	if !r.v.scoped {
		return nil
	}
	return inChunks(len(r.ids), min(maxBatchRows, maxBatchParams-len(r.v.sargs)), func(lo, hi int) error {
		args := make([]any, 0, hi-lo+len(r.v.sargs))
		for _, id := range r.ids[lo:hi] {
			args = append(args, id)
		}
		var n int
		q := "SELECT COUNT(*) FROM " + table + " t WHERE t.id IN (" + placeholders(hi-lo) + ") AND " + r.v.scope
		if err := d.QueryRow(ctx, q, append(args, r.v.sargs...)...).Scan(&n); err != nil {
			return err
		}
		if n != hi-lo {
			return apperr.Forbidden("outside_scope")
		}
		return nil
	})
}

// repeatJoin is n copies of s separated by ", ".
func repeatJoin(s string, n int) string {
	var b strings.Builder
	b.Grow(n * (len(s) + 2))
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s)
	}
	return b.String()
}

// writeChanges writes put-off audit entries and outbox events, their ids
// and seqs reserved in their order first, a few hundred of each in one
// statement (see events.Outbox.WriteMany).
func (s *Service) writeChanges(ctx context.Context, changes []loggedChange) error {
	var entries []audit.Entry
	var evs []*events.Change
	var auditRaw, evRaw [][]byte
	for _, c := range changes {
		if c.entry != nil {
			entries, auditRaw = append(entries, *c.entry), append(auditRaw, c.raw)
		}
		if c.ev != nil {
			evs, evRaw = append(evs, c.ev), append(evRaw, c.raw)
		}
	}
	ids, err := audit.ReserveIDs(ctx, s.db, len(entries))
	if err != nil {
		return err
	}
	for i := range entries {
		entries[i].ID = ids[i]
	}
	if len(evs) > 0 {
		seqs, err := s.outbox.ReserveSeqs(ctx, len(evs))
		if err != nil {
			return err
		}
		for i, ev := range evs {
			ev.Seq = seqs[i]
		}
	}
	// Chunks of the entries and of the events go together while both last
	// (an entity has both or only events), then whichever is left.
	return inChunks(max(len(entries), len(evs)), maxBatchRows, func(lo, hi int) error {
		var auditSQL string
		var auditArgs []any
		if lo < len(entries) {
			auditSQL, auditArgs = audit.InsertMany(s.db, entries[lo:min(hi, len(entries))], auditRaw[lo:min(hi, len(entries))])
		}
		if lo < len(evs) {
			return s.outbox.WriteMany(ctx, evs[lo:min(hi, len(evs))], evRaw[lo:min(hi, len(evs))], auditSQL, auditArgs)
		}
		_, err := s.db.Exec(ctx, auditSQL, auditArgs...)
		return err
	})
}
