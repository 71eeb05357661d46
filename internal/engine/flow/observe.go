package flow

import (
	"context"

	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Outcome is a change of a record's flow told to the observers of its
// entity: the flow started or was resubmitted (StatusRunning), was
// approved, rejected, returned to the submitter or withdrawn.
type Outcome struct {
	Entity   string
	RecordID int64
	Instance int64
	Flow     string // the definition's name
	Status   string
	Actor    int64 // the user whose act caused it
	Comment  string
}

// Observer reacts to an outcome inside the transaction that caused it; an
// error undoes the act. Its writes through Write pass the edit lock.
type Observer func(ctx context.Context, o Outcome) error

// Observe adds an observer of an entity's flows (modules keep a record's
// own status in step with its approval this way). Call it while wiring,
// before the engine serves requests.
func (e *Engine) Observe(entity string, fn Observer) {
	if e.observers == nil {
		e.observers = map[string][]Observer{}
	}
	e.observers[entity] = append(e.observers[entity], fn)
}

// Write updates a record as the flow itself: past the edit lock, by the
// system in the actor's name, with source "flow" in the audit trail. It is
// for observers.
func (e *Engine) Write(ctx context.Context, actor int64, entity string, id int64, input map[string]any) (records.Record, error) {
	return e.rs.Update(withFlow(ctx), system(actor), entity, id, input, 0)
}

// tell runs the observers of the run's entity for its instance's status.
func (r *run) tell(ctx context.Context, actor int64, comment string) error {
	fns := r.e.observers[r.in.Entity]
	if len(fns) == 0 {
		return nil
	}
	o := Outcome{Entity: r.in.Entity, RecordID: r.in.RecordID, Instance: r.in.ID, Flow: r.in.Name, Status: r.in.Status, Actor: actor, Comment: comment}
	for _, fn := range fns {
		if err := fn(withFlow(ctx), o); err != nil {
			return err
		}
	}
	return nil
}

// PendingTask is an approval waiting for its assignee.
type PendingTask struct {
	ID       int64
	Assignee int64
	Node     string
}

// PendingTasks lists the pending approval tasks of a record's running flow
// (who must act on it now).
func (e *Engine) PendingTasks(ctx context.Context, entity string, recordID int64) ([]PendingTask, error) {
	rows, err := e.db.Query(ctx, `SELECT t.id, t.assignee, t.node_name FROM flow_tasks t JOIN flow_instances i ON i.id = t.instance_id
		WHERE i.entity = ? AND i.record_id = ? AND i.status = 'running' AND t.status = 'pending' AND t.kind = 'approval' ORDER BY t.id`, entity, recordID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PendingTask
	for rows.Next() {
		var t PendingTask
		if err := rows.Scan(&t.ID, &t.Assignee, &t.Node); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
