package notify

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Task statuses.
const (
	TaskOpen      = "open"
	TaskDone      = "done"
	TaskCancelled = "cancelled"
)

// Grants are what every signed-in user may do with tasks whatever their
// roles: everything with their own tasks; and, for tasks they created for
// someone else (delegated), read and update them — which is also what
// lets anyone create a task for a colleague. Roles add more (a manager
// reading the department's tasks).
func Grants() []access.Grant {
	return []access.Grant{
		{Entity: TasksEntity, Actions: []string{access.Read, access.Create, access.Update, access.Delete}, Scope: access.ScopeOwn},
		{Entity: TasksEntity, Actions: []string{access.Read, access.Update}, Scope: access.ScopeFilter, Filter: "created_by == me()"},
	}
}

// taskTimer is the payload of a notify.task_timer job.
type taskTimer struct {
	Task  int64  `json:"task"`
	Which string `json:"which"` // remind or due
	At    int64  `json:"at"`    // the field's value it was scheduled for (unix µs)
}

const (
	timerRemind = "remind"
	timerDue    = "due"
)

func timerKey(task int64, which string) string { return fmt.Sprintf("task:%d:%s", task, which) }

func (s *Service) installTasks() {
	s.records.Use(TasksEntity, records.Hook{Before: s.beforeTask, After: s.afterTask})
}

// beforeTask checks what metadata cannot: an owner, a related entity that
// exists, and keeps completed_at in step with the status.
func (s *Service) beforeTask(ctx context.Context, c *records.Change) error {
	if c.New == nil {
		return nil
	}
	var errs []apperr.FieldError
	if owner, _ := c.New["owner"].(int64); owner == 0 {
		errs = append(errs, apperr.Field("owner", "required"))
	}
	rel, _ := c.New["related_entity"].(string)
	if rel != "" {
		if _, ok := s.records.Registry().Get(rel); !ok {
			errs = append(errs, apperr.Field("related_entity", "unknown_entity", "entity", rel))
		}
	} else if c.New["related_id"] != nil {
		errs = append(errs, apperr.Field("related_entity", "required"))
	}
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	if c.New["status"] == TaskDone {
		if c.Old != nil && c.Old["status"] == TaskDone && c.Old["completed_at"] != nil {
			c.New["completed_at"] = c.Old["completed_at"]
		} else {
			c.New["completed_at"] = s.now().UTC().Truncate(time.Microsecond)
		}
	} else {
		delete(c.New, "completed_at")
	}
	return nil
}

// afterTask keeps the reminder timers in step with the task, in the same
// transaction: a change of remind_at, due_at or status cancels the timers
// (by unique key) and enqueues what is still due in the future; completing,
// cancelling or deleting leaves none. A task given to someone else tells
// its new owner.
func (s *Service) afterTask(ctx context.Context, c *records.Change) error {
	switch c.Op {
	case records.OpDelete:
		return s.cancelTimers(ctx, c.Old.ID())
	case records.OpCreate, records.OpRestore:
		if err := s.scheduleTimers(ctx, c.New); err != nil {
			return err
		}
	case records.OpUpdate:
		if slices.ContainsFunc(c.Changed, func(f string) bool { return f == "status" || f == "remind_at" || f == "due_at" }) {
			if err := s.cancelTimers(ctx, c.New.ID()); err != nil {
				return err
			}
			if err := s.scheduleTimers(ctx, c.New); err != nil {
				return err
			}
		}
	}
	if c.Op == records.OpCreate || c.Op == records.OpUpdate && slices.Contains(c.Changed, "owner") {
		return s.notifyAssigned(ctx, c.P, c.New)
	}
	return nil
}

func (s *Service) cancelTimers(ctx context.Context, id int64) error {
	for _, which := range []string{timerRemind, timerDue} {
		if _, err := s.jobs.CancelKey(ctx, jobTaskTimer, timerKey(id, which)); err != nil {
			return err
		}
	}
	return nil
}

// scheduleTimers enqueues the reminder (before the due time) and the due
// timer of an open task, for times still in the future.
func (s *Service) scheduleTimers(ctx context.Context, t records.Record) error {
	if t["status"] != TaskOpen {
		return nil
	}
	now := s.now()
	due, hasDue := t["due_at"].(time.Time)
	remind, hasRemind := t["remind_at"].(time.Time)
	if hasRemind && remind.After(now) && (!hasDue || remind.Before(due)) {
		if err := s.enqueueTimer(ctx, t.ID(), timerRemind, remind); err != nil {
			return err
		}
	}
	if hasDue && due.After(now) {
		return s.enqueueTimer(ctx, t.ID(), timerDue, due)
	}
	return nil
}

func (s *Service) enqueueTimer(ctx context.Context, id int64, which string, at time.Time) error {
	_, err := s.jobs.Enqueue(ctx, jobTaskTimer, taskTimer{Task: id, Which: which, At: at.UnixMicro()},
		jobs.EnqueueOptions{RunAt: at, UniqueKey: timerKey(id, which)})
	return err
}

// taskTimerJob sends task.due to the owner of a task still open whose time
// is still the one the timer was set for. It runs in the transaction that
// marks the job done, so the reminder is written exactly once.
func (s *Service) taskTimerJob(ctx context.Context, j *jobs.Job) error {
	var t taskTimer
	if err := j.Decode(&t); err != nil {
		return jobs.Permanent(err)
	}
	rec, err := s.records.Get(ctx, access.System(), TasksEntity, t.Task, records.GetOptions{})
	if err != nil {
		if ae, ok := apperr.As(err); ok && ae.Kind == apperr.ErrNotFound {
			return nil // deleted meanwhile
		}
		return err
	}
	field := "due_at"
	if t.Which == timerRemind {
		field = "remind_at"
	}
	at, ok := rec[field].(time.Time)
	owner, _ := rec["owner"].(int64)
	if rec["status"] != TaskOpen || !ok || at.UnixMicro() != t.At || owner == 0 {
		return nil // no longer due: rescheduling cancels, this is belt and braces
	}
	code := "notify_task_due"
	if t.Which == timerRemind {
		code = "notify_task_remind"
	}
	m := taskMessage("task.due", code, rec)
	m.To = []int64{owner}
	return s.Send(ctx, m)
}

// notifyAssigned tells a task's owner that someone else gave it to them.
func (s *Service) notifyAssigned(ctx context.Context, p *access.Principal, t records.Record) error {
	owner, _ := t["owner"].(int64)
	if owner == 0 || owner == p.UserID || t["status"] != TaskOpen {
		return nil
	}
	m := taskMessage("task.assigned", "notify_task_assigned", t)
	m.To, m.Actor = []int64{owner}, p.UserID
	actor := p.Name
	if actor == "" {
		actor = "Tenon"
	}
	m.Args["actor"] = actor
	return s.Send(ctx, m)
}

// taskMessage builds a message about a task from a code that has a
// variant with the due time (code, code+".body") and one without
// (code+"_nodue", whose body is the description).
func taskMessage(kind, code string, t records.Record) Message {
	title, _ := t["title"].(string)
	desc, _ := t["description"].(string)
	args := map[string]any{"title": title, "description": clip(desc, 500)}
	if due, ok := t["due_at"].(time.Time); ok {
		args["due"] = due.In(meta.Shanghai).Format("2006-01-02 15:04")
	} else {
		code += "_nodue"
	}
	return Message{Kind: kind, Code: code, Args: args, Body: clip(desc, 500), Entity: TasksEntity, RecordID: t.ID()}
}
