package records

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// RebuildSearchIfStale rebuilds every entity's search index when it was
// built by an older SearchVersion (or never recorded), then records the
// version. It reads only the stored search text, so it is safe to rerun
// after an interruption.
func (s *Service) RebuildSearchIfStale(ctx context.Context, progress func(entity string, done int)) error {
	var v string
	err := s.db.QueryRow(ctx, `SELECT value FROM settings WHERE key = 'search_version'`).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if v == strconv.Itoa(SearchVersion) {
		return nil
	}
	for _, e := range s.reg.All() {
		if !e.HasSearch() {
			continue
		}
		if err := s.rebuildSearch(ctx, e, progress); err != nil {
			return err
		}
	}
	if err := s.OptimizeSearch(ctx); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `DELETE FROM settings WHERE key = 'search_version'`); err != nil {
			return err
		}
		_, err := s.db.Exec(ctx, `INSERT INTO settings (key, value) VALUES ('search_version', ?)`, strconv.Itoa(SearchVersion))
		return err
	})
}

func (s *Service) rebuildSearch(ctx context.Context, e *meta.Entity, progress func(string, int)) error {
	d := s.db
	if d.Kind == db.SQLite {
		if err := meta.RecreateSearchTable(ctx, d, e); err != nil {
			return err
		}
		if err := d.WithTx(ctx, func(ctx context.Context) error { return s.setIndexedTo(ctx, e, 0) }); err != nil {
			return err
		}
		return s.catchUp(ctx, e, progress)
	}
	table := d.Ident(e.Table())
	var after int64
	done := 0
	for {
		batch, err := s.pendingRows(ctx, e, after)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		err = d.WithTx(ctx, func(ctx context.Context) error {
			for _, r := range batch {
				if _, err := d.Exec(ctx, "UPDATE "+table+" SET search_grams = ? WHERE id = ?", grams(r.text), r.id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		after = batch[len(batch)-1].id
		done += len(batch)
		if progress != nil {
			progress(e.Name, done)
		}
	}
}
