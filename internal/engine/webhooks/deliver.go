package webhooks

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/netguard"
	"github.com/tenon-crm/tenon/internal/platform/records"
	"github.com/tenon-crm/tenon/internal/platform/signature"
)

// outcome is what one attempt came to.
type outcome struct {
	ok      bool
	final   bool   // not worth retrying whatever the window (the webhook is gone or off)
	refused bool   // the outbound guard refused the target
	status  int    // the HTTP status answered, 0 when none
	reason  string // short, ours: never anything the target sent
}

// deliverJob makes one attempt of a delivery (outside any transaction: an
// HTTP call) and records it. It runs at least once: if the process dies
// after the call and before the record, the attempt is made again, with
// the same Tenon-Delivery id.
func (e *Engine) deliverJob(ctx context.Context, j *jobs.Job) error {
	var dj deliveryJob
	if err := j.Decode(&dj); err != nil {
		return jobs.Permanent(err)
	}
	d, err := e.recs.Get(ctx, system(), DeliveryEntity, dj.Delivery, records.GetOptions{})
	if err != nil {
		return ignoreRefusal(err) // deleted meanwhile: nothing to do
	}
	st, _ := d["status"].(string)
	attempts, _ := d["attempts"].(int64)
	if (st != StatusPending && st != StatusFailed) || attempts != dj.Attempt {
		return nil // a replay or another attempt took over
	}
	out, err := e.attempt(ctx, d)
	if err != nil {
		return err
	}
	return e.settle(ctx, d, dj, out)
}

// attempt sends a delivery to its webhook as the webhook is now (URL and
// secret).
func (e *Engine) attempt(ctx context.Context, d records.Record) (outcome, error) {
	hookID, _ := d["webhook"].(int64)
	h, err := e.recs.Get(ctx, access.System(), Entity, hookID, records.GetOptions{})
	if err != nil {
		if ignoreRefusal(err) == nil {
			return outcome{final: true, reason: "the webhook was deleted"}, nil
		}
		return outcome{}, err
	}
	if h["active"] != true {
		return outcome{final: true, reason: "the webhook is not active"}, nil
	}
	raw, _ := d["payload"].(json.RawMessage)
	event, _ := d["event"].(string)
	id := strconv.FormatInt(d.ID(), 10)
	return e.post(ctx, h, event, id, body(id, raw)), nil
}

// body is the delivery's payload with its id first.
func body(id string, pl json.RawMessage) []byte {
	head := `{"id":"` + id + `"`
	p := bytes.TrimSpace(pl)
	if len(p) < 2 || p[0] != '{' {
		return []byte(head + "}")
	}
	rest := bytes.TrimSpace(p[1:])
	if len(rest) > 0 && rest[0] == '}' {
		return []byte(head + "}")
	}
	return append([]byte(head+","), rest...)
}

// post signs and sends a body to a webhook and says how it went.
func (e *Engine) post(ctx context.Context, h records.Record, event, deliveryID string, b []byte) outcome {
	target, _ := h["url"].(string)
	secret, _ := h["secret"].(string)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(b))
	if err != nil {
		return outcome{reason: "the URL is not valid"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Tenon-Webhooks/1")
	req.Header.Set(signature.Header, signature.Sign(secret, e.now(), b))
	req.Header.Set("Tenon-Delivery", deliveryID)
	req.Header.Set("Tenon-Event", event)
	req.Header.Set("Tenon-Webhook", strconv.FormatInt(h.ID(), 10))
	res, err := e.client.Do(req)
	if err != nil {
		return describe(err)
	}
	// Read (a bounded amount) so the connection can be reused; what the
	// target says is never kept.
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return outcome{ok: true, status: res.StatusCode}
	}
	return outcome{status: res.StatusCode, reason: "HTTP " + strconv.Itoa(res.StatusCode)}
}

// describe turns a failed call into a short reason of our own words.
func describe(err error) outcome {
	var re *netguard.RefusedError
	var ue *netguard.URLError
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	var ne net.Error
	switch {
	case errors.As(err, &re):
		return outcome{refused: true, reason: strings.TrimPrefix(re.Error(), "netguard: ")}
	case errors.As(err, &ue):
		return outcome{refused: true, reason: strings.TrimPrefix(ue.Error(), "netguard: ")}
	case errors.Is(err, netguard.ErrRedirectRefused):
		msg := err.Error()
		if i := strings.Index(msg, "netguard: "); i >= 0 {
			msg = msg[i+len("netguard: "):]
		}
		return outcome{refused: true, reason: msg}
	case errors.As(err, &dnsErr):
		return outcome{reason: "DNS lookup failed"}
	case errors.As(err, &certErr), errors.As(err, &recErr), strings.Contains(err.Error(), "tls:"):
		return outcome{reason: "TLS handshake failed"}
	case errors.Is(err, syscall.ECONNREFUSED):
		return outcome{reason: "connection refused"}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return outcome{reason: "timed out"}
	}
	return outcome{reason: "connection failed"}
}

// settle records an attempt on the delivery and, after a failure within
// the window, queues the next one, in one transaction. The write is
// conditional on the version the attempt started from: when a replay
// changed the delivery meanwhile, this attempt is not recorded (the
// replay's attempt will be).
func (e *Engine) settle(ctx context.Context, d records.Record, dj deliveryJob, out outcome) error {
	now := e.now().UTC()
	n := dj.Attempt + 1
	in := map[string]any{"attempts": strconv.FormatInt(n, 10), "last_status": nil, "last_error": nil}
	if out.status != 0 {
		in["last_status"] = strconv.Itoa(out.status)
	}
	var next time.Time
	deadline := time.UnixMicro(dj.Deadline).UTC()
	switch {
	case out.ok:
		in["status"], in["delivered_at"], in["next_attempt_at"] = StatusSucceeded, meta.FormatTime(now), nil
	case out.final || !now.Before(deadline):
		in["status"], in["next_attempt_at"] = StatusDead, nil
	default:
		next = now.Add(e.backoff(n)).Truncate(time.Second)
		if next.After(deadline) {
			next = deadline
		}
		in["status"], in["next_attempt_at"] = StatusFailed, meta.FormatTime(next)
	}
	if !out.ok {
		in["last_error"] = clip(out.reason, 300)
	}
	err := e.db.WithTx(ctx, func(ctx context.Context) error {
		if _, err := e.recs.Update(engineCtx(ctx), system(), DeliveryEntity, d.ID(), in, d.Version()); err != nil {
			return err
		}
		if next.IsZero() {
			return nil
		}
		_, err := e.jobs.Enqueue(ctx, KindDeliver, deliveryJob{Delivery: d.ID(), Attempt: n, Deadline: dj.Deadline},
			jobs.EnqueueOptions{RunAt: next, UniqueKey: jobKey(d.ID(), n)})
		return err
	})
	if ae, ok := apperr.As(err); ok && (errors.Is(ae, apperr.ErrPrecondition) || errors.Is(ae, apperr.ErrNotFound)) {
		return nil
	}
	return err
}

// backoff is the wait after failed attempt n: min(cap, base·2^(n-1)) less
// a random tenth, so deliveries failing together do not retry together.
func (e *Engine) backoff(n int64) time.Duration {
	d := e.limits.BackoffBase
	for i := int64(1); i < n && d < e.limits.BackoffCap; i++ {
		d *= 2
	}
	d = min(d, e.limits.BackoffCap)
	return d - time.Duration(rand.Int64N(int64(d)/10+1))
}

// clip shortens s to at most n bytes of whole characters.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
