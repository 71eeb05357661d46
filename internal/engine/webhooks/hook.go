package webhooks

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// change is one field's values before and after an update, in API form.
type change struct {
	Old any `json:"old"`
	New any `json:"new"`
}

// payload is what a delivery sends, but for its id (see body).
type payload struct {
	Event      string            `json:"event"`
	Entity     string            `json:"entity"`
	Record     records.Record    `json:"record"`
	Changes    map[string]change `json:"changes"`
	OccurredAt string            `json:"occurred_at"`
	// Truncated says that the record and the changes were left out
	// because the payload was larger than Limits.MaxPayload; "record"
	// then holds the id only.
	Truncated bool `json:"truncated,omitempty"`
}

// eventsOf lists the events a write is.
func eventsOf(c *records.Change) []string {
	switch c.Op {
	case records.OpCreate:
		return []string{EventCreated}
	case records.OpUpdate:
		for _, f := range c.Changed {
			if f == "stage" || f == "status" {
				return []string{EventUpdated, EventStageChanged}
			}
		}
		return []string{EventUpdated}
	case records.OpDelete:
		return []string{EventDeleted}
	case records.OpRestore:
		return []string{EventRestored}
	}
	return nil
}

// afterWrite is the records hook on every entity. Inside the write's
// transaction it finds the active subscriptions of the entity and event,
// and for each whose owner may see the record it writes a pending
// delivery with the payload as the owner sees it and queues its first
// attempt: the delivery exists exactly when the write commits.
func (e *Engine) afterWrite(ctx context.Context, c *records.Change) error {
	if c.Entity.Name == Entity || c.Entity.Name == DeliveryEntity {
		return nil
	}
	idx, err := e.subs.Get(ctx)
	if err != nil {
		return err
	}
	subs := idx.byEntity[c.Entity.Name]
	if len(subs) == 0 {
		return nil
	}
	events := eventsOf(c)
	views := map[int64]*ownerView{}
	at := e.now().UTC().Truncate(time.Microsecond)
	for _, s := range subs {
		for _, ev := range events {
			if !s.events[ev] {
				continue
			}
			v, seen := views[s.owner]
			if !seen {
				if v, err = e.ownerView(ctx, s.owner, c); err != nil {
					return err
				}
				views[s.owner] = v
			}
			if v == nil || !v.sends(ev) {
				continue
			}
			if err := e.queue(ctx, s, ev, v, c, at); err != nil {
				return err
			}
		}
	}
	return nil
}

// ownerView is a written record as a subscription's owner sees it.
type ownerView struct {
	id      int64
	record  records.Record
	changes map[string]change // updates: the changed fields the owner may read
}

// sends reports whether the owner learns of the event: an update only
// when a field the owner may read changed, a stage change only when that
// field is stage or status.
func (v *ownerView) sends(event string) bool {
	switch event {
	case EventUpdated:
		return len(v.changes) > 0
	case EventStageChanged:
		_, stage := v.changes["stage"]
		_, status := v.changes["status"]
		return stage || status
	}
	return true
}

// ownerView reads the written record as owner, inside the write's
// transaction: nil when the owner is no active user, may not read the
// entity, or the record is outside the owner's data scope (after the
// write; before it for a deletion). Hidden fields are left out of the
// record and of the changes.
func (e *Engine) ownerView(ctx context.Context, owner int64, c *records.Change) (*ownerView, error) {
	u, err := e.recs.Get(ctx, access.System(), "users", owner, records.GetOptions{})
	if err != nil {
		return nil, ignoreRefusal(err)
	}
	if u["active"] != true {
		return nil, nil
	}
	p, err := e.access.Principal(ctx, owner)
	if err != nil {
		return nil, ignoreRefusal(err)
	}
	id := c.New.ID()
	if c.Op == records.OpDelete {
		id = c.Old.ID()
	}
	rec, err := e.recs.Get(ctx, p, c.Entity.Name, id, records.GetOptions{Deleted: c.Op == records.OpDelete})
	if err != nil {
		return nil, ignoreRefusal(err)
	}
	v := &ownerView{id: id, record: e.recs.Public(p, c.Entity.Name, rec, nil), changes: map[string]change{}}
	if c.Op == records.OpUpdate {
		old := e.recs.Public(p, c.Entity.Name, c.Old, nil)
		r := p.RightsOn(c.Entity.Name)
		for _, f := range c.Changed {
			if r.Hidden(f) {
				continue
			}
			v.changes[f] = change{Old: old[f], New: v.record[f]}
		}
	}
	return v, nil
}

// ignoreRefusal turns the refusals of a read (forbidden, not found) into
// "nothing to send"; other errors stay.
func ignoreRefusal(err error) error {
	if _, ok := apperr.As(err); ok {
		return nil
	}
	return err
}

// deliveryJob is the payload of a KindDeliver job: which delivery, which
// attempt (the delivery's attempts before it) and until when failures are
// retried (unix microseconds).
type deliveryJob struct {
	Delivery int64 `json:"delivery,string"`
	Attempt  int64 `json:"attempt"`
	Deadline int64 `json:"deadline"`
}

// jobKey de-duplicates the job of one attempt of a delivery.
func jobKey(delivery, attempt int64) string {
	return "delivery:" + strconv.FormatInt(delivery, 10) + ":" + strconv.FormatInt(attempt, 10)
}

// queue writes a pending delivery and queues its first attempt.
func (e *Engine) queue(ctx context.Context, s *subscription, event string, v *ownerView, c *records.Change, at time.Time) error {
	pl := payload{Event: event, Entity: c.Entity.Name, Record: v.record, Changes: v.changes, OccurredAt: meta.FormatTime(at)}
	if event != EventUpdated && event != EventStageChanged {
		pl.Changes = map[string]change{}
	}
	raw, err := json.Marshal(pl)
	if err != nil {
		return err
	}
	if len(raw) > e.limits.MaxPayload {
		pl.Record = records.Record{"id": strconv.FormatInt(v.id, 10)}
		pl.Changes, pl.Truncated = map[string]change{}, true
		if raw, err = json.Marshal(pl); err != nil {
			return err
		}
	}
	d, err := e.recs.Create(engineCtx(ctx), system(), DeliveryEntity, map[string]any{
		"webhook": strconv.FormatInt(s.id, 10), "event": event, "entity": c.Entity.Name,
		"record_id": strconv.FormatInt(v.id, 10), "payload": json.RawMessage(raw), "status": StatusPending,
		"attempts": "0", "next_attempt_at": meta.FormatTime(at), "owner": strconv.FormatInt(s.owner, 10)})
	if err != nil {
		if _, refused := apperr.As(err); refused {
			// The index is behind a change another process made (the
			// webhook was just deleted): never fail the user's write for it.
			e.log.Warn("webhooks: delivery not written", "webhook", s.id, "entity", c.Entity.Name, "record", v.id, "err", err)
			return nil
		}
		return err
	}
	_, err = e.jobs.Enqueue(ctx, KindDeliver, deliveryJob{Delivery: d.ID(), Deadline: at.Add(e.limits.Window).UnixMicro()},
		jobs.EnqueueOptions{RunAt: at, UniqueKey: jobKey(d.ID(), 0)})
	return err
}
