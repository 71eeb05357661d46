package records

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db"
)

// Derived is a value computed from the records of one entity and kept in
// memory (the index of enabled rules, of active webhooks by entity), so
// that a hook on every write can consult it for the price of a pointer
// load. It is rebuilt lazily, by the first Get after it went stale:
//
//   - a write to the entity in this process makes it stale when the
//     write's transaction commits (an after hook NewDerived registers);
//   - Check, called every two seconds by the service's RunDerived,
//     compares a signature of the entity's table (row count, sum of
//     versions, highest id: every write bumps a version) with the one it
//     was built from, to notice writes made by other processes.
//
// A Get inside a transaction builds from what the transaction sees, keeps
// the result for the rest of that transaction (db.TxValue), and makes it
// the current value only once the transaction commits, so a value built
// from writes that are rolled back is never shared. A transaction that
// writes the entity itself rebuilds after that write and never shares
// what it built (its commit makes the value stale anyway). Each build is
// tagged with the generation it started in, so one overtaken by a newer
// change is not taken as current.
type Derived[T any] struct {
	s      *Service
	entity string
	build  func(ctx context.Context) (T, error)

	gen atomic.Int64 // bumped by every Invalidate
	cur atomic.Pointer[derivedValue[T]]
}

type derivedValue[T any] struct {
	gen int64
	sig tableSignature
	v   T
}

// txDerived is what a transaction keeps of a Derived: the value it built
// (built), or only the mark that it wrote the entity (dirty).
type txDerived[T any] struct {
	v     T
	built bool
	dirty bool
}

// tableSignature changes whenever a record of the table is created,
// changed, deleted, restored or purged.
type tableSignature struct{ count, versions, maxID int64 }

// NewDerived keeps build's result for entity. Call it while wiring, before
// any write: it registers an after hook on the entity, and the value with
// the service's RunDerived.
func NewDerived[T any](s *Service, entity string, build func(ctx context.Context) (T, error)) *Derived[T] {
	d := &Derived[T]{s: s, entity: entity, build: build}
	s.Use(entity, Hook{After: func(ctx context.Context, _ *Change) error {
		db.SetTxValue(ctx, d, &txDerived[T]{dirty: true})
		db.AfterCommit(ctx, d.Invalidate)
		return nil
	}})
	s.mu.Lock()
	s.deriveds = append(s.deriveds, d)
	s.mu.Unlock()
	return d
}

// RunDerived checks every Derived value built on the service every two
// seconds (see Check) until ctx ends; onErr hears of a check that failed.
func (s *Service) RunDerived(ctx context.Context, onErr func(error)) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.mu.RLock()
			ds := s.deriveds
			s.mu.RUnlock()
			for _, d := range ds {
				if err := d.Check(ctx); err != nil && ctx.Err() == nil {
					onErr(err)
				}
			}
		}
	}
}

// Invalidate makes the value stale: the next Get rebuilds it.
func (d *Derived[T]) Invalidate() { d.gen.Add(1) }

// Get returns the value, rebuilding it first when it is stale.
func (d *Derived[T]) Get(ctx context.Context) (T, error) {
	var zero T
	mine, _ := db.TxValue(ctx, d).(*txDerived[T])
	if mine != nil && mine.built {
		return mine.v, nil
	}
	dirty := mine != nil && mine.dirty
	g := d.gen.Load()
	if cur := d.cur.Load(); !dirty && cur != nil && cur.gen == g {
		return cur.v, nil
	}
	sig, err := d.signature(ctx)
	if err != nil {
		return zero, err
	}
	v, err := d.build(ctx)
	if err != nil {
		return zero, err
	}
	db.SetTxValue(ctx, d, &txDerived[T]{v: v, built: true, dirty: dirty})
	if !dirty {
		nv := &derivedValue[T]{gen: g, sig: sig, v: v}
		db.AfterCommit(ctx, func() { d.keep(nv) }) // at once outside a transaction
	}
	return v, nil
}

// keep makes nv current unless a build of a later generation already is.
func (d *Derived[T]) keep(nv *derivedValue[T]) {
	for {
		cur := d.cur.Load()
		if cur != nil && cur.gen > nv.gen {
			return
		}
		if d.cur.CompareAndSwap(cur, nv) {
			return
		}
	}
}

// Check makes the value stale when the table changed since it was built
// (by another process: this one's writes mark it themselves).
func (d *Derived[T]) Check(ctx context.Context) error {
	cur := d.cur.Load()
	if cur == nil || cur.gen != d.gen.Load() {
		return nil
	}
	sig, err := d.signature(ctx)
	if err != nil {
		return err
	}
	if sig != cur.sig {
		d.Invalidate()
	}
	return nil
}

func (d *Derived[T]) signature(ctx context.Context) (tableSignature, error) {
	e, err := d.s.entity(d.entity)
	if err != nil {
		return tableSignature{}, err
	}
	var s tableSignature
	err = d.s.db.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(version), 0), COALESCE(MAX(id), 0) FROM `+d.s.db.Ident(e.Table())).
		Scan(&s.count, &s.versions, &s.maxID)
	return s, err
}
