package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/netguard"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// minSecret is the shortest secret an administrator may set.
const minSecret = 32

// subscription is an active webhook as the write hook needs it.
type subscription struct {
	id     int64
	owner  int64
	entity string
	events map[string]bool
}

// index holds the active subscriptions by entity.
type index struct {
	byEntity map[string][]*subscription
}

// buildIndex reads every active webhook (as the system).
func (e *Engine) buildIndex(ctx context.Context) (*index, error) {
	idx := &index{byEntity: map[string][]*subscription{}}
	for page := 1; ; page++ {
		res, err := e.recs.List(ctx, access.System(), Entity, records.ListOptions{Filter: "active == true", Sort: "id",
			Page: page, PerPage: records.MaxPerPage, Count: records.CountNone})
		if err != nil {
			return nil, err
		}
		for _, rec := range res.Items {
			s := subscriptionOf(rec)
			if s.owner == 0 || len(s.events) == 0 {
				continue
			}
			idx.byEntity[s.entity] = append(idx.byEntity[s.entity], s)
		}
		if len(res.Items) < records.MaxPerPage {
			return idx, nil
		}
	}
}

func subscriptionOf(rec records.Record) *subscription {
	s := &subscription{id: rec.ID(), events: map[string]bool{}}
	s.owner, _ = rec["owner"].(int64)
	s.entity, _ = rec["entity"].(string)
	for _, ev := range textList(rec["events"]) {
		s.events[ev] = true
	}
	return s
}

// textList reads a multi_select value.
func textList(x any) []string {
	switch v := x.(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, s := range v {
			if str, ok := s.(string); ok {
				out = append(out, str)
			}
		}
		return out
	}
	return nil
}

// beforeWebhook checks a subscription when it is saved: the URL against
// the outbound policy (422 on url), the entity (it must exist and not be
// the engine's own), the owner (who must be able to read the entity), and
// the secret (generated when empty, at least minSecret characters).
func (e *Engine) beforeWebhook(ctx context.Context, c *records.Change) error {
	if c.Op != records.OpCreate && c.Op != records.OpUpdate {
		return nil
	}
	rec := c.New
	var errs []apperr.FieldError
	if u, _ := rec["url"].(string); u != "" && (c.Old == nil || c.Old["url"] != u || changedPolicyMatters(c)) {
		if err := e.guard.CheckURL(ctx, u); err != nil {
			fe := netguard.FieldError("url", err)
			ae, ok := apperr.As(fe)
			if !ok {
				return err
			}
			errs = append(errs, ae.Fields...)
		}
	}
	entity, _ := rec["entity"].(string)
	if entity != "" {
		if _, ok := e.recs.Registry().Get(entity); !ok || entity == Entity || entity == DeliveryEntity {
			errs = append(errs, apperr.Field("entity", "webhook_entity_unknown", "entity", entity))
		} else if owner, _ := rec["owner"].(int64); owner == 0 {
			errs = append(errs, apperr.Field("owner", "required"))
		} else {
			p, err := e.access.Principal(ctx, owner)
			if err != nil {
				if _, isApp := apperr.As(err); !isApp {
					return err
				}
				errs = append(errs, apperr.Field("owner", "webhook_owner_cannot_read", "entity", entity))
			} else if !p.RightsOn(entity).Can(access.Read) {
				errs = append(errs, apperr.Field("owner", "webhook_owner_cannot_read", "entity", entity))
			}
		}
	}
	secret, _ := rec["secret"].(string)
	switch {
	case strings.TrimSpace(secret) == "":
		rec["secret"] = e.newSecret()
	case len(secret) < minSecret:
		errs = append(errs, apperr.Field("secret", "webhook_secret_short", "min", minSecret))
	}
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	return nil
}

// changedPolicyMatters reports whether an update re-checks an unchanged
// URL: when the subscription is switched on again (the allow-list may
// have been narrowed since it was saved).
func changedPolicyMatters(c *records.Change) bool {
	return c.Old != nil && c.Old["active"] != true && c.New["active"] == true
}

// newSecret is a fresh signing secret: SecretBytes random bytes, base64url.
func (e *Engine) newSecret() string {
	b := make([]byte, e.limits.SecretBytes)
	_, _ = rand.Read(b)
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b)
}

// beforeDelivery keeps the delivery log a log: deliveries are created and
// changed by the engine only (the replay action goes through it); they
// may be deleted and restored by whoever has the right.
func (e *Engine) beforeDelivery(ctx context.Context, c *records.Change) error {
	if (c.Op == records.OpCreate || c.Op == records.OpUpdate) && !byEngine(ctx) {
		return apperr.Forbidden("webhook_delivery_readonly")
	}
	return nil
}
