package rules

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/netguard"
	"github.com/tenon-crm/tenon/internal/platform/records"
	"github.com/tenon-crm/tenon/internal/platform/signature"
)

// maxHookBody bounds an inbound webhook's body.
const maxHookBody = 256 << 10

// Inbound is the result of an accepted inbound call.
type Inbound struct {
	Accepted bool   `json:"accepted"`
	Record   string `json:"record,omitempty"`
}

// errHookRefused is what every refused inbound call gets, whatever the
// reason (no such rule, not a webhook rule, disabled, wrong token), so a
// caller learns nothing about which rules exist.
func errHookRefused() error { return apperr.NotFound() }

// Hook handles an inbound call of a webhook rule: the call is counted
// against the rule's rate limit first (refused calls too, so guessing
// tokens is throttled), then the token is checked in constant time, and a
// run is queued with the payload. Everything happens in one transaction
// except that the count of a refused call is kept.
func (e *Engine) Hook(ctx context.Context, ruleID int64, token string, body []byte) (Inbound, error) {
	var out Inbound
	var refusal error
	err := e.db.WithTx(ctx, func(ctx context.Context) error {
		out, refusal = Inbound{}, nil
		window := e.now().Unix() / 60
		var hits int64
		if err := e.db.QueryRow(ctx, `INSERT INTO rule_hook_hits (rule_id, window_start, hits) VALUES (?, ?, 1)
			ON CONFLICT (rule_id, window_start) DO UPDATE SET hits = rule_hook_hits.hits + 1 RETURNING hits`,
			ruleID, window).Scan(&hits); err != nil {
			return err
		}
		if hits > int64(e.limits.HookRate) {
			refusal = apperr.New(apperr.ErrThrottled, "rule_hook_throttled", "retry_after", 60-e.now().Unix()%60)
			return nil
		}
		r, err := e.ruleByID(ctx, ruleID)
		if err != nil {
			if domainError(err) {
				refusal = errHookRefused()
				return nil
			}
			return err
		}
		if r == nil || !r.Enabled || r.Trigger.Type != TriggerWebhook || r.token == "" ||
			subtle.ConstantTimeCompare([]byte(token), []byte(r.token)) != 1 {
			refusal = errHookRefused()
			return nil
		}
		payload, perr := parsePayload(body)
		if perr != nil {
			refusal = perr
			return nil
		}
		p := runPayload{Rule: r.ID, Version: r.Version, Entity: r.Entity, Trigger: TriggerWebhook, Payload: payload, Evaluate: true}
		if r.Trigger.MatchField != "" {
			id, err := e.matchRecord(ctx, r, decodeJSONValue(payload))
			if err != nil {
				return err
			}
			if id == 0 {
				out.Accepted = true
				return e.logRun(ctx, &runRow{rule: r.ID, entity: r.Entity, trigger: TriggerWebhook, outcome: outcomeSkipped,
					err: &runError{Code: "rule_no_match", Args: map[string]any{"field": r.Trigger.MatchField, "key": r.Trigger.MatchKey}}}, time.Now())
			}
			p.Record = id
			out.Record = itoa64(id)
		}
		if _, err := e.jobs.Enqueue(ctx, KindRun, p, jobs.EnqueueOptions{}); err != nil {
			return err
		}
		out.Accepted = true
		return nil
	})
	if err != nil {
		return Inbound{}, err
	}
	if refusal != nil {
		return Inbound{}, refusal
	}
	return out, nil
}

// parsePayload checks an inbound body: empty, or one JSON object.
func parsePayload(body []byte) (json.RawMessage, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return json.RawMessage("{}"), nil
	}
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil || dec.More() {
		return nil, apperr.Invalid("bad_json", "reason", "the body must be a JSON object")
	}
	return json.RawMessage(bytes.TrimSpace(body)), nil
}

// matchRecord finds the record whose match field equals the payload's
// match key (the first by id; 0 when none).
func (e *Engine) matchRecord(ctx context.Context, r *Rule, payload any) (int64, error) {
	m, _ := payload.(map[string]any)
	v, ok := m[r.Trigger.MatchKey]
	if !ok || v == nil {
		return 0, nil
	}
	field := r.Trigger.MatchField
	var lit string
	f := r.ent.Field(field)
	switch {
	case field == "id" || f != nil && f.Type == "integer":
		var n int64
		switch x := v.(type) {
		case int64:
			n = x
		case string:
			i, err := strconv.ParseInt(x, 10, 64)
			if err != nil {
				return 0, nil
			}
			n = i
		default:
			return 0, nil
		}
		lit = strconv.FormatInt(n, 10)
	default:
		lit = quoteFilter(formatValue(v))
	}
	res, err := e.recs.List(ctx, access.System(), r.Entity, records.ListOptions{Filter: field + " == " + lit, Sort: "id",
		PerPage: 1, Count: records.CountNone})
	if err != nil || len(res.Items) == 0 {
		return 0, err
	}
	return res.Items[0].ID(), nil
}

// webhookCall is a rules.webhook job: one signed POST.
type webhookCall struct {
	Rule   int64           `json:"rule,string"`
	RunJob int64           `json:"run_job,string"`
	Action int             `json:"action"`
	URL    string          `json:"url"`
	Secret string          `json:"secret"`
	Body   json.RawMessage `json:"body"`
}

// webhookJob sends one outbound call. A 2xx answer is success; other 4xx
// answers (but 408 and 429) are final; the rest is retried with back-off.
// The run's log row records a final failure and the delivery.
// Tenon-Delivery carries the job id, the same on every retry, so the
// receiver can drop duplicates (delivery is at least once).
func (e *Engine) webhookJob(ctx context.Context, j *jobs.Job) error {
	var c webhookCall
	if err := j.Decode(&c); err != nil {
		return jobs.Permanent(err)
	}
	if err := netguard.ValidURL(c.URL); err != nil {
		return e.webhookDone(ctx, &c, jobs.Permanent(err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(c.Body))
	if err != nil {
		return e.webhookDone(ctx, &c, jobs.Permanent(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Tenon-Rules/1")
	req.Header.Set(signature.Header, signature.Sign(c.Secret, e.now(), c.Body))
	req.Header.Set("Tenon-Delivery", itoa64(j.ID))
	req.Header.Set("Tenon-Rule", itoa64(c.Rule))
	resp, err := e.client.Do(req)
	if err != nil {
		// A target the outbound guard refuses stays refused until an
		// administrator allows it: no retry.
		var re *netguard.RefusedError
		if errors.As(err, &re) || errors.Is(err, netguard.ErrRedirectRefused) {
			return e.webhookDone(ctx, &c, jobs.Permanent(err))
		}
		if j.Attempts >= j.MaxAttempts {
			return e.webhookDone(ctx, &c, err)
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return e.webhookDone(ctx, &c, nil)
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != 408 && resp.StatusCode != 429:
		return e.webhookDone(ctx, &c, jobs.Permanent(fmt.Errorf("the target answered %d", resp.StatusCode)))
	}
	err = fmt.Errorf("the target answered %d", resp.StatusCode)
	if j.Attempts >= j.MaxAttempts {
		return e.webhookDone(ctx, &c, err)
	}
	return err
}

// webhookDone records a delivery's outcome on its run's log row (the
// action's status; a failure also fails the run) and returns err for the
// job.
func (e *Engine) webhookDone(ctx context.Context, c *webhookCall, err error) error {
	if c.RunJob == 0 {
		return err
	}
	uerr := e.db.WithTx(ctx, func(ctx context.Context) error {
		var raw []byte
		if qerr := e.db.QueryRow(ctx, `SELECT actions FROM rule_runs WHERE job_id = ?`, c.RunJob).Scan(&raw); qerr != nil {
			return nil // the run's row was purged
		}
		var acts []actionResult
		if json.Unmarshal(raw, &acts) != nil {
			return nil
		}
		for i := range acts {
			if acts[i].Index != c.Action {
				continue
			}
			acts[i].Status = "delivered"
			if err != nil {
				acts[i].Status = "failed"
				if acts[i].Detail == nil {
					acts[i].Detail = map[string]any{}
				}
				acts[i].Detail["error"] = err.Error()
			}
		}
		if err == nil {
			_, xerr := e.db.Exec(ctx, `UPDATE rule_runs SET actions = `+e.db.JSONParam()+` WHERE job_id = ?`, jsonValue(acts), c.RunJob)
			return xerr
		}
		idx := c.Action
		rerr := &runError{Code: "rule_webhook_failed", Args: map[string]any{"reason": err.Error()}, Action: &idx, Type: ActionCallWebhook}
		_, xerr := e.db.Exec(ctx, `UPDATE rule_runs SET actions = `+e.db.JSONParam()+`, outcome = 'failed', error = `+e.db.JSONParam()+
			` WHERE job_id = ?`, jsonValue(acts), jsonValue(rerr), c.RunJob)
		return xerr
	})
	if uerr != nil && err == nil {
		return uerr
	}
	return err
}
