package flow

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/notify"
)

// activate assigns an approval node's tasks for a token. It reports
// whether the token now waits there; it does not when no approver
// resolves and the node is set to skip (or no administrator exists to
// take it).
func (r *run) activate(ctx context.Context, tok token) (bool, error) {
	n := r.c.nodes[tok.Node]
	cfg := r.c.approvals[n.ID]
	users, err := r.resolve(ctx, cfg.Approvers)
	if err != nil {
		return false, err
	}
	fallback := ""
	if len(users) == 0 && cfg.OnEmpty == EmptyAdmin {
		admins, err := r.e.roleMembers(ctx, "admin")
		if err != nil {
			return false, err
		}
		if users, err = r.activeOnly(ctx, admins); err != nil {
			return false, err
		}
		fallback = "admin"
	}
	if len(users) == 0 {
		return false, r.log(ctx, &step{Kind: "skip", NodeID: n.ID, NodeName: n.Label(), Data: map[string]any{"reason": "no_approver"}})
	}
	ids := make([]string, len(users))
	for i, u := range users {
		status, seq := TaskPending, 0
		if cfg.Mode == ModeSequential {
			seq = i + 1
			if i > 0 {
				status = TaskQueued
			}
		}
		t := &task{InstanceID: r.in.ID, Token: tok.ID, NodeID: n.ID, NodeName: n.Label(), Kind: KindApproval, Assignee: u,
			Status: status, Seq: seq, Origin: OriginBase, CreatedAt: r.now}
		if err := r.assign(ctx, t); err != nil {
			return false, err
		}
		ids[i] = strconv.FormatInt(u, 10)
	}
	data := map[string]any{"assignees": ids, "mode": cfg.Mode}
	if fallback != "" {
		data["fallback"] = fallback
	}
	r.in.State.Tokens = append(r.in.State.Tokens, tok)
	return true, r.log(ctx, &step{Kind: "assign", NodeID: n.ID, NodeName: n.Label(), Data: data})
}

func (r *run) activeOnly(ctx context.Context, ids []int64) ([]int64, error) {
	var out []int64
	for _, id := range ids {
		u, err := r.e.user(ctx, id)
		if err != nil {
			return nil, err
		}
		if u.active {
			out = append(out, id)
		}
	}
	return out, nil
}

// assign stores a new task; a pending one gets its due time, timers and a
// notification.
func (r *run) assign(ctx context.Context, t *task) error {
	if t.Status == TaskPending {
		r.setDue(t)
	}
	if err := r.e.st.insertTask(ctx, t); err != nil {
		return err
	}
	if t.Status == TaskPending {
		return r.pending(ctx, t, "approval.pending", "flow_notify_pending")
	}
	return nil
}

// setDue sets a pending task's due time from its node's time limit.
func (r *run) setDue(t *task) {
	t.DueAt = nil
	if cfg := r.c.approvals[t.NodeID]; cfg != nil && cfg.TimeLimitHours > 0 {
		due := r.now.Add(hours(cfg.TimeLimitHours))
		t.DueAt = &due
	}
}

func hours(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

// pending arms a pending task's timers and tells its assignee.
func (r *run) pending(ctx context.Context, t *task, kind, code string) error {
	if err := r.e.arm(ctx, t, r.c.approvals[t.NodeID]); err != nil {
		return err
	}
	return r.notify(ctx, kind, code, []int64{t.Assignee}, map[string]any{"node": t.NodeName})
}

// makePending turns a queued or waiting task into a pending one (its turn
// in a sequence came, or the approver it waited for approved).
func (r *run) makePending(ctx context.Context, t *task) error {
	t.Status = TaskPending
	r.setDue(t)
	if err := r.e.st.saveTask(ctx, t); err != nil {
		return err
	}
	return r.pending(ctx, t, "approval.pending", "flow_notify_pending")
}

// carbonCopy sends a CC node's recipients a copy: a task in their CC box
// and a notification. It never waits.
func (r *run) carbonCopy(ctx context.Context, n *Node) error {
	users, err := r.resolve(ctx, r.c.ccs[n.ID].Recipients)
	if err != nil {
		return err
	}
	ids := make([]string, len(users))
	for i, u := range users {
		t := &task{InstanceID: r.in.ID, NodeID: n.ID, NodeName: n.Label(), Kind: KindCC, Assignee: u, Status: TaskCC,
			Origin: OriginBase, CreatedAt: r.now}
		if err := r.e.st.insertTask(ctx, t); err != nil {
			return err
		}
		ids[i] = strconv.FormatInt(u, 10)
	}
	if err := r.log(ctx, &step{Kind: "cc", NodeID: n.ID, NodeName: n.Label(), Data: map[string]any{"assignees": ids}}); err != nil {
		return err
	}
	return r.notify(ctx, "approval.cc", "flow_notify_cc", users, map[string]any{"node": n.Label()})
}

// notify sends a message about the instance's record; without a notifier
// it does nothing.
func (r *run) notify(ctx context.Context, kind, code string, to []int64, extra map[string]any) error {
	if r.e.notifier == nil || len(to) == 0 {
		return nil
	}
	args := map[string]any{"flow": r.in.Name, "title": r.in.Title}
	for k, v := range extra {
		args[k] = v
	}
	return r.e.notifier.Send(ctx, notify.Message{Kind: kind, To: to, Code: code, Args: args,
		Title: i18n.Message(i18n.ZH, code, args), Entity: r.in.Entity, RecordID: r.in.RecordID, Actor: r.actor})
}

// Input is what an approver sends with an action. Which keys apply
// depends on the action (see the HTTP surface).
type Input struct {
	Comment     string   `json:"comment,omitempty"`
	Attachments []string `json:"attachments,omitempty"`
	// To is the target of a delegation (a user id) or of a rejection (an
	// earlier node id, or "start" / empty to end the flow as rejected).
	To string `json:"to,omitempty"`
	// User and Position are an added approver and "before" or "after".
	User     string `json:"user,omitempty"`
	Position string `json:"position,omitempty"`
}

// Actions on tasks.
const (
	ActApprove     = "approve"
	ActReject      = "reject"
	ActReturn      = "return"
	ActDelegate    = "delegate"
	ActComment     = "comment"
	ActAddApprover = "add_approver"
)

// maxComment bounds a comment (in characters).
const maxComment = 2000

// Act performs an action on a task for its assignee (nobody else may: for
// anyone else the task does not exist, 404). It returns the task after the
// action and the instance's status.
func (e *Engine) Act(ctx context.Context, p *access.Principal, taskID int64, action string, in Input) (*task, *instance, error) {
	var outT *task
	var outI *instance
	err := e.db.WithTx(ctx, func(ctx context.Context) error {
		t0, err := e.st.task(ctx, taskID)
		if err != nil {
			return err
		}
		if p.UserID == 0 || t0.Assignee != p.UserID {
			return apperr.NotFound()
		}
		// The instance first, then the task: every action on an instance
		// takes its row lock in the same order.
		inst, err := e.st.instance(ctx, t0.InstanceID, true)
		if err != nil {
			return err
		}
		t, err := e.st.task(ctx, taskID)
		if err != nil {
			return err
		}
		r, err := e.loadRun(ctx, inst, p.UserID)
		if err != nil {
			return err
		}
		if err := r.checkInput(ctx, p, in); err != nil {
			return err
		}
		if action != ActComment {
			if t.Kind != KindApproval || t.Status != TaskPending {
				return apperr.Conflict("flow_task_not_pending", "status", i18n.T("flow_task_status_"+t.Status))
			}
			if inst.Status != StatusRunning {
				return apperr.Conflict("flow_not_running", "status", i18n.T("flow_status_"+inst.Status))
			}
		}
		switch action {
		case ActApprove:
			err = r.approve(ctx, t, in)
		case ActReject:
			err = r.reject(ctx, t, in)
		case ActReturn:
			err = r.sendBack(ctx, t, in)
		case ActDelegate:
			err = r.delegate(ctx, t, in)
		case ActAddApprover:
			err = r.addApprover(ctx, t, in)
		case ActComment:
			err = r.comment(ctx, t, in)
		default:
			return apperr.NotFound()
		}
		if err != nil {
			return err
		}
		if err := r.keepAttachments(ctx, in.Attachments); err != nil {
			return err
		}
		if err := r.save(ctx); err != nil {
			return err
		}
		if outT, err = e.st.task(ctx, taskID); err != nil {
			return err
		}
		outI = inst
		return nil
	})
	return outT, outI, err
}

// checkInput refuses a too long comment and attachments that are not
// files the caller uploaded (attaching someone else's file would let the
// flow's readers download it).
func (r *run) checkInput(ctx context.Context, p *access.Principal, in Input) error {
	if utf8.RuneCountInString(in.Comment) > maxComment {
		return apperr.Fields(apperr.Field("comment", "too_long", "max", maxComment))
	}
	if len(in.Attachments) > 20 {
		return apperr.Fields(apperr.Field("attachments", "too_many_items", "max", 20))
	}
	for _, id := range in.Attachments {
		if r.e.files == nil {
			return apperr.Fields(apperr.Field("attachments", "file_not_found", "id", id))
		}
		f, err := r.e.files.Get(ctx, id)
		if err != nil || f.CreatedBy != p.UserID {
			if err != nil && !errors.Is(err, apperr.ErrNotFound) {
				return err
			}
			return apperr.Fields(apperr.Field("attachments", "file_not_found", "id", id))
		}
	}
	return nil
}

// keepAttachments records the instance's attachments as held by the record
// (field "_flow_<instance>"), so the orphan purge keeps them; they are
// downloaded through the flow's attachment route.
func (r *run) keepAttachments(ctx context.Context, added []string) error {
	if len(added) == 0 || r.e.files == nil {
		return nil
	}
	steps, err := r.e.st.steps(ctx, r.in.ID)
	if err != nil {
		return err
	}
	var all []string
	for _, st := range steps {
		all = append(all, st.Attachments...)
	}
	return r.e.files.SetRefs(ctx, r.in.Entity, r.in.RecordID, attachmentField(r.in.ID), append(all, added...))
}

func attachmentField(instanceID int64) string { return "_flow_" + strconv.FormatInt(instanceID, 10) }

// act closes a task with the approver's outcome.
func (r *run) act(ctx context.Context, t *task, status string, in Input) error {
	if err := r.e.disarm(ctx, t.ID); err != nil {
		return err
	}
	acted := r.now
	t.Status, t.ActedAt, t.Comment, t.Attachments = status, &acted, strings.TrimSpace(in.Comment), in.Attachments
	return r.e.st.saveTask(ctx, t)
}

func (r *run) approve(ctx context.Context, t *task, in Input) error {
	if err := r.act(ctx, t, TaskApproved, in); err != nil {
		return err
	}
	if err := r.log(ctx, &step{Kind: "approve", TaskID: t.ID, NodeID: t.NodeID, NodeName: t.NodeName, Actor: r.actor,
		Comment: t.Comment, Attachments: in.Attachments}); err != nil {
		return err
	}
	return r.afterApproval(ctx, t)
}

// afterApproval moves a node on after one of its tasks was approved:
//
//   - in single and any mode, the first base approval decides: the other
//     approvers' tasks are cancelled (approvers added after someone stay);
//   - an approver added "before" someone hands the task back to them;
//   - when nobody is pending or waiting any more, the next queued approver
//     of a sequence gets the task, or, with none left, the node is done
//     and the token moves on.
func (r *run) afterApproval(ctx context.Context, t *task) error {
	cfg := r.c.approvals[t.NodeID]
	if t.Origin == OriginBase && (cfg.Mode == ModeSingle || cfg.Mode == ModeAny) {
		if err := r.cancelOpen(ctx, "instance_id = ? AND token = ? AND status IN ('pending', 'waiting', 'queued') AND origin <> 'after'",
			r.in.ID, t.Token); err != nil {
			return err
		}
	}
	if t.Origin == OriginBefore && t.AddedBy != 0 {
		parent, err := r.e.st.task(ctx, t.AddedBy)
		if err != nil {
			return err
		}
		if parent.Status == TaskWaiting {
			if err := r.makePending(ctx, parent); err != nil {
				return err
			}
		}
	}
	return r.settle(ctx, t.Token)
}

// settle checks a token's node after a change of its tasks.
func (r *run) settle(ctx context.Context, tokID int) error {
	open, err := r.e.st.tasks(ctx, "instance_id = ? AND token = ? AND status IN ('pending', 'waiting', 'queued')", r.in.ID, tokID)
	if err != nil {
		return err
	}
	var next *task
	for _, o := range open {
		switch o.Status {
		case TaskPending, TaskWaiting:
			return nil
		case TaskQueued:
			if next == nil || o.Seq < next.Seq {
				next = o
			}
		}
	}
	if next != nil {
		return r.makePending(ctx, next)
	}
	return r.nodeDone(ctx, tokID)
}

// nodeDone moves a waiting token past its approval node.
func (r *run) nodeDone(ctx context.Context, tokID int) error {
	for i, tok := range r.in.State.Tokens {
		if tok.ID != tokID {
			continue
		}
		r.in.State.Tokens = append(r.in.State.Tokens[:i:i], r.in.State.Tokens[i+1:]...)
		n := r.c.nodes[tok.Node]
		if err := r.log(ctx, &step{Kind: "node_done", NodeID: n.ID, NodeName: n.Label()}); err != nil {
			return err
		}
		tok.Node = r.next(n.ID)
		return r.enter(ctx, tok)
	}
	return nil
}

// reject ends the flow as rejected ("to" empty or "start"), or sends it
// back to an earlier approval node the instance has passed (not one inside
// parallel branches), which starts over; everything open is cancelled.
func (r *run) reject(ctx context.Context, t *task, in Input) error {
	to := in.To
	if to != "" && to != "start" {
		ok, err := r.rejectTarget(ctx, to)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.Fields(apperr.Field("to", "flow_bad_reject_target", "node", to))
		}
	}
	if err := r.act(ctx, t, TaskRejected, in); err != nil {
		return err
	}
	data := map[string]any{}
	if to != "" && to != "start" {
		data["target"] = r.c.nodes[to].Label()
		data["target_id"] = to
	}
	if err := r.log(ctx, &step{Kind: "reject", TaskID: t.ID, NodeID: t.NodeID, NodeName: t.NodeName, Actor: r.actor,
		Comment: t.Comment, Attachments: in.Attachments, Data: data}); err != nil {
		return err
	}
	if to == "" || to == "start" {
		return r.finish(ctx, StatusRejected, r.actor, t.Comment)
	}
	if err := r.cancelOpen(ctx, "instance_id = ? AND status IN ('pending', 'waiting', 'queued')", r.in.ID); err != nil {
		return err
	}
	r.in.State.Tokens = nil
	r.in.State.Splits = map[string]*splitRun{}
	return r.enter(ctx, r.newToken(to, nil))
}

// rejectTargets lists the approval nodes a rejection may send the
// instance back to: those outside parallel branches it has passed.
func (r *run) rejectTargets(ctx context.Context) ([]string, error) {
	steps, err := r.e.st.steps(ctx, r.in.ID)
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, st := range steps {
		n := r.c.nodes[st.NodeID]
		if st.Kind != "node_done" || n == nil || n.Type != NodeApproval || r.c.parallel[n.ID] || seen[n.ID] {
			continue
		}
		seen[n.ID] = true
		out = append(out, n.ID)
	}
	return out, nil
}

func (r *run) rejectTarget(ctx context.Context, node string) (bool, error) {
	ts, err := r.rejectTargets(ctx)
	if err != nil {
		return false, err
	}
	for _, n := range ts {
		if n == node {
			return true, nil
		}
	}
	return false, nil
}

// sendBack returns the record to the submitter for changes: every open
// task is cancelled, the tokens stay where they are, and the record is
// unlocked for the submitter until they submit it again.
func (r *run) sendBack(ctx context.Context, t *task, in Input) error {
	if err := r.act(ctx, t, TaskReturned, in); err != nil {
		return err
	}
	if err := r.cancelOpen(ctx, "instance_id = ? AND status IN ('pending', 'waiting', 'queued')", r.in.ID); err != nil {
		return err
	}
	r.in.Status = StatusReturned
	if err := r.log(ctx, &step{Kind: "return", TaskID: t.ID, NodeID: t.NodeID, NodeName: t.NodeName, Actor: r.actor,
		Comment: t.Comment, Attachments: in.Attachments}); err != nil {
		return err
	}
	if err := r.tell(ctx, r.actor, t.Comment); err != nil {
		return err
	}
	return r.notify(ctx, "approval.returned", "flow_notify_returned", []int64{r.in.Submitter}, map[string]any{"node": t.NodeName})
}

// target reads the user a delegation or an added approver names: an
// active user other than the caller who holds no open task of this node.
func (r *run) target(ctx context.Context, t *task, raw, field string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.Fields(apperr.Field(field, "required"))
	}
	u, err := r.e.user(ctx, id)
	if err != nil {
		return 0, err
	}
	if !u.active {
		return 0, apperr.Fields(apperr.Field(field, "link_not_found"))
	}
	if id == t.Assignee {
		return 0, apperr.Fields(apperr.Field(field, "flow_not_yourself"))
	}
	open, err := r.e.st.tasks(ctx, "instance_id = ? AND token = ? AND assignee = ? AND status IN ('pending', 'waiting', 'queued')",
		r.in.ID, t.Token, id)
	if err != nil {
		return 0, err
	}
	if len(open) > 0 {
		return 0, apperr.Conflict("flow_already_assignee", "user", u.name)
	}
	return id, nil
}

// delegate hands the task to another user, who takes the approver's
// place (same node, same turn in a sequence).
func (r *run) delegate(ctx context.Context, t *task, in Input) error {
	to, err := r.target(ctx, t, in.To, "to")
	if err != nil {
		return err
	}
	if err := r.act(ctx, t, TaskDelegated, in); err != nil {
		return err
	}
	nt := &task{InstanceID: t.InstanceID, Token: t.Token, NodeID: t.NodeID, NodeName: t.NodeName, Kind: KindApproval, Assignee: to,
		Status: TaskPending, Seq: t.Seq, Origin: t.Origin, AddedBy: t.AddedBy, FromTask: t.ID, CreatedAt: r.now}
	if err := r.assign(ctx, nt); err != nil {
		return err
	}
	return r.log(ctx, &step{Kind: "delegate", TaskID: t.ID, NodeID: t.NodeID, NodeName: t.NodeName, Actor: r.actor,
		Comment: t.Comment, Attachments: in.Attachments, Data: map[string]any{"to": strconv.FormatInt(to, 10)}})
}

// addApprover adds an approver to the node. "before": the new approver
// decides first and the task waits for them; "after": the caller approves
// now and the node also needs the new approver's approval.
func (r *run) addApprover(ctx context.Context, t *task, in Input) error {
	if in.Position != "before" && in.Position != "after" {
		return apperr.Fields(apperr.Field("position", "invalid_option", "value", in.Position))
	}
	to, err := r.target(ctx, t, in.User, "user")
	if err != nil {
		return err
	}
	origin := OriginBefore
	if in.Position == "after" {
		origin = OriginAfter
		if err := r.act(ctx, t, TaskApproved, in); err != nil {
			return err
		}
	} else {
		if err := r.e.disarm(ctx, t.ID); err != nil {
			return err
		}
		t.Status, t.DueAt = TaskWaiting, nil
		if c := strings.TrimSpace(in.Comment); c != "" {
			t.Comment = c
		}
		if err := r.e.st.saveTask(ctx, t); err != nil {
			return err
		}
	}
	nt := &task{InstanceID: t.InstanceID, Token: t.Token, NodeID: t.NodeID, NodeName: t.NodeName, Kind: KindApproval, Assignee: to,
		Status: TaskPending, Seq: t.Seq, Origin: origin, AddedBy: t.ID, CreatedAt: r.now}
	if err := r.assign(ctx, nt); err != nil {
		return err
	}
	if err := r.log(ctx, &step{Kind: "add_approver", TaskID: t.ID, NodeID: t.NodeID, NodeName: t.NodeName, Actor: r.actor,
		Comment: strings.TrimSpace(in.Comment), Attachments: in.Attachments,
		Data: map[string]any{"user": strconv.FormatInt(to, 10), "position": in.Position}}); err != nil {
		return err
	}
	if origin == OriginAfter {
		return r.afterApproval(ctx, t)
	}
	return nil
}

// comment adds a comment (with attachments) to the timeline; the task is
// unchanged. Any holder of a task of the instance may comment, at any time.
func (r *run) comment(ctx context.Context, t *task, in Input) error {
	if strings.TrimSpace(in.Comment) == "" && len(in.Attachments) == 0 {
		return apperr.Fields(apperr.Field("comment", "required"))
	}
	return r.log(ctx, &step{Kind: "comment", TaskID: t.ID, NodeID: t.NodeID, NodeName: t.NodeName, Actor: r.actor,
		Comment: strings.TrimSpace(in.Comment), Attachments: in.Attachments})
}

// Withdraw ends a running or returned instance at its submitter's request
// (administrators may withdraw any).
func (e *Engine) Withdraw(ctx context.Context, p *access.Principal, instanceID int64, comment string) (*instance, error) {
	var out *instance
	err := e.db.WithTx(ctx, func(ctx context.Context) error {
		in, err := e.st.instance(ctx, instanceID, true)
		if err != nil {
			return err
		}
		if p.UserID == 0 || (in.Submitter != p.UserID && !p.Admin) {
			if ok, err := e.mayView(ctx, p, in); err != nil || !ok {
				if err != nil {
					return err
				}
				return apperr.NotFound()
			}
			return apperr.Forbidden("flow_withdraw_submitter_only")
		}
		if !in.open() {
			return apperr.Conflict("flow_not_running", "status", i18n.T("flow_status_"+in.Status))
		}
		if utf8.RuneCountInString(comment) > maxComment {
			return apperr.Fields(apperr.Field("comment", "too_long", "max", maxComment))
		}
		r, err := e.loadRun(ctx, in, p.UserID)
		if err != nil {
			return err
		}
		if err := r.log(ctx, &step{Kind: "withdraw", Actor: p.UserID, Comment: strings.TrimSpace(comment)}); err != nil {
			return err
		}
		if err := r.finish(ctx, StatusWithdrawn, p.UserID, ""); err != nil {
			return err
		}
		out = in
		return r.save(ctx)
	})
	return out, err
}
