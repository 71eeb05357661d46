package crm

import (
	"context"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// ConvertInput is the convert action's body.
type ConvertInput struct {
	Account           int64 // an account to attach to (0: find or create)
	CreateOpportunity bool
	Opportunity       map[string]any // name, amount, expected_close (input form)
}

// Converted is what a conversion made or found.
type Converted struct {
	Lead        records.Record
	Account     records.Record
	Contact     records.Record // nil when the lead names no contact
	Opportunity records.Record // nil unless asked for
	// AccountReused is true when an existing account was used.
	AccountReused bool
}

func parseConvert(in map[string]any) (ConvertInput, error) {
	var ci ConvertInput
	for k, x := range in {
		switch k {
		case "account":
			if x == nil {
				continue
			}
			id, ok := meta.ParseID(x)
			if !ok {
				return ci, apperr.Fields(apperr.Field("account", "invalid_id"))
			}
			ci.Account = id
		case "create_opportunity":
			b, ok := x.(bool)
			if !ok && x != nil {
				return ci, apperr.Fields(apperr.Field("create_opportunity", "not_boolean"))
			}
			ci.CreateOpportunity = b
		case "opportunity":
			if x == nil {
				continue
			}
			o, ok := x.(map[string]any)
			if !ok {
				return ci, apperr.Fields(apperr.Field("opportunity", "not_object"))
			}
			for f := range o {
				if f != "name" && f != "amount" && f != "expected_close" {
					return ci, apperr.Invalid("unknown_field", "field", "opportunity."+f)
				}
			}
			ci.Opportunity = o
		default:
			return ci, apperr.Invalid("unknown_field", "field", k)
		}
	}
	return ci, nil
}

// convertAction is the records action (it answers the converted lead; the
// crm route answers all the records made).
func (m *Module) convertAction(ctx context.Context, p *access.Principal, lead records.Record, raw map[string]any) (records.Record, error) {
	in, err := parseConvert(raw)
	if err != nil {
		return nil, err
	}
	c, err := m.convert(ctx, p, lead, in)
	if err != nil {
		return nil, err
	}
	return c.Lead, nil
}

// Convert converts a lead p may read, in one transaction.
func (m *Module) Convert(ctx context.Context, p *access.Principal, id int64, raw map[string]any) (*Converted, error) {
	in, err := parseConvert(raw)
	if err != nil {
		return nil, err
	}
	var out *Converted
	err = m.db.WithTx(ctx, func(ctx context.Context) error {
		lead, err := m.recs.Get(ctx, p, Leads, id, records.GetOptions{})
		if err != nil {
			return err
		}
		out, err = m.convert(ctx, p, lead, in)
		return err
	})
	return out, err
}

// convert turns a lead into an account (an existing one p may read whose
// normalised name equals the lead's normalised company, else a new one), a
// contact (when the lead names one) and optionally an opportunity, and
// marks the lead converted with links to them. Everything is written as p
// (rights, scope, audit) in the caller's transaction; a converted lead is
// refused.
func (m *Module) convert(ctx context.Context, p *access.Principal, lead records.Record, in ConvertInput) (*Converted, error) {
	if str(lead, "status") == StatusConverted {
		return nil, apperr.Conflict("crm_lead_converted")
	}
	if err := m.recs.Check(ctx, p, Leads, lead.ID(), access.Update); err != nil {
		return nil, err
	}
	out := &Converted{}
	var err error
	switch {
	case in.Account != 0:
		if out.Account, err = m.recs.Get(ctx, p, Accounts, in.Account, records.GetOptions{}); err != nil {
			return nil, err
		}
		out.AccountReused = true
	default:
		out.Account, err = m.findAccount(ctx, p, str(lead, "company_norm"))
		if err != nil {
			return nil, err
		}
		out.AccountReused = out.Account != nil
	}
	if out.Account == nil {
		vals := map[string]any{"name": lead["company"], "source": lead["source"]}
		for _, f := range []string{"region", "industry", "phone", "address", "campaign"} {
			vals[f] = lead[f]
		}
		if out.Account, err = m.create(ctx, p, Accounts, vals); err != nil {
			return nil, err
		}
	}
	aid := out.Account.ID()
	if name := str(lead, "contact_name"); name != "" {
		vals := map[string]any{"account": aid, "name": name, "is_primary": !out.AccountReused}
		for _, f := range []string{"title", "phone", "email", "wechat"} {
			vals[f] = lead[f]
		}
		if out.Contact, err = m.create(ctx, p, Contacts, vals); err != nil {
			return nil, err
		}
	}
	if in.CreateOpportunity {
		if out.Opportunity, err = m.createOpportunity(ctx, p, lead, out, in.Opportunity); err != nil {
			return nil, err
		}
	}
	upd := map[string]any{"status": StatusConverted, "converted_account": aid, "converted_at": m.now()}
	if out.Contact != nil {
		upd["converted_contact"] = out.Contact.ID()
	}
	if out.Opportunity != nil {
		upd["converted_opportunity"] = out.Opportunity.ID()
	}
	if out.Lead, err = m.update(ctx, p, Leads, lead.ID(), upd); err != nil {
		return nil, err
	}
	if err := m.carryActivities(ctx, lead.ID(), out); err != nil {
		return nil, err
	}
	return out, nil
}

// carryActivities files the lead's activities (calls, visits, tasks) under
// what the conversion made, so that the account's 360° page and timeline
// show the history that led to it: each gets the account, and the contact
// and opportunity where it names none. The system makes this change (the
// activities may be other users' ones the converter could not edit); the
// audit trail records it on each activity.
func (m *Module) carryActivities(ctx context.Context, leadID int64, c *Converted) error {
	if !m.hasField(Activities, "lead") {
		return nil
	}
	// Each pass files a page; those leave the filter, so the next pass
	// reads the rest (a lead may have more activities than a page holds).
	filter := "lead == " + strconv.FormatInt(leadID, 10) + " && account == nil"
	for {
		res, err := m.recs.List(ctx, system(), Activities, records.ListOptions{Filter: filter,
			Sort: "id", PerPage: records.MaxPerPage, Count: records.CountNone, Fields: []string{"id", "contact", "opportunity"}})
		if err != nil {
			return err
		}
		for _, a := range res.Items {
			vals := map[string]any{"account": c.Account.ID()}
			if c.Contact != nil && a["contact"] == nil {
				vals["contact"] = c.Contact.ID()
			}
			if c.Opportunity != nil && a["opportunity"] == nil {
				vals["opportunity"] = c.Opportunity.ID()
			}
			if _, err := m.update(ctx, system(), Activities, a.ID(), vals); err != nil {
				return err
			}
		}
		if len(res.Items) < records.MaxPerPage {
			return nil
		}
	}
}

// findAccount returns the oldest account p may read whose normalised name
// is norm, or nil.
func (m *Module) findAccount(ctx context.Context, p *access.Principal, norm string) (records.Record, error) {
	if norm == "" || !p.RightsOn(Accounts).Can(access.Read) || p.RightsOn(Accounts).Hidden("name") {
		return nil, nil
	}
	res, err := m.recs.List(ctx, p, Accounts, records.ListOptions{Filter: "name_norm == " + strconv.Quote(norm), Sort: "created_at",
		PerPage: 1, Count: "none"})
	if err != nil || len(res.Items) == 0 {
		return nil, err
	}
	return m.recs.Get(ctx, p, Accounts, res.Items[0].ID(), records.GetOptions{})
}

// createOpportunity creates the opportunity of a conversion, filling the
// fields the sales module defines from the lead and the caller's values.
func (m *Module) createOpportunity(ctx context.Context, p *access.Principal, lead records.Record, c *Converted, given map[string]any) (records.Record, error) {
	if !m.hasEntity(Opportunities) {
		return nil, apperr.Invalid("crm_no_opportunities")
	}
	vals := map[string]any{"name": lead["company"], "account": c.Account.ID(), "lead": lead.ID(), "amount": lead["expected_amount"]}
	if c.Contact != nil {
		vals["contact"] = c.Contact.ID()
	}
	for _, f := range []string{"campaign", "region", "product_line", "industry"} {
		vals[f] = lead[f]
	}
	e, _ := m.recs.Registry().Get(Opportunities)
	in := m.input(Opportunities, vals)
	for k, x := range given {
		if x != nil && x != "" {
			in[k] = x
		}
	}
	for k, x := range in {
		if e.Field(k) == nil || x == nil {
			delete(in, k)
		}
	}
	return m.recs.Create(ctx, p, Opportunities, in)
}
