package grading

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/expr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Order is one purchase of an account: what the metrics are made of.
type Order struct {
	Amount decimal.Decimal
	On     time.Time
}

// Source supplies the orders and payments behind the metrics. The default
// reads won opportunities; the orders module will supply sales orders and
// payments.
type Source interface {
	// Orders returns every order of each of the accounts, by account.
	Orders(ctx context.Context, accounts []int64) (map[int64][]Order, error)
	// OnTimePaymentRates returns the share (0–1) of payments made on time
	// for the accounts that have any payments; an account left out has no
	// payment history (its rate counts as 1).
	OnTimePaymentRates(ctx context.Context, accounts []int64) (map[int64]decimal.Decimal, error)
}

// WonOpportunities is the default Source: an account's orders are its won
// opportunities (amount on closed_at, else on the last update); it knows
// no payments.
type WonOpportunities struct{ Records *records.Service }

// Orders reads the won opportunities of the accounts.
func (w WonOpportunities) Orders(ctx context.Context, accounts []int64) (map[int64][]Order, error) {
	out := map[int64][]Order{}
	if len(accounts) == 0 {
		return out, nil
	}
	if _, ok := w.Records.Registry().Get(Opportunities); !ok {
		return out, nil
	}
	filter := `status == "won" && account in [` + idList(accounts) + `]`
	err := w.Records.Each(ctx, access.System(), Opportunities, records.EachOptions{ListOptions: records.ListOptions{Filter: filter, Sort: "id"}},
		func(batch []records.Record) error {
			for _, o := range batch {
				acc, _ := o["account"].(int64)
				amount, _ := o["amount"].(decimal.Decimal)
				on, ok := o["closed_at"].(time.Time)
				if !ok {
					on, _ = o["updated_at"].(time.Time)
				}
				out[acc] = append(out[acc], Order{Amount: amount, On: on})
			}
			return nil
		})
	return out, err
}

// OnTimePaymentRates knows no payments.
func (WonOpportunities) OnTimePaymentRates(context.Context, []int64) (map[int64]decimal.Decimal, error) {
	return map[int64]decimal.Decimal{}, nil
}

func idList(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = `"` + strconv.FormatInt(id, 10) + `"`
	}
	return strings.Join(parts, ",")
}

// Metrics are an account's figures; Vars gives them to rule conditions.
type Metrics struct {
	AnnualPurchases      decimal.Decimal
	MaxOrder             decimal.Decimal
	CooperationYears     int64
	YearlyGrowth         *decimal.Decimal
	OnTimePaymentRate    decimal.Decimal
	DaysSinceInteraction *int64
	HasOrders            bool
	OrderCount           int64 // every order of the account (repurchase: two or more)
}

// MetricNames are the variables a rule condition may use.
var MetricNames = []string{"annual_purchases", "max_order", "cooperation_years", "yearly_growth", "on_time_payment_rate", "days_since_interaction"}

// Vars are the metrics as expression variables (nil for an undefined one).
func (m Metrics) Vars() map[string]any {
	v := map[string]any{"annual_purchases": m.AnnualPurchases, "max_order": m.MaxOrder, "cooperation_years": m.CooperationYears,
		"on_time_payment_rate": m.OnTimePaymentRate, "yearly_growth": nil, "days_since_interaction": nil}
	if m.YearlyGrowth != nil {
		v["yearly_growth"] = *m.YearlyGrowth
	}
	if m.DaysSinceInteraction != nil {
		v["days_since_interaction"] = *m.DaysSinceInteraction
	}
	return v
}

// Thresholds of the value score and health.
var (
	scoreFullPurchases = decimal.NewFromInt(3_000_000) // annual purchases that earn the full amount share
	scoreFullYears     = int64(5)                      // years of cooperation that earn the full share
)

// HealthyWithinDays is how recent an interaction keeps an account healthy.
const HealthyWithinDays = 90

// Health values.
const (
	Healthy = "healthy"
	AtRisk  = "at_risk"
)

// ValueScore is the 0–100 value score of the metrics (see the package
// documentation).
func (m Metrics) ValueScore() int64 {
	amount := decimal.Min(decimal.NewFromInt(1), m.AnnualPurchases.Div(scoreFullPurchases)).Mul(decimal.NewFromInt(50))
	pay := decimal.Zero
	if m.HasOrders {
		pay = decimal.Min(decimal.NewFromInt(1), decimal.Max(decimal.Zero, m.OnTimePaymentRate)).Mul(decimal.NewFromInt(30))
	}
	years := decimal.NewFromInt(min(m.CooperationYears, scoreFullYears) * 20).Div(decimal.NewFromInt(scoreFullYears))
	return amount.Add(pay).Add(years).Round(0).IntPart()
}

// Health is healthy after an interaction within HealthyWithinDays days.
func (m Metrics) Health() string {
	if m.DaysSinceInteraction != nil && *m.DaysSinceInteraction <= HealthyWithinDays {
		return Healthy
	}
	return AtRisk
}

// compute derives an account's metrics at now from its orders, payment
// rate (nil: no payments) and record (first_deal_on, last_activity_at).
func compute(now time.Time, acc records.Record, orders []Order, rate *decimal.Decimal) Metrics {
	loc := expr.DefaultLocation()
	now = now.In(loc)
	yearAgo, twoYearsAgo := now.AddDate(-1, 0, 0), now.AddDate(-2, 0, 0)
	m := Metrics{OnTimePaymentRate: decimal.NewFromInt(1), HasOrders: len(orders) > 0, OrderCount: int64(len(orders))}
	if rate != nil {
		m.OnTimePaymentRate = *rate
	}
	prev := decimal.Zero
	var first time.Time
	for _, o := range orders {
		if first.IsZero() || o.On.Before(first) {
			first = o.On
		}
		switch {
		case o.On.After(now):
		case o.On.After(yearAgo):
			m.AnnualPurchases = m.AnnualPurchases.Add(o.Amount)
			m.MaxOrder = decimal.Max(m.MaxOrder, o.Amount)
		case o.On.After(twoYearsAgo):
			prev = prev.Add(o.Amount)
		}
	}
	if prev.IsPositive() {
		g := m.AnnualPurchases.Sub(prev).DivRound(prev, 4)
		m.YearlyGrowth = &g
	}
	if d, ok := acc["first_deal_on"].(string); ok {
		if t, err := time.ParseInLocation(time.DateOnly, d, loc); err == nil {
			first = t
		}
	}
	if !first.IsZero() {
		m.CooperationYears = wholeYears(first.In(loc), now)
	}
	if t, ok := acc["last_activity_at"].(time.Time); ok {
		days := max(int64(now.Sub(t)/(24*time.Hour)), 0)
		m.DaysSinceInteraction = &days
	}
	return m
}

// wholeYears counts the anniversaries of from up to and including now.
func wholeYears(from, now time.Time) int64 {
	if !now.After(from) {
		return 0
	}
	y := int64(now.Year() - from.Year())
	if now.Month() < from.Month() || now.Month() == from.Month() && now.Day() < from.Day() {
		y--
	}
	return max(y, 0)
}
