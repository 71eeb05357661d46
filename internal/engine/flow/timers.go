package flow

import (
	"context"
	"errors"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// The timer jobs of approval tasks with a time limit. Both run in the
// transaction that marks them done (exactly once) and do nothing when the
// task is no longer pending, so a timer that was not cancelled in time is
// harmless.
const (
	KindRemind   = "flow.remind"
	KindEscalate = "flow.escalate"
)

type timerPayload struct {
	Task int64 `json:"task,string"`
}

func timerKey(taskID int64) string { return "task:" + strconv.FormatInt(taskID, 10) }

// arm schedules a pending task's reminder (RemindBeforeHours before its
// due time, or at it) and, when the node escalates, its escalation at the
// due time.
func (e *Engine) arm(ctx context.Context, t *task, cfg *ApprovalConfig) error {
	if e.jobs == nil || cfg == nil || t.DueAt == nil {
		return nil
	}
	key := timerKey(t.ID)
	remindAt := t.DueAt.Add(-hours(cfg.RemindBeforeHours))
	if _, err := e.jobs.Enqueue(ctx, KindRemind, timerPayload{Task: t.ID}, jobs.EnqueueOptions{RunAt: remindAt, UniqueKey: key}); err != nil {
		return err
	}
	if cfg.Escalate {
		if _, err := e.jobs.Enqueue(ctx, KindEscalate, timerPayload{Task: t.ID}, jobs.EnqueueOptions{RunAt: *t.DueAt, UniqueKey: key}); err != nil {
			return err
		}
	}
	return nil
}

// disarm cancels a task's timers (it was acted on).
func (e *Engine) disarm(ctx context.Context, taskID int64) error {
	if e.jobs == nil {
		return nil
	}
	key := timerKey(taskID)
	if _, err := e.jobs.CancelKey(ctx, KindRemind, key); err != nil {
		return err
	}
	_, err := e.jobs.CancelKey(ctx, KindEscalate, key)
	return err
}

// timerRun loads a timer's task and its instance, locked, when the task is
// still pending in a running instance; nil otherwise.
func (e *Engine) timerRun(ctx context.Context, job *jobs.Job) (*run, *task, error) {
	var p timerPayload
	if err := job.Decode(&p); err != nil {
		return nil, nil, jobs.Permanent(err)
	}
	t0, err := e.st.task(ctx, p.Task)
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	in, err := e.st.instance(ctx, t0.InstanceID, true)
	if err != nil {
		return nil, nil, err
	}
	t, err := e.st.task(ctx, p.Task)
	if err != nil {
		return nil, nil, err
	}
	if t.Status != TaskPending || in.Status != StatusRunning {
		return nil, nil, nil
	}
	r, err := e.loadRun(ctx, in, 0)
	if err != nil {
		return nil, nil, err
	}
	return r, t, nil
}

// remindJob reminds the assignee of a task that is about to be (or is)
// overdue.
func (e *Engine) remindJob(ctx context.Context, job *jobs.Job) error {
	r, t, err := e.timerRun(ctx, job)
	if err != nil || r == nil {
		return err
	}
	args := map[string]any{"node": t.NodeName}
	if t.DueAt != nil {
		args["due_at"] = t.DueAt.In(meta.Shanghai).Format("2006-01-02 15:04")
	}
	if err := r.e.st.insertStep(ctx, &step{InstanceID: r.in.ID, TaskID: t.ID, NodeID: t.NodeID, NodeName: t.NodeName, Kind: "remind",
		Data: map[string]any{"user": strconv.FormatInt(t.Assignee, 10)}, At: r.now}); err != nil {
		return err
	}
	return r.notify(ctx, "approval.reminder", "flow_notify_reminder", []int64{t.Assignee}, args)
}

// escalateJob hands an overdue task to its assignee's manager: the task
// becomes "escalated" and the manager gets a task of their own (same node,
// same turn, a fresh time limit, so an unanswered escalation climbs on).
// When the manager already holds an open task of the node, that task
// covers it. An assignee without an active manager keeps the task; the
// timeline notes that the escalation found no one.
func (e *Engine) escalateJob(ctx context.Context, job *jobs.Job) error {
	r, t, err := e.timerRun(ctx, job)
	if err != nil || r == nil {
		return err
	}
	u, err := e.user(ctx, t.Assignee)
	if err != nil {
		return err
	}
	mgr := int64(0)
	if u.manager != 0 {
		if m, err := e.user(ctx, u.manager); err != nil {
			return err
		} else if m.active {
			mgr = m.id
		}
	}
	if mgr == 0 {
		return r.log(ctx, &step{Kind: "escalate", TaskID: t.ID, NodeID: t.NodeID, NodeName: t.NodeName,
			Data: map[string]any{"status": "no_manager", "user": strconv.FormatInt(t.Assignee, 10)}})
	}
	if err := r.act(ctx, t, TaskEscalated, Input{}); err != nil {
		return err
	}
	open, err := e.st.tasks(ctx, "instance_id = ? AND token = ? AND assignee = ? AND status IN ('pending', 'waiting', 'queued')",
		r.in.ID, t.Token, mgr)
	if err != nil {
		return err
	}
	if len(open) == 0 {
		nt := &task{InstanceID: t.InstanceID, Token: t.Token, NodeID: t.NodeID, NodeName: t.NodeName, Kind: KindApproval, Assignee: mgr,
			Status: TaskPending, Seq: t.Seq, Origin: t.Origin, AddedBy: t.AddedBy, FromTask: t.ID, CreatedAt: r.now}
		r.setDue(nt)
		if err := e.st.insertTask(ctx, nt); err != nil {
			return err
		}
		if err := e.arm(ctx, nt, r.c.approvals[nt.NodeID]); err != nil {
			return err
		}
		if err := r.notify(ctx, "approval.escalated", "flow_notify_escalated", []int64{mgr},
			map[string]any{"node": t.NodeName, "from": u.name}); err != nil {
			return err
		}
	}
	if err := r.log(ctx, &step{Kind: "escalate", TaskID: t.ID, NodeID: t.NodeID, NodeName: t.NodeName,
		Data: map[string]any{"user": strconv.FormatInt(t.Assignee, 10), "to": strconv.FormatInt(mgr, 10)}}); err != nil {
		return err
	}
	if err := r.settle(ctx, t.Token); err != nil {
		return err
	}
	return r.save(ctx)
}
