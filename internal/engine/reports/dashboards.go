package reports

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Grid of a dashboard: 12 columns; a card's height in rows.
const (
	GridColumns = 12
	MaxCards    = 40
	MaxCardRows = 40
)

// Date presets of a dashboard's range, resolved on the day it is seen.
const (
	PresetThisMonth    = "this_month"
	PresetThisQuarter  = "this_quarter"
	PresetThisYear     = "this_year"
	PresetLast30Days   = "last_30_days"
	PresetLast90Days   = "last_90_days"
	PresetLast12Months = "last_12_months"
)

// Card is one report on a dashboard's grid.
type Card struct {
	Report string `json:"report"`
	X      int    `json:"x"`
	Y      int    `json:"y"`
	W      int    `json:"w"`
	H      int    `json:"h"`
}

// Filters are a dashboard's shared filters: a preset or a fixed range,
// and the other shared filters.
type Filters struct {
	Preset string `json:"preset,omitempty"`
	Params
}

// Resolve turns a preset into a range on the day of now (Asia/Shanghai);
// a fixed range is kept.
func (f Filters) Resolve(now time.Time) (Params, error) {
	p := f.Params
	if f.Preset == "" {
		return p, nil
	}
	t := now.In(meta.Shanghai)
	today := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	var from time.Time
	switch f.Preset {
	case PresetThisMonth:
		from = bucketStartOf("month", today)
	case PresetThisQuarter:
		from = bucketStartOf("quarter", today)
	case PresetThisYear:
		from = bucketStartOf("year", today)
	case PresetLast30Days:
		from = today.AddDate(0, 0, -29)
	case PresetLast90Days:
		from = today.AddDate(0, 0, -89)
	case PresetLast12Months:
		from = bucketStartOf("month", today).AddDate(0, -11, 0)
	default:
		return p, apperr.Invalid("report_bad_param", "name", "preset")
	}
	p.From, p.To = from.Format(time.DateOnly), today.Format(time.DateOnly)
	return p, nil
}

// dashboardOf reads a dashboard record's layout and filters.
func dashboardOf(rec records.Record) ([]Card, Filters, error) {
	var cards []Card
	var f Filters
	if err := decodeJSON(rec["layout"], &cards); err != nil {
		return nil, f, apperr.Fields(apperr.Field("layout", "report_bad_json"))
	}
	if err := decodeJSON(rec["filters"], &f); err != nil {
		return nil, f, apperr.Fields(apperr.Field("filters", "report_bad_json"))
	}
	return cards, f, nil
}

// checkDashboard checks the grid (cards inside 12 columns, reports the
// saver may read) and the filters, and lets only administrators share.
func (s *Service) checkDashboard(ctx context.Context, c *records.Change) error {
	if c.New == nil || (c.Op != records.OpCreate && c.Op != records.OpUpdate) {
		return nil
	}
	if err := checkShare(c); err != nil {
		return err
	}
	cards, f, err := dashboardOf(c.New)
	if err != nil {
		return err
	}
	if len(cards) > MaxCards {
		return apperr.Fields(apperr.Field("layout", "report_too_many", "max", MaxCards))
	}
	for _, card := range cards {
		if card.W < 1 || card.H < 1 || card.X < 0 || card.Y < 0 || card.X+card.W > GridColumns || card.H > MaxCardRows {
			return apperr.Fields(apperr.Field("layout", "report_bad_card"))
		}
		id, err := strconv.ParseInt(card.Report, 10, 64)
		if err != nil || id <= 0 {
			return apperr.Fields(apperr.Field("layout", "report_bad_card"))
		}
		if c.Old != nil && sameCard(c.Old, card.Report) {
			continue // kept as it was: a report since unshared stays on the grid, shown as unavailable
		}
		if _, err := s.recs.Get(ctx, c.P, Reports, id, records.GetOptions{Fields: []string{"name"}}); err != nil {
			return apperr.Fields(apperr.Field("layout", "report_card_unknown", "id", card.Report))
		}
	}
	if _, err := f.Resolve(s.now()); err != nil {
		return apperr.Fields(apperr.Field("filters", "report_bad_param", "name", "preset"))
	}
	if _, _, err := paramFilter(&meta.Entity{}, "x", f.Params); err != nil {
		return apperr.Fields(apperr.Field("filters", "report_bad_param", "name", "from"))
	}
	return nil
}

// sameCard reports whether the dashboard already had the report on it.
func sameCard(old records.Record, report string) bool {
	cards, _, err := dashboardOf(old)
	if err != nil {
		return false
	}
	for _, c := range cards {
		if c.Report == report {
			return true
		}
	}
	return false
}

// JobSend is the hourly job that sends the dashboards due.
const JobSend = "reports.dashboards"

// sendSpec runs it at five past every hour.
const sendSpec = "5 * * * *"

// RegisterJobs registers the engine's job on the queue.
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Register(JobSend, func(ctx context.Context, _ *jobs.Job) error {
		_, err := s.SendDue(ctx)
		return err
	}, jobs.HandlerOptions{Timeout: 10 * time.Minute})
}

// Schedule keeps the engine's schedule.
func (s *Service) Schedule(ctx context.Context, q *jobs.Queue) error {
	_, err := q.UpsertSchedule(ctx, jobs.ScheduleDef{Name: JobSend, Spec: sendSpec, Kind: JobSend})
	return err
}

// due reports whether a dashboard's e-mail is due at now: its hour has
// come on a day of its schedule, and it was not sent since that hour.
func due(rec records.Record, now time.Time) bool {
	t := now.In(meta.Shanghai)
	hour := int64(8)
	if h, ok := rec["schedule_hour"].(int64); ok {
		hour = h
	}
	switch rec["schedule"] {
	case "daily":
	case "weekly":
		if t.Weekday() != time.Monday {
			return false
		}
	case "monthly":
		if t.Day() != 1 {
			return false
		}
	default:
		return false
	}
	if int64(t.Hour()) < hour {
		return false
	}
	slot := time.Date(t.Year(), t.Month(), t.Day(), int(hour), 0, 0, 0, meta.Shanghai)
	last, ok := rec["last_sent_at"].(time.Time)
	return !ok || last.Before(slot)
}

// SendDue sends every dashboard whose e-mail is due, each in its own
// transaction, and returns how many were sent.
func (s *Service) SendDue(ctx context.Context) (int, error) {
	sys := access.System()
	var dueIDs []int64
	now := s.now()
	err := s.recs.Each(ctx, sys, Dashboards, records.EachOptions{ListOptions: records.ListOptions{Filter: `schedule in ["daily", "weekly", "monthly"]`, Sort: "id"}},
		func(batch []records.Record) error {
			for _, r := range batch {
				if due(r, now) {
					dueIDs = append(dueIDs, r.ID())
				}
			}
			return nil
		})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range dueIDs {
		if err := s.Send(ctx, id); err != nil {
			s.log.Warn("dashboard e-mail failed", "dashboard", id, "err", err)
			continue
		}
		n++
	}
	return n, nil
}

// sendNow is the dashboards action send_now: the e-mail goes to the
// recipients at once (for whoever may update the dashboard).
func (s *Service) sendNow(ctx context.Context, p *access.Principal, rec records.Record, _ map[string]any) (records.Record, error) {
	if err := s.recs.Check(ctx, p, Dashboards, rec.ID(), access.Update); err != nil {
		return nil, err
	}
	if err := s.Send(ctx, rec.ID()); err != nil {
		return nil, err
	}
	return s.recs.Get(ctx, p, Dashboards, rec.ID(), records.GetOptions{})
}

// Send e-mails a dashboard to its recipients, each seeing their own
// figures, and stamps last_sent_at, in one transaction.
func (s *Service) Send(ctx context.Context, id int64) error {
	if s.mail == nil || s.people == nil {
		return apperr.Conflict("report_mail_unavailable")
	}
	sys := access.System()
	return s.recs.DB().WithTx(ctx, func(ctx context.Context) error {
		rec, err := s.recs.Get(ctx, sys, Dashboards, id, records.GetOptions{})
		if err != nil {
			return err
		}
		cards, f, err := dashboardOf(rec)
		if err != nil {
			return err
		}
		prm, err := f.Resolve(s.now())
		if err != nil {
			return err
		}
		users, _ := rec["recipients"].([]int64)
		if len(users) == 0 {
			return apperr.Fields(apperr.Field("recipients", "required"))
		}
		for _, uid := range users {
			p, err := s.people.Principal(ctx, uid)
			if err != nil {
				continue // a deactivated user gets nothing
			}
			if err := s.sendTo(ctx, p, rec, cards, prm); err != nil {
				return err
			}
		}
		_, err = s.recs.Update(ctx, sys, Dashboards, id, map[string]any{"last_sent_at": s.now()}, 0)
		return err
	})
}

// sendTo computes the dashboard's reports as p sees them and mails them.
func (s *Service) sendTo(ctx context.Context, p *access.Principal, rec records.Record, cards []Card, prm Params) error {
	user, err := s.recs.Get(ctx, access.System(), "users", p.UserID, records.GetOptions{Fields: []string{"email", "language"}})
	if err != nil {
		return err
	}
	to := str(user["email"])
	if to == "" {
		return nil
	}
	lang := str(user["language"])
	if lang != "en" {
		lang = "zh-CN"
	}
	var text strings.Builder
	name := str(rec["name"])
	if lang == "en" && str(rec["name_en"]) != "" {
		name = str(rec["name_en"])
	}
	period := prm.From + " – " + prm.To
	if prm.From == "" && prm.To == "" {
		period = map[string]string{"en": "all dates", "zh-CN": "全部日期"}[lang]
	}
	fmt.Fprintf(&text, "%s (%s)\n\n", name, period)
	reader := *p
	reader.Lang = lang
	results, err := s.runCards(ctx, &reader, cards, prm, false)
	if err != nil {
		return err
	}
	for _, r := range results {
		summarize(&text, r, lang)
	}
	if len(results) == 0 {
		return nil
	}
	wb, err := Workbook(results, map[string]string{"en": "Total", "zh-CN": "合计"}[lang])
	if err != nil {
		return err
	}
	return s.mail.SendReport(ctx, p, to, Mail{Subject: name, Text: text.String(), Workbook: wb,
		FileName: fileName(name) + ".xlsx", RecordID: rec.ID()})
}

// sortCards orders cards as a reader scans the grid: by row, then column.
func sortCards(cards []Card) []Card {
	out := append([]Card{}, cards...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && (out[j].Y < out[j-1].Y || out[j].Y == out[j-1].Y && out[j].X < out[j-1].X); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// summarize writes a result's totals (or its first rows) as text lines.
func summarize(b *strings.Builder, r *Result, lang string) {
	fmt.Fprintf(b, "■ %s\n", r.Name)
	cols := visible(r)
	for i, row := range r.Rows {
		if i == 10 {
			fmt.Fprintf(b, "  … (%d)\n", len(r.Rows))
			break
		}
		var parts []string
		for _, c := range cols {
			if r.Columns[c].Role == "dimension" {
				parts = append(parts, KeyLabel(r, c, row[c]))
			} else {
				parts = append(parts, r.Columns[c].Label+" "+figureText(row[c]))
			}
		}
		b.WriteString("  " + strings.Join(parts, " · ") + "\n")
	}
	if len(r.Rows) > 1 {
		var parts []string
		for _, c := range cols {
			if r.Columns[c].Role == "measure" && r.Totals[c] != nil {
				parts = append(parts, r.Columns[c].Label+" "+figureText(r.Totals[c]))
			}
		}
		if len(parts) > 0 {
			b.WriteString("  " + map[string]string{"en": "Total", "zh-CN": "合计"}[lang] + ": " + strings.Join(parts, " · ") + "\n")
		}
	}
	b.WriteString("\n")
}

func figureText(v any) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprint(v)
}

// fileName is a name safe as an attachment's file name.
func fileName(name string) string {
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`\/:*?"<>|`, r) || r < ' ' {
			return '_'
		}
		return r
	}, name)
	if name == "" {
		return "dashboard"
	}
	return name
}
