package crm

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// setNorm stores key(value of from) in the field to, or clears it.
func setNorm(rec records.Record, from, to string, key func(string) string) {
	if n := key(str(rec, from)); n != "" {
		rec[to] = n
	} else {
		delete(rec, to)
	}
}

// beforeLead fills the normalised de-duplication keys.
func (m *Module) beforeLead(_ context.Context, c *records.Change) error {
	if c.New == nil {
		return nil
	}
	setNorm(c.New, "company", "company_norm", NormCompany)
	setNorm(c.New, "phone", "phone_norm", NormPhone)
	setNorm(c.New, "email", "email_norm", NormEmail)
	return nil
}

// beforeAccount fills the normalised de-duplication keys.
func (m *Module) beforeAccount(_ context.Context, c *records.Change) error {
	if c.New == nil {
		return nil
	}
	setNorm(c.New, "name", "name_norm", NormCompany)
	setNorm(c.New, "phone", "phone_norm", NormPhone)
	return nil
}

// beforeContact copies the account's region onto the contact, so that the
// regions scope applies to contacts as it does to their accounts.
func (m *Module) beforeContact(ctx context.Context, c *records.Change) error {
	if c.New == nil {
		return nil
	}
	region, err := m.regionOf(ctx, Accounts, idOf(c.New, "account"))
	if err != nil {
		return err
	}
	setRegion(c.New, region)
	return nil
}

// beforeActivity defaults occurred_at to now and copies the region of what
// the activity is about: its opportunity, else its lead, else its account,
// else its contact.
func (m *Module) beforeActivity(ctx context.Context, c *records.Change) error {
	if c.New == nil {
		return nil
	}
	if _, ok := timeOf(c.New, "occurred_at"); !ok {
		c.New["occurred_at"] = m.now().UTC().Truncate(time.Microsecond)
	}
	for _, l := range [][2]string{{"opportunity", Opportunities}, {"lead", Leads}, {"account", Accounts}, {"contact", Contacts}} {
		id := idOf(c.New, l[0])
		if id == 0 {
			continue
		}
		region, err := m.regionOf(ctx, l[1], id)
		if err != nil {
			return err
		}
		setRegion(c.New, region)
		return nil
	}
	return nil
}

func setRegion(rec records.Record, region string) {
	if region != "" {
		rec["region"] = region
	} else {
		delete(rec, "region")
	}
}

// regionOf reads the region of a record (as the system: the caller's right
// to link the record is checked by the records service itself).
func (m *Module) regionOf(ctx context.Context, entity string, id int64) (string, error) {
	if id == 0 || !m.hasField(entity, "region") {
		return "", nil
	}
	rec, err := m.recs.Get(ctx, system(), entity, id, records.GetOptions{Fields: []string{"region"}})
	if errors.Is(err, apperr.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return str(rec, "region"), nil
}

// afterActivity keeps the derived follow-up fields of what an activity is
// about: a lead's last_followup_at and (for its first activity)
// first_response_at / first_response_minutes, measured from assigned_at or
// else from the lead's creation, and its status moves from new/assigned to
// working; an account's or opportunity's last_activity_at. Times only move
// forward (an activity logged late for an earlier date never sets an
// earlier "last" time). The writes are ordinary audited updates by the
// system in the activity's transaction.
func (m *Module) afterActivity(ctx context.Context, c *records.Change) error {
	if c.New == nil || (c.Op != records.OpCreate && c.Op != records.OpUpdate && c.Op != records.OpRestore) {
		return nil
	}
	if c.Op == records.OpUpdate && !slices.ContainsFunc(c.Changed, func(f string) bool {
		return f == "occurred_at" || f == "lead" || f == "account" || f == "opportunity"
	}) {
		return nil
	}
	at, _ := timeOf(c.New, "occurred_at")
	if id := idOf(c.New, "lead"); id != 0 {
		if err := m.touchLead(ctx, id, at); err != nil {
			return err
		}
	}
	for _, l := range [][2]string{{"account", Accounts}, {"opportunity", Opportunities}} {
		if id := idOf(c.New, l[0]); id != 0 && m.hasField(l[1], "last_activity_at") {
			if err := m.touchLast(ctx, l[1], id, "last_activity_at", at); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *Module) touchLead(ctx context.Context, id int64, at time.Time) error {
	lead, err := m.recs.Get(ctx, system(), Leads, id, records.GetOptions{})
	if errors.Is(err, apperr.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	in := map[string]any{}
	if last, ok := timeOf(lead, "last_followup_at"); !ok || at.After(last) {
		in["last_followup_at"] = at
	}
	if _, done := timeOf(lead, "first_response_at"); !done {
		from, ok := timeOf(lead, "assigned_at")
		if !ok {
			from, _ = timeOf(lead, "created_at")
		}
		mins := int64(at.Sub(from) / time.Minute)
		if mins < 0 {
			mins = 0
		}
		in["first_response_at"], in["first_response_minutes"] = at, mins
	}
	if s := str(lead, "status"); s == StatusNew || s == StatusAssigned {
		in["status"] = StatusWorking
	}
	if len(in) == 0 {
		return nil
	}
	_, err = m.update(ctx, system(), Leads, id, in)
	return err
}

func (m *Module) touchLast(ctx context.Context, entity string, id int64, field string, at time.Time) error {
	rec, err := m.recs.Get(ctx, system(), entity, id, records.GetOptions{Fields: []string{field}})
	if errors.Is(err, apperr.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if last, ok := timeOf(rec, field); ok && !at.After(last) {
		return nil
	}
	_, err = m.update(ctx, system(), entity, id, map[string]any{field: at})
	return err
}
