package flow

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
)

// Instance statuses.
const (
	StatusRunning   = "running"
	StatusApproved  = "approved"
	StatusRejected  = "rejected"
	StatusWithdrawn = "withdrawn"
	StatusReturned  = "returned" // waiting for the submitter to change and resubmit
)

// Task statuses. queued: a later approver of a sequential node; waiting:
// an approver who asked someone to approve before them.
const (
	TaskQueued    = "queued"
	TaskPending   = "pending"
	TaskWaiting   = "waiting"
	TaskApproved  = "approved"
	TaskRejected  = "rejected"
	TaskReturned  = "returned"
	TaskDelegated = "delegated"
	TaskEscalated = "escalated"
	TaskCancelled = "cancelled"
	TaskCC        = "cc"
)

// Task kinds and origins.
const (
	KindApproval = "approval"
	KindCC       = "cc"

	OriginBase   = "base"   // resolved from the node's approvers (or handed on from one)
	OriginBefore = "before" // added by an approver to approve before them
	OriginAfter  = "after"  // added by an approver to approve after them
)

// instance is a row of flow_instances.
type instance struct {
	ID           int64
	DefinitionID int64
	VersionID    int64
	Version      int
	Name         string
	Entity       string
	RecordID     int64
	Title        string
	Status       string
	Submitter    int64
	State        state
	StartedAt    time.Time
	UpdatedAt    time.Time
	EndedAt      *time.Time
}

// open reports whether the instance still holds its record.
func (in *instance) open() bool { return in.Status == StatusRunning || in.Status == StatusReturned }

// state is where an instance's tokens are. A token waits at an approval
// node; a split activation counts the branches that reached its join.
type state struct {
	Seq    int                  `json:"seq"`
	Tokens []token              `json:"tokens"`
	Splits map[string]*splitRun `json:"splits,omitempty"`
}

type token struct {
	ID    int    `json:"id"`
	Node  string `json:"node"`
	Scope []int  `json:"scope,omitempty"` // the split activations the token is inside, outermost first
}

type splitRun struct {
	Split   string `json:"split"`
	Join    string `json:"join"`
	Need    int    `json:"need"`
	Arrived int    `json:"arrived"`
	Scope   []int  `json:"scope,omitempty"`
}

// task is a row of flow_tasks.
type task struct {
	ID          int64
	InstanceID  int64
	Token       int
	NodeID      string
	NodeName    string
	Kind        string
	Assignee    int64
	Status      string
	Seq         int
	Origin      string
	AddedBy     int64
	FromTask    int64
	CreatedAt   time.Time
	DueAt       *time.Time
	ActedAt     *time.Time
	Comment     string
	Attachments []string
}

func (t *task) open() bool {
	return t.Status == TaskPending || t.Status == TaskWaiting || t.Status == TaskQueued
}

// step is a row of flow_steps: one line of an instance's timeline.
type step struct {
	ID          int64
	InstanceID  int64
	TaskID      int64
	NodeID      string
	NodeName    string
	Kind        string
	Actor       int64
	Comment     string
	Attachments []string
	Data        map[string]any
	At          time.Time
}

// store is the SQL of the engine's tables.
type store struct{ db *db.DB }

func micro(t time.Time) int64 { return t.UnixMicro() }

func fromMicro(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromNull(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicro(v.Int64)
	return &t
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// forUpdate locks the selected row on PostgreSQL (SQLite has one writer).
func (s *store) forUpdate() string {
	if s.db.Kind == db.Postgres {
		return " FOR UPDATE"
	}
	return ""
}

const instanceCols = `id, definition_id, version_id, version, name, entity, record_id, title, status, submitter, state, started_at, updated_at, ended_at`

func scanInstance(sc db.Scanner) (*instance, error) {
	var in instance
	var submitter, ended sql.NullInt64
	var st []byte
	var started, updated int64
	if err := sc.Scan(&in.ID, &in.DefinitionID, &in.VersionID, &in.Version, &in.Name, &in.Entity, &in.RecordID, &in.Title,
		&in.Status, &submitter, &st, &started, &updated, &ended); err != nil {
		return nil, err
	}
	in.Submitter = submitter.Int64
	in.StartedAt, in.UpdatedAt, in.EndedAt = fromMicro(started), fromMicro(updated), fromNull(ended)
	if err := json.Unmarshal(st, &in.State); err != nil {
		return nil, err
	}
	return &in, nil
}

// instance loads one instance, locking it when lock is set; 404 when
// there is none.
func (s *store) instance(ctx context.Context, id int64, lock bool) (*instance, error) {
	q := `SELECT ` + instanceCols + ` FROM flow_instances WHERE id = ?`
	if lock {
		q += s.forUpdate()
	}
	in, err := scanInstance(s.db.QueryRow(ctx, q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFound()
	}
	return in, err
}

// openInstance returns the running or returned instance of a record, or
// nil.
func (s *store) openInstance(ctx context.Context, entity string, recordID int64, lock bool) (*instance, error) {
	q := `SELECT ` + instanceCols + ` FROM flow_instances WHERE entity = ? AND record_id = ? AND status IN ('running', 'returned')`
	if lock {
		q += s.forUpdate()
	}
	in, err := scanInstance(s.db.QueryRow(ctx, q, entity, recordID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return in, err
}

// instancesOf lists a record's instances, newest first.
func (s *store) instancesOf(ctx context.Context, entity string, recordID int64) ([]*instance, error) {
	return db.QueryAll(ctx, s.db, scanInstance, `SELECT `+instanceCols+` FROM flow_instances WHERE entity = ? AND record_id = ? ORDER BY id DESC LIMIT 200`,
		entity, recordID)
}

// insertInstance adds a running instance; a second open instance of the
// same record violates flow_instances_open and becomes a 409.
func (s *store) insertInstance(ctx context.Context, in *instance) error {
	err := s.db.QueryRow(ctx, `INSERT INTO flow_instances (definition_id, version_id, version, name, entity, record_id, title, status,
		submitter, state, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, `+s.db.JSONParam()+`, ?, ?) RETURNING id`,
		in.DefinitionID, in.VersionID, in.Version, in.Name, in.Entity, in.RecordID, in.Title, in.Status,
		nullID(in.Submitter), jsonText(in.State), micro(in.StartedAt), micro(in.UpdatedAt)).Scan(&in.ID)
	if db.IsUniqueViolation(err) {
		return apperr.Conflict("flow_already_running", "flow", in.Name)
	}
	return err
}

func (s *store) saveInstance(ctx context.Context, in *instance) error {
	_, err := s.db.Exec(ctx, `UPDATE flow_instances SET status = ?, title = ?, state = `+s.db.JSONParam()+`, updated_at = ?, ended_at = ? WHERE id = ?`,
		in.Status, in.Title, jsonText(in.State), micro(in.UpdatedAt), nullTime(in.EndedAt), in.ID)
	return err
}

const taskCols = `id, instance_id, token, node_id, node_name, kind, assignee, status, seq, origin, added_by, from_task, created_at, due_at, acted_at, comment, attachments`

func scanTask(sc db.Scanner) (*task, error) {
	var t task
	var added, from, due, acted sql.NullInt64
	var created int64
	var att []byte
	if err := sc.Scan(&t.ID, &t.InstanceID, &t.Token, &t.NodeID, &t.NodeName, &t.Kind, &t.Assignee, &t.Status, &t.Seq, &t.Origin,
		&added, &from, &created, &due, &acted, &t.Comment, &att); err != nil {
		return nil, err
	}
	t.AddedBy, t.FromTask = added.Int64, from.Int64
	t.CreatedAt, t.DueAt, t.ActedAt = fromMicro(created), fromNull(due), fromNull(acted)
	if err := json.Unmarshal(att, &t.Attachments); err != nil {
		return nil, err
	}
	return &t, nil
}

func (s *store) task(ctx context.Context, id int64) (*task, error) {
	t, err := scanTask(s.db.QueryRow(ctx, `SELECT `+taskCols+` FROM flow_tasks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFound()
	}
	return t, err
}

// tasks lists tasks matching where (a condition over flow_tasks) in id order.
func (s *store) tasks(ctx context.Context, where string, args ...any) ([]*task, error) {
	return db.QueryAll(ctx, s.db, scanTask, `SELECT `+taskCols+` FROM flow_tasks WHERE `+where+` ORDER BY id`, args...)
}

func (s *store) insertTask(ctx context.Context, t *task) error {
	if t.Attachments == nil {
		t.Attachments = []string{}
	}
	return s.db.QueryRow(ctx, `INSERT INTO flow_tasks (instance_id, token, node_id, node_name, kind, assignee, status, seq, origin,
		added_by, from_task, created_at, due_at, acted_at, comment, attachments)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, `+s.db.JSONParam()+`) RETURNING id`,
		t.InstanceID, t.Token, t.NodeID, t.NodeName, t.Kind, t.Assignee, t.Status, t.Seq, t.Origin, nullID(t.AddedBy),
		nullID(t.FromTask), micro(t.CreatedAt), nullTime(t.DueAt), nullTime(t.ActedAt), t.Comment, jsonText(t.Attachments)).Scan(&t.ID)
}

func (s *store) saveTask(ctx context.Context, t *task) error {
	if t.Attachments == nil {
		t.Attachments = []string{}
	}
	_, err := s.db.Exec(ctx, `UPDATE flow_tasks SET status = ?, due_at = ?, acted_at = ?, comment = ?, attachments = `+s.db.JSONParam()+` WHERE id = ?`,
		t.Status, nullTime(t.DueAt), nullTime(t.ActedAt), t.Comment, jsonText(t.Attachments), t.ID)
	return err
}

const stepCols = `id, instance_id, task_id, node_id, node_name, kind, actor, comment, attachments, data, at`

func (s *store) insertStep(ctx context.Context, st *step) error {
	if st.Attachments == nil {
		st.Attachments = []string{}
	}
	if st.Data == nil {
		st.Data = map[string]any{}
	}
	return s.db.QueryRow(ctx, `INSERT INTO flow_steps (instance_id, task_id, node_id, node_name, kind, actor, comment, attachments, data, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, `+s.db.JSONParam()+`, `+s.db.JSONParam()+`, ?) RETURNING id`,
		st.InstanceID, nullID(st.TaskID), st.NodeID, st.NodeName, st.Kind, nullID(st.Actor), st.Comment,
		jsonText(st.Attachments), jsonText(st.Data), micro(st.At)).Scan(&st.ID)
}

// steps lists the steps of instances in id order.
func (s *store) steps(ctx context.Context, instanceIDs ...int64) ([]*step, error) {
	if len(instanceIDs) == 0 {
		return nil, nil
	}
	args := make([]any, len(instanceIDs))
	for i, id := range instanceIDs {
		args[i] = id
	}
	rows, err := s.db.Query(ctx, `SELECT `+stepCols+` FROM flow_steps WHERE instance_id IN (`+marks(len(args))+`) ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*step
	for rows.Next() {
		var st step
		var task, actor sql.NullInt64
		var att, data []byte
		var at int64
		if err := rows.Scan(&st.ID, &st.InstanceID, &task, &st.NodeID, &st.NodeName, &st.Kind, &actor, &st.Comment, &att, &data, &at); err != nil {
			return nil, err
		}
		st.TaskID, st.Actor, st.At = task.Int64, actor.Int64, fromMicro(at)
		if err := json.Unmarshal(att, &st.Attachments); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(data, &st.Data); err != nil {
			return nil, err
		}
		out = append(out, &st)
	}
	return out, rows.Err()
}

func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

// versionRow is a row of flow_versions.
type versionRow struct {
	ID           int64
	DefinitionID int64
	Version      int
	Entity       string
	Name         string
	Trigger      string
	Condition    string
	Graph        []byte
	PublishedAt  time.Time
	PublishedBy  int64
}

const versionCols = `id, definition_id, version, entity, name, trigger_kind, condition_src, graph, published_at, published_by`

func scanVersion(sc db.Scanner) (*versionRow, error) {
	var v versionRow
	var at int64
	var by sql.NullInt64
	if err := sc.Scan(&v.ID, &v.DefinitionID, &v.Version, &v.Entity, &v.Name, &v.Trigger, &v.Condition, &v.Graph, &at, &by); err != nil {
		return nil, err
	}
	v.PublishedAt, v.PublishedBy = fromMicro(at), by.Int64
	return &v, nil
}

func (s *store) version(ctx context.Context, id int64) (*versionRow, error) {
	v, err := scanVersion(s.db.QueryRow(ctx, `SELECT `+versionCols+` FROM flow_versions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFound()
	}
	return v, err
}

func (s *store) versionsOf(ctx context.Context, definitionID int64) ([]*versionRow, error) {
	return db.QueryAll(ctx, s.db, scanVersion, `SELECT `+versionCols+` FROM flow_versions WHERE definition_id = ? ORDER BY version DESC`, definitionID)
}

func (s *store) insertVersion(ctx context.Context, v *versionRow) error {
	return s.db.QueryRow(ctx, `INSERT INTO flow_versions (definition_id, version, entity, name, trigger_kind, condition_src, graph, published_at, published_by)
		VALUES (?, ?, ?, ?, ?, ?, `+s.db.JSONParam()+`, ?, ?) RETURNING id`,
		v.DefinitionID, v.Version, v.Entity, v.Name, v.Trigger, v.Condition, string(v.Graph), micro(v.PublishedAt), nullID(v.PublishedBy)).Scan(&v.ID)
}

// activeVersions lists the published versions of the live, published
// definitions of an entity with a trigger, in priority order.
func (s *store) activeVersions(ctx context.Context, entity, trigger string) ([]*versionRow, error) {
	return db.QueryAll(ctx, s.db, scanVersion, `SELECT v.`+strings.ReplaceAll(versionCols, ", ", ", v.")+`
		FROM r_flow_definitions d JOIN flow_versions v ON v.definition_id = d.id AND v.version = d.published_version
		WHERE d.deleted_at IS NULL AND d.status = 'published' AND v.entity = ? AND v.trigger_kind = ?
		ORDER BY COALESCE(d.priority, 100), d.id`, entity, trigger)
}

// publishedVersion is the version a live, published definition runs
// (404 when there is no such definition; 409 when it is not published).
func (s *store) publishedVersion(ctx context.Context, definitionID int64) (*versionRow, error) {
	var status sql.NullString
	var pv sql.NullInt64
	err := s.db.QueryRow(ctx, `SELECT status, published_version FROM r_flow_definitions WHERE id = ? AND deleted_at IS NULL`, definitionID).Scan(&status, &pv)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFound()
	}
	if err != nil {
		return nil, err
	}
	if status.String != "published" || pv.Int64 == 0 {
		return nil, apperr.Conflict("flow_not_published", "definition", strconv.FormatInt(definitionID, 10))
	}
	v, err := scanVersion(s.db.QueryRow(ctx, `SELECT `+versionCols+` FROM flow_versions WHERE definition_id = ? AND version = ?`, definitionID, pv.Int64))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.Conflict("flow_not_published", "definition", strconv.FormatInt(definitionID, 10))
	}
	return v, err
}

// flowedEntities lists the entities that have ever had a published
// version: their records may be in a flow.
func (s *store) flowedEntities(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.Query(ctx, `SELECT DISTINCT entity FROM flow_versions`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, err
		}
		out[e] = true
	}
	return out, rows.Err()
}
