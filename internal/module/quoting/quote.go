package quoting

import (
	"context"
	"net/mail"
	"strconv"
	"time"

	"github.com/tenon-crm/tenon/internal/engine/flow"
	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// beforeQuote fills a new quote from its opportunity, holds statuses to
// the actions, and settles a draft's prices and totals.
func (m *Module) beforeQuote(ctx context.Context, c *records.Change) error {
	if c.New == nil {
		if str(c.Old["status"]) == QuoteAccepted && !inTransition(ctx) {
			return apperr.Conflict("quoting_document_locked", "status", QuoteAccepted)
		}
		return nil
	}
	if c.Op == records.OpRestore {
		return nil
	}
	if c.Old != nil && c.Old["superseded_by"] != nil && !inTransition(ctx) {
		return apperr.Conflict("quoting_quote_superseded")
	}
	if err := guard(ctx, c, QuoteDraft); err != nil {
		return err
	}
	rec := c.New
	if c.Op == records.OpCreate {
		if err := m.newQuote(ctx, rec); err != nil {
			return err
		}
	}
	if str(rec["status"]) != QuoteDraft {
		return nil
	}
	if err := m.settle(ctx, rec, true); err != nil {
		return err
	}
	m.requestReviews(ctx, c)
	return nil
}

// newQuote sets a new quote's defaults: draft, first revision, the
// opportunity's account, contact and name, the settings' VAT and validity.
func (m *Module) newQuote(ctx context.Context, rec records.Record) error {
	if !inTransition(ctx) {
		rec["status"] = QuoteDraft
		delete(rec, "previous_quote")
		delete(rec, "superseded_by")
		rec["revision"] = int64(1)
	}
	if oid := id(rec["opportunity"]); oid != 0 {
		opp, err := m.recs.Get(ctx, access.System(), Opportunities, oid, records.GetOptions{Fields: []string{"name", "account", "contact"}})
		if err != nil {
			return apperr.Fields(apperr.Field("opportunity", "invalid_link"))
		}
		if rec["account"] == nil {
			rec["account"] = opp["account"]
		}
		if rec["contact"] == nil && opp["contact"] != nil {
			rec["contact"] = opp["contact"]
		}
		if str(rec["title"]) == "" {
			rec["title"] = opp["name"]
		}
	}
	st, err := m.settings(ctx)
	if err != nil {
		return err
	}
	if rec["tax_rate"] == nil {
		rec["tax_rate"] = st.taxRate
	}
	if _, set := rec["tax_included"]; !set {
		rec["tax_included"] = st.taxIncluded
	}
	if rec["valid_until"] == nil {
		rec["valid_until"] = m.now().In(meta.Shanghai).AddDate(0, 0, int(st.validDays)).Format(time.DateOnly)
	}
	if rec["requested_at"] == nil {
		rec["requested_at"] = m.stamp()
	}
	return nil
}

// reviewKey keeps, for the after hook, the non-standard lines a write asked
// to review.
type reviewKey struct{ c *records.Change }

// requestReviews marks the non-standard lines not yet reviewed; the after
// hook opens an engineering review task for each.
func (m *Module) requestReviews(ctx context.Context, c *records.Change) {
	lines, _ := c.New["lines"].([]records.Record)
	var ask []string
	for _, l := range lines {
		if l["non_standard"] == true && l["review_requested"] != true {
			l["review_requested"] = true
			ask = append(ask, str(l["description"]))
		}
	}
	if len(ask) > 0 {
		db.SetTxValue(ctx, reviewKey{c}, ask)
	}
}

// afterQuote opens the review tasks requestReviews asked for: assigned to
// the settings' engineering reviewer, or the quote's owner.
func (m *Module) afterQuote(ctx context.Context, c *records.Change) error {
	ask, _ := db.TxValue(ctx, reviewKey{c}).([]string)
	if len(ask) == 0 {
		return nil
	}
	st, err := m.settings(ctx)
	if err != nil {
		return err
	}
	owner := st.reviewer
	if owner == 0 {
		owner = id(c.New["owner"])
	}
	for _, d := range ask {
		in := map[string]any{"title": "非标评审 / Engineering review: " + d, "description": str(c.New["title"]),
			"related_entity": Quotes, "related_id": strconv.FormatInt(c.New.ID(), 10), "priority": "high", "status": "open"}
		if owner != 0 {
			in["owner"] = owner
		}
		if _, err := m.recs.Create(ctx, asSystem(c.P), Tasks, in); err != nil {
			return err
		}
	}
	return nil
}

// openReviews counts a quote's open engineering review tasks.
func (m *Module) openReviews(ctx context.Context, quote int64) (int64, error) {
	return m.recs.Count(ctx, access.System(), Tasks, `related_entity == "quotes" && related_id == "`+strconv.FormatInt(quote, 10)+`" && status == "open"`)
}

// setStatus writes a document's status (and more) as a transition of the
// module, by the caller.
func (m *Module) setStatus(ctx context.Context, p *access.Principal, entity string, rec records.Record, in map[string]any) (records.Record, error) {
	return m.recs.Update(transition(ctx), p, entity, rec.ID(), in, 0)
}

// needStatus refuses an action outside the statuses it works in.
func needStatus(rec records.Record, action string, ok ...string) error {
	if rec["superseded_by"] != nil { // only quotes have it
		return apperr.Conflict("quoting_quote_superseded")
	}
	s := str(rec["status"])
	for _, x := range ok {
		if s == x {
			return nil
		}
	}
	return apperr.Conflict("quoting_wrong_status", "action", action, "status", s)
}

// submitQuote is the action submit: the shipped approval flow (or the
// flow an administrator made) starts when its condition holds; otherwise
// the quote is approved at once.
func (m *Module) submitQuote(ctx context.Context, p *access.Principal, rec records.Record, _ map[string]any) (records.Record, error) {
	if err := needStatus(rec, "submit", QuoteDraft); err != nil {
		return nil, err
	}
	n, err := m.openReviews(ctx, rec.ID())
	if err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, apperr.Conflict("quoting_review_open", "count", n)
	}
	now := m.stamp()
	return m.submit(ctx, p, Quotes, rec, map[string]any{"status": QuoteApproved, "submitted_at": now, "approved_at": now})
}

// submit starts an entity's submit flow for the record, or applies
// whenNone when no flow applies.
func (m *Module) submit(ctx context.Context, p *access.Principal, entity string, rec records.Record, whenNone map[string]any) (records.Record, error) {
	if err := m.recs.Check(ctx, p, entity, rec.ID(), access.Update); err != nil {
		return nil, err
	}
	if m.flows != nil {
		_, err := m.flows.Start(ctx, p, entity, rec.ID(), 0)
		if err == nil {
			return m.recs.Get(ctx, p, entity, rec.ID(), records.GetOptions{})
		}
		if ae, ok := apperr.As(err); !ok || ae.Code != "flow_none_applies" {
			return nil, err
		}
	}
	return m.setStatus(ctx, p, entity, rec, whenNone)
}

// quoteFlow keeps a quote's status in step with its approval.
func (m *Module) quoteFlow(ctx context.Context, o flow.Outcome) error {
	in := map[string]any{}
	switch o.Status {
	case flow.StatusRunning:
		in["status"], in["submitted_at"] = QuotePending, m.stamp()
	case flow.StatusApproved:
		in["status"], in["approved_at"] = QuoteApproved, m.stamp()
	default: // rejected, returned, withdrawn: back to the rep
		in["status"] = QuoteDraft
	}
	_, err := m.flows.Write(transition(ctx), o.Actor, o.Entity, o.RecordID, in)
	return err
}

// sendQuote is the action send {"to", "subject", "message", "channel"}:
// an approved quote is e-mailed to the customer with its PDF attached
// (channel "email", the default), or recorded as sent another way
// (channel "manual": handed over, WeChat). Sending again is allowed.
func (m *Module) sendQuote(ctx context.Context, p *access.Principal, rec records.Record, input map[string]any) (records.Record, error) {
	if err := needStatus(rec, "send", QuoteApproved, QuoteSent); err != nil {
		return nil, err
	}
	if err := m.recs.Check(ctx, p, Quotes, rec.ID(), access.Update); err != nil {
		return nil, err
	}
	upd := map[string]any{"status": QuoteSent, "sent_at": m.stamp()}
	if str(input["channel"]) != "manual" {
		to := str(input["to"])
		if to == "" {
			to = m.contactEmail(ctx, p, rec)
		}
		if to == "" {
			return nil, apperr.Fields(apperr.Field("to", "required"))
		}
		addr, err := mail.ParseAddress(to)
		if err != nil {
			return nil, apperr.Fields(apperr.Field("to", "invalid_email"))
		}
		if err := m.mail(ctx, p, rec, addr.String(), str(input["subject"]), str(input["message"])); err != nil {
			return nil, err
		}
		upd["sent_to"] = addr.Address
	}
	return m.setStatus(ctx, p, Quotes, rec, upd)
}

// contactEmail is the e-mail of the quote's contact, as p may see it.
func (m *Module) contactEmail(ctx context.Context, p *access.Principal, rec records.Record) string {
	cid := id(rec["contact"])
	if cid == 0 {
		return ""
	}
	c, err := m.recs.Get(ctx, p, "contacts", cid, records.GetOptions{Fields: []string{"email"}})
	if err != nil {
		return ""
	}
	return str(c["email"])
}

// mail e-mails the quote's PDF (printed as p sees it, with the default
// template).
func (m *Module) mail(ctx context.Context, p *access.Principal, rec records.Record, to, subject, message string) error {
	if m.mailer == nil {
		return apperr.Conflict("quoting_mail_unavailable")
	}
	number := str(rec["number"])
	if subject == "" {
		subject = "报价单 " + number + " " + str(rec["title"])
	}
	if message == "" {
		message = "您好，附件是报价单 " + number + "，请查收。"
	}
	mail := ExternalMail{To: to, Subject: subject, Text: message, Entity: Quotes, RecordID: rec.ID()}
	if m.printer != nil {
		pdf, name, err := m.printer.Render(ctx, p, Quotes, rec.ID(), 0)
		if err != nil {
			return err
		}
		mail.Attachments = append(mail.Attachments, Attachment{Name: name, ContentType: "application/pdf", Data: pdf})
	}
	return m.mailer.SendExternal(ctx, p, mail)
}

// acceptQuote is the action accept: the customer accepted an approved or
// sent quote. Where the settings say orders come from quotes, the sales
// order is created now and the opportunity is won.
func (m *Module) acceptQuote(ctx context.Context, p *access.Principal, rec records.Record, _ map[string]any) (records.Record, error) {
	if err := needStatus(rec, "accept", QuoteApproved, QuoteSent); err != nil {
		return nil, err
	}
	if m.expired(rec) {
		return nil, apperr.Conflict("quoting_quote_expired", "date", str(rec["valid_until"]))
	}
	out, err := m.setStatus(ctx, p, Quotes, rec, map[string]any{"status": QuoteAccepted, "accepted_at": m.stamp()})
	if err != nil {
		return nil, err
	}
	st, err := m.settings(ctx)
	if err != nil {
		return nil, err
	}
	if st.orderFrom != "quote" {
		return out, nil
	}
	full, err := m.recs.Get(ctx, access.System(), Quotes, rec.ID(), records.GetOptions{})
	if err != nil {
		return nil, err
	}
	so, err := m.createOrder(ctx, p, full, nil)
	if err != nil {
		return nil, err
	}
	if _, err := m.recs.Update(transition(ctx), asSystem(p), Quotes, rec.ID(), map[string]any{"sales_order": so.ID()}, 0); err != nil {
		return nil, err
	}
	if err := m.winOpportunity(ctx, p, id(rec["opportunity"])); err != nil {
		return nil, err
	}
	return m.recs.Get(ctx, p, Quotes, rec.ID(), records.GetOptions{})
}

// expired reports whether a quote's validity has passed.
func (m *Module) expired(rec records.Record) bool {
	v := str(rec["valid_until"])
	return v != "" && v < m.today()
}

// rejectQuote is the action reject {"reason"}: the customer declined.
func (m *Module) rejectQuote(ctx context.Context, p *access.Principal, rec records.Record, input map[string]any) (records.Record, error) {
	if err := needStatus(rec, "reject", QuoteApproved, QuoteSent); err != nil {
		return nil, err
	}
	if str(input["reason"]) == "" {
		return nil, apperr.Fields(apperr.Field("reason", "required"))
	}
	return m.setStatus(ctx, p, Quotes, rec, map[string]any{"status": QuoteRejected, "rejected_reason": input["reason"]})
}

// reviseQuote is the action revise: a new draft revision copied from the
// quote, which becomes read only for good (superseded_by). It returns the
// new quote.
func (m *Module) reviseQuote(ctx context.Context, p *access.Principal, rec records.Record, _ map[string]any) (records.Record, error) {
	if err := needStatus(rec, "revise", QuoteApproved, QuoteSent, QuoteRejected, QuoteExpired); err != nil {
		return nil, err
	}
	if !p.RightsOn(Quotes).Can(access.Create) {
		return nil, apperr.Forbidden("forbidden")
	}
	full, err := m.recs.Get(ctx, access.System(), Quotes, rec.ID(), records.GetOptions{})
	if err != nil {
		return nil, err
	}
	in := map[string]any{"status": QuoteDraft, "revision": num(full["revision"]) + 1, "previous_quote": full.ID(),
		"opportunity": full["opportunity"], "title": full["title"], "owner": full["owner"], "requested_at": full["requested_at"],
		"notes": full["notes"], "lines": copyLines(full["lines"], append(lineFields, "non_standard", "review_requested")...)}
	carry(full, in, headerFields...)
	nq, err := m.recs.Create(transition(ctx), asSystem(p), Quotes, in)
	if err != nil {
		return nil, err
	}
	if _, err := m.recs.Update(transition(ctx), asSystem(p), Quotes, full.ID(), map[string]any{"superseded_by": nq.ID()}, 0); err != nil {
		return nil, err
	}
	return m.recs.Get(ctx, p, Quotes, nq.ID(), records.GetOptions{})
}

// winOpportunity marks the opportunity won (by the system for the user)
// unless it is already closed.
func (m *Module) winOpportunity(ctx context.Context, p *access.Principal, opp int64) error {
	if opp == 0 {
		return nil
	}
	o, err := m.recs.Get(ctx, access.System(), Opportunities, opp, records.GetOptions{Fields: []string{"status"}})
	if err != nil || str(o["status"]) != "open" {
		return nil
	}
	_, err = m.recs.RunAction(ctx, asSystem(p), Opportunities, opp, "win", map[string]any{})
	return err
}

// ExpireQuotes marks approved and sent quotes past their validity expired
// (a daily job).
func (m *Module) ExpireQuotes(ctx context.Context) (int, error) {
	sys := access.System()
	n := 0
	for {
		res, err := m.recs.List(ctx, sys, Quotes, records.ListOptions{Filter: `status in ["approved", "sent"] && valid_until < "` + m.today() + `"`,
			PerPage: 200, Count: records.CountNone, Fields: []string{"status"}})
		if err != nil {
			return n, err
		}
		for _, q := range res.Items {
			if _, err := m.recs.Update(transition(ctx), sys, Quotes, q.ID(), map[string]any{"status": QuoteExpired}, 0); err != nil {
				return n, err
			}
			n++
		}
		if len(res.Items) < 200 {
			return n, nil
		}
	}
}
