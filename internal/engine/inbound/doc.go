// Package inbound is inbound sync from an ERP or MES (P9, issue 5 point 2):
// signed endpoints that another system pushes production progress,
// shipments, invoices or payments to, mapped onto the records of an entity
// and upserted by external id, with a call log.
//
// # Endpoints are records
//
// An endpoint is a record of the system entity inbound_endpoints, managed
// through the records API (no baseline grant: administrators, and roles
// granted the entity):
//
//   - name; source: the external system's name (erp, mes), the source of
//     the external ids it writes, the same namespace as PUT
//     /api/v1/records/{entity}/by-external-id/{source}/{external_id};
//   - entity: the target entity (any but inbound_endpoints);
//   - active; rate_limit: calls per minute (Limits.DefaultRate when empty);
//   - run_as: the user whose rights the writes use (default: whoever
//     creates the endpoint). Someone who is not an administrator may only
//     save an endpoint that runs as themselves, so a grant on the entity
//     never lends another user's rights;
//   - external_id_path: where the external id is in each item ("order_no",
//     "header.no"); a text or a whole number;
//   - items_path: where the array of items is in the body ("data.items");
//     when empty the body is one item (an object) or an array of items;
//   - mappings: a sub-table of target field ← expression rows (field, kind,
//     expression, link_source, clear_when_nil);
//   - secret: the HMAC key, generated (32 random bytes, URL-safe base64)
//     when saved empty, at least 32 characters when given; the action
//     rotate_secret replaces it.
//
// An endpoint is checked when saved (a before hook): the entity exists;
// the paths are dotted keys; every mapped field exists and is writable
// (not computed, not read-only, and writable by run_as: run_as is active,
// may read, create and update the entity, and the field is neither hidden
// from nor read-only for them); no field is mapped twice; each expression
// compiles within Limits.MaxExprBytes / MaxExprNodes. Problems are one 422
// naming each field (mappings[2].expression bad_expression).
//
// # Mappings
//
// An expression is the platform expression language (package expr) over
// two variables: item, the current item, and payload, the whole body.
// JSON numbers are exact (int64 or decimal), never floats:
//
//	qty_done      ← item.qty_done
//	status        ← item.status == "FIN" ? "完工" : "生产中"
//	amount        ← item.amount * 1.13
//	shipped_on    ← item.ship_date
//	note          ← payload.batch + "/" + item.line
//
// The value is converted to the field's input form by records.InputValue,
// as the rules engine's values are (integers and decimals exact, dates as
// YYYY-MM-DD, datetimes as RFC 3339, numbers written into text fields as
// text, sub-table rows field by field) and the records service normalises
// and validates it like any input. A value of nil (a
// key the item lacks) leaves the field as it is (its default on create)
// unless the mapping has clear_when_nil.
//
// A mapping of kind link_by_external_id sets a link (or multi_link) field
// from the linked record's external id: its expression gives the external
// id (a list of them for a multi_link), and the record of the link's
// target entity known by that id in link_source (default: the endpoint's
// own source) is linked. An MES endpoint (source mes) pushing work orders
// maps order ← item.so_no with link_source erp, and the work order links
// to the sales order the ERP pushed as SO-1. An unknown id fails the item
// (422 inbound_link_unknown). Items of one call are upserted in order, so
// a later item may link to a record an earlier one created.
//
// # Calls
//
// POST /api/v1/inbound/{endpoint_id} is a public route. The request is
// signed like Tenon's outbound webhooks: Tenon-Signature: t=<unix
// seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>
// (several v1 values may be sent; one must match). In order:
//
//  1. The body is read up to Limits.MaxBody (413 body_too_large).
//  2. A remote address that had Limits.FailRate refused calls in the
//     current minute is throttled (429) for the rest of the minute.
//  3. The endpoint is read and the signature checked, every v1 compared in
//     constant time (an unknown endpoint is checked against a dummy key, so
//     it takes as long). An unknown or inactive endpoint, a missing or
//     malformed header, a wrong signature, a timestamp more than
//     Limits.Tolerance (5 minutes) from now and a replay all get the same
//     401 inbound_unauthorized: the caller learns nothing about which
//     endpoints exist. The refusal counts against the remote address; for
//     an existing endpoint it is logged with the reason.
//  4. One transaction: the call is counted against the endpoint's rate
//     limit (429 inbound_throttled past it; the count row stays locked
//     until commit on PostgreSQL, so the calls of one endpoint are applied
//     one at a time, in arrival order); the signature is recorded in
//     inbound_signatures, where a row already there is a replay (refused as
//     in 3; two identical requests racing: the second waits for the first
//     to commit, PostgreSQL, or runs after it, SQLite); the items are found
//     (items_path, 422 inbound_items_not_found; at most Limits.MaxItems,
//     413); then each item in order: its external id (422
//     inbound_external_id_missing), its mappings evaluated, and
//     records.Service.Upsert(entity, source, external id) as run_as marked
//     with the audit source "inbound". Every item is tried (until
//     Limits.MaxErrors problems are found); problems are collected, each
//     named by the item's index and field (items[3].qty not_decimal,
//     items[5].order inbound_link_unknown, items[7] not_found for a record
//     outside run_as's scope, items[8].code taken for a unique value). If any
//     item failed the transaction is rolled back and the call gets one 422
//     inbound_items_failed listing them: all items or none. Otherwise the
//     call's log row is written and the transaction commits.
//  5. 200 {"created": n, "updated": n, "items": [{"external_id", "id",
//     "created"}]} in item order.
//
// A call refused after its signature was verified (400 bad_json, 413,
// 422) writes nothing but, in one transaction, its log row, its
// signature (the same request cannot be replayed; a retry is signed again)
// and its count against the endpoint's rate limit.
//
// The same external id twice in one call is upserted twice (the second
// updates what the first created; both items are listed). A mapped
// sub-table replaces the record's rows (rows are matched by id, which the
// other system does not know), so it makes a new version on every call.
//
// POST /api/v1/inbound/{endpoint_id}/test (for whoever may update the
// endpoint; no signature) runs a body through the endpoint exactly as a
// call would, as run_as, inside a transaction that is then rolled back:
// the same 200 (with "dry_run": true) or 422, and nothing changes.
//
// # Upsert by external id
//
// records.Service.Upsert claims the key before creating the record: a
// row of external_ids is inserted first, so two concurrent upserts of one
// key end as one record (the second waits on the unique key, then
// updates). A record moved to the recycle bin is restored (as the caller,
// who needs the right to) and updated; a purged one is created anew. See
// its documentation.
//
// # Evaluation budget
//
// Expressions have no loops, so an evaluation costs its size and the size
// of what it reads. Each evaluation of a call is charged its expression's
// node count, the item's size when it reads item and the body's when it
// reads payload (texts by length, lists and objects by element), against
// Limits.EvalBudget for the whole call; past it the call is refused with
// 422 inbound_eval_cut_off. The VM's memory budget bounds list literals.
//
// # Call log
//
// inbound_calls has one row per call to an existing endpoint, accepted or
// refused (a throttled call is not logged): status, items, created,
// updated, the error (codes, rendered in the reader's language; for a
// signature refusal the reason: inactive, malformed, bad_signature, stale,
// replay), the remote address, the body's size, the duration and the
// time. GET /api/v1/inbound/{endpoint_id}/calls lists it, newest first,
// for whoever may read the endpoint. The hourly inbound.purge job deletes
// signatures whose timestamp has left the window, rate-limit windows older
// than an hour, and log rows older than Limits.KeepCalls (30 days) or
// beyond Limits.KeepCallsPerEndpoint per endpoint.
package inbound
