// Package flow is the approval flow engine (P2): versioned flow graphs
// attached to any entity, instances and tasks as rows, timers as jobs, and
// the edit lock on records under approval.
//
// # Definitions and versions
//
// A definition is a record of the system entity flow_definitions (name,
// entity, trigger, condition, priority, description, status, published
// version, graph), created, listed and audited like any record; only
// administrators hold rights on it unless a role grants them. Saving checks
// what can be checked of a draft (a known entity, a condition that
// compiles, a graph that decodes). POST /api/v1/flow-definitions/{id}/validate
// checks everything; .../publish checks everything and freezes the graph,
// trigger and condition as the next row of flow_versions. Invalid
// definitions are refused with 422 (code flow_invalid) listing every
// reason, each with its own message code, under a field that says where:
// "entity", "trigger" or "condition"; "graph.nodes.<node id>" for a
// problem of one node (its approvers, configuration, edges, place in the
// graph); "graph.edges.<edge id>" for one of an edge (a branch's
// condition, an edge to nowhere), or "graph.edges[<i>]" (its position,
// from 0) when the edge has no id, likewise "graph.nodes[<i>]" for a node
// without a usable id; "graph" for the graph as a whole (no start, two
// ends, malformed JSON). Messages name the node by its label; reasons and
// statuses inside messages are translated like the messages themselves.
// Publishing needs the right to update the definition. Editing a published
// definition changes its draft only; running instances keep the version
// they started with, new ones take the newest published version. Status
// "disabled" stops new instances (running ones go on); setting it back to
// "published" re-enables the published version. A published definition's
// entity is fixed.
//
// # The graph
//
// Nodes {id, type, name, config, position} and edges {from, to,
// condition, default}. Exactly one start and one end. start, approval, cc,
// action and join have exactly one outgoing edge; a condition node has
// edges with conditions (expressions over the record, tried in the order
// drawn) and exactly one default; a split has two or more branches that
// must all meet at one join, which nothing outside the branches enters.
// Every node must be reachable from the start and reach the end (a loop
// is fine when a condition lets it out; one that cannot is refused, and a
// loop that never lets go at run time is stopped with 409 flow_loop_limit).
//
// Approval node config: mode (single: one approver entry, the first of its
// people to act decides; any, 或签: the first of all approvers decides;
// all, 会签: every approver approves; sequential: every approver, one after
// another in the order resolved, e.g. a manager chain level by level),
// approvers (kind user {users}, role {role name}, field {a user field,
// owner or created_by}, manager, department_head, manager_chain {levels
// 1–10}, all relative to the submitter; see resolve), on_empty, and a time
// limit: time_limit_hours, remind_before_hours, escalate.
//
// When no approver resolves (a user without a manager, a role nobody
// holds), on_empty decides: "admin" (the default) gives the task to the
// administrators; "skip" passes the node, and the timeline says so. With
// no administrator either, the node is skipped.
//
// CC node config: recipients (the same kinds as approvers); they get a
// task in their "cc" box and a notification; the flow does not wait.
// Action node config: set {field: value} — written through the records
// service by the system, with the acting user as the audit's actor and
// source "flow", past the edit lock.
//
// # Instances, tasks, actions
//
// An instance (flow_instances) runs one version on one record: running,
// approved, rejected, withdrawn, or returned (waiting for the submitter).
// At most one instance per record is running or returned. Its state is a
// set of tokens (a token waits at an approval node; a split makes one per
// branch; the join waits for all of them). Each approval activation makes
// a task per approver (flow_tasks); each step is a row of flow_steps (the
// instance's timeline) and, for steps a person reads, an audit entry
// "flow.<step>" on the record, so the record's history shows the flow.
//
// Acting on a task needs nothing but being its assignee: approvers are
// chosen by the flow's designer (managers, department heads, roles), who
// often hold no right on the entity, so the permission matrix's "approve"
// action is not required and not consulted; for anyone else the task does
// not exist (404). The inbox (GET /api/v1/approvals?box=pending|done|cc)
// lists the caller's tasks; "done" holds those they approved, rejected,
// returned or delegated and those escalated away from them when overdue
// (each task's status says which). Listing another user's box and
// withdrawing someone else's flow are for administrators. The record's approvals
// (GET /api/v1/records/{entity}/{id}/approvals) are for callers who may
// read the record; besides the instances ("items") they say whether the
// caller may submit the record now ("can_submit": the caller may update
// it, and it is in no flow and a published submit flow's condition holds,
// or its flow was returned to the caller) and which flow that would
// start or resume ("submit_flow": {id, name} of the definition, or null),
// so that the submit button shows only where it works; one instance
// (GET /api/v1/flow-instances/{id}) also for its submitter and the
// holders of its tasks.
//
//   - approve; in single/any mode the other approvers' tasks are cancelled.
//   - reject: to the start (the default) ends the instance as rejected; to
//     an earlier approval node the instance has passed (outside parallel
//     branches; see reject_targets) cancels everything open and starts
//     that node over.
//   - return: everything open is cancelled, the instance is "returned" and
//     the record is unlocked for its submitter; submitting again
//     (POST .../submit) continues: the nodes where the flow stood start
//     over, approvers resolved afresh.
//   - withdraw: the submitter (or an administrator) ends a running or
//     returned instance.
//   - delegate: the task passes to another user in the same place.
//   - add_approver before: the new approver decides first, the task waits;
//     after: the caller approves and the node also needs the new approver.
//   - comment: a line in the timeline, with attachments (files the caller
//     uploaded through POST /api/v1/files), possible on any task one holds.
//
// Actions take attachments as file ids; tasks and steps show them as
// {id, name, size, content_type}, and so does the audit entry
// (flow_attachments). Attachments are held by the record in file_refs (field
// "_flow_<instance>") so the orphan purge keeps them, and are downloaded
// through GET /api/v1/flow-attachments/{file} by whoever may see an
// instance that holds them.
//
// # Triggers and the edit lock
//
// trigger "submit": POST /api/v1/records/{entity}/{id}/submit (the caller
// must be able to update the record) or Engine.Start (the rule engine)
// start the first published flow (by priority, then id) whose condition
// holds, or a named one. "create" and "update": an after hook starts the
// first matching flow in the same transaction as the write, unless the
// record is already in a flow; an update fires whenever the condition
// holds after it.
//
// A before hook on every entity refuses to update or delete a record with
// a running instance (409 flow_record_locked, naming the flow), except
// writes of the flow itself; a returned record may be updated by its
// submitter only (409 flow_record_returned for others). Entities that
// never had a published flow cost a map lookup: the engine keeps the set
// of entities with published versions, updated at once on publish in this
// process and every RefreshEvery (5 s) from the database (Run), so a flow
// first published for an entity by another process locks here within
// that interval.
//
// # Timers
//
// A pending task of a node with a time limit is due time_limit_hours after
// it was assigned. A job flow.remind runs remind_before_hours before that
// (at the due time when 0) and notifies the assignee; with escalate, a job
// flow.escalate at the due time marks the task "escalated" and gives the
// manager of its assignee a task of their own with a fresh time limit (so
// an unanswered escalation climbs the chain); an assignee without an
// active manager keeps the task. Both jobs run in the transaction that
// completes them and do nothing when the task is no longer pending; acting
// on a task cancels its jobs.
//
// # Notifications
//
// Through Config.Notifier (nil: none): approval.pending to each new
// assignee, approval.cc to CC recipients, approval.done to the submitter
// when the flow is approved or rejected, approval.returned to the
// submitter, approval.reminder and approval.escalated to approvers; each
// rendered from an i18n code flow_notify_*.
package flow
