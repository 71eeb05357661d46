package flow

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/audit"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// maxSteps bounds the nodes one transaction may pass through: a loop whose
// conditions never let it out stops with a 409 instead of spinning.
const maxSteps = 500

// run is one transaction's work on one instance.
type run struct {
	e     *Engine
	in    *instance
	c     *compiled
	rec   records.Record
	actor int64 // the user whose action this is (0: the system, a timer)
	now   time.Time
	steps int
}

// Start starts the published flow definitionID on a record, or, with
// definitionID 0, the first published flow of the entity with the trigger
// "submit" whose condition holds for the record. p must be able to read the
// record; the submitter is p's user (the record's owner when p is the
// system). A record whose flow was returned to p for changes is
// resubmitted instead. It joins the transaction in ctx. Errors: 404 for no
// such record or definition, 409 when no flow applies
// (flow_none_applies), when one runs already (flow_already_running) or when
// the definition is not published.
func (e *Engine) Start(ctx context.Context, p *access.Principal, entity string, recordID int64, definitionID int64) (int64, error) {
	var id int64
	err := e.db.WithTx(ctx, func(ctx context.Context) error {
		if _, err := e.rs.Get(ctx, p, entity, recordID, records.GetOptions{Fields: []string{"id"}}); err != nil {
			return err
		}
		var err error
		id, _, err = e.start(ctx, p, entity, recordID, definitionID, TriggerSubmit, false)
		return err
	})
	return id, err
}

// start starts (or, for the submitter of a returned one, resumes) the
// record's flow. With auto (create and update triggers) nothing happening
// is not an error: it returns 0.
func (e *Engine) start(ctx context.Context, p *access.Principal, entity string, recordID, definitionID int64, trigger string, auto bool) (int64, bool, error) {
	ent, ok := e.reg.Get(entity)
	if !ok || entity == DefinitionEntity {
		return 0, false, apperr.NotFound()
	}
	// Triggers of create and update look for candidate flows first: most
	// writes of an entity with flows start none, and this is one query.
	var rows []*versionRow
	if definitionID == 0 {
		var err error
		if rows, err = e.st.activeVersions(ctx, entity, trigger); err != nil {
			return 0, false, err
		}
		if len(rows) == 0 && auto {
			return 0, false, nil
		}
	}
	open, err := e.st.openInstance(ctx, entity, recordID, true)
	if err != nil {
		return 0, false, err
	}
	if open != nil && auto {
		return 0, false, nil
	}
	rec, err := e.loadRecord(ctx, entity, recordID)
	if err != nil {
		return 0, false, err
	}
	if open != nil {
		if open.Status == StatusReturned && p.UserID != 0 && p.UserID == open.Submitter {
			return open.ID, true, e.resume(ctx, open, rec, p.UserID)
		}
		return 0, false, apperr.Conflict("flow_already_running", "flow", open.Name)
	}
	var cv *cachedVersion
	if definitionID != 0 {
		row, err := e.st.publishedVersion(ctx, definitionID)
		if err != nil {
			return 0, false, err
		}
		if row.Entity != entity {
			return 0, false, apperr.Conflict("flow_wrong_entity", "flow", row.Name, "entity", row.Entity)
		}
		if cv, err = e.version(ctx, row.ID); err != nil {
			return 0, false, err
		}
	} else if cv, err = e.applicable(ctx, ent, rec, rows, auto); err != nil {
		return 0, false, err
	}
	if cv == nil {
		if auto {
			return 0, false, nil
		}
		return 0, false, apperr.Conflict("flow_none_applies", "entity", entity)
	}
	submitter := p.UserID
	if submitter == 0 {
		submitter, _ = rec["owner"].(int64)
	}
	now := e.now().UTC().Truncate(time.Microsecond)
	in := &instance{DefinitionID: cv.row.DefinitionID, VersionID: cv.row.ID, Version: cv.row.Version, Name: cv.row.Name,
		Entity: entity, RecordID: recordID, Title: titleOf(e.reg.Types(), ent, rec), Status: StatusRunning, Submitter: submitter,
		State: state{Splits: map[string]*splitRun{}}, StartedAt: now, UpdatedAt: now}
	if err := e.st.insertInstance(ctx, in); err != nil {
		return 0, false, err
	}
	e.markFlowed(entity)
	r := &run{e: e, in: in, c: cv.c, rec: rec, actor: submitter, now: now}
	if err := r.log(ctx, &step{Kind: "submit", Actor: submitter, Data: map[string]any{"version": cv.row.Version, "trigger": trigger}}); err != nil {
		return 0, false, err
	}
	if err := r.tell(ctx, submitter, ""); err != nil {
		return 0, false, err
	}
	if err := r.enter(ctx, r.newToken(r.c.start, nil)); err != nil {
		return 0, false, err
	}
	return in.ID, false, r.save(ctx)
}

// applicable returns the first of the candidate versions (in priority
// order) whose condition holds for the record, or nil. A version that can
// no longer run is an error, unless lenient (automatic triggers and the
// submit button's check skip it and log it).
func (e *Engine) applicable(ctx context.Context, ent *meta.Entity, rec records.Record, rows []*versionRow, lenient bool) (*cachedVersion, error) {
	vars := recordVars(ent, rec)
	for _, row := range rows {
		c, err := e.version(ctx, row.ID)
		if err != nil {
			if lenient {
				e.log.Warn("flow version cannot run", "version", row.ID, "err", err)
				continue
			}
			return nil, err
		}
		if c.c.cond == nil {
			return c, nil
		}
		// A condition that fails to evaluate (nil arithmetic, a type
		// mismatch) does not hold.
		if ok, err := c.c.cond.RunBool(vars); err == nil && ok {
			return c, nil
		}
	}
	return nil, nil
}

// resume continues a returned instance: the submitter has changed the
// record and submits it again. The approval nodes where the flow stood
// start over with their approvers resolved afresh.
func (e *Engine) resume(ctx context.Context, in *instance, rec records.Record, actor int64) error {
	cv, err := e.version(ctx, in.VersionID)
	if err != nil {
		return err
	}
	now := e.now().UTC().Truncate(time.Microsecond)
	r := &run{e: e, in: in, c: cv.c, rec: rec, actor: actor, now: now}
	in.Status = StatusRunning
	in.Title = titleOf(e.reg.Types(), cv.c.entity, rec)
	if err := r.log(ctx, &step{Kind: "resubmit", Actor: actor}); err != nil {
		return err
	}
	if err := r.tell(ctx, actor, ""); err != nil {
		return err
	}
	waiting := in.State.Tokens
	in.State.Tokens = nil
	for _, t := range waiting {
		if err := r.enter(ctx, t); err != nil {
			return err
		}
		if !in.open() {
			break
		}
	}
	return r.save(ctx)
}

// loadRun prepares work on an instance that the caller has locked.
func (e *Engine) loadRun(ctx context.Context, in *instance, actor int64) (*run, error) {
	cv, err := e.version(ctx, in.VersionID)
	if err != nil {
		return nil, err
	}
	rec, err := e.loadRecord(ctx, in.Entity, in.RecordID)
	if err != nil && !errors.Is(err, apperr.ErrNotFound) {
		return nil, err
	}
	if rec == nil {
		rec = records.Record{"id": in.RecordID}
	}
	return &run{e: e, in: in, c: cv.c, rec: rec, actor: actor, now: e.now().UTC().Truncate(time.Microsecond)}, nil
}

// loadRecord reads the record as the system sees it (the engine resolves
// approvers from fields the submitter may not see).
func (e *Engine) loadRecord(ctx context.Context, entity string, id int64) (records.Record, error) {
	return e.rs.Get(ctx, access.System(), entity, id, records.GetOptions{})
}

func (r *run) save(ctx context.Context) error {
	r.in.UpdatedAt = r.now
	return r.e.st.saveInstance(ctx, r.in)
}

func (r *run) newToken(node string, scope []int) token {
	r.in.State.Seq++
	return token{ID: r.in.State.Seq, Node: node, Scope: scope}
}

// next is the node after n along its one outgoing edge.
func (r *run) next(n string) string {
	return r.c.graph.Edges[r.c.out[n][0]].To
}

// enter moves a token into its node and on through every node that does
// not wait (start, condition, split, join, CC, action), until it waits at
// an approval node, is absorbed by a join or ends the flow.
func (r *run) enter(ctx context.Context, tok token) error {
	for {
		if !r.in.open() {
			return nil
		}
		r.steps++
		if r.steps > maxSteps {
			return apperr.Conflict("flow_loop_limit", "flow", r.in.Name)
		}
		n := r.c.nodes[tok.Node]
		switch n.Type {
		case NodeStart:
			tok.Node = r.next(n.ID)
		case NodeEnd:
			return r.finish(ctx, StatusApproved, r.actor, "")
		case NodeApproval:
			// A node nobody could approve was skipped (the timeline says
			// so); it is no target for a rejection, so no node_done.
			waits, err := r.activate(ctx, tok)
			if err != nil || waits {
				return err
			}
			tok.Node = r.next(n.ID)
		case NodeCC:
			if err := r.carbonCopy(ctx, n); err != nil {
				return err
			}
			tok.Node = r.next(n.ID)
		case NodeAction:
			if err := r.action(ctx, n); err != nil {
				return err
			}
			tok.Node = r.next(n.ID)
		case NodeCondition:
			to, label := r.branch(n)
			if err := r.log(ctx, &step{Kind: "branch", NodeID: n.ID, NodeName: n.Label(),
				Data: map[string]any{"to": to, "to_name": r.c.nodes[to].Label(), "condition": label}}); err != nil {
				return err
			}
			tok.Node = to
		case NodeSplit:
			r.in.State.Seq++
			a := r.in.State.Seq
			outs := r.c.out[n.ID]
			if r.in.State.Splits == nil {
				r.in.State.Splits = map[string]*splitRun{}
			}
			r.in.State.Splits[strconv.Itoa(a)] = &splitRun{Split: n.ID, Join: r.c.joinOf[n.ID], Need: len(outs), Scope: tok.Scope}
			for _, i := range outs {
				child := r.newToken(r.c.graph.Edges[i].To, append(slices.Clone(tok.Scope), a))
				if err := r.enter(ctx, child); err != nil {
					return err
				}
			}
			return nil
		case NodeJoin:
			if len(tok.Scope) == 0 {
				return fmt.Errorf("flow: token %d reached join %s outside any split", tok.ID, n.ID)
			}
			a := strconv.Itoa(tok.Scope[len(tok.Scope)-1])
			sr := r.in.State.Splits[a]
			if sr == nil || sr.Join != n.ID {
				return fmt.Errorf("flow: token %d reached join %s of another split", tok.ID, n.ID)
			}
			sr.Arrived++
			if sr.Arrived < sr.Need {
				return nil
			}
			delete(r.in.State.Splits, a)
			tok = r.newToken(r.next(n.ID), sr.Scope)
		default:
			return fmt.Errorf("flow: unknown node type %s", n.Type)
		}
	}
}

// branch picks the edge a condition node takes: the first whose condition
// holds, in the order drawn, else the default. A condition that fails to
// evaluate does not hold.
func (r *run) branch(n *Node) (to, label string) {
	vars := recordVars(r.c.entity, r.rec)
	def := ""
	for _, i := range r.c.out[n.ID] {
		ed := &r.c.graph.Edges[i]
		if ed.Default {
			def = ed.To
			continue
		}
		if p := r.c.edgeProg[i]; p != nil {
			if ok, err := p.RunBool(vars); err == nil && ok {
				return ed.To, ed.Condition
			}
		}
	}
	return def, ""
}

// action sets fields on the record through the records service, marked as
// a write of the flow (the edit lock lets it pass; the audit says "flow").
func (r *run) action(ctx context.Context, n *Node) error {
	cfg := r.c.actions[n.ID]
	input := make(map[string]any, len(cfg.Set))
	for k, v := range cfg.Set {
		input[k] = v
	}
	rec, err := r.e.rs.Update(withFlow(ctx), system(r.actor), r.in.Entity, r.in.RecordID, input, 0)
	if err != nil {
		return err
	}
	r.rec = rec
	fields := make([]string, 0, len(input))
	for k := range input {
		fields = append(fields, k)
	}
	slices.Sort(fields)
	return r.log(ctx, &step{Kind: "action", NodeID: n.ID, NodeName: n.Label(), Actor: r.actor, Data: map[string]any{"fields": fields}})
}

// finish ends the instance: every open task is cancelled, the tokens are
// gone, the submitter is told.
func (r *run) finish(ctx context.Context, status string, actor int64, comment string) error {
	if err := r.cancelOpen(ctx, "instance_id = ? AND status IN ('pending', 'waiting', 'queued')", r.in.ID); err != nil {
		return err
	}
	r.in.Status = status
	end := r.now
	r.in.EndedAt = &end
	r.in.State.Tokens = nil
	r.in.State.Splits = map[string]*splitRun{}
	if err := r.log(ctx, &step{Kind: "end", Actor: actor, Comment: comment, Data: map[string]any{"status": status}}); err != nil {
		return err
	}
	if err := r.tell(ctx, actor, comment); err != nil {
		return err
	}
	switch status {
	case StatusApproved:
		return r.notify(ctx, "approval.done", "flow_notify_approved", []int64{r.in.Submitter}, nil)
	case StatusRejected:
		return r.notify(ctx, "approval.done", "flow_notify_rejected", []int64{r.in.Submitter}, nil)
	}
	return nil
}

// cancelOpen cancels the open tasks matching where and their timers.
func (r *run) cancelOpen(ctx context.Context, where string, args ...any) error {
	ts, err := r.e.st.tasks(ctx, where, args...)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if err := r.e.disarm(ctx, t.ID); err != nil {
			return err
		}
		t.Status = TaskCancelled
		if err := r.e.st.saveTask(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// log writes a step to the instance's timeline and, for the steps a
// person reads in a record's history, an audit entry on the record.
func (r *run) log(ctx context.Context, st *step) error {
	st.InstanceID, st.At = r.in.ID, r.now
	if err := r.e.st.insertStep(ctx, st); err != nil {
		return err
	}
	switch st.Kind {
	case "branch", "node_done":
		return nil
	}
	return r.audit(ctx, st)
}

// audit adds a "flow.<kind>" entry to the record's audit trail, which the
// record's history and timeline show: the flow, the node, the comment,
// the attachments ({id, name, size, content_type}) and the users concerned.
func (r *run) audit(ctx context.Context, st *step) error {
	ch := map[string]audit.Change{"flow": {New: r.in.Name}}
	if st.NodeName != "" {
		ch["flow_node"] = audit.Change{New: st.NodeName}
	}
	if st.Comment != "" {
		ch["flow_comment"] = audit.Change{New: st.Comment}
	}
	if len(st.Attachments) > 0 {
		// With names, so the history shows them without asking for each file.
		att, err := r.e.fileInfo().of(ctx, st.Attachments)
		if err != nil {
			return err
		}
		ch["flow_attachments"] = audit.Change{New: att}
	}
	for _, k := range []string{"status", "assignees", "to", "user", "position", "target"} {
		if v, ok := st.Data[k]; ok {
			ch["flow_"+k] = audit.Change{New: v}
		}
	}
	var version int64
	e := r.c.entity
	err := r.e.db.QueryRow(ctx, "SELECT version FROM "+r.e.db.Ident(e.Table())+" WHERE id = ?", r.in.RecordID).Scan(&version)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return audit.Write(ctx, r.e.db, audit.Entry{Entity: r.in.Entity, RecordID: r.in.RecordID, Action: "flow." + st.Kind,
		Version: version, Actor: st.Actor, Source: access.SourceFlow, At: r.now, Changes: ch})
}

// recordVars is the record as conditions see it: every field (nil when
// empty), sub-table rows as lists of objects.
func recordVars(e *meta.Entity, rec records.Record) map[string]any {
	vars := make(map[string]any, len(e.Fields)+5)
	for _, n := range recordVarNames(e) {
		vars[n] = nil
	}
	for k, x := range rec {
		if _, ok := vars[k]; !ok {
			continue
		}
		switch v := x.(type) {
		case []records.Record:
			list := make([]any, len(v))
			for i, row := range v {
				list[i] = map[string]any(row)
			}
			vars[k] = list
		case decimal.Decimal, int64, string, bool, time.Time:
			vars[k] = v
		default:
			vars[k] = v
		}
	}
	return vars
}

// titleOf is the record's title as lists show it.
func titleOf(types meta.Types, e *meta.Entity, rec records.Record) string {
	if e.TitleField != "" {
		if f := e.Field(e.TitleField); f != nil {
			if x, ok := rec[f.Name]; ok && x != nil {
				if t, ok := types[f.Type]; ok {
					if s := t.Text(f, x); s != "" {
						return s
					}
				}
			}
		}
	}
	return "#" + strconv.FormatInt(rec.ID(), 10)
}
