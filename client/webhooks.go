package client

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/signature"
)

// Webhook is an outbound webhook subscription (a record of the webhooks
// entity, managed by administrators).
type Webhook struct {
	// URL receives the deliveries (http or https; loopback and private
	// addresses only when an administrator allow-lists the host).
	URL string
	// Entity is the entity whose records are watched.
	Entity string
	// Events: created, updated, deleted, restored, stage_changed.
	Events []string
	// Secret signs the deliveries (Tenon-Signature); generated when empty,
	// at least 32 characters, never readable again.
	Secret      string
	Description string
	// Inactive creates the subscription switched off.
	Inactive bool
}

// CreateWebhook creates a subscription. The answer does not hold the
// secret: keep the one you chose (or give one, rather than reading it).
func (c *Client) CreateWebhook(ctx context.Context, w Webhook) (Record, error) {
	in := map[string]any{"url": w.URL, "entity": w.Entity, "events": w.Events, "active": !w.Inactive}
	if w.Secret != "" {
		in["secret"] = w.Secret
	}
	if w.Description != "" {
		in["description"] = w.Description
	}
	return c.Create(ctx, "webhooks", in)
}

// Deliveries lists the deliveries of a subscription (records of
// webhook_deliveries: event, entity, record_id, payload, status pending,
// succeeded, failed or dead, attempts, last_status, last_error,
// next_attempt_at, delivered_at), newest first unless o sorts otherwise;
// o's filter is ANDed.
func (c *Client) Deliveries(ctx context.Context, webhookID string, o *ListOptions) (*List, error) {
	var lo ListOptions
	if o != nil {
		lo = *o
	}
	lo.Filter = and("webhook == "+quote(webhookID), lo.Filter)
	return c.List(ctx, "webhook_deliveries", &lo)
}

// ReplayDelivery sends a delivery again now, with the same id and payload,
// and returns the delivery (status pending until it is sent).
func (c *Client) ReplayDelivery(ctx context.Context, deliveryID string) (Record, error) {
	return c.Action(ctx, "webhook_deliveries", deliveryID, "replay", nil)
}

// WebhookTest is the outcome of TestWebhook.
type WebhookTest struct {
	OK bool `json:"ok"`
	// Reason is refused (the address is not allowed), unreachable or
	// rejected (an answer other than 2xx) — never what the target said.
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// TestWebhook sends a signed "ping" event to a subscription's URL now and
// reports whether a 2xx came back.
func (c *Client) TestWebhook(ctx context.Context, webhookID string) (*WebhookTest, error) {
	var t WebhookTest
	_, err := c.call(ctx, request{method: http.MethodPost, path: "/records/webhooks/" + seg(webhookID) + "/actions/test",
		body: map[string]any{}}, &t)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// SignatureHeader is the header that signs a webhook delivery (and an
// inbound call to Tenon).
const SignatureHeader = signature.Header

// Errors of VerifySignature.
var (
	ErrSignatureInvalid = errors.New("tenon: invalid webhook signature")
	ErrSignatureExpired = errors.New("tenon: webhook signature timestamp outside the tolerance")
)

// Sign returns the Tenon-Signature value of body sent at t with secret:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">". Tenon signs
// its webhook deliveries so, and inbound endpoints expect calls signed so.
func Sign(secret string, t time.Time, body []byte) string {
	return signature.Sign(secret, t, body)
}

// VerifySignature checks a webhook delivery as its receiver: header is the
// Tenon-Signature header, body the raw request body (verify before
// decoding it), secret the subscription's. The timestamp must be within
// tolerance of now (0 skips that check; 5 minutes is a good value), which
// bounds replays — also remember the Tenon-Delivery ids you have handled,
// since a delivery may come more than once. Any v1 entry may match (there
// may be several while a secret is rotated; at most 8 are read, in a
// header of at most 1 KB). It returns nil, ErrSignatureInvalid (a
// malformed header, or no v1 matching) or ErrSignatureExpired (checked
// only once a v1 matched).
func VerifySignature(secret, header string, body []byte, tolerance time.Duration) error {
	return VerifySignatureAt(secret, header, body, tolerance, time.Now())
}

// VerifySignatureAt is VerifySignature with the receiver's clock given.
func VerifySignatureAt(secret, header string, body []byte, tolerance time.Duration, now time.Time) error {
	_, err := signature.Verify(secret, header, body, now, tolerance)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, signature.ErrStale):
		return ErrSignatureExpired
	}
	return ErrSignatureInvalid
}
