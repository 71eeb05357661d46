package leadpool

import (
	"context"
	"strconv"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// KPIs are the lead figures of a period (leads created in [From, To)), over
// the leads the caller may read. A figure that needs a field hidden from
// the caller is nil.
type KPIs struct {
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Total int64     `json:"total"`
	// BySource counts the leads per capture channel ("" for none).
	BySource []SourceCount `json:"by_source"`
	// Valid leads are those not disqualified; ValidRate = Valid / Total.
	Valid     *int64   `json:"valid"`
	ValidRate *float64 `json:"valid_rate"`
	// Converted leads (status converted); ConversionRate = Converted / Total.
	Converted      *int64   `json:"converted"`
	ConversionRate *float64 `json:"conversion_rate"`
	// Responded leads have a first response; AvgFirstResponseMinutes is
	// the mean of their first_response_minutes.
	Responded               *int64   `json:"responded"`
	AvgFirstResponseMinutes *float64 `json:"avg_first_response_minutes"`
}

// SourceCount is one channel's lead count.
type SourceCount struct {
	Source string `json:"source"`
	Count  int64  `json:"count"`
}

// KPIs computes the figures of [from, to) for p, each through the records
// service under p's scope.
func (s *Service) KPIs(ctx context.Context, p *access.Principal, from, to time.Time) (*KPIs, error) {
	if !to.After(from) {
		return nil, apperr.Invalid("leadpool_bad_period")
	}
	e, ok := s.recs.Registry().Get(Leads)
	if !ok {
		return nil, apperr.NotFound()
	}
	r := p.RightsOn(Leads)
	base := `created_at >= "` + from.UTC().Format(time.RFC3339Nano) + `" && created_at < "` + to.UTC().Format(time.RFC3339Nano) + `"`
	count := func(extra string) (int64, error) {
		f := base
		if extra != "" {
			f += " && " + extra
		}
		return s.recs.Count(ctx, p, Leads, f)
	}
	out := &KPIs{From: from, To: to, BySource: []SourceCount{}}
	var err error
	if out.Total, err = count(""); err != nil {
		return nil, err
	}
	if f := e.Field("source"); f != nil && !r.Hidden("source") {
		for _, o := range append(f.Options, meta.Option{}) {
			cond := `source == nil`
			if o.Value != "" {
				cond = `source == ` + strconv.Quote(o.Value)
			}
			n, err := count(cond)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				out.BySource = append(out.BySource, SourceCount{Source: o.Value, Count: n})
			}
		}
	}
	if !r.Hidden("status") {
		dis, err := count(`status == "` + StatusDisqualified + `"`)
		if err != nil {
			return nil, err
		}
		conv, err := count(`status == "` + StatusConverted + `"`)
		if err != nil {
			return nil, err
		}
		valid := out.Total - dis
		out.Valid, out.Converted = &valid, &conv
		out.ValidRate, out.ConversionRate = rate(valid, out.Total), rate(conv, out.Total)
	}
	if !r.Hidden("first_response_minutes") {
		var n, sum int64
		err := s.recs.Each(ctx, p, Leads, records.EachOptions{ListOptions: records.ListOptions{
			Filter: base + " && first_response_minutes != nil", Fields: []string{"first_response_minutes"}, Sort: "id"}},
			func(recs []records.Record) error {
				for _, rec := range recs {
					n++
					sum += num(rec["first_response_minutes"])
				}
				return nil
			})
		if err != nil {
			return nil, err
		}
		out.Responded = &n
		if n > 0 {
			avg := float64(sum) / float64(n)
			out.AvgFirstResponseMinutes = &avg
		}
	}
	return out, nil
}

func rate(n, total int64) *float64 {
	if total == 0 {
		return nil
	}
	r := float64(n) / float64(total)
	return &r
}

// ParsePeriod reads from/to query values: dates (YYYY-MM-DD, Shanghai
// time; to is inclusive) or RFC 3339 times (to exclusive). Missing values
// give the 30 days up to today.
func ParsePeriod(fromS, toS string, now time.Time) (time.Time, time.Time, error) {
	day := func(s string, end bool) (time.Time, error) {
		if t, err := time.ParseInLocation(time.DateOnly, s, meta.Shanghai); err == nil {
			if end {
				t = t.AddDate(0, 0, 1)
			}
			return t, nil
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, apperr.Invalid("leadpool_bad_period")
		}
		return t, nil
	}
	today := now.In(meta.Shanghai)
	to := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, meta.Shanghai).AddDate(0, 0, 1)
	from := to.AddDate(0, 0, -30)
	var err error
	if fromS != "" {
		if from, err = day(fromS, false); err != nil {
			return from, to, err
		}
	}
	if toS != "" {
		if to, err = day(toS, true); err != nil {
			return from, to, err
		}
	}
	if !to.After(from) {
		return from, to, apperr.Invalid("leadpool_bad_period")
	}
	return from, to, nil
}
