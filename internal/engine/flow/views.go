package flow

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// NodeRef names a node in views.
type NodeRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// TaskView is a task as the API shows it.
type TaskView struct {
	ID          string       `json:"id"`
	Kind        string       `json:"kind"`
	Status      string       `json:"status"`
	Origin      string       `json:"origin"`
	Node        NodeRef      `json:"node"`
	Assignee    string       `json:"assignee"`
	AddedBy     string       `json:"added_by,omitempty"`
	FromTask    string       `json:"from_task,omitempty"`
	CreatedAt   time.Time    `json:"created_at"`
	DueAt       *time.Time   `json:"due_at,omitempty"`
	ActedAt     *time.Time   `json:"acted_at,omitempty"`
	Comment     string       `json:"comment,omitempty"`
	Attachments []Attachment `json:"attachments"`
}

// StepView is one line of an instance's timeline.
type StepView struct {
	ID          string         `json:"id"`
	Kind        string         `json:"kind"`
	Node        *NodeRef       `json:"node,omitempty"`
	Task        string         `json:"task,omitempty"`
	Actor       string         `json:"actor,omitempty"`
	Comment     string         `json:"comment,omitempty"`
	Attachments []Attachment   `json:"attachments"`
	Data        map[string]any `json:"data"`
	At          time.Time      `json:"at"`
}

// InstanceView is an instance with its tasks and timeline.
type InstanceView struct {
	ID            string     `json:"id"`
	Definition    string     `json:"definition"`
	Flow          string     `json:"flow"`
	Version       int        `json:"version"`
	Entity        string     `json:"entity"`
	RecordID      string     `json:"record_id"`
	Title         string     `json:"title"`
	Status        string     `json:"status"`
	Submitter     string     `json:"submitter,omitempty"`
	StartedAt     time.Time  `json:"started_at"`
	EndedAt       *time.Time `json:"ended_at,omitempty"`
	Current       []NodeRef  `json:"current"`
	RejectTargets []NodeRef  `json:"reject_targets"`
	Tasks         []TaskView `json:"tasks"`
	Steps         []StepView `json:"steps"`
}

// InboxItem is a task in a user's approval boxes, with what the list needs
// to show of its record.
type InboxItem struct {
	TaskView
	Instance    InboxInstance `json:"instance"`
	Entity      string        `json:"entity"`
	EntityLabel meta.Label    `json:"entity_label,omitempty"`
	RecordID    string        `json:"record_id"`
	Title       string        `json:"title"`
}

// InboxInstance is the instance of an inbox task.
type InboxInstance struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Flow      string `json:"flow"`
	Version   int    `json:"version"`
	Submitter string `json:"submitter,omitempty"`
}

func idString(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// Attachment is a file attached to a step or a task, as the API shows it
// (actions take the bare file ids). A file that is gone keeps its id and
// an empty name.
type Attachment struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
}

// fileInfo looks up attachments' names, sizes and types, each file once
// per response.
type fileInfo struct {
	e     *Engine
	known map[string]Attachment
}

func (e *Engine) fileInfo() *fileInfo { return &fileInfo{e: e, known: map[string]Attachment{}} }

// of returns the attachments with these file ids, in order (never nil).
func (fi *fileInfo) of(ctx context.Context, ids []string) ([]Attachment, error) {
	out := make([]Attachment, 0, len(ids))
	for _, id := range ids {
		a, ok := fi.known[id]
		if !ok {
			a = Attachment{ID: id}
			if fi.e.files != nil {
				f, err := fi.e.files.Get(ctx, id)
				switch {
				case err == nil:
					a.Name, a.Size, a.ContentType = f.Name, f.Size, f.ContentType
				case !errors.Is(err, apperr.ErrNotFound):
					return nil, err
				}
			}
			fi.known[id] = a
		}
		out = append(out, a)
	}
	return out, nil
}

func (fi *fileInfo) task(ctx context.Context, t *task) (TaskView, error) {
	att, err := fi.of(ctx, t.Attachments)
	if err != nil {
		return TaskView{}, err
	}
	return TaskView{ID: idString(t.ID), Kind: t.Kind, Status: t.Status, Origin: t.Origin, Node: NodeRef{ID: t.NodeID, Name: t.NodeName},
		Assignee: idString(t.Assignee), AddedBy: idString(t.AddedBy), FromTask: idString(t.FromTask), CreatedAt: t.CreatedAt,
		DueAt: t.DueAt, ActedAt: t.ActedAt, Comment: t.Comment, Attachments: att}, nil
}

func (fi *fileInfo) step(ctx context.Context, s *step) (StepView, error) {
	att, err := fi.of(ctx, s.Attachments)
	if err != nil {
		return StepView{}, err
	}
	v := StepView{ID: idString(s.ID), Kind: s.Kind, Task: idString(s.TaskID), Actor: idString(s.Actor), Comment: s.Comment,
		Attachments: att, Data: s.Data, At: s.At}
	if s.NodeID != "" {
		v.Node = &NodeRef{ID: s.NodeID, Name: s.NodeName}
	}
	if v.Data == nil {
		v.Data = map[string]any{}
	}
	return v, nil
}

// mayView reports whether p may see an instance: administrators, whoever
// may read its record, its submitter and the holders of its tasks.
func (e *Engine) mayView(ctx context.Context, p *access.Principal, in *instance) (bool, error) {
	if p.Admin || (p.UserID != 0 && p.UserID == in.Submitter) {
		return true, nil
	}
	_, err := e.rs.Get(ctx, p, in.Entity, in.RecordID, records.GetOptions{Fields: []string{"id"}})
	switch {
	case err == nil:
		return true, nil
	case !errors.Is(err, apperr.ErrNotFound) && !errors.Is(err, apperr.ErrForbidden):
		return false, err
	}
	if p.UserID == 0 {
		return false, nil
	}
	var n int
	err = e.db.QueryRow(ctx, `SELECT COUNT(*) FROM flow_tasks WHERE instance_id = ? AND assignee = ?`, in.ID, p.UserID).Scan(&n)
	return n > 0, err
}

// views builds the views of instances (with their tasks and steps).
func (e *Engine) views(ctx context.Context, ins []*instance) ([]InstanceView, error) {
	out := make([]InstanceView, 0, len(ins))
	if len(ins) == 0 {
		return out, nil
	}
	ids := make([]int64, len(ins))
	args := make([]any, len(ins))
	for i, in := range ins {
		ids[i], args[i] = in.ID, in.ID
	}
	steps, err := e.st.steps(ctx, ids...)
	if err != nil {
		return nil, err
	}
	tasks, err := e.st.tasks(ctx, "instance_id IN ("+marks(len(args))+")", args...)
	if err != nil {
		return nil, err
	}
	fi := e.fileInfo()
	for _, in := range ins {
		v := InstanceView{ID: idString(in.ID), Definition: idString(in.DefinitionID), Flow: in.Name, Version: in.Version,
			Entity: in.Entity, RecordID: idString(in.RecordID), Title: in.Title, Status: in.Status, Submitter: idString(in.Submitter),
			StartedAt: in.StartedAt, EndedAt: in.EndedAt, Current: []NodeRef{}, RejectTargets: []NodeRef{}, Tasks: []TaskView{}, Steps: []StepView{}}
		cv, verr := e.version(ctx, in.VersionID)
		for _, tok := range in.State.Tokens {
			ref := NodeRef{ID: tok.Node, Name: tok.Node}
			if verr == nil && cv.c.nodes[tok.Node] != nil {
				ref.Name = cv.c.nodes[tok.Node].Label()
			}
			v.Current = append(v.Current, ref)
		}
		passed := map[string]bool{}
		for _, s := range steps {
			if s.InstanceID != in.ID {
				continue
			}
			sv, err := fi.step(ctx, s)
			if err != nil {
				return nil, err
			}
			v.Steps = append(v.Steps, sv)
			if in.Status == StatusRunning && verr == nil && s.Kind == "node_done" && !passed[s.NodeID] {
				if n := cv.c.nodes[s.NodeID]; n != nil && n.Type == NodeApproval && !cv.c.parallel[n.ID] {
					passed[s.NodeID] = true
					v.RejectTargets = append(v.RejectTargets, NodeRef{ID: n.ID, Name: n.Label()})
				}
			}
		}
		for _, t := range tasks {
			if t.InstanceID == in.ID {
				tv, err := fi.task(ctx, t)
				if err != nil {
					return nil, err
				}
				v.Tasks = append(v.Tasks, tv)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// RecordFlows is a record's approval flows and whether the caller may
// submit the record now.
type RecordFlows struct {
	// Items are the record's instances, newest first.
	Items []InstanceView `json:"items"`
	// CanSubmit: the caller may update the record and either it is in no
	// flow and a published flow triggered by "submit" applies to it (its
	// condition holds), or its flow was returned to the caller for changes.
	CanSubmit bool `json:"can_submit"`
	// SubmitFlow is the flow a submission would start or resume (null when
	// CanSubmit is false).
	SubmitFlow *FlowRef `json:"submit_flow"`
}

// FlowRef names a flow definition.
type FlowRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// RecordApprovals lists a record's flow instances, newest first, for
// callers who may read the record, and what submitting it would start.
func (e *Engine) RecordApprovals(ctx context.Context, p *access.Principal, entity string, id int64) (*RecordFlows, error) {
	if _, err := e.rs.Get(ctx, p, entity, id, records.GetOptions{Fields: []string{"id"}}); err != nil {
		return nil, err
	}
	ins, err := e.st.instancesOf(ctx, entity, id)
	if err != nil {
		return nil, err
	}
	vs, err := e.views(ctx, ins)
	if err != nil {
		return nil, err
	}
	out := &RecordFlows{Items: vs}
	if out.SubmitFlow, err = e.submitFlow(ctx, p, entity, id, ins); err != nil {
		return nil, err
	}
	out.CanSubmit = out.SubmitFlow != nil
	return out, nil
}

// submitFlow is the flow that p submitting the record would start or
// resume, or nil when p may not submit it now (see RecordFlows).
func (e *Engine) submitFlow(ctx context.Context, p *access.Principal, entity string, id int64, ins []*instance) (*FlowRef, error) {
	ent, ok := e.reg.Get(entity)
	if !ok || entity == DefinitionEntity {
		return nil, nil
	}
	if err := e.rs.Check(ctx, p, entity, id, access.Update); err != nil {
		if errors.Is(err, apperr.ErrForbidden) || errors.Is(err, apperr.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	for _, in := range ins {
		if in.open() {
			if in.Status == StatusReturned && p.UserID != 0 && p.UserID == in.Submitter {
				return &FlowRef{ID: idString(in.DefinitionID), Name: in.Name}, nil
			}
			return nil, nil
		}
	}
	rows, err := e.st.activeVersions(ctx, entity, TriggerSubmit)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	rec, err := e.loadRecord(ctx, entity, id)
	if err != nil {
		return nil, err
	}
	cv, err := e.applicable(ctx, ent, rec, rows, true)
	if err != nil || cv == nil {
		return nil, err
	}
	return &FlowRef{ID: idString(cv.row.DefinitionID), Name: cv.row.Name}, nil
}

// Instance returns one instance for whoever may see it (404 otherwise).
func (e *Engine) Instance(ctx context.Context, p *access.Principal, id int64) (*InstanceView, error) {
	in, err := e.st.instance(ctx, id, false)
	if err != nil {
		return nil, err
	}
	ok, err := e.mayView(ctx, p, in)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apperr.NotFound()
	}
	vs, err := e.views(ctx, []*instance{in})
	if err != nil {
		return nil, err
	}
	return &vs[0], nil
}

// Boxes of the approvals inbox.
const (
	BoxPending = "pending"
	BoxDone    = "done"
	BoxCC      = "cc"
)

// InboxQuery selects a page of an inbox.
type InboxQuery struct {
	Box string
	// Assignee is whose inbox (0: the caller's; -1: everyone's). Only
	// administrators may look at another's.
	Assignee int64
	Page     int
	PerPage  int
}

// Inbox lists a user's tasks in one box: pending (waiting for them), done
// (they approved, rejected, returned or delegated it, or it was escalated
// to their manager when it fell overdue; the task's status says which) or
// cc (copies), newest first, with each record's title and entity.
func (e *Engine) Inbox(ctx context.Context, p *access.Principal, q InboxQuery) ([]InboxItem, int, error) {
	var where string
	switch q.Box {
	case BoxPending:
		where = `t.kind = 'approval' AND t.status = 'pending'`
	case BoxDone:
		where = `t.kind = 'approval' AND t.status IN ('approved', 'rejected', 'returned', 'delegated', 'escalated')`
	case BoxCC:
		where = `t.kind = 'cc'`
	default:
		return nil, 0, apperr.Invalid("flow_bad_box", "box", q.Box)
	}
	var args []any
	switch {
	case q.Assignee == 0 || q.Assignee == p.UserID:
		if p.UserID == 0 {
			return []InboxItem{}, 0, nil
		}
		where += ` AND t.assignee = ?`
		args = append(args, p.UserID)
	case !p.Admin:
		return nil, 0, apperr.Forbidden("admin_only")
	case q.Assignee > 0:
		where += ` AND t.assignee = ?`
		args = append(args, q.Assignee)
	}
	var total int
	if err := e.db.QueryRow(ctx, `SELECT COUNT(*) FROM flow_tasks t WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := e.db.Query(ctx, `SELECT t.`+strings.ReplaceAll(taskCols, ", ", ", t.")+`, i.status, i.name, i.version, i.submitter, i.entity, i.record_id, i.title
		FROM flow_tasks t JOIN flow_instances i ON i.id = t.instance_id WHERE `+where+` ORDER BY t.id DESC LIMIT ? OFFSET ?`,
		append(args, q.PerPage, (q.Page-1)*q.PerPage)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []InboxItem{}
	var ts []*task
	for rows.Next() {
		var it InboxItem
		var submitter nullableID
		var recordID int64
		t, err := scanTask(rowScanner{rows, []any{&it.Instance.Status, &it.Instance.Flow, &it.Instance.Version, &submitter,
			&it.Entity, &recordID, &it.Title}})
		if err != nil {
			return nil, 0, err
		}
		ts = append(ts, t)
		it.Instance.ID, it.Instance.Submitter, it.RecordID = idString(t.InstanceID), idString(int64(submitter)), idString(recordID)
		if ent, ok := e.reg.Get(it.Entity); ok {
			it.EntityLabel = ent.Label
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	rows.Close()
	// The files are read once the rows are closed: SQLite holds one
	// connection in a transaction.
	fi := e.fileInfo()
	for i, t := range ts {
		if out[i].TaskView, err = fi.task(ctx, t); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

// rowScanner appends extra destinations to a scan.
type rowScanner struct {
	sc    interface{ Scan(...any) error }
	extra []any
}

func (r rowScanner) Scan(dest ...any) error { return r.sc.Scan(append(dest, r.extra...)...) }

// nullableID scans a nullable id as 0.
type nullableID int64

func (n *nullableID) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*n = 0
	case int64:
		*n = nullableID(x)
	case int32:
		*n = nullableID(x)
	default:
		id, err := strconv.ParseInt(strings.TrimSpace(string(toBytes(x))), 10, 64)
		if err != nil {
			return err
		}
		*n = nullableID(id)
	}
	return nil
}

func toBytes(x any) []byte {
	switch t := x.(type) {
	case []byte:
		return t
	case string:
		return []byte(t)
	}
	return nil
}

// rawJSON embeds stored JSON in a response as it is.
type rawJSON []byte

// MarshalJSON returns the stored JSON (null when empty).
func (r rawJSON) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("null"), nil
	}
	return r, nil
}
