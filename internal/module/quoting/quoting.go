// Package quoting is the quote-to-order module (REQUIREMENTS S6–S8, P13):
// the catalog (products, currencies, price books), quotes with versions and
// approval, contracts with payment milestones, and sales orders with the
// order review and the credit check.
//
// # Prices (price.go)
//
// A catalog line's list price is resolved when a draft is saved, from the
// active price books in the document's currency that are valid on the day
// and apply to its account, in this order of precedence:
//
//  1. customer books (kind customer) naming the account;
//  2. dealer books (kind dealer) naming the account;
//  3. regional books (kind regional) for the account's region;
//  4. list books (kind list);
//  5. the product's own list price (CNY, before VAT), converted at the
//     document's exchange rate.
//
// Within one kind the book with the higher priority wins, then the one
// valid from the later date, then the newer book. Within a book the item of
// the product with the largest "from quantity" not above the line's
// quantity applies (volume breaks). A book's prices are before or after
// VAT as the book says; they are converted to the document's mode at its
// VAT rate and rounded to the cent. The line keeps where its price came
// from (price_source). An empty unit price takes the list price.
//
// # Totals (totals.go)
//
// Computed in decimal by the before hook on every write, rounded half up
// to the cent at each of these steps, so SQLite, PostgreSQL and the PDF
// show the same figures:
//
//	amount   = round(quantity × unit_price × (1 − discount_pct/100))   per line
//	subtotal = Σ amount
//	discount_amount = round(subtotal × header discount_pct/100)
//	goods    = subtotal − discount_amount
//	charges  = freight + installation + training
//	prices without VAT: net = goods + charges; tax = round(net × rate/100); total = net + tax
//	prices with VAT:    total = goods + charges; net = round(total / (1 + rate/100)); tax = total − net
//	cost     = round(quantity × unit_cost) per line; cost_total = Σ cost
//	margin   = goods without VAT − cost_total; margin_pct = round(margin / goods without VAT × 100)
//
// A line's unit cost is the product's standard cost converted to the
// document's currency. max_discount, which approval routes by, is the
// largest of the header discount and every catalog line's discount from
// its list price (a unit price typed below the list price counts as a
// discount), so a lower price cannot slip past the approval.
//
// # Lifecycle
//
// Quotes: draft → (submit) pending approval → approved → (send) sent →
// accepted or rejected; approved and sent quotes expire after valid_until.
// A quote that needs no approval (the shipped flow's condition does not
// hold) is approved by submit at once. Only drafts can be edited; revise
// copies a quote into a new draft revision and the old one becomes read
// only for good. Statuses change only through the actions and the
// approval flow. Contracts: draft → pending approval → approved → signed
// (or cancelled); signing needs the signed scan and marks the opportunity
// won. Sales orders are created by the system when a contract is signed,
// or when a quote is accepted where the settings say no contract is used;
// the credit check puts an order whose exposure passes the account's
// credit limit on credit hold, and the order review flow confirms it.
package quoting

import (
	"context"
	"embed"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/tenon-crm/tenon/internal/engine/flow"
	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Entities holds the module's entity definitions.
//
//go:embed entities/*.json
var Entities embed.FS

// The entities the module owns or reads.
const (
	Products      = "products"
	Currencies    = "currencies"
	PriceBooks    = "price_books"
	Quotes        = "quotes"
	Contracts     = "contracts"
	SalesOrders   = "sales_orders"
	Settings      = "quoting_settings"
	Accounts      = "accounts"
	Opportunities = "opportunities"
	Tasks         = "tasks"
)

// Quote statuses.
const (
	QuoteDraft    = "draft"
	QuotePending  = "pending_approval"
	QuoteApproved = "approved"
	QuoteSent     = "sent"
	QuoteAccepted = "accepted"
	QuoteRejected = "rejected"
	QuoteExpired  = "expired"
)

// Contract statuses.
const (
	ContractDraft     = "draft"
	ContractPending   = "pending_approval"
	ContractApproved  = "approved"
	ContractSigned    = "signed"
	ContractCancelled = "cancelled"
)

// Sales order statuses.
const (
	OrderReview     = "pending_review"
	OrderCreditHold = "credit_hold"
	OrderConfirmed  = "confirmed"
	OrderProduction = "in_production"
	OrderShipped    = "shipped"
	OrderCompleted  = "completed"
	OrderCancelled  = "cancelled"
)

// Printer renders a record with a print template as the principal may see
// it (the printing engine).
type Printer interface {
	Render(ctx context.Context, p *access.Principal, entity string, id int64, templateID int64) ([]byte, string, error)
}

// Mailer sends an e-mail with attachments to an outside address (the
// notification service's outbound mail).
type Mailer interface {
	SendExternal(ctx context.Context, p *access.Principal, m ExternalMail) error
}

// ExternalMail is a message to a customer.
type ExternalMail struct {
	To, Subject, Text string
	Entity            string
	RecordID          int64
	Attachments       []Attachment
}

// Attachment is a file attached to an e-mail.
type Attachment struct {
	Name, ContentType string
	Data              []byte
}

// Config carries the module's collaborators.
type Config struct {
	DB      *db.DB
	Records *records.Service
	Flows   *flow.Engine
	Printer Printer // nil: quotes are sent without a PDF
	Mailer  Mailer  // nil: send records the sending only
	Now     func() time.Time
	Log     *slog.Logger
}

// Module is the quoting module.
type Module struct {
	db      *db.DB
	recs    *records.Service
	flows   *flow.Engine
	printer Printer
	mailer  Mailer
	now     func() time.Time
	log     *slog.Logger
	books   *records.Derived[*bookIndex]
	// installed is set once Install has succeeded in this process.
	installed atomic.Bool
}

// New builds the module and registers its hooks, actions and flow
// observers.
func New(c Config) *Module {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	m := &Module{db: c.DB, recs: c.Records, flows: c.Flows, printer: c.Printer, mailer: c.Mailer, now: c.Now, log: c.Log}
	m.books = records.NewDerived(m.recs, PriceBooks, m.loadBooks)
	m.recs.Use(Quotes, records.Hook{Priority: 10, Before: m.beforeQuote, After: m.afterQuote})
	m.recs.Use(Contracts, records.Hook{Priority: 10, Before: m.beforeContract})
	m.recs.Use(SalesOrders, records.Hook{Priority: 10, Before: m.beforeOrder})
	m.recs.Use(Settings, records.Hook{Before: m.beforeSettings})
	m.recs.Use(PriceBooks, records.Hook{Before: beforeBook})
	m.recs.Action(Quotes, "submit", m.submitQuote)
	m.recs.Action(Quotes, "send", m.sendQuote)
	m.recs.Action(Quotes, "accept", m.acceptQuote)
	m.recs.Action(Quotes, "reject", m.rejectQuote)
	m.recs.Action(Quotes, "revise", m.reviseQuote)
	m.recs.Action(Quotes, "create_contract", m.createContractAction)
	m.recs.Action(Contracts, "submit", m.submitContract)
	m.recs.Action(Contracts, "sign", m.signContract)
	m.recs.Action(Contracts, "cancel", m.cancelContract)
	m.recs.Action(SalesOrders, "submit", m.submitOrder)
	m.recs.Action(SalesOrders, "cancel", m.cancelOrder)
	if m.flows != nil {
		m.flows.Observe(Quotes, m.quoteFlow)
		m.flows.Observe(Contracts, m.contractFlow)
		m.flows.Observe(SalesOrders, m.orderFlow)
	}
	return m
}

// Grants are what every signed-in user holds: reading the currencies and
// the quoting settings (forms need them).
func Grants() []access.Grant {
	return []access.Grant{
		{Entity: Currencies, Actions: []string{access.Read}, Scope: access.ScopeAll},
		{Entity: Settings, Actions: []string{access.Read}, Scope: access.ScopeAll},
	}
}

// Install creates what the module ships when it is absent: the settings
// record and the approval flows (quote discount and amount, contract
// review, order review with the credit check). It is idempotent and runs
// after migrations, after the demo organisation is loaded, and on the
// first use of the module's routes.
func (m *Module) Install(ctx context.Context) error {
	return m.db.WithTx(ctx, func(ctx context.Context) error {
		if err := m.ensureSettings(ctx); err != nil {
			return err
		}
		return m.installFlows(ctx)
	})
}

// ensureInstalled runs Install once per process.
func (m *Module) ensureInstalled(ctx context.Context) error {
	if m.installed.Load() {
		return nil
	}
	if err := m.Install(ctx); err != nil {
		return err
	}
	m.installed.Store(true)
	return nil
}

// transitionKey marks writes of the module's own actions and observers:
// only they change a document's status.
type transitionKey struct{}

func transition(ctx context.Context) context.Context {
	return context.WithValue(ctx, transitionKey{}, true)
}

func inTransition(ctx context.Context) bool { b, _ := ctx.Value(transitionKey{}).(bool); return b }
