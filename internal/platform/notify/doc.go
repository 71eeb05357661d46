// Package notify is tasks and notifications (P10): the in-app inbox and
// its server-sent event stream, e-mail over SMTP, DingTalk / WeCom /
// Feishu group robots, per-user delivery preferences, and the built-in
// entity tasks with its reminders.
//
// # Sending
//
// Engines and modules build a Message and call Service.Send inside their
// own transaction: one inbox row per active recipient and, by each
// recipient's preferences, one e-mail job per recipient with an address.
// Titles and bodies are rendered in each recipient's language (the users
// field language) when the message carries an i18n Code. Group robots get
// RobotMessage through Service.SendRobot, also inside the caller's
// transaction; both deliveries are jobs (package jobs), retried with
// back-off. A job's id is the e-mail's Message-ID, so a delivery repeated
// after a crash is recognisable.
//
// # Event kinds
//
// Preferences are kept per kind. The kinds declared here (others declare
// theirs with RegisterKind while wiring):
//
//	approval.pending   an approval task waits for the recipient        e-mail on
//	approval.done      the recipient's approval request was decided    e-mail on
//	approval.cc        an approval was copied to the recipient         e-mail off
//	approval.reminder  an approval task is overdue or escalated        e-mail on
//	task.assigned      someone gave the recipient a task               e-mail on
//	task.due           a task's reminder time or due time has come     e-mail on
//	rule               an automation rule's notify action              e-mail on
//
// The inbox is on by default for every kind; users switch either channel
// per kind (GET/PUT /api/v1/notify/preferences). A message of an
// undeclared kind is delivered in-app only by default. A sender can narrow
// a message to some channels (Message.Channels); preferences still apply.
//
// # The inbox and its stream
//
// GET /api/v1/notifications pages the caller's inbox newest first with the
// unread count; a link to the record a notification is about is shown only
// while the caller may read that record (decided by the records service,
// with the caller's data scope). GET /api/v1/notifications/stream is a
// server-sent event stream for the browser's EventSource (cookie session):
// "unread" and "notification" events, comment heartbeats, Last-Event-ID
// replay. Streams hold no content in memory: a wake-up says "this user's
// inbox changed", and the stream reads its own user's rows. Several
// processes on one PostgreSQL wake each other with LISTEN/NOTIFY (see
// listen.go). A stream ends when the client leaves, when the service
// closes (server shutdown), and after Options.MaxStreamAge, when the
// browser reconnects and is authenticated again.
//
// # E-mail and robots
//
// The SMTP settings (host, port, user, password, TLS mode none / starttls
// / tls, an optional CA, sender, Tenon's public address for links) are one
// row of notify_settings, changed by administrators and audited; the
// password is never returned and is stored as given (the database and its
// backups must be protected like the mail account). Group robots are
// records of the system entity notify_channels; their signing secrets are
// moved to notify_channel_secrets when saved and are never read back.
// Robot webhooks on loopback, link-local or private addresses are refused
// unless an administrator allows them.
//
// # Tasks
//
// tasks records carry title, description, status (open/done/cancelled),
// priority, due_at, remind_at and an optional related record
// (related_entity, related_id). Hooks keep reminder jobs in step in the
// same transaction as the change: a job at remind_at (before the due time)
// and one at due_at, both cancelled by unique key and enqueued again when
// the times or the status change, and cancelled when the task is
// completed, cancelled or deleted. Each sends task.due to the owner. A
// task given to someone else sends task.assigned. Every user may work on
// their own tasks and follow the tasks they created for others (Grants).
package notify
