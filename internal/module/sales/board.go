package sales

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Board defaults.
const (
	DefaultPerStage   = 20
	MaxPerStage       = 100
	DefaultClosedDays = 90 // won and lost columns show what closed in the last 90 days
)

// cardFields are the fields of a board card (those the caller may read).
var cardFields = []string{"name", "account", "contact", "stage", "status", "amount", "probability", "expected_close",
	"key_deal", "region", "product_line", "next_step", "last_activity_at", "stage_changed_at", "owner", "updated_at"}

// BoardOptions select a board.
type BoardOptions struct {
	Pipeline   string // id; the default pipeline when empty
	Filter     string // a list filter the caller adds
	PerStage   int
	ClosedDays int
}

// Column is one stage of the board: its totals over every opportunity the
// caller may read in it (won and lost stages: those closed in the last
// ClosedDays days), and its first page of cards. Amount and Weighted are
// nil when the caller may not read amounts (or probabilities).
type Column struct {
	Stage    Stage            `json:"stage"`
	Count    int64            `json:"count"`
	Amount   *Fixed           `json:"amount"`
	Weighted *Fixed           `json:"weighted"`
	Items    []records.Record `json:"items"`
	More     bool             `json:"more"`
}

// BoardResult is the whole board.
type BoardResult struct {
	Pipeline    *Pipeline `json:"pipeline"`
	Columns     []Column  `json:"columns"`
	ClosedSince string    `json:"closed_since"`
}

func (o *BoardOptions) normalize() error {
	if o.PerStage == 0 {
		o.PerStage = DefaultPerStage
	}
	if o.PerStage < 1 || o.PerStage > MaxPerStage {
		return apperr.Invalid("bad_paging", "max", MaxPerStage)
	}
	if o.ClosedDays == 0 {
		o.ClosedDays = DefaultClosedDays
	}
	if o.ClosedDays < 1 || o.ClosedDays > 3660 {
		return apperr.Invalid("sales_bad_range")
	}
	return nil
}

// closedSince is the start of the won and lost columns' window.
func (m *Module) closedSince(days int) time.Time {
	y, mo, d := m.now().In(shanghai).Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, shanghai).AddDate(0, 0, -days)
}

// stageFilter selects a column's opportunities.
func stageFilter(p *Pipeline, st *Stage, since time.Time) string {
	f := "pipeline == " + itoa(p.ID) + " && stage == " + strconv.Quote(st.Code)
	if st.Kind != StatusOpen {
		f += " && closed_at >= " + strconv.Quote(since.Format(time.RFC3339))
	}
	return f
}

// Board is the pipeline board as p sees it: one aggregate query for the
// open stages, one for the closed ones, and each column's first page read
// concurrently through the records service.
func (m *Module) Board(ctx context.Context, p *access.Principal, o BoardOptions) (*BoardResult, error) {
	if err := o.normalize(); err != nil {
		return nil, err
	}
	pl, err := m.resolvePipeline(ctx, o.Pipeline)
	if err != nil {
		return nil, err
	}
	if err := m.recs.CheckQuery(p, Opportunities, o.Filter, ""); err != nil {
		return nil, err
	}
	since := m.closedSince(o.ClosedDays)
	res := &BoardResult{Pipeline: pl, Columns: make([]Column, len(pl.Stages)), ClosedSince: since.Format(time.RFC3339)}
	totals, err := m.stageTotals(ctx, p, pl, o.Filter, since)
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(pl.Stages))
	for i := range pl.Stages {
		st := &pl.Stages[i]
		col := &res.Columns[i]
		col.Stage = *st
		if t, ok := totals[st.Code]; ok {
			col.Count, col.Amount, col.Weighted = t.Count, t.Amount, t.Weighted
		} else if t, ok := totals[""]; ok { // the zero figures of a column without records
			col.Amount, col.Weighted = t.Amount, t.Weighted
		}
		col.Items = []records.Record{}
		if col.Count == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			col.Items, col.More, errs[i] = m.cards(ctx, p, pl, st, o.Filter, since, 1, o.PerStage)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

// ColumnPage is a further page of one column.
func (m *Module) ColumnPage(ctx context.Context, p *access.Principal, o BoardOptions, stage string, page int) (*Column, error) {
	if err := o.normalize(); err != nil {
		return nil, err
	}
	if page < 1 || page > 10000 {
		return nil, apperr.Invalid("bad_paging")
	}
	pl, err := m.resolvePipeline(ctx, o.Pipeline)
	if err != nil {
		return nil, err
	}
	st, ok := pl.Stage(stage)
	if !ok {
		return nil, apperr.NotFound()
	}
	col := &Column{Stage: *st}
	col.Items, col.More, err = m.cards(ctx, p, pl, st, o.Filter, m.closedSince(o.ClosedDays), page, o.PerStage)
	return col, err
}

// cards reads a page of a column, newest change first.
func (m *Module) cards(ctx context.Context, p *access.Principal, pl *Pipeline, st *Stage, filter string, since time.Time, page, per int) ([]records.Record, bool, error) {
	// The first page reads one card more to know whether more follow; a
	// later page asks the list's capped total (at most records.CountCap
	// rows counted).
	o := records.ListOptions{Filter: and(stageFilter(pl, st, since), filter), Sort: "-updated_at", Page: page, PerPage: per}
	if page == 1 {
		o.PerPage, o.Count = per+1, records.CountNone
	}
	lst, err := m.recs.List(ctx, p, Opportunities, o)
	if err != nil {
		return nil, false, err
	}
	items, more := lst.Items, !lst.TotalExact || lst.Total > int64(page*per)
	if page == 1 {
		more = len(items) > per
		items = items[:min(len(items), per)]
	}
	return m.recs.PublicAll(p, Opportunities, items, cardFields), more, nil
}

type totals struct {
	Count            int64
	Amount, Weighted *Fixed
}

// stageTotals aggregates the columns: open stages in full, won and lost
// ones since the window's start. The key "" holds the zero figures.
func (m *Module) stageTotals(ctx context.Context, p *access.Principal, pl *Pipeline, filter string, since time.Time) (map[string]totals, error) {
	r := p.RightsOn(Opportunities)
	withAmount := !r.Hidden("amount")
	withWeighted := withAmount && !r.Hidden("probability")
	measures := []records.Measure{{Op: records.AggCount}}
	if withAmount {
		measures = append(measures, records.Measure{Op: records.AggSum, Field: "amount"})
	}
	if withWeighted {
		measures = append(measures, records.Measure{Op: records.AggSumProduct, Field: "amount", Times: "probability"})
	}
	base := "pipeline == " + itoa(pl.ID)
	out := map[string]totals{}
	zero := func() totals {
		t := totals{}
		if withAmount {
			t.Amount = money(decimal.Zero)
		}
		if withWeighted {
			t.Weighted = money(decimal.Zero)
		}
		return t
	}
	out[""] = zero()
	for _, f := range []string{
		and(base, `status == "open"`, filter),
		// Named statuses, not `status != "open"`: an inequality cannot range
		// over the (status, closed_at, ...) index, and a million-row table
		// was read in full for a quarter's closed deals.
		and(base, "status in ["+strconv.Quote(StatusWon)+", "+strconv.Quote(StatusLost)+"]", "closed_at >= "+strconv.Quote(since.Format(time.RFC3339)), filter),
	} {
		rows, err := m.recs.Aggregate(ctx, p, Opportunities, records.AggregateOptions{Filter: f,
			GroupBy: []records.GroupBy{{Field: "stage"}}, Measures: measures})
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			code, _ := row.Keys[0].(string)
			t := zero()
			t.Count = row.Values[0].IntPart()
			if withAmount {
				t.Amount = money(row.Values[1])
			}
			if withWeighted {
				t.Weighted = money(row.Values[2].Div(decimal.NewFromInt(100)).Round(2))
			}
			if prev, ok := out[code]; ok && code != "" { // a stage code in both (a stage's kind changed)
				t.Count += prev.Count
				if t.Amount != nil {
					t.Amount = money(t.Amount.d.Add(prev.Amount.d))
				}
				if t.Weighted != nil {
					t.Weighted = money(t.Weighted.d.Add(prev.Weighted.d))
				}
			}
			out[code] = t
		}
	}
	return out, nil
}
