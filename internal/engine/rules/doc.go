// Package rules is Tenon's automation engine (P3): trigger → condition →
// actions, on any entity, built-in or custom.
//
// # Rules are records
//
// A rule is a record of the system entity rules (API.md "Engines"): name,
// entity, enabled, trigger (JSON), condition (an expression, empty for
// always), actions (an ordered JSON list), description, and hook_token
// for inbound webhooks. Rules are created, listed, changed, enabled and
// disabled (PATCH enabled), deleted and audited through the records API.
// No baseline grant exists: administrators, and roles granted the rules
// entity, manage them. Rules act as the system (see Execution), so a grant
// on rules is an administrative right.
//
// A rule is checked when it is saved (a before hook): the entity, the
// trigger's parameters, every expression (compiled with the limits
// below), every action's parameters, the users, roles, entities and fields
// they name. Problems are one 422 naming each field, for example
// "condition" rule_expression_too_costly or "actions[2].values.amount"
// not_decimal.
//
// # Triggers
//
//	{"type": "created"}
//	{"type": "updated"}
//	{"type": "field_changed", "fields": ["stage", "amount"]}    any of them changed
//	{"type": "status_entered", "field": "status", "value": "won"} on create or update
//	{"type": "deleted"}                                          moved to the recycle bin
//	{"type": "schedule", "cron": "0 8 * * 1-5", "timezone": "Asia/Shanghai", "limit": 500}
//	{"type": "date", "field": "end_date", "offset_days": -30, "limit": 500}
//	{"type": "webhook", "match_field": "code", "match_key": "order_no"}
//
// The first five fire on record writes. A schedule has a job schedule
// (rules.rule.<id>) kept in step with the rule in the transaction that
// saves it: created when an enabled rule has the trigger, removed when it
// is disabled, changed or deleted. When it fires, a scan reads the
// entity's records in id order (at most Limits.ScanRecords), keeps those
// the condition holds for (at most the trigger's limit, Limits.ScanMatches
// at most), and queues a run for each, Limits.ScanBatch per transaction.
// The condition narrows the query when it is also a valid list filter; the
// exact test is always made in Go. A date rule fires on the day a date
// field plus offset_days falls on (Asia/Shanghai): -30 is "30 days
// before". The hourly rules.dates job scans every enabled date rule; a
// mark per rule, record and date makes each record fire once per date
// however often the scan runs (a scheduled scan marks its records the
// same way per firing, so a scan run again after a crash queues nothing
// twice). A webhook rule has a public endpoint, POST
// /api/v1/rules/{id}/hook, with its token in X-Tenon-Token; the body (a
// JSON object, at most 256 KB) is the payload. With match_field and
// match_key the record whose field equals the payload's key is the record
// the actions work on; without them a call has no record, and actions that
// need one (set_fields, update_linked, assign_owner, start_flow) are
// refused when the rule is saved. Calls are counted per rule id and minute
// in the database (Limits.HookRate, refused calls included, so guessing a
// token is throttled too; 429 past it). A missing rule, a rule that is not
// an enabled webhook rule and a wrong token all get the same 404. The token
// is generated when the rule is saved without one and is changed by the
// records action rotate_token.
//
// # Conditions and expressions
//
// Conditions, mapping expressions, by_rule assignments and the {{ }}
// parts of templates use the platform expression language (package expr:
// comparisons, && || !, in, contains, arithmetic on exact decimals, ?:,
// ??, the allow-listed functions; no loops). They see:
//
//   - every field of the rule's entity and the system fields (id, version,
//     created_at, updated_at, created_by, owner), as the record is after
//     the write (before it, for deleted);
//   - linked records, through link, user and department fields (owner and
//     created_by are users): account.grade, account.owner.login — a path
//     follows at most Limits.MaxLinkDepth links. When an expression reads
//     through a link, that variable is the linked record (use account.id
//     for its id; account == nil still tells a missing link), fetched as the
//     system; multi_link fields are not followed;
//   - user: the acting user (id, login, name, department, regions,
//     roles): whoever made the write that started the chain of rule runs;
//     nil for schedules, dates and inbound calls;
//   - old: the record's values before an update (nil otherwise);
//   - payload: an inbound call's body (numbers are exact);
//   - target (update_linked mappings): the linked record being written.
//
// For example amount > 500000 && region == "华东" && user.login != "admin",
// account.grade == "A", old.stage != stage, payload.status == "shipped".
//
// # Actions
//
//	{"type": "set_fields", "values": {"priority": "high"}, "expressions": {"due": "add_days(today(), 3)"}}
//	{"type": "create_record", "entity": "work_orders", "values": {...}, "expressions": {"sales_order": "id", "quantity": "qty"}}
//	{"type": "update_linked", "link": "account", "expressions": {"last_deal": "name"}}
//	{"type": "update_linked", "entity": "contacts", "field": "account", "values": {"vip": true}}
//	{"type": "assign_owner", "strategy": "fixed", "user": "12"}
//	{"type": "assign_owner", "strategy": "round_robin", "users": ["12", "13"]}
//	{"type": "assign_owner", "strategy": "least_loaded", "users": ["12", "13"], "open": "status != \"closed\""}
//	{"type": "assign_owner", "strategy": "by_rule", "rules": [{"when": "region == \"华东\"", "user": "12"}], "default": "13"}
//	{"type": "notify", "to": {"users": ["12"], "roles": ["sales_manager"], "fields": ["approver"], "owner": true, "owner_manager": true},
//	 "channels": ["in_app", "email"], "robot": "3", "markdown": false, "title": "大单：{{name}}", "body": "金额 {{amount}}"}
//	{"type": "call_webhook", "url": "https://erp.example.com/hook", "secret": "...", "fields": ["name", "amount"]}
//	{"type": "start_flow", "definition": "5"}
//	{"type": "create_task", "title": "跟进 {{name}}", "description": "...", "due": "add_days(now(), 3)", "remind": "...",
//	 "priority": "high", "assignee": "owner"}
//
// A mapping sets each field from a constant (values, in the API's input
// form, checked against the field when the rule is saved) or an expression
// (expressions; the result is converted to the field's input form by
// records.InputValue and validated by the records service like any input). create_record's
// record is owned by the rule's record's owner unless owner is mapped.
// update_linked writes the records a link or multi_link field points to,
// or those of entity whose field links here, at most Limits.MaxLinked.
// assign_owner sets owner (or another user field named by field) and
// passes over inactive users: round_robin keeps its turn in
// rule_counters, incremented by an upsert that locks the row until commit
// (PostgreSQL) or runs on the single writer (SQLite), so concurrent runs
// take distinct turns; least_loaded counts each user's records of the
// entity matching open (a filter; all live records when empty) after
// taking the same row lock, so concurrent picks see each other; by_rule
// takes the user of the first rule whose when holds, else default, else
// nothing. notify resolves its recipients (users, the active holders of
// roles, user fields, the owner, the owner's manager) and calls
// Notifier.Send (kind "rule"; each recipient's preferences decide in-app
// and e-mail, channels narrows them), and Notifier.SendRobot for a group
// robot. call_webhook POSTs {"rule", "event", "entity", "record",
// "payload", "occurred_at"} with Tenon-Signature: t=<unix>,v1=<hex
// HMAC-SHA256 of "<t>.<body>" with the secret> (package signature), Tenon-Delivery
// (the same id on every retry) and Tenon-Rule; each call has
// Limits.WebhookTimeout. The URL obeys the outbound-address guard
// (package netguard): http or https only, and no loopback, link-local or
// private target unless the outbound allow-list has it, checked when the
// rule is saved (422 outbound_address_refused on actions[i].url) and
// again when the connection is made, after DNS and at every redirect hop;
// a refused call is not retried. The record sent is what the system sees
// (fields narrows it). start_flow
// calls FlowStarter.Start as the rule. create_task creates a tasks record
// about the rule's record (related_entity, related_id) owned by the
// assignee: "owner" (default), "owner_manager", a user field, or a user id.
// Without a Notifier or a FlowStarter, notify and start_flow fail with
// rule_no_notifier and rule_no_flows in the run log.
//
// # Execution: inside the write, then after it
//
// Inside the triggering write's transaction (the records after hook, last
// of the hooks): the trigger is matched, the condition evaluated on the
// record as written, the loop guard checked, and then either a run log
// row is written (skipped, failed, loop_stopped) or a rules.run job is
// enqueued. The job is the outbox: it exists exactly when the write
// commits, survives restarts, and is run once by one process. A rule never
// makes the user's write fail; only a database failure does.
//
// After the write commits, the rules.run job runs every action in order,
// as the system principal marked access.SourceRule (the audit trail shows
// "rule"), inside the transaction that marks the job done (an InTx job):
// set_fields, create_record, update_linked, assign_owner, notify (the
// inbox rows and the e-mail and robot jobs), start_flow and create_task
// all commit together with the run log row, exactly once, or not at all.
// The actions run in a savepoint: when one fails with a refusal (a
// validation error, a locked record, a missing record), none of them is
// applied and the run is logged as failed, naming the action; a database
// failure rolls everything back and the job is retried with back-off (the
// last attempt logs the run as failed). call_webhook is the one action
// whose effect is outside the database: the run enqueues a rules.webhook
// job in the same transaction, and the call is made after the run commits,
// retried with back-off, at least once; its outcome is written back to
// the run's log row (delivered, or failed with the reason). Later actions
// of a run see the record as earlier actions left it.
//
// Nothing runs inside the triggering transaction besides the checks: an
// action that must be atomic with the user's write belongs in a module's
// before hook, where it can also refuse the write.
//
// # Index
//
// The hook finds the rules of an entity in an in-memory index of the
// enabled rules with write triggers, so a write to an entity no rule
// watches costs a map lookup. The index is a records.Derived of the
// rules: a rule's save makes it stale when it commits; the records
// service's RunDerived compares a signature of the rules table (count, sum
// of versions, highest id) every two seconds to notice changes made by
// other processes; a rebuild inside a transaction is shared only once that
// transaction commits.
//
// # Limits
//
// An expression is refused when saved if its source exceeds MaxExprBytes
// or MaxExprNodes (rule_expression_too_large), or its static cost exceeds
// MaxExprCost (rule_expression_too_costly): one per node, more for calls,
// for operators that scan a text or a list, for each element of a list
// literal, and LinkCost for each linked record it reads. A rule's
// expressions together may cost MaxRuleCost (rule_too_costly). Programs
// have no loops, so an evaluation runs each instruction at most once; what
// can still grow is the data. Each evaluation is therefore metered: its
// static cost, the size of every value it reads (texts by length, lists
// and maps by element, an inbound payload whole) and every linked record
// it fetches are charged to StepBudget as they are gathered, and the
// expression VM's MemoryBudget bounds lists built while it runs. Past
// either the evaluation is cut off (rule_eval_cut_off), logged as a
// warning, and the run is logged as failed.
//
// # Loop guard
//
// The writes a run makes carry, in their context, the chain of runs that
// led to them: the acting user and the (rule, record) pairs already run.
// A rule whose condition holds on a write caused by a chain of
// Limits.MaxDepth runs, or on a record it already ran on in the chain, is
// not run: the run is logged as loop_stopped (rule_loop_depth,
// rule_loop_repeat). The chain travels in the rules.run payload.
//
// # Run log and test mode
//
// rule_runs has one row per run: rule, record, trigger, outcome (matched,
// skipped, failed, loop_stopped), what each action did, the error (a code
// rendered in the reader's language), the duration and the time; a
// scheduled or date scan adds a summary row without a record. GET
// /api/v1/rules/{id}/runs lists it for whoever may read the rule. The daily
// rules.purge job keeps Limits.KeepRuns and at most Limits.KeepRunsPerRule
// rows per rule.
//
// POST /api/v1/rules/{id}/test {"record_id": "...", "old": {...},
// "payload": {...}} (or POST /api/v1/rules/test with an unsaved "rule")
// says whether the trigger and the condition match the record now and
// what each action would do: the actions really run, as in a run, inside a
// transaction that is then rolled back, so validation errors show and
// nothing changes (no record, notification, job, counter or log row).
package rules
