// Package webhooks is Tenon's outbound webhook engine (P9, API.md
// "Webhooks and change feed"): record writes of any entity, built-in or
// custom, become signed HTTP POSTs to the subscribers' URLs, retried for a
// day, logged, replayable.
//
// # Subscriptions are records
//
// A subscription is a record of the system entity webhooks: url, entity,
// events (a multi_select of created, updated, deleted, restored and
// stage_changed), secret, active (default true) and description. Its owner
// (the record's owner: the creator unless set) is whose rights the
// payloads obey. No baseline grant exists: administrators, and roles
// granted the entity, manage webhooks through the records API, with the
// audit trail and the recycle bin of any record.
//
// A subscription is checked when it is saved (a before hook), each problem
// a 422 on its field: url must pass the outbound guard (package netguard:
// http or https, no user info, no loopback, link-local or private address
// in any spelling unless the outbound allow-list has it;
// outbound_url_invalid, outbound_address_refused), checked again when a
// subscription is switched back on; entity must exist and not be webhooks
// or webhook_deliveries (webhook_entity_unknown); the owner must be able to
// read the entity (webhook_owner_cannot_read); a secret given must have at
// least 32 characters (webhook_secret_short). An empty secret is replaced
// by a generated one: "whsec_" and 32 random bytes in base64url; clearing
// it (PATCH "secret": "") rotates it. The secret is readable by whoever may
// read the webhook: the receiver needs it.
//
// # Events
//
// A write is created, updated, deleted (moved to the recycle bin) or
// restored; an update that changes a field named stage or status is also
// stage_changed. A subscription that names several events of one write
// (updated and stage_changed) gets a delivery for each. Writes to webhooks
// and webhook_deliveries never make events.
//
// # What is sent: the owner's view
//
// In the write's transaction (the records after hook on every entity,
// last of the hooks with the rules), for each active subscription of the
// entity and event, the record is read again as the subscription's owner:
// nothing at all is sent (nor logged) when the owner is not an active
// user, may not read the entity, or the record is outside the owner's data
// scope after the write (before it, for a deletion). Otherwise the payload
// is
//
//	{"id": "<delivery id>", "event": "updated", "entity": "opportunities",
//	 "record": {...the record in API form, as the owner may read it...},
//	 "changes": {"stage": {"old": "报价", "new": "商务谈判"}},
//	 "occurred_at": "2026-11-20T09:00:00+08:00"}
//
// where changes lists, for updated and stage_changed, the changed fields
// the owner may read (empty for the other events). Fields hidden from the
// owner appear in neither; an update that changed only such fields sends
// no updated event, and stage_changed needs a visible stage or status. A
// payload larger than Limits.MaxPayload keeps only the record's id, empty
// changes and "truncated": true (the receiver reads the record through the
// API).
//
// The payload is written, without its id, to a new webhook_deliveries
// record (webhook, event, entity, record_id, payload, status pending,
// attempts 0, next_attempt_at, owned by the subscription's owner), and the
// first attempt is queued as a job, both in the write's transaction: the
// delivery exists exactly when the write commits and survives restarts.
//
// # Delivery
//
// An attempt (job webhooks.deliver, outside any transaction) reads the
// delivery and its webhook as they are now (URL and secret: a rotated
// secret or a corrected URL applies to pending retries), and POSTs the
// payload with its id first, with
//
//	Content-Type: application/json
//	Tenon-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>
//	Tenon-Delivery: <delivery id>      (the same on every attempt and replay)
//	Tenon-Event: <event>
//	Tenon-Webhook: <webhook id>
//
// through the outbound guard's client: the target is checked again when
// the connection is made (after DNS, every resolved address, and at each
// of at most five redirect hops; no https-to-http hop), the call is bounded
// by Limits.Timeout and at most 64 KB of the answer is read and thrown
// away. A 2xx answer is success: status succeeded, delivered_at. Anything
// else (another status, a refused address, DNS, connection, TLS, a
// time-out) is a failure: status failed, last_status, last_error (short
// and in our words, never the answer's body), and the next attempt queued
// at next_attempt_at, after min(BackoffCap, BackoffBase·2^(n-1)) less up to
// a tenth (30 s, 1 min, 2 min … 2 h), in the transaction that records the
// attempt. Failures are retried until Limits.Window (24 h) after the event;
// the last attempt is made at the end of the window; after it the delivery
// is dead. A delivery whose webhook was deleted or switched off is dead at
// its next attempt. Delivery is at least once: a process that dies after
// the call and before recording it makes the call again; receivers drop
// duplicates by Tenon-Delivery.
//
// Each attempt records itself only if the delivery is still at the
// version it started from, so an attempt overtaken by a replay is not
// recorded over it.
//
// # Replay and test
//
// The records action replay of a delivery (POST
// /api/v1/records/webhook_deliveries/{id}/actions/replay, needs update on
// webhook_deliveries) cancels its queued attempt, if any, sets it pending
// and queues an attempt now with a new 24-hour window: the same payload
// and the same id, signed at the new time; attempts keep counting.
// Deliveries are otherwise written by the engine only: creating or
// changing one through the API is refused (webhook_delivery_readonly);
// deleting old ones is allowed.
//
// POST /api/v1/records/webhooks/{id}/actions/test (needs update on the
// webhook; served by the engine's Surface in place of the generic action
// route, because it calls out of any transaction) sends a signed ping —
// event "ping", id "ping_<random>", record null — now, records nothing,
// and answers {"ok": true}, or {"ok": false, "reason": "refused" |
// "unreachable" | "rejected", "message": …}: never the target's status or
// body, so the button cannot be used to probe other hosts.
//
// # Retention
//
// Deliveries are purged daily at 03:50 (Asia/Shanghai) by the job
// webhooks.purge (schedule upserted by Start): succeeded deliveries whose
// last change (updated_at: the success, or a later replay) is more than
// Limits.KeepSucceeded ago (30 days) and dead ones more than
// Limits.KeepDead ago (90 days), live or in the recycle bin, are deleted
// for good through records.Purge, Limits.PurgeBatch (1,000) per
// transaction, each batch with what is the deliveries' alone (sub-table
// rows and search entries, should an administrator add such fields;
// shares; file references). Pending and failed deliveries are never
// purged: an attempt is still due. A run that deleted anything writes one
// audit entry (entity webhook_deliveries, record 0, action purged, source
// system) whose changes give, per status, {"deleted": n,
// "updated_before": cut-off}; the counts are carried from batch to batch
// in the settings row webhooks.purge, in each batch's transaction, so a
// run that stops midway and is retried still sums everything it deleted.
// The audit rows of the deliveries' own past stay (the audit log is
// append-only).
//
// # Index
//
// The hook finds the subscriptions of an entity in an in-memory index of
// the active webhooks (a records.Derived): a write to an entity nobody
// subscribes to costs a map lookup. A webhook's save makes it stale when
// it commits; the records service's RunDerived compares a signature of
// the webhooks table every two seconds to notice changes made by other
// processes.
package webhooks
