// Package marketing is the marketing module (REQUIREMENTS MK1): campaigns
// with their cost, and the return-on-investment table computed from the
// leads and opportunities attributed to them.
//
// Attribution. A lead belongs to the campaign named in its campaign field.
// An opportunity belongs to the campaign in its own campaign field; when
// that is empty, to the campaign of the lead it came from (its lead field)
// — provided the caller may read that lead, so a campaign never learns of
// a lead the caller could not list. Wins are attributed opportunities with
// status won; the amount is the sum of their amounts.
//
// Figures per campaign: cost, leads, opportunities, wins, amount,
// lead_to_win_rate = wins / leads (null without leads) and
// roi = (amount − cost) / cost (null without a cost or an amount the
// caller may read). Every count is of records the caller may read (their
// data scope), and a field hidden from the caller (a campaign's cost, an
// opportunity's amount) gives null figures, never a value computed from
// it.
package marketing

import (
	"context"
	"embed"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Entities holds the definition of campaigns.
//
//go:embed entities/*.json
var Entities embed.FS

// The entities the module reads or owns.
const (
	Campaigns     = "campaigns"
	Leads         = "leads"
	Opportunities = "opportunities"
)

// StatusWon is the status of a won opportunity.
const StatusWon = "won"

// Config carries the module's collaborators.
type Config struct {
	Records *records.Service
	Now     func() time.Time
}

// Service is the marketing module.
type Service struct {
	recs *records.Service
	now  func() time.Time
}

// New builds the module and registers its hooks.
func New(c Config) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	s := &Service{recs: c.Records, now: c.Now}
	s.recs.Use(Campaigns, records.Hook{Before: s.checkCampaign})
	return s
}

// checkCampaign refuses a campaign that ends before it starts.
func (s *Service) checkCampaign(_ context.Context, c *records.Change) error {
	if c.New == nil {
		return nil
	}
	// Dates are "YYYY-MM-DD" strings, which compare as dates.
	from, _ := c.New["started_on"].(string)
	to, _ := c.New["ended_on"].(string)
	if from != "" && to != "" && to < from {
		return apperr.Fields(apperr.Field("ended_on", "campaign_ends_before_start"))
	}
	return nil
}

// Figure is a decimal figure written as a JSON string with a fixed number
// of places ("4800000.00", "0.0833"), as API.md writes money.
type Figure struct {
	decimal.Decimal
	Places int32
}

// MarshalJSON writes the figure as a string.
func (f Figure) MarshalJSON() ([]byte, error) {
	return []byte(`"` + f.StringFixed(f.Places) + `"`), nil
}

func money(d decimal.Decimal) *Figure { return &Figure{d, moneyPlaces} }

func ratio(d decimal.Decimal) *Figure { return &Figure{d, ratioPlaces} }

// ROIRow is one campaign's line of the ROI table. Nil pointers are figures
// the caller may not see (or that are undefined, like a rate without
// leads).
type ROIRow struct {
	Campaign      int64   `json:"campaign,string"`
	Name          string  `json:"name"`
	Kind          string  `json:"kind,omitempty"`
	Region        string  `json:"region,omitempty"`
	StartedOn     string  `json:"started_on,omitempty"`
	Cost          *Figure `json:"cost"`
	Leads         *int64  `json:"leads"`
	Opportunities *int64  `json:"opportunities"`
	Wins          *int64  `json:"wins"`
	Amount        *Figure `json:"amount"`
	LeadToWinRate *Figure `json:"lead_to_win_rate"`
	ROI           *Figure `json:"roi"`
}

// ROIQuery selects the campaigns of the table: those that started within
// [From, To] (either may be zero for no bound).
type ROIQuery struct {
	From, To time.Time
}

// ratioPlaces is how many decimal places rates and ROI carry (0.0833 is
// 8.33 %).
const ratioPlaces = 4

// moneyPlaces is the scale of money figures.
const moneyPlaces = 2

// ROI computes the table for p: the campaigns p may read, each with the
// leads and opportunities p may read that are attributed to it, ordered by
// start date (newest first) and name.
func (s *Service) ROI(ctx context.Context, p *access.Principal, q ROIQuery) ([]ROIRow, error) {
	filter := ""
	if !q.From.IsZero() {
		filter = `started_on >= "` + q.From.Format(time.DateOnly) + `"`
	}
	if !q.To.IsZero() {
		if filter != "" {
			filter += " && "
		}
		filter += `started_on <= "` + q.To.Format(time.DateOnly) + `"`
	}
	cr := p.RightsOn(Campaigns)
	if filter != "" && cr.Hidden("started_on") {
		return []ROIRow{}, nil
	}
	rows := []ROIRow{}
	index := map[int64]int{}
	err := s.recs.Each(ctx, p, Campaigns, records.EachOptions{ListOptions: records.ListOptions{Filter: filter, Sort: "-started_on,name"}},
		func(batch []records.Record) error {
			for _, c := range batch {
				row := ROIRow{Campaign: c.ID(), Name: str(c["name"])}
				if !cr.Hidden("kind") {
					row.Kind = str(c["kind"])
				}
				if !cr.Hidden("region") {
					row.Region = str(c["region"])
				}
				if !cr.Hidden("started_on") {
					row.StartedOn = str(c["started_on"])
				}
				if !cr.Hidden("cost") {
					cost := decimal.Zero
					if d, ok := c["cost"].(decimal.Decimal); ok {
						cost = d
					}
					row.Cost = money(cost)
				}
				index[row.Campaign] = len(rows)
				rows = append(rows, row)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return rows, nil
	}
	leadCampaign, err := s.countLeads(ctx, p, rows, index)
	if err != nil {
		return nil, err
	}
	if err := s.countOpportunities(ctx, p, rows, index, leadCampaign); err != nil {
		return nil, err
	}
	for i := range rows {
		finish(&rows[i])
	}
	return rows, nil
}

// countLeads counts each campaign's leads that p may read and returns the
// campaign of each such lead (for opportunities attributed through their
// lead). A caller who may not read leads, or their campaign, gets null
// lead counts.
func (s *Service) countLeads(ctx context.Context, p *access.Principal, rows []ROIRow, index map[int64]int) (map[int64]int64, error) {
	out := map[int64]int64{}
	lr := p.RightsOn(Leads)
	if _, ok := s.recs.Registry().Get(Leads); !ok || !lr.Can(access.Read) || lr.Hidden("campaign") {
		return out, nil
	}
	counts := make([]int64, len(rows))
	err := s.recs.Each(ctx, p, Leads, records.EachOptions{ListOptions: records.ListOptions{Filter: "campaign != nil", Sort: "id"}},
		func(batch []records.Record) error {
			for _, l := range batch {
				c, _ := l["campaign"].(int64)
				if i, ok := index[c]; ok {
					counts[i]++
					out[l.ID()] = c
				}
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	for i := range rows {
		rows[i].Leads = &counts[i]
	}
	return out, nil
}

// countOpportunities counts each campaign's opportunities, wins and won
// amount among those p may read.
func (s *Service) countOpportunities(ctx context.Context, p *access.Principal, rows []ROIRow, index map[int64]int, leadCampaign map[int64]int64) error {
	or := p.RightsOn(Opportunities)
	if _, ok := s.recs.Registry().Get(Opportunities); !ok || !or.Can(access.Read) {
		return nil
	}
	byOwn, byLead := !or.Hidden("campaign"), !or.Hidden("lead") && len(leadCampaign) > 0
	var filter string
	switch {
	case byOwn && byLead:
		filter = "campaign != nil || lead != nil"
	case byOwn:
		filter = "campaign != nil"
	case byLead:
		filter = "lead != nil"
	default:
		return nil
	}
	seeStatus, seeAmount := !or.Hidden("status"), !or.Hidden("amount")
	opps, wins := make([]int64, len(rows)), make([]int64, len(rows))
	amounts := make([]decimal.Decimal, len(rows))
	err := s.recs.Each(ctx, p, Opportunities, records.EachOptions{ListOptions: records.ListOptions{Filter: filter, Sort: "id"}},
		func(batch []records.Record) error {
			for _, o := range batch {
				var c int64
				if byOwn {
					c, _ = o["campaign"].(int64)
				}
				if c == 0 && byLead {
					lead, _ := o["lead"].(int64)
					c = leadCampaign[lead]
				}
				i, ok := index[c]
				if !ok {
					continue
				}
				opps[i]++
				if seeStatus && o["status"] == StatusWon {
					wins[i]++
					if a, ok := o["amount"].(decimal.Decimal); ok && seeAmount {
						amounts[i] = amounts[i].Add(a)
					}
				}
			}
			return nil
		})
	if err != nil {
		return err
	}
	for i := range rows {
		rows[i].Opportunities = &opps[i]
		if seeStatus {
			rows[i].Wins = &wins[i]
			if seeAmount {
				rows[i].Amount = money(amounts[i])
			}
		}
	}
	return nil
}

// finish computes the ratios of a row from its figures.
func finish(r *ROIRow) {
	if r.Leads != nil && r.Wins != nil && *r.Leads > 0 {
		r.LeadToWinRate = ratio(decimal.NewFromInt(*r.Wins).DivRound(decimal.NewFromInt(*r.Leads), ratioPlaces))
	}
	if r.Cost != nil && r.Amount != nil && r.Cost.IsPositive() {
		r.ROI = ratio(r.Amount.Sub(r.Cost.Decimal).DivRound(r.Cost.Decimal, ratioPlaces))
	}
}

// SortROI orders rows by a column (cost, leads, opportunities, wins,
// amount, lead_to_win_rate, roi; "-" first for descending); rows whose
// figure is null come last either way.
func SortROI(rows []ROIRow, by string) error {
	desc := len(by) > 0 && by[0] == '-'
	if desc {
		by = by[1:]
	}
	key, ok := roiKeys[by]
	if !ok {
		return apperr.Invalid("bad_sort", "field", by)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := key(rows[i]), key(rows[j])
		if a == nil || b == nil {
			return a != nil
		}
		if desc {
			return b.LessThan(a.Decimal)
		}
		return a.LessThan(b.Decimal)
	})
	return nil
}

var roiKeys = map[string]func(ROIRow) *Figure{
	"cost":             func(r ROIRow) *Figure { return r.Cost },
	"leads":            func(r ROIRow) *Figure { return count(r.Leads) },
	"opportunities":    func(r ROIRow) *Figure { return count(r.Opportunities) },
	"wins":             func(r ROIRow) *Figure { return count(r.Wins) },
	"amount":           func(r ROIRow) *Figure { return r.Amount },
	"lead_to_win_rate": func(r ROIRow) *Figure { return r.LeadToWinRate },
	"roi":              func(r ROIRow) *Figure { return r.ROI },
}

func count(n *int64) *Figure {
	if n == nil {
		return nil
	}
	return &Figure{decimal.NewFromInt(*n), 0}
}

func str(x any) string {
	s, _ := x.(string)
	return s
}
