package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// cellError is one problem of a row: the column and field it concerns
// (either may be empty) and a message code with its arguments.
type cellError struct {
	Column string         `json:"column,omitempty"`
	Field  string         `json:"field,omitempty"`
	Code   string         `json:"code"`
	Args   map[string]any `json:"args,omitempty"`
}

// plan is an import's mapping compiled for one run: the mapped columns
// with their fields, the de-duplication column, and the resolvers of
// link-like fields.
type plan struct {
	ent       *meta.Entity
	cols      []planCol
	dedupe    Dedupe
	key       *planCol // the de-duplication column; nil for none
	resolvers map[string]*resolver
	colOf     map[string]string // field → column
	uniques   []string          // the entity's unique fields
	uniqueCol []planCol         // the mapped columns of unique fields
}

type planCol struct {
	index  int
	column string
	t      target
}

// compile checks that p may still run the import as configured (the
// entity exists, p may create its records, the mapping and the
// de-duplication are valid for p now) and compiles its plan.
func (e *Engine) compile(p *access.Principal, imp *Import) (*plan, error) {
	ent, ok := e.reg.Get(imp.Entity)
	if !ok {
		return nil, apperr.Conflict("import_entity_gone", "entity", imp.Entity)
	}
	if err := checkCreate(p, ent); err != nil {
		return nil, err
	}
	if err := checkSettings(p, ent, imp.Columns, imp.Mapping, imp.Dedupe); err != nil {
		return nil, err
	}
	ts := targets(p, ent)
	pl := &plan{ent: ent, dedupe: imp.Dedupe, resolvers: map[string]*resolver{}, colOf: map[string]string{}}
	for i, col := range imp.Columns {
		name := imp.Mapping[col]
		if name == "" {
			continue
		}
		t := findTarget(ts, name)
		pl.cols = append(pl.cols, planCol{index: i, column: col, t: *t})
		pl.colOf[name] = col
		if t.f != nil && t.f.Unique {
			pl.uniqueCol = append(pl.uniqueCol, pl.cols[len(pl.cols)-1])
		}
		if rv := e.newResolver(p, t.f, t.typ); rv != nil {
			pl.resolvers[name] = rv
		}
	}
	if len(pl.cols) == 0 {
		return nil, apperr.Fields(apperr.Field("mapping", "import_nothing_mapped"))
	}
	if imp.Dedupe.Field != "" {
		for i := range pl.cols {
			if pl.cols[i].t.name == imp.Dedupe.Field {
				pl.key = &pl.cols[i]
			}
		}
	}
	for i := range ent.Fields {
		if ent.Fields[i].Unique {
			pl.uniques = append(pl.uniques, ent.Fields[i].Name)
		}
	}
	return pl, nil
}

// prepared is a data row turned into record input.
type prepared struct {
	num   int64
	cells []string
	input map[string]any
	errs  []cellError
	key   string // de-duplication key; "" for none
	lit   string // the key as a filter literal (exact match)
}

// Row operations.
const (
	opCreate = "create"
	opUpdate = "update"
	opSkip   = "skip"
	opFail   = "fail"
)

// outcome is what became of a row.
type outcome struct {
	op   string
	errs []cellError
	// identity of the record written and the values of its unique fields
	// (dry runs: see runner.uniq)
	ident int64
	uniq  map[string]string
}

// runner runs an import's rows, for real (each batch committed with its
// checkpoint) or as a dry run (each batch rolled back).
type runner struct {
	e   *Engine
	p   *access.Principal
	imp *Import
	pl  *plan
	dry bool
	// company maps the normalised company names of the records p sees to
	// their ids (company matching; loaded once, then kept up to date with
	// the records the run creates).
	company map[string][]int64
	// Dry runs only. A dry run rolls each batch back, so what earlier
	// batches would have written is remembered here: the keys of records
	// they created (virtual, a negative identity), for update mode the
	// input of those whose key comes again (repeats), and the values of
	// unique fields, which a later row may not take.
	virtual      map[string]int64
	virtualInput map[string]map[string]any
	repeats      map[string]bool
	uniq         map[string]map[string]int64 // field → value → identity holding it
	uniqOf       map[int64]map[string]string // identity → field → value it holds
	// mu guards company and the dry run's memory: batches run at once.
	mu sync.RWMutex
	// stopped is set once a batch finds the import no longer running.
	stopped atomic.Bool
}

func (e *Engine) newRunner(p *access.Principal, imp *Import, pl *plan, dry bool) *runner {
	return &runner{e: e, p: p, imp: imp, pl: pl, dry: dry, virtual: map[string]int64{},
		virtualInput: map[string]map[string]any{}, uniq: map[string]map[string]int64{}, uniqOf: map[int64]map[string]string{}}
}

// loadCompanies reads the company names of every record p may read, for
// company matching.
func (r *runner) loadCompanies(ctx context.Context) error {
	if r.pl.key == nil || r.pl.dedupe.Match != MatchCompany {
		return nil
	}
	field := r.pl.key.t.name
	r.company = map[string][]int64{}
	return r.e.listAll(ctx, r.p, r.pl.ent.Name, "", "id", func(rec records.Record) {
		if s, ok := rec[field].(string); ok {
			if k := normalizeCompany(s); k != "" {
				r.company[k] = append(r.company[k], rec.ID())
			}
		}
	})
}

// keyOf is the de-duplication key of a cell: its normalised company name,
// or its value as the records service would store it (exact).
func (r *runner) keyOf(cell string) (key, lit string) {
	if r.pl.key == nil || strings.TrimSpace(cell) == "" {
		return "", ""
	}
	if r.pl.dedupe.Match == MatchCompany {
		return normalizeCompany(cell), ""
	}
	t := r.pl.key.t
	v, err := r.e.types[t.typ].Normalize(t.f, convert(t.typ, t.f, cell))
	if err != nil || v == nil {
		return "", ""
	}
	return fmt.Sprint(v), keyLiteral(v)
}

// conflictKeys are what makes a row depend on earlier rows (see
// runner.pass): its de-duplication key, and the value of each unique field
// it fills (as stored when it can be normalised, as written otherwise).
func (r *runner) conflictKeys(row dataRow) []string {
	var keys []string
	if r.pl.key != nil && r.pl.dedupe.Mode != ModeCreate {
		if k, _ := r.keyOf(row.cells[r.pl.key.index]); k != "" {
			keys = append(keys, "k\x00"+k)
		}
	}
	for _, c := range r.pl.uniqueCol {
		cell := strings.TrimSpace(row.cells[c.index])
		if cell == "" {
			continue
		}
		v := cell
		if r.pl.resolvers[c.t.name] == nil {
			if nv, err := r.e.types[c.t.typ].Normalize(c.t.f, convert(c.t.typ, c.t.f, cell)); err == nil && nv != nil {
				v = fmt.Sprint(nv)
			}
		}
		keys = append(keys, "u\x00"+c.t.name+"\x00"+v)
	}
	return keys
}

// multiTypes are the types whose cells hold several values.
var multiTypes = map[string]bool{"multi_link": true, "multi_select": true, "tags": true}

// prepare converts a batch of rows into record input, resolving the linked
// records its cells name.
func (r *runner) prepare(ctx context.Context, rows []dataRow) ([]prepared, error) {
	out := make([]prepared, len(rows))
	pending := map[string][]string{}
	for i, row := range rows {
		pr := prepared{num: row.num, cells: row.cells, input: map[string]any{}}
		for _, c := range r.pl.cols {
			cell := strings.TrimSpace(row.cells[c.index])
			if cell == "" {
				continue
			}
			if r.pl.resolvers[c.t.name] == nil {
				pr.input[c.t.name] = convert(c.t.typ, c.t.f, cell)
				continue
			}
			if multiTypes[c.t.typ] {
				pending[c.t.name] = append(pending[c.t.name], splitList(cell)...)
			} else {
				pending[c.t.name] = append(pending[c.t.name], cell)
			}
		}
		if r.pl.key != nil {
			pr.key, pr.lit = r.keyOf(row.cells[r.pl.key.index])
		}
		out[i] = pr
	}
	for name, vals := range pending {
		if err := r.pl.resolvers[name].resolve(ctx, r.e, r.p, vals); err != nil {
			return nil, err
		}
	}
	for i := range out {
		pr := &out[i]
		for _, c := range r.pl.cols {
			rv := r.pl.resolvers[c.t.name]
			cell := strings.TrimSpace(pr.cells[c.index])
			if rv == nil || cell == "" {
				continue
			}
			if !multiTypes[c.t.typ] {
				res := rv.get(cell)
				if res.code != "" {
					pr.errs = append(pr.errs, cellError{Column: c.column, Field: c.t.name, Code: res.code, Args: map[string]any{"value": cell}})
					continue
				}
				pr.input[c.t.name] = res.value
				continue
			}
			var list []any
			for _, part := range splitList(cell) {
				res := rv.get(part)
				if res.code != "" {
					pr.errs = append(pr.errs, cellError{Column: c.column, Field: c.t.name, Code: res.code, Args: map[string]any{"value": part}})
					list = nil
					break
				}
				list = append(list, res.value)
			}
			if list != nil {
				pr.input[c.t.name] = list
			}
		}
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range listSep.Split(s, -1) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// existing finds, before a batch, the records p may read that match its
// rows' keys: by the exact value of the field (one query per few hundred
// keys), or by company name from the loaded map.
func (r *runner) existing(ctx context.Context, rows []prepared) (map[string][]int64, error) {
	found := map[string][]int64{}
	if r.pl.key == nil || r.pl.dedupe.Mode == ModeCreate {
		return found, nil
	}
	if r.pl.dedupe.Match == MatchCompany {
		r.mu.RLock()
		defer r.mu.RUnlock()
		for _, pr := range rows {
			if ids, ok := r.company[pr.key]; ok && pr.key != "" {
				found[pr.key] = ids
			}
		}
		return found, nil
	}
	var lits []string
	seen := map[string]bool{}
	for _, pr := range rows {
		if pr.key != "" && !seen[pr.key] {
			seen[pr.key] = true
			lits = append(lits, pr.lit)
		}
	}
	field := r.pl.key.t.name
	for _, filter := range inFilters([]string{field}, lits, nil) {
		err := r.e.listAll(ctx, r.p, r.pl.ent.Name, filter, field, func(rec records.Record) {
			if v := rec[field]; v != nil {
				k := fmt.Sprint(v)
				found[k] = append(found[k], rec.ID())
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return found, nil
}

// errRowByRow abandons a batch's optimistic pass.
var errRowByRow = errors.New("import: row by row")

// apply writes a batch's rows in the transaction in ctx, each row on its
// own: a row that the records service refuses is rolled back alone and
// reported, the others stay. made returns the keys of the records
// created. Only database failures (and a cancelled context) end the batch
// with an error.
//
// A savepoint per row costs two statements and, on SQLite, a copy of every
// page the row touches; most batches have no failing row. So after a clean
// batch the next one is first tried in one savepoint, rows written
// directly; the first write refused rolls that pass back and the batch is
// written again a savepoint per row (as are the batches after it, until
// one is clean again). Either way the outcome is the same.
func (r *runner) apply(ctx context.Context, w *worker, rows []prepared, found map[string][]int64) (outs []outcome, made map[string]int64, err error) {
	if w.optimistic {
		var vi map[string]map[string]any
		err := r.e.db.Savepoint(ctx, func(ctx context.Context) error {
			var err error
			outs, made, vi, err = r.applyRows(ctx, rows, found, false)
			return err
		})
		if err == nil {
			r.keepInputs(vi)
			return outs, made, nil
		}
		if !errors.Is(err, errRowByRow) {
			return nil, nil, err
		}
		w.optimistic = false
	}
	outs, made, vi, err := r.applyRows(ctx, rows, found, true)
	if err != nil {
		return nil, nil, err
	}
	r.keepInputs(vi)
	w.optimistic = true
	for _, o := range outs {
		if o.op == opFail {
			w.optimistic = false
		}
	}
	return outs, made, nil
}

// keepInputs adds what a dry-run batch wrote to the inputs of virtual
// records.
func (r *runner) keepInputs(vi map[string]map[string]any) {
	if len(vi) == 0 {
		return
	}
	r.mu.Lock()
	maps.Copy(r.virtualInput, vi)
	r.mu.Unlock()
}

// applyRows is one pass of apply: with savepoints, each row's write in its
// own; without, the pass ends with errRowByRow at the first write refused.
// vi is what the pass adds to the dry run's virtualInput.
func (r *runner) applyRows(ctx context.Context, rows []prepared, found map[string][]int64, savepoints bool) (outs []outcome, made map[string]int64, vi map[string]map[string]any, err error) {
	outs = make([]outcome, len(rows))
	made = map[string]int64{}
	vi = map[string]map[string]any{}
	madeIdent := map[int64]int64{} // dry runs: record created in this batch → its identity
	local := &uniqBatch{set: map[string]bool{}, freed: map[string]bool{}, held: map[int64]map[string]string{}}
	entity := r.pl.ent.Name
	// Without savepoints the pass's creates are batched: their rows, audit
	// entries and events go to the database many at a time, and a refusal
	// surfaces at the latest when they are flushed at the end.
	createCtx := ctx
	if !savepoints {
		createCtx = records.WithBatch(ctx, entity, r.creates(rows, found))
	}
	for i := range rows {
		pr := &rows[i]
		op, target, virtual, cerr := r.decide(pr, found, made)
		if cerr != nil {
			outs[i] = outcome{op: opFail, errs: append(pr.errs, *cerr)}
			continue
		}
		if len(pr.errs) > 0 {
			errs, err := r.moreErrors(ctx, pr, op)
			if err != nil {
				return nil, nil, nil, err
			}
			outs[i] = outcome{op: opFail, errs: errs}
			continue
		}
		if op == opSkip {
			outs[i] = outcome{op: opSkip}
			continue
		}
		ident := -pr.num // a record this row creates
		switch {
		case op == opUpdate && virtual:
			r.mu.RLock()
			ident = r.virtual[pr.key]
			r.mu.RUnlock()
		case op == opUpdate && madeIdent[target] != 0:
			ident = madeIdent[target]
		case op == opUpdate:
			ident = target
		}
		var written records.Record
		write := func(ctx context.Context) error {
			var rec records.Record
			var err error
			switch {
			case op == opCreate:
				rec, err = r.e.recs.Create(createCtx, r.p, entity, pr.input)
			case virtual:
				// A dry run: the record an earlier (rolled back) batch
				// created, updated by this row, is what creating both
				// rows' values together gives.
				rec, err = r.e.recs.Create(createCtx, r.p, entity, r.merged(pr, vi))
			default:
				rec, err = r.e.recs.Update(ctx, r.p, entity, target, r.updateInput(pr), 0)
			}
			if err != nil {
				return err
			}
			if r.dry {
				if err := r.checkUnique(rec, ident, local); err != nil {
					return err
				}
			}
			written = rec
			return nil
		}
		var werr error
		if savepoints {
			werr = r.e.db.Savepoint(ctx, write)
		} else if werr = write(ctx); werr != nil && !fatal(ctx, werr) {
			return nil, nil, nil, errRowByRow
		}
		if werr != nil {
			if fatal(ctx, werr) {
				return nil, nil, nil, werr
			}
			if _, ok := apperr.As(werr); !ok {
				r.e.log.Warn("import: row failed", "import", r.imp.ID, "row", pr.num, "err", werr)
			}
			outs[i] = outcome{op: opFail, errs: r.rowErrors(werr)}
			continue
		}
		outs[i] = outcome{op: op, ident: ident}
		if r.dry {
			outs[i].uniq = r.uniqueValues(written)
			local.wrote(r, ident, outs[i].uniq)
			if op == opCreate {
				madeIdent[written.ID()] = ident
			}
			if pr.key != "" && r.repeats[pr.key] {
				if virtual || op == opUpdate {
					vi[pr.key] = r.merged(pr, vi)
				} else {
					vi[pr.key] = maps.Clone(pr.input)
				}
			}
		}
		if op == opCreate && pr.key != "" {
			made[pr.key] = written.ID()
		}
	}
	if !savepoints {
		if err := db.Flush(ctx); err != nil {
			if fatal(ctx, err) {
				return nil, nil, nil, err
			}
			return nil, nil, nil, errRowByRow
		}
	}
	return outs, made, vi, nil
}

// creates counts the rows of a batch that its pass will create records
// for, if none is refused (see decide).
func (r *runner) creates(rows []prepared, found map[string][]int64) int {
	n := 0
	made := map[string]int64{}
	for i := range rows {
		pr := &rows[i]
		op, _, virtual, cerr := r.decide(pr, found, made)
		if cerr != nil || len(pr.errs) > 0 || op != opCreate && !virtual {
			continue
		}
		n++
		if op == opCreate && pr.key != "" {
			made[pr.key] = 0
		}
	}
	return n
}

// moreErrors completes the errors of a row some of whose cells could not
// be read (a linked record not found): a row to be created is also put
// to the records service without those cells, in a savepoint rolled back
// at once, so the report lists the row's other problems too.
func (r *runner) moreErrors(ctx context.Context, pr *prepared, op string) ([]cellError, error) {
	if op != opCreate {
		return pr.errs, nil
	}
	bad := map[string]bool{}
	for _, ce := range pr.errs {
		bad[ce.Field] = true
	}
	in := maps.Clone(pr.input)
	for f := range bad {
		delete(in, f)
	}
	errs := pr.errs
	err := r.e.db.Savepoint(ctx, func(ctx context.Context) error {
		if _, err := r.e.recs.Create(ctx, r.p, r.pl.ent.Name, in); err != nil {
			return err
		}
		return errRollback
	})
	switch {
	case errors.Is(err, errRollback):
	case fatal(ctx, err):
		return nil, err
	case err != nil:
		for _, ce := range r.rowErrors(err) {
			if !bad[ce.Field] {
				errs = append(errs, ce)
			}
		}
	}
	return errs, nil
}

// decide chooses what to do with a row: create it, update the one record
// it matches, skip it, or fail it (it matches several records and the
// mode is update). virtual says the record to update exists only in the
// dry run's memory.
func (r *runner) decide(pr *prepared, found map[string][]int64, made map[string]int64) (op string, target int64, virtual bool, cerr *cellError) {
	d := r.pl.dedupe
	if r.pl.key == nil || pr.key == "" || d.Mode == ModeCreate {
		return opCreate, 0, false, nil
	}
	ids := found[pr.key]
	if id, ok := made[pr.key]; ok {
		ids = append(append([]int64(nil), ids...), id)
	}
	if r.dry && len(ids) == 0 {
		r.mu.RLock()
		_, ok := r.virtual[pr.key]
		r.mu.RUnlock()
		if ok {
			if d.Mode == ModeSkip {
				return opSkip, 0, false, nil
			}
			return opUpdate, 0, true, nil
		}
	}
	switch {
	case len(ids) == 0:
		return opCreate, 0, false, nil
	case d.Mode == ModeSkip:
		return opSkip, 0, false, nil
	case len(ids) > 1:
		return "", 0, false, &cellError{Column: r.pl.key.column, Field: r.pl.key.t.name, Code: "import_dedupe_ambiguous",
			Args: map[string]any{"count": len(ids)}}
	}
	return opUpdate, ids[0], false, nil
}

// updateInput is what an update writes: the row's non-empty cells, without
// the de-duplication field (it found the record; its spelling in the file
// does not replace the stored one).
func (r *runner) updateInput(pr *prepared) map[string]any {
	in := maps.Clone(pr.input)
	delete(in, r.pl.key.t.name)
	return in
}

// merged is the input of a dry run's virtual record updated by pr (vi
// holds what the batch's earlier rows changed).
func (r *runner) merged(pr *prepared, vi map[string]map[string]any) map[string]any {
	base, ok := vi[pr.key]
	if !ok {
		r.mu.RLock()
		base = r.virtualInput[pr.key]
		r.mu.RUnlock()
	}
	in := maps.Clone(base)
	if in == nil {
		in = map[string]any{}
	}
	maps.Copy(in, r.updateInput(pr))
	return in
}

// uniqueValues are the values a written record holds in unique fields.
func (r *runner) uniqueValues(rec records.Record) map[string]string {
	var out map[string]string
	for _, f := range r.pl.uniques {
		if v := rec[f]; v != nil {
			if out == nil {
				out = map[string]string{}
			}
			out[f] = fmt.Sprint(v)
		}
	}
	return out
}

// uniqBatch is what the rows of a dry-run batch did to unique values so
// far: values they set (the database itself, inside the batch's
// savepoint, refuses a second holder of those) and values they let go of
// (which a later row of the batch may take, although the memory of earlier
// batches still names their holder).
type uniqBatch struct {
	set, freed map[string]bool
	held       map[int64]map[string]string // identity → field → value, as the batch left it
}

func uniqKey(f, v string) string { return f + "\x00" + v }

// wrote records that the record ident now holds vals.
func (u *uniqBatch) wrote(r *runner, ident int64, vals map[string]string) {
	prev, ok := u.held[ident]
	if !ok {
		r.mu.RLock()
		prev = maps.Clone(r.uniqOf[ident])
		r.mu.RUnlock()
	}
	for f, old := range prev {
		if vals[f] != old {
			u.freed[uniqKey(f, old)] = true
		}
	}
	for f, v := range vals {
		u.set[uniqKey(f, v)] = true
		delete(u.freed, uniqKey(f, v))
	}
	u.held[ident] = vals
}

// checkUnique refuses, in a dry run, a value of a unique field that a row
// of an earlier batch took for another record and that no row of this
// batch let go of: the real run would get the unique index's conflict.
func (r *runner) checkUnique(rec records.Record, ident int64, local *uniqBatch) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for f, v := range r.uniqueValues(rec) {
		if local.set[uniqKey(f, v)] || local.freed[uniqKey(f, v)] {
			continue
		}
		if owner, ok := r.uniq[f][v]; ok && owner != ident {
			return &apperr.Error{Kind: apperr.ErrConflict, Code: "unique_violation", Args: map[string]any{"field": f},
				Fields: []apperr.FieldError{apperr.Field(f, "taken")}}
		}
	}
	return nil
}

// remember keeps, after a dry-run batch, what its rows would have
// written.
func (r *runner) remember(rows []prepared, outs []outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, o := range outs {
		if o.op != opCreate && o.op != opUpdate {
			continue
		}
		if o.op == opCreate && rows[i].key != "" {
			r.virtual[rows[i].key] = o.ident
		}
		held := r.uniqOf[o.ident]
		if held == nil {
			held = map[string]string{}
			r.uniqOf[o.ident] = held
		}
		for _, f := range r.pl.uniques {
			v, has := o.uniq[f]
			if old, ok := held[f]; ok && (!has || old != v) && r.uniq[f][old] == o.ident {
				delete(r.uniq[f], old) // the record let go of its old value
			}
			if !has {
				delete(held, f)
				continue
			}
			if r.uniq[f] == nil {
				r.uniq[f] = map[string]int64{}
			}
			r.uniq[f][v], held[f] = o.ident, v
		}
	}
}

// fatal reports errors that end a batch instead of failing a row: a
// cancelled context, and database failures a retry of the transaction may
// cure.
func fatal(ctx context.Context, err error) bool {
	return ctx.Err() != nil || db.IsRetryable(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// rowErrors turns the records service's refusal into the row's errors,
// naming the column of each field.
func (r *runner) rowErrors(err error) []cellError {
	ae, ok := apperr.As(err)
	if !ok {
		return []cellError{{Code: "import_row_failed"}}
	}
	if len(ae.Fields) == 0 {
		return []cellError{{Code: ae.Code, Args: ae.Args}}
	}
	out := make([]cellError, 0, len(ae.Fields))
	for _, fe := range ae.Fields {
		base := fe.Field
		if i := strings.IndexAny(base, "[."); i > 0 {
			base = base[:i]
		}
		out = append(out, cellError{Column: r.pl.colOf[base], Field: fe.Field, Code: fe.Code, Args: fe.Args})
	}
	return out
}

// errorRows writes the failing rows of a batch to import_errors.
func (r *runner) errorRows(ctx context.Context, rows []prepared, outs []outcome) error {
	var vals []string
	var args []any
	j := r.e.db.JSONParam()
	flush := func() error {
		if len(vals) == 0 {
			return nil
		}
		_, err := r.e.db.Exec(ctx, `INSERT INTO import_errors (import_id, row_no, cells, errors) VALUES `+strings.Join(vals, ", "), args...)
		vals, args = vals[:0], args[:0]
		return err
	}
	for i, o := range outs {
		if o.op != opFail {
			continue
		}
		cells, _ := json.Marshal(rows[i].cells)
		errs, _ := json.Marshal(o.errs)
		vals = append(vals, "(?, ?, "+j+", "+j+")")
		args = append(args, r.imp.ID, rows[i].num, string(cells), string(errs))
		if len(vals) >= 200 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// tally counts a batch's outcomes.
type tally struct{ created, updated, skipped, failed int64 }

func count(outs []outcome) tally {
	var t tally
	for _, o := range outs {
		switch o.op {
		case opCreate:
			t.created++
		case opUpdate:
			t.updated++
		case opSkip:
			t.skipped++
		default:
			t.failed++
		}
	}
	return t
}
