package records

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// SQLite's full-text index is written behind the records, in batches, rather
// than inside each create. Every commit that touches an FTS5 table flushes
// a new index segment and merges older ones; with the single writer doing
// that for every group of creates, it was a quarter of the cost of a create.
//
// The index is still never wrong, only partly in a table instead of the FTS
// structure:
//   - settings holds, per entity, the id up to which the index is built (the
//     watermark, "search_indexed_to:<entity>", 0 when absent);
//   - a search reads the FTS index for ids up to the watermark and scans the
//     stored search text of the few rows above it (a range on the primary
//     key), in the same statement, so a record is found the moment its
//     create commits;
//   - an update of a row at or below the watermark rewrites its index entry
//     in its own transaction; a row above it is left to the indexer, which
//     reads the current text when it gets there;
//   - the indexer moves the watermark in the same transaction as the index
//     entries it writes, so a crash loses nothing and duplicates nothing.
//
// PostgreSQL keeps its grams in the row itself (a GIN index), so none of this
// applies there.

// indexBatch is how many records one indexer transaction covers.
const indexBatch = 2000

// indexDelay lets creates accumulate before the indexer runs, so that each
// of its transactions writes one larger segment.
const indexDelay = 200 * time.Millisecond

// ftsMergeEvery is how many index writes on an entity trigger an
// incremental merge of its FTS5 segments. A bounded 'merge' keeps a busy
// index compact (a fragmented one answers several times slower).
const ftsMergeEvery = 20000

func watermarkKey(e *meta.Entity) string { return "search_indexed_to:" + e.Name }

// indexedTo returns the watermark of e, read in the context's transaction.
func (s *Service) indexedTo(ctx context.Context, e *meta.Entity) (int64, error) {
	var v string
	err := s.db.QueryRow(ctx, `SELECT value FROM settings WHERE key = ?`, watermarkKey(e)).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}

func (s *Service) setIndexedTo(ctx context.Context, e *meta.Entity, id int64) error {
	_, err := s.db.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, watermarkKey(e), strconv.FormatInt(id, 10))
	return err
}

// unindexedTail is the SQL of the ids of e above its watermark, for the
// search predicate.
func (s *Service) unindexedTail(e *meta.Entity) (string, any) {
	d := s.db
	return "SELECT id FROM " + d.Ident(e.Table()) + " WHERE id > COALESCE((SELECT CAST(value AS INTEGER) FROM settings WHERE key = ?), 0)",
		watermarkKey(e)
}

// indexPending indexes up to indexBatch records of e above its watermark in
// one transaction and reports how many it indexed. The terms are made
// before the transaction, from a read of the pending rows; inside it the
// rows are read again and any whose text changed in between is cut anew, so
// the single writer only compares strings and inserts.
func (s *Service) indexPending(ctx context.Context, e *meta.Entity) (int, error) {
	d := s.db
	from, err := s.indexedTo(ctx, e)
	if err != nil {
		return 0, err
	}
	pre, err := s.pendingRows(ctx, e, from)
	if err != nil || len(pre) == 0 {
		return 0, err
	}
	terms := make(map[int64]string, len(pre))
	texts := make(map[int64]string, len(pre))
	for _, r := range pre {
		texts[r.id] = r.text
		terms[r.id] = strings.Join(grams(r.text), " ")
	}
	n := 0
	err = d.WithTx(ctx, func(ctx context.Context) error {
		n = 0
		from, err := s.indexedTo(ctx, e)
		if err != nil {
			return err
		}
		batch, err := s.pendingRows(ctx, e, from)
		if err != nil || len(batch) == 0 {
			return err
		}
		fts := d.Ident(e.FTSTable())
		for _, r := range batch {
			g, ok := terms[r.id]
			if !ok || texts[r.id] != r.text {
				g = strings.Join(grams(r.text), " ")
			}
			if _, err := d.Exec(ctx, "INSERT INTO "+fts+" (rowid, g) VALUES (?, ?)", r.id, g); err != nil {
				return err
			}
		}
		if err := s.setIndexedTo(ctx, e, batch[len(batch)-1].id); err != nil {
			return err
		}
		n = len(batch)
		return s.maybeMergeFTS(ctx, e, n)
	})
	return n, err
}

type pendingRow struct {
	id   int64
	text string
}

// pendingRows reads up to indexBatch rows of e above id from, in the
// context's transaction or on the read pool.
func (s *Service) pendingRows(ctx context.Context, e *meta.Entity, from int64) ([]pendingRow, error) {
	d := s.db
	rows, err := d.Query(ctx, "SELECT id, COALESCE(search, '') FROM "+d.Ident(e.Table())+" WHERE id > ? ORDER BY id LIMIT ?", from, indexBatch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pendingRow
	for rows.Next() {
		var r pendingRow
		if err := rows.Scan(&r.id, &r.text); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// maybeMergeFTS runs a bounded incremental merge of e's FTS5 segments once
// every ftsMergeEvery index writes.
func (s *Service) maybeMergeFTS(ctx context.Context, e *meta.Entity, writes int) error {
	s.mu.Lock()
	s.sinceCompact[e.Name] += writes
	before := s.ftsWrites[e.Name]
	s.ftsWrites[e.Name] += writes
	due := before/ftsMergeEvery != s.ftsWrites[e.Name]/ftsMergeEvery
	s.mu.Unlock()
	if !due {
		return nil
	}
	fts := s.db.Ident(e.FTSTable())
	_, err := s.db.Exec(ctx, "INSERT INTO "+fts+" ("+fts+", rank) VALUES ('merge', 500)")
	return err
}

// CatchUpSearch indexes every record still above its entity's watermark.
// progress, when given, is called after each batch.
func (s *Service) CatchUpSearch(ctx context.Context, progress func(entity string, done int)) error {
	if s.db.Kind != db.SQLite {
		return nil
	}
	for _, e := range s.reg.All() {
		if err := s.catchUp(ctx, e, progress); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) catchUp(ctx context.Context, e *meta.Entity, progress func(string, int)) error {
	if !e.HasSearch() {
		return nil
	}
	done := 0
	for {
		n, err := s.indexPending(ctx, e)
		if err != nil {
			return err
		}
		done += n
		if progress != nil && n > 0 {
			progress(e.Name, done)
		}
		if n < indexBatch {
			return nil
		}
	}
}

// nudgeIndexer tells the indexer that records were created.
func (s *Service) nudgeIndexer() {
	select {
	case s.nudge <- struct{}{}:
	default:
	}
}

// compactAfter is how long the indexer waits with nothing to index before it
// compacts the segments its batches left (a query probes every segment, so
// a burst of creates left unmerged slows searches); compactMin is how many
// index writes make that worthwhile.
const (
	compactAfter = 3 * time.Second
	compactMin   = 1000
	compactPages = 1000 // pages merged per transaction
	compactPause = 20 * time.Millisecond
)

// RunSearchIndexer keeps SQLite's full-text index caught up with creates
// until ctx ends, and compacts it when creates pause. It returns at once on
// PostgreSQL. Errors are reported to onErr and retried after a pause.
func (s *Service) RunSearchIndexer(ctx context.Context, onErr func(error)) {
	if s.db.Kind != db.SQLite {
		return
	}
	s.nudgeIndexer() // whatever was pending at start
	idle := time.NewTimer(compactAfter)
	defer idle.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-idle.C:
			if err := s.CompactSearch(ctx); err != nil && ctx.Err() == nil {
				onErr(err)
			}
			continue
		case <-s.nudge:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(indexDelay):
		}
		if err := s.CatchUpSearch(ctx, nil); err != nil && ctx.Err() == nil {
			onErr(err)
			s.nudgeIndexer()
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
		idle.Reset(compactAfter)
	}
}

// CompactSearch merges the FTS5 segments of every entity that took at least
// compactMin index writes since it was last compacted, a bounded step per
// transaction, and stops early when creates resume.
func (s *Service) CompactSearch(ctx context.Context) error {
	for _, e := range s.reg.All() {
		s.mu.Lock()
		due := s.sinceCompact[e.Name] >= compactMin
		s.mu.Unlock()
		if !due || !e.HasSearch() {
			continue
		}
		for {
			if len(s.nudge) > 0 {
				return nil // creates again: index first, compact later
			}
			more, err := s.compactStep(ctx, e)
			if err != nil {
				return err
			}
			if !more {
				break
			}
			select { // leave the writer and the disk to others between steps
			case <-ctx.Done():
				return nil
			case <-time.After(compactPause):
			}
		}
		s.mu.Lock()
		s.sinceCompact[e.Name] = 0
		s.mu.Unlock()
	}
	return nil
}

// compactStep merges up to compactPages pages of e's index and reports
// whether there may be more to merge (FTS5 tells by the rows it changed).
func (s *Service) compactStep(ctx context.Context, e *meta.Entity) (bool, error) {
	fts := s.db.Ident(e.FTSTable())
	more := false
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		var before, after int64
		if err := s.db.QueryRow(ctx, "SELECT total_changes()").Scan(&before); err != nil {
			return err
		}
		// A positive count merges only levels holding at least 'usermerge'
		// (two) segments, so an index that is already compact costs nothing.
		if _, err := s.db.Exec(ctx, "INSERT INTO "+fts+" ("+fts+", rank) VALUES ('merge', ?)", compactPages); err != nil {
			return err
		}
		if err := s.db.QueryRow(ctx, "SELECT total_changes()").Scan(&after); err != nil {
			return err
		}
		more = after-before >= 2
		return nil
	})
	return more, err
}
