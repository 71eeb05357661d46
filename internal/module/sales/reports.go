package sales

import (
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

var hundred = decimal.NewFromInt(100)

// ForecastOptions select a forecast.
type ForecastOptions struct {
	Period     string // month (default) or quarter
	From, To   string // dates, To exclusive; default: this period and the next 11 months (3 quarters)
	User       int64
	Department int64
}

// ForecastRow is one period: the open opportunities expected to close in
// it (count, amount, weighted = Σ amount × probability / 100) and those
// won in it (by closed_at).
type ForecastRow struct {
	Period    string `json:"period"`
	From      string `json:"from"`
	Open      int64  `json:"open"`
	Amount    *Fixed `json:"amount"`
	Weighted  *Fixed `json:"weighted"`
	Won       int64  `json:"won"`
	WonAmount *Fixed `json:"won_amount"`
}

// Forecast is the weighted forecast by period.
type Forecast struct {
	Period string        `json:"period"`
	From   string        `json:"from"`
	To     string        `json:"to"`
	Rows   []ForecastRow `json:"rows"`
	Total  ForecastRow   `json:"total"`
}

// visibility reports which money figures the caller may see.
func visibility(p *access.Principal) (amount, weighted bool) {
	r := p.RightsOn(Opportunities)
	return !r.Hidden("amount"), !r.Hidden("amount") && !r.Hidden("probability")
}

func decPtr(d decimal.Decimal, on bool) *Fixed {
	if !on {
		return nil
	}
	return money(d)
}

// Forecast computes the weighted forecast as p sees it.
func (m *Module) Forecast(ctx context.Context, p *access.Principal, o ForecastOptions) (*Forecast, error) {
	if o.Period == "" {
		o.Period = PeriodMonth
	}
	if o.Period != PeriodMonth && o.Period != PeriodQuarter {
		return nil, apperr.Invalid("sales_period_invalid")
	}
	n := 12
	if o.Period == PeriodQuarter {
		n = 4
	}
	sp, err := rangeOf(o.From, o.To, periodStart(o.Period, m.now()), o.Period, n)
	if err != nil {
		return nil, err
	}
	owner, err := m.ownerFilter(ctx, o.User, o.Department)
	if err != nil {
		return nil, err
	}
	withAmount, withWeighted := visibility(p)
	// Periods in order, months mapped to them.
	fc := &Forecast{Period: o.Period, From: sp.fromDate(), To: sp.toDate()}
	index := map[string]int{}
	for t := periodStart(o.Period, sp.From); t.Before(sp.To); t = step(o.Period, t) {
		index[periodLabel(o.Period, t)] = len(fc.Rows)
		fc.Rows = append(fc.Rows, ForecastRow{Period: periodLabel(o.Period, t), From: t.Format(time.DateOnly)})
	}
	sums := make([]struct{ amount, weighted, won decimal.Decimal }, len(fc.Rows))
	rowOf := func(month string) int {
		t, err := time.ParseInLocation("2006-01", month, shanghai)
		if err != nil {
			return -1
		}
		if i, ok := index[periodLabel(o.Period, t)]; ok {
			return i
		}
		return -1
	}
	measures := []records.Measure{{Op: records.AggCount}}
	if withAmount {
		measures = append(measures, records.Measure{Op: records.AggSum, Field: "amount"})
	}
	if withWeighted {
		measures = append(measures, records.Measure{Op: records.AggSumProduct, Field: "amount", Times: "probability"})
	}
	open, err := m.recs.Aggregate(ctx, p, Opportunities, records.AggregateOptions{
		Filter:  and(`status == "open"`, sp.dateFilter("expected_close"), owner),
		GroupBy: []records.GroupBy{{Field: "expected_close", Bucket: records.BucketMonth}}, Measures: measures})
	if err != nil {
		return nil, err
	}
	for _, r := range open {
		i := rowOf(str(r.Keys[0]))
		if i < 0 {
			continue
		}
		fc.Rows[i].Open += r.Values[0].IntPart()
		if withAmount {
			sums[i].amount = sums[i].amount.Add(r.Values[1])
		}
		if withWeighted {
			sums[i].weighted = sums[i].weighted.Add(r.Values[2])
		}
	}
	won, err := m.recs.Aggregate(ctx, p, Opportunities, records.AggregateOptions{
		Filter:  and(`status == "won"`, sp.datetimeFilter("closed_at"), owner),
		GroupBy: []records.GroupBy{{Field: "closed_at", Bucket: records.BucketMonth}}, Measures: measures[:min(2, len(measures))]})
	if err != nil {
		return nil, err
	}
	for _, r := range won {
		i := rowOf(str(r.Keys[0]))
		if i < 0 {
			continue
		}
		fc.Rows[i].Won += r.Values[0].IntPart()
		if withAmount {
			sums[i].won = sums[i].won.Add(r.Values[1])
		}
	}
	var ta, tw, twon decimal.Decimal
	for i := range fc.Rows {
		w := sums[i].weighted.Div(hundred).Round(2)
		fc.Rows[i].Amount, fc.Rows[i].Weighted, fc.Rows[i].WonAmount = decPtr(sums[i].amount, withAmount), decPtr(w, withWeighted), decPtr(sums[i].won, withAmount)
		fc.Total.Open += fc.Rows[i].Open
		fc.Total.Won += fc.Rows[i].Won
		ta, tw, twon = ta.Add(sums[i].amount), tw.Add(w), twon.Add(sums[i].won)
	}
	fc.Total.Period, fc.Total.From = "total", fc.From
	fc.Total.Amount, fc.Total.Weighted, fc.Total.WonAmount = decPtr(ta, withAmount), decPtr(tw, withWeighted), decPtr(twon, withAmount)
	return fc, nil
}

func str(x any) string { s, _ := x.(string); return s }

// FunnelStage is one step of the funnel.
type FunnelStage struct {
	Stage  string `json:"stage"`
	Name   string `json:"name"`
	NameEn string `json:"name_en,omitempty"`
	Count  int64  `json:"count"`
}

// Funnel is lead to win for the opportunities (and leads) created in a
// range. An opportunity has reached a stage when the furthest stage it
// has been in (stage_reached: positions among the pipeline's open stages,
// won past all of them; lost stages do not count) is that stage or a
// later one — so a deal that skipped a stage has passed it, and a lost
// deal counts for the stages it reached before it was lost.
type Funnel struct {
	From          string        `json:"from"`
	To            string        `json:"to"`
	Pipeline      *Pipeline     `json:"pipeline"`
	Leads         *int64        `json:"leads"` // nil when the caller may not read leads
	Opportunities int64         `json:"opportunities"`
	Stages        []FunnelStage `json:"stages"`
	Won           int64         `json:"won"`
	Lost          int64         `json:"lost"`
}

// Funnel computes the funnel as p sees it.
func (m *Module) Funnel(ctx context.Context, p *access.Principal, pipeline, from, to string) (*Funnel, error) {
	pl, err := m.resolvePipeline(ctx, pipeline)
	if err != nil {
		return nil, err
	}
	sp, err := rangeOf(from, to, periodStart(PeriodYear, m.now()), PeriodYear, 1)
	if err != nil {
		return nil, err
	}
	f := &Funnel{From: sp.fromDate(), To: sp.toDate(), Pipeline: pl, Stages: []FunnelStage{}}
	if _, ok := m.recs.Registry().Get(Leads); ok && p.RightsOn(Leads).Can(access.Read) {
		n, err := m.recs.Count(ctx, p, Leads, sp.datetimeFilter("created_at"))
		if err != nil {
			return nil, err
		}
		f.Leads = &n
	}
	rows, err := m.recs.Aggregate(ctx, p, Opportunities, records.AggregateOptions{
		Filter:   and("pipeline == "+itoa(pl.ID), sp.datetimeFilter("created_at")),
		GroupBy:  []records.GroupBy{{Field: "stage_reached"}, {Field: "status"}},
		Measures: []records.Measure{{Op: records.AggCount}}})
	if err != nil {
		return nil, err
	}
	reached := map[int64]int64{}
	for _, r := range rows {
		n := r.Values[0].IntPart()
		f.Opportunities += n
		k, _ := r.Keys[0].(int64)
		reached[k] += n
		switch str(r.Keys[1]) {
		case StatusWon:
			f.Won += n
		case StatusLost:
			f.Lost += n
		}
	}
	for _, st := range pl.Stages {
		if st.Kind != StatusOpen {
			continue
		}
		var n int64
		for k, c := range reached {
			if k >= int64(st.Reach) {
				n += c
			}
		}
		f.Stages = append(f.Stages, FunnelStage{Stage: st.Code, Name: st.Name, NameEn: st.NameEn, Count: n})
	}
	return f, nil
}

// CycleRow is the sales cycle of one group.
type CycleRow struct {
	Key     string `json:"key"` // the product line or region ("" when not set)
	Won     int64  `json:"won"`
	AvgDays Fixed  `json:"avg_days"`
	Amount  *Fixed `json:"amount"`
}

// Cycle is the average number of days from creation to the win of the
// opportunities won in a range (by closed_at) whose cycle is known, by
// product line or region.
func (m *Module) Cycle(ctx context.Context, p *access.Principal, groupBy, from, to string) ([]CycleRow, error) {
	if groupBy == "" {
		groupBy = "product_line"
	}
	if groupBy != "product_line" && groupBy != "region" {
		return nil, apperr.Invalid("sales_group_by_invalid")
	}
	y, mo, d := m.now().In(shanghai).Date()
	today := time.Date(y, mo, d, 0, 0, 0, 0, shanghai)
	sp, err := rangeOf(from, to, today.AddDate(-1, 0, 1), PeriodYear, 1)
	if err != nil {
		return nil, err
	}
	withAmount, _ := visibility(p)
	measures := []records.Measure{{Op: records.AggCount}, {Op: records.AggSum, Field: "cycle_days"}}
	if withAmount {
		measures = append(measures, records.Measure{Op: records.AggSum, Field: "amount"})
	}
	rows, err := m.recs.Aggregate(ctx, p, Opportunities, records.AggregateOptions{
		// Deals recorded after they closed (imports of past deals) have no
		// known cycle and are left out.
		Filter: and(`status == "won" && cycle_days != nil`, sp.datetimeFilter("closed_at")), GroupBy: []records.GroupBy{{Field: groupBy}}, Measures: measures})
	if err != nil {
		return nil, err
	}
	out := []CycleRow{}
	for _, r := range rows {
		n := r.Values[0].IntPart()
		row := CycleRow{Key: str(r.Keys[0]), Won: n, AvgDays: Fixed{scale: 1}}
		if n > 0 {
			row.AvgDays.d = r.Values[1].Div(decimal.NewFromInt(n)).Round(1)
		}
		if withAmount {
			row.Amount = money(r.Values[2])
		}
		out = append(out, row)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// AttainmentRow is one target and what was won against it.
type AttainmentRow struct {
	Target      string  `json:"target"` // the sales_targets record
	Kind        string  `json:"kind"`   // user or department
	User        *string `json:"user"`
	Department  *string `json:"department"`
	Name        string  `json:"name"`
	ProductLine *string `json:"product_line"`
	Amount      Fixed   `json:"amount"`
	Won         *Fixed  `json:"won"`
	Attainment  *Fixed  `json:"attainment"` // won / amount, 4 decimals; nil when the target is 0 or amounts are hidden
}

// Attainment lists the targets of a period that p may read with the
// amount won against each (opportunities won in the period, by closed_at,
// that p may read; a person's are those they own, a team's those owned by
// the users of the department and its sub-departments; a target with a
// product line counts that line only). dept narrows the list to the
// targets of a team's departments and users.
func (m *Module) Attainment(ctx context.Context, p *access.Principal, period, start string, dept int64) ([]AttainmentRow, error) {
	if period == "" {
		period = PeriodMonth
	}
	if start == "" {
		start = periodStart(period, m.now()).Format(time.DateOnly)
	}
	sp, err := periodRange(period, start)
	if err != nil {
		return nil, err
	}
	filter := "period == " + strconv.Quote(period) + " && period_start == " + strconv.Quote(start)
	if dept > 0 {
		tree, err := m.deptTree(ctx, dept)
		if err != nil {
			return nil, err
		}
		users, err := m.usersIn(ctx, tree)
		if err != nil {
			return nil, err
		}
		f := "department in [" + joinIDs(tree) + "]"
		if len(users) > 0 {
			f += " || salesperson in [" + joinIDs(users) + "]"
		}
		filter = and(filter, f)
	}
	var targets []records.Record
	if err := m.recs.Each(ctx, p, Targets, records.EachOptions{ListOptions: records.ListOptions{Filter: filter, Sort: "id"}}, func(b []records.Record) error {
		targets = append(targets, b...)
		return nil
	}); err != nil {
		return nil, err
	}
	withAmount, _ := visibility(p)
	won := map[int64]map[string]decimal.Decimal{} // owner → product line → amount
	if withAmount && len(targets) > 0 {
		rows, err := m.recs.Aggregate(ctx, p, Opportunities, records.AggregateOptions{
			Filter:   and(`status == "won"`, sp.datetimeFilter("closed_at")),
			GroupBy:  []records.GroupBy{{Field: "owner"}, {Field: "product_line"}},
			Measures: []records.Measure{{Op: records.AggSum, Field: "amount"}}})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			o, _ := r.Keys[0].(int64)
			if won[o] == nil {
				won[o] = map[string]decimal.Decimal{}
			}
			won[o][str(r.Keys[1])] = r.Values[0]
		}
	}
	wonBy := func(users []int64, line string) decimal.Decimal {
		sum := decimal.Zero
		for _, u := range users {
			for l, a := range won[u] {
				if line == "" || l == line {
					sum = sum.Add(a)
				}
			}
		}
		return sum
	}
	var userIDs, deptIDs []int64
	for _, t := range targets {
		if u, ok := t["salesperson"].(int64); ok {
			userIDs = append(userIDs, u)
		}
		if d, ok := t["department"].(int64); ok {
			deptIDs = append(deptIDs, d)
		}
	}
	userNames, err := m.recs.Titles(ctx, access.System(), Users, userIDs)
	if err != nil {
		return nil, err
	}
	deptNames, err := m.recs.Titles(ctx, access.System(), Departments, deptIDs)
	if err != nil {
		return nil, err
	}
	out := []AttainmentRow{}
	for _, t := range targets {
		amount, _ := t["amount"].(decimal.Decimal)
		line := str(t["product_line"])
		row := AttainmentRow{Target: itoa(t.ID()), Amount: *money(amount)}
		if line != "" {
			row.ProductLine = &line
		}
		var users []int64
		if u, ok := t["salesperson"].(int64); ok {
			s := itoa(u)
			row.Kind, row.User, row.Name, users = "user", &s, userNames[u], []int64{u}
		} else if d, ok := t["department"].(int64); ok {
			s := itoa(d)
			row.Kind, row.Department, row.Name = "department", &s, deptNames[d]
			if users, err = m.teamUsers(ctx, d); err != nil {
				return nil, err
			}
		}
		if withAmount {
			w := wonBy(users, line)
			row.Won = money(w)
			if amount.IsPositive() {
				row.Attainment = &Fixed{w.Div(amount).Round(4), 4}
			}
		}
		out = append(out, row)
	}
	return out, nil
}
