package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Outcomes of a run (rule_runs.outcome).
const (
	outcomeMatched = "matched"      // the condition held and every action was done
	outcomeSkipped = "skipped"      // the condition did not hold (or nothing to do)
	outcomeFailed  = "failed"       // the condition or an action failed; nothing of the run was applied
	outcomeLoop    = "loop_stopped" // the loop guard stopped the run
)

// runPayload is a rules.run job: one run of a rule on a record.
type runPayload struct {
	Rule    int64  `json:"rule,string"`
	Version int64  `json:"version"`
	Entity  string `json:"entity"`
	Record  int64  `json:"record,omitempty,string"`
	Trigger string `json:"trigger"`
	Chain   *chain `json:"chain,omitempty"`
	// Old (the values before an update, when an action reads old) and
	// Snapshot (the record as deleted) are in API form.
	Old      map[string]any `json:"old,omitempty"`
	Snapshot map[string]any `json:"snapshot,omitempty"`
	// Payload is an inbound webhook's body; Evaluate says the condition is
	// still to be checked (inbound calls: it reads the payload).
	Payload  json.RawMessage `json:"payload,omitempty"`
	Evaluate bool            `json:"evaluate,omitempty"`
}

// runRow is one row of the run log.
type runRow struct {
	rule    int64
	entity  string
	record  int64
	trigger string
	outcome string
	actions []actionResult
	err     *runError
	depth   int
	job     int64
}

// actionResult says what one action did (or, in test mode, would do).
type actionResult struct {
	Index  int            `json:"index"`
	Type   string         `json:"type"`
	Status string         `json:"status"` // done, queued, skipped, delivered, failed
	Detail map[string]any `json:"detail,omitempty"`
}

// runError is a run's error as stored: a message code with its
// arguments, field errors, and the action it came from; it is rendered in
// the reader's language.
type runError struct {
	Code   string         `json:"code"`
	Args   map[string]any `json:"args,omitempty"`
	Fields []runFieldErr  `json:"fields,omitempty"`
	Action *int           `json:"action,omitempty"`
	Type   string         `json:"type,omitempty"`
}

type runFieldErr struct {
	Field string         `json:"field"`
	Code  string         `json:"code"`
	Args  map[string]any `json:"args,omitempty"`
}

// actionError is the failure of one action of a run.
type actionError struct {
	index int
	typ   string
	err   error
}

func (a *actionError) Error() string { return fmt.Sprintf("action %d (%s): %v", a.index, a.typ, a.err) }
func (a *actionError) Unwrap() error { return a.err }

// errorOf converts an error to its stored form. Errors that are not
// domain errors (a database failure) are stored as an internal error; the
// detail goes to the log only.
func errorOf(err error) *runError {
	if err == nil {
		return nil
	}
	out := &runError{Code: "rule_internal_error"}
	var ae *actionError
	if errors.As(err, &ae) {
		i := ae.index
		out.Action, out.Type = &i, ae.typ
	}
	if de, ok := apperr.As(err); ok {
		out.Code, out.Args = de.Code, de.Args
		for _, f := range de.Fields {
			out.Fields = append(out.Fields, runFieldErr{Field: f.Field, Code: f.Code, Args: f.Args})
		}
	}
	return out
}

// domainError reports whether err is a refusal a retry cannot cure
// (validation, permission, a missing record, a locked record) rather than
// a passing failure of the database.
func domainError(err error) bool {
	ae, ok := apperr.As(err)
	return ok && ae.Code != "concurrent_update"
}

// logRun writes a run log row in the transaction of ctx.
func (e *Engine) logRun(ctx context.Context, row *runRow, start time.Time) error {
	var record, job any
	if row.record != 0 {
		record = row.record
	}
	if row.job != 0 {
		job = row.job
	}
	var errJSON any
	if row.err != nil {
		errJSON = jsonValue(row.err)
	}
	actions := row.actions
	if actions == nil {
		actions = []actionResult{}
	}
	_, err := e.db.Exec(ctx, `INSERT INTO rule_runs (rule_id, entity, record_id, trigger_type, outcome, actions, error,
		duration_us, depth, job_id, at) VALUES (?, ?, ?, ?, ?, `+e.db.JSONParam()+`, `+e.db.JSONParam()+`, ?, ?, ?, ?)`,
		row.rule, row.entity, record, row.trigger, row.outcome, jsonValue(actions), errJSON,
		time.Since(start).Microseconds(), row.depth, job, e.now().UnixMicro())
	return err
}

// runJob is the rules.run handler. It runs inside the transaction that
// marks the job done (InTx), so the run's database effects and its log
// row commit exactly once. The actions run in a savepoint: when one
// fails, none of them is applied and the run is logged as failed.
func (e *Engine) runJob(ctx context.Context, j *jobs.Job) error {
	var p runPayload
	if err := j.Decode(&p); err != nil {
		return jobs.Permanent(err)
	}
	start := time.Now()
	row := &runRow{rule: p.Rule, entity: p.Entity, record: p.Record, trigger: p.Trigger, job: j.ID, depth: p.Chain.depth()}
	last := j.Attempts >= j.MaxAttempts
	fail := func(err error) error {
		if !domainError(err) && !last {
			return err // the transaction rolls back; the job is retried
		}
		if !domainError(err) {
			e.log.Error("rules: run failed", "rule", p.Rule, "record", p.Record, "job", j.ID, "err", err)
		}
		row.outcome, row.err = outcomeFailed, errorOf(err)
		return e.logRun(ctx, row, start)
	}
	r, err := e.ruleByID(ctx, p.Rule)
	if err != nil {
		return fail(err)
	}
	if r == nil || !r.Enabled {
		row.outcome, row.err = outcomeSkipped, &runError{Code: "rule_not_active"}
		return e.logRun(ctx, row, start)
	}
	sc, err := e.runScope(ctx, r, &p)
	if err != nil {
		return fail(err)
	}
	if sc == nil {
		row.outcome, row.err = outcomeSkipped, &runError{Code: "rule_record_gone"}
		return e.logRun(ctx, row, start)
	}
	if p.Evaluate && r.cond != nil {
		ok, err := sc.evalBool(r.cond)
		if err != nil {
			if isCutOff(err) {
				e.log.Warn("rules: condition evaluation cut off", "rule", r.ID, "record", p.Record, "err", err)
			}
			return fail(err)
		}
		if !ok {
			row.outcome = outcomeSkipped
			return e.logRun(ctx, row, start)
		}
	}
	results, err := e.execute(ctx, r, sc, &p, j.ID, false)
	row.actions = results
	if err != nil {
		for i := range results { // done before the failure, then undone with it
			results[i].Status = "rolled_back"
		}
		return fail(err)
	}
	row.outcome = outcomeMatched
	return e.logRun(ctx, row, start)
}

// runScope is what a run's expressions see: the record as it is now (or
// as it was deleted), the values before, the actor and the payload. It is
// nil when the record is gone.
func (e *Engine) runScope(ctx context.Context, r *Rule, p *runPayload) (*scope, error) {
	sc := &scope{e: e, ctx: ctx, ent: r.ent}
	if p.Chain != nil {
		sc.user = p.Chain.Actor.vars()
	}
	if len(p.Payload) > 0 {
		sc.payload = decodeJSONValue(p.Payload)
	}
	if p.Old != nil {
		sc.old = e.fromPublic(r.ent, p.Old)
	}
	switch {
	case p.Snapshot != nil:
		sc.rec = e.fromPublic(r.ent, p.Snapshot)
	case p.Record != 0:
		rec, err := e.recs.Get(ctx, access.System(), r.Entity, p.Record, records.GetOptions{})
		if err != nil {
			if ae, ok := apperr.As(err); ok && ae.Kind == apperr.ErrNotFound {
				return nil, nil
			}
			return nil, err
		}
		sc.rec = rec
	default:
		sc.rec = records.Record{}
	}
	return sc, nil
}

// fromPublic turns a record in API form back into canonical values (for
// values carried in a job's payload). Values that do not normalise are
// left out.
func (e *Engine) fromPublic(ent *meta.Entity, m map[string]any) records.Record {
	types := e.recs.Registry().Types()
	out := records.Record{}
	for _, n := range []string{"id", "owner", "created_by"} {
		if s, ok := m[n].(string); ok {
			if id, err := strconv.ParseInt(s, 10, 64); err == nil {
				out[n] = id
			}
		}
	}
	if v, ok := m["version"].(json.Number); ok {
		if n, err := v.Int64(); err == nil {
			out["version"] = n
		}
	} else if v, ok := m["version"].(float64); ok {
		out["version"] = int64(v)
	}
	for _, n := range []string{"created_at", "updated_at"} {
		if s, ok := m[n].(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				out[n] = t.UTC()
			}
		}
	}
	for i := range ent.Fields {
		f := &ent.Fields[i]
		x, ok := m[f.Name]
		if !ok || x == nil || f.Type == "subtable" || f.IsComputed() {
			if ok && x != nil && f.IsComputed() {
				// A formula's stored result: keep decimals and texts as they are.
				if d, ok := meta.ParseDecimal(x); ok {
					out[f.Name] = d
				} else {
					out[f.Name] = x
				}
			}
			continue
		}
		if fl, ok := x.(float64); ok { // payload decoded without UseNumber
			x = json.Number(strconv.FormatFloat(fl, 'f', -1, 64))
		}
		if v, err := types[f.Type].Normalize(f, x); err == nil && v != nil {
			out[f.Name] = v
		}
	}
	return out
}

// execute runs the rule's actions in order in a savepoint of the
// transaction in ctx, as a rule. The writes the actions make carry the
// chain extended by this run (the loop guard). On failure nothing of the
// actions is applied and the error names the action.
func (e *Engine) execute(ctx context.Context, r *Rule, sc *scope, p *runPayload, jobID int64, dry bool) ([]actionResult, error) {
	var actor *Actor
	if p.Chain != nil {
		actor = p.Chain.Actor
	}
	ch := p.Chain.then(actor, r.ID, sc.rec.ID())
	ctx = withChain(ctx, ch)
	run := &runCtx{e: e, r: r, sc: sc, p: p, job: jobID, dry: dry, who: principal(), actor: actor}
	var results []actionResult
	err := e.db.Savepoint(ctx, func(ctx context.Context) error {
		results = results[:0]
		sc.ctx = ctx
		for _, a := range r.actions {
			res, err := run.do(ctx, a)
			if err != nil {
				return &actionError{index: a.index, typ: a.Type, err: err}
			}
			results = append(results, res)
		}
		return nil
	})
	if err != nil {
		return results, err
	}
	return results, nil
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
