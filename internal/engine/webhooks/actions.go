package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// replay is the records action replay of a delivery: the same payload
// with the same id is sent again now, and retried for a new window. It
// needs the right to update the delivery. A queued attempt of the
// delivery is cancelled first, so the replay replaces it; the delivery's
// attempts keep counting.
func (e *Engine) replay(ctx context.Context, p *access.Principal, rec records.Record, _ map[string]any) (records.Record, error) {
	id := rec.ID()
	if err := e.recs.Check(ctx, p, DeliveryEntity, id, access.Update); err != nil {
		return nil, err
	}
	attempts, _ := rec["attempts"].(int64)
	if _, err := e.jobs.CancelKey(ctx, KindDeliver, jobKey(id, attempts)); err != nil {
		return nil, err
	}
	now := e.now().UTC().Truncate(time.Second)
	out, err := e.recs.Update(engineCtx(ctx), p, DeliveryEntity, id, map[string]any{"status": StatusPending,
		"next_attempt_at": meta.FormatTime(now)}, 0)
	if err != nil {
		return nil, err
	}
	_, err = e.jobs.Enqueue(ctx, KindDeliver, deliveryJob{Delivery: id, Attempt: attempts, Deadline: now.Add(e.limits.Window).UnixMicro()},
		jobs.EnqueueOptions{RunAt: now, UniqueKey: jobKey(id, attempts)})
	return out, err
}

// TestResult is the answer of the test action: whether the target took a
// ping, and if not a generic reason, never what the target answered
// (which would make the button an oracle for probing other hosts).
type TestResult struct {
	OK bool `json:"ok"`
	// Reason is refused (the outbound guard refused the address or a
	// redirect), unreachable (DNS, connection, TLS or time-out) or
	// rejected (an answer other than 2xx).
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// Test sends a ping to a webhook now and reports whether a 2xx came back.
// It needs the right to update the webhook, and runs outside any
// transaction (the call may take Limits.Timeout). Nothing is recorded.
func (e *Engine) Test(ctx context.Context, p *access.Principal, id int64) (TestResult, error) {
	if err := e.recs.Check(ctx, p, Entity, id, access.Update); err != nil {
		return TestResult{}, err
	}
	h, err := e.recs.Get(ctx, access.System(), Entity, id, records.GetOptions{})
	if err != nil {
		return TestResult{}, err
	}
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	deliveryID := "ping_" + hex.EncodeToString(rnd[:])
	entity, _ := h["entity"].(string)
	pl, err := json.Marshal(payload{Event: EventPing, Entity: entity, Changes: map[string]change{},
		OccurredAt: meta.FormatTime(e.now())})
	if err != nil {
		return TestResult{}, err
	}
	out := e.post(ctx, h, EventPing, deliveryID, body(deliveryID, pl))
	if out.ok {
		return TestResult{OK: true}, nil
	}
	res := TestResult{Reason: "unreachable"}
	switch {
	case out.refused:
		res.Reason = "refused"
	case out.status != 0:
		res.Reason = "rejected"
	}
	lang := i18n.Lang(p.Lang)
	if lang != i18n.EN {
		lang = i18n.ZH
	}
	res.Message = i18n.Message(lang, "webhook_test_"+res.Reason, nil)
	return res, nil
}
