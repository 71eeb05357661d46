// Package client is the Go client of Tenon's HTTP API (/api/v1), for
// integrators: an ERP or MES pushing and pulling records, scripts, tests.
// It depends on the standard library and Tenon's own signature package
// (internal/platform/signature, itself standard library only).
//
// # Connecting
//
// With an API token (minted in the web app or with CreateToken; it never
// has more rights than its user):
//
//	c, err := client.New("https://crm.example.com", client.WithToken(os.Getenv("TENON_TOKEN")))
//
// or with a user's session (cookie and CSRF token, kept by the client):
//
//	c, err := client.New("https://crm.example.com")
//	_, err = c.Login(ctx, "erp.sync", password)
//
// Every call takes a context. Errors the server answers are *Error values
// (status, stable code, title and per-field errors in the language set
// with WithLanguage); use errors.As, or IsNotFound, IsConflict and
// IsPreconditionFailed.
//
// # Records
//
// Records are Record maps in the API's JSON form (ids and decimals as
// strings, integers as json.Number). List reads a page with the list
// parameters (filter, sort, page, per_page, fields, q, expand, count); All
// iterates over every page. Create takes an IdempotencyKey so a retried
// call creates one record; Update and Delete take IfVersion for optimistic
// locking; Upsert writes by an external id (source, id) and is idempotent.
//
// # Change feed and webhooks
//
// Changes reads the change feed from a cursor; Follow is a loop that hands
// every change to a function and saves the cursor after each page
// (at-least-once). Webhook subscriptions and their deliveries are records
// (CreateWebhook, Deliveries, ReplayDelivery, TestWebhook); a receiver
// checks each delivery with VerifySignature.
//
// # Export
//
// Export downloads a list as CSV or XLSX, streamed; Download is an
// io.Reader.
//
// The integration guide (docs/integration.md) shows each call next to its
// curl form.
package client
