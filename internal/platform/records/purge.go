package records

import (
	"context"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/expr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// MaxPurgeBatch bounds the records one Purge call deletes.
const MaxPurgeBatch = 1000

// PurgeOptions select the records Purge deletes.
type PurgeOptions struct {
	// Filter is required: the list filter language over the fields the
	// principal may read, system fields included (`status == "done" &&
	// updated_at < "2026-10-01T00:00:00+08:00"`).
	Filter string
	// After continues a purge past a batch: only records with a greater
	// id (the previous result's Next).
	After int64
	// Limit bounds the batch (default and at most MaxPurgeBatch).
	Limit int
}

// PurgeResult is what one Purge call did.
type PurgeResult struct {
	// IDs are the records deleted, ascending.
	IDs []int64
	// Next is the After of the next batch; 0 when this batch reached the
	// last matching record.
	Next int64
}

// refDropper is what Purge needs of the files service (package files has
// it): forgetting which files a record held, so unreferenced files can be
// collected.
type refDropper interface {
	DropRefs(ctx context.Context, entity string, recordID int64) error
}

// Purge deletes records for good: retention of logs kept as records
// (webhook deliveries…), whose owner audits what it purged as a summary.
// It deletes, in one transaction (the caller's, or one of its own), up to
// Limit records of entity matching Filter, live or in the recycle bin,
// lowest id first and above After, with everything that is theirs alone:
// their sub-table rows, their entries in SQLite's full-text index, their
// shares and their file references. The principal needs the delete right,
// and only records in its delete scope are touched.
//
// Nothing else of a record's life happens: no hook runs (so nothing may
// depend on being told: a Derived of the entity notices at its next
// Check), no audit entry or change-feed event is written per record (the
// audit rows of its past stay, append-only), and links from other records
// and external ids naming it are left as they are (a link to a missing
// record reads as empty; Upsert creates a new record for a key whose
// record was purged).
//
// The delete checks the filter again on each row it removes, so a record
// changed meanwhile by a concurrent transaction (PostgreSQL) so that it no
// longer matches is kept. The records are found by walking ids in order,
// so a batch costs about the rows between After and its last match.
func (s *Service) Purge(ctx context.Context, p *access.Principal, entity string, o PurgeOptions) (PurgeResult, error) {
	if strings.TrimSpace(o.Filter) == "" {
		return PurgeResult{}, apperr.Invalid("bad_filter", "reason", "a purge needs a filter")
	}
	if o.Limit <= 0 || o.Limit > MaxPurgeBatch {
		o.Limit = MaxPurgeBatch
	}
	v, err := s.viewFor(p, entity, access.Delete, "t")
	if err != nil {
		return PurgeResult{}, err
	}
	where := []string{"t.id > ?"}
	args := []any{o.After}
	if v.scoped {
		where = append(where, v.scope)
		args = append(args, v.sargs...)
	}
	fs, fa, err := expr.Compile(o.Filter, &filterEnv{v: v})
	if err != nil {
		return PurgeResult{}, err
	}
	where = append(where, "("+fs+")")
	args = append(args, fa...)
	cond := strings.Join(where, " AND ")
	d := s.db
	table := d.Ident(v.e.Table())
	var out PurgeResult
	err = d.WithTx(ctx, func(ctx context.Context) error {
		out = PurgeResult{}
		ids, err := d.Int64s(ctx, "SELECT t.id FROM "+table+" t WHERE "+cond+" ORDER BY t.id LIMIT ?", append(args[:len(args):len(args)], o.Limit)...)
		if err != nil || len(ids) == 0 {
			return err
		}
		if len(ids) == o.Limit {
			out.Next = ids[len(ids)-1]
		}
		del := make([]any, 0, len(ids)+len(args))
		for _, id := range ids {
			del = append(del, id)
		}
		gone, err := d.Int64s(ctx, "DELETE FROM "+table+" AS t WHERE t.id IN ("+placeholders(len(ids))+") AND "+cond+" RETURNING id",
			append(del, args...)...)
		if err != nil || len(gone) == 0 {
			return err
		}
		out.IDs = gone
		return s.purgeOwned(ctx, v.e, gone)
	})
	if err != nil {
		return PurgeResult{}, err
	}
	return out, nil
}

// purgeOwned deletes what was the purged records' alone.
func (s *Service) purgeOwned(ctx context.Context, e *meta.Entity, ids []int64) error {
	d := s.db
	in := placeholders(len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	files := false
	for i := range e.Fields {
		f := &e.Fields[i]
		files = files || isFileType(f.Type)
		if f.Type != "subtable" {
			continue
		}
		for j := range f.Fields {
			files = files || isFileType(f.Fields[j].Type)
		}
		if _, err := d.Exec(ctx, "DELETE FROM "+d.Ident(e.ChildTable(f.Name))+" WHERE parent_id IN ("+in+")", args...); err != nil {
			return err
		}
	}
	if _, err := d.Exec(ctx, "DELETE FROM record_shares WHERE entity = ? AND record_id IN ("+in+")", append([]any{e.Name}, args...)...); err != nil {
		return err
	}
	if fr, ok := s.files.(refDropper); ok && files {
		for _, id := range ids {
			if err := fr.DropRefs(ctx, e.Name, id); err != nil {
				return err
			}
		}
	}
	if d.Kind != db.SQLite || !e.HasSearch() {
		return nil // PostgreSQL keeps the grams in the row itself
	}
	// Records above the watermark have no entry yet (the indexer reads
	// the rows that exist when it gets there).
	upTo, err := s.indexedTo(ctx, e)
	if err != nil {
		return err
	}
	var indexed []any
	for _, id := range ids {
		if id <= upTo {
			indexed = append(indexed, id)
		}
	}
	if len(indexed) == 0 {
		return nil
	}
	if _, err := d.Exec(ctx, "DELETE FROM "+d.Ident(e.FTSTable())+" WHERE rowid IN ("+placeholders(len(indexed))+")", indexed...); err != nil {
		return err
	}
	return s.maybeMergeFTS(ctx, e, len(indexed))
}

func isFileType(t string) bool { return t == "file" || t == "image" || t == "signature" }
