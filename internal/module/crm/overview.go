package crm

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Overview is the account 360° summary as one caller may see it.
type Overview struct {
	Account       records.Record   `json:"account"`
	DecisionChain []DecisionGroup  `json:"decision_chain"`
	Opportunities []records.Record `json:"opportunities"`
	Timeline      []TimelineItem   `json:"timeline"`
	// Credit holds the credit fields the caller may read (nil: none).
	Credit map[string]any   `json:"credit"`
	Files  []FileRef        `json:"files"`
	Counts map[string]int64 `json:"counts"`
}

// DecisionGroup is the contacts of one decision role, most influential first.
type DecisionGroup struct {
	Role     string           `json:"role"` // "" for contacts without a role
	Contacts []records.Record `json:"contacts"`
}

// TimelineItem is an activity or a change of the account, newest first.
type TimelineItem struct {
	Kind   string         `json:"kind"` // activity | history
	At     time.Time      `json:"at"`
	Record records.Record `json:"record,omitempty"` // the activity
	Action string         `json:"action,omitempty"` // the history entry's action
	Actor  string         `json:"actor,omitempty"`
	Source string         `json:"source,omitempty"`
	Fields []string       `json:"fields,omitempty"` // the fields it changed
}

// FileRef is a file held by the account or its activities.
type FileRef struct {
	ID          string `json:"id"`
	Field       string `json:"field"`
	Entity      string `json:"entity"`
	Record      string `json:"record"`
	Description string `json:"description,omitempty"`
}

// roleOrder is the decision chain from the top.
var roleOrder = []string{"decision_maker", "technical", "procurement", "finance", "user", "other", ""}

var influenceRank = map[string]int{"high": 0, "medium": 1, "low": 2, "": 3}

// creditFields are the fields shown as credit data.
var creditFields = []string{"credit_rating", "credit_limit", "payment_terms_days", "receivables"}

// overviewItems bounds the contacts, opportunities and timeline entries.
const overviewItems = 100

// AccountOverview gathers an account's 360° page as p sees it: the account
// (404 when p may not read it), its contacts by decision role, its open
// opportunities, its activities and change history as one timeline, its
// credit fields (only those p may read) and files. Every part is read as
// p through the records service; a part p may not read at all is empty.
func (m *Module) AccountOverview(ctx context.Context, p *access.Principal, id int64) (*Overview, error) {
	acct, err := m.recs.Get(ctx, p, Accounts, id, records.GetOptions{})
	if err != nil {
		return nil, err
	}
	ov := &Overview{Account: m.recs.Public(p, Accounts, acct, nil), DecisionChain: []DecisionGroup{}, Opportunities: []records.Record{},
		Timeline: []TimelineItem{}, Files: []FileRef{}, Counts: map[string]int64{}}
	ref := "account == " + strconv.Quote(strconv.FormatInt(id, 10))

	contacts, n, err := m.readable(ctx, p, Contacts, ref, "name")
	if err != nil {
		return nil, err
	}
	ov.Counts["contacts"] = n
	groups := map[string][]records.Record{}
	for _, c := range contacts {
		groups[str(c, "decision_role")] = append(groups[str(c, "decision_role")], c)
	}
	for _, role := range roleOrder {
		cs := groups[role]
		if len(cs) == 0 {
			continue
		}
		sort.SliceStable(cs, func(i, j int) bool {
			if a, b := influenceRank[str(cs[i], "influence")], influenceRank[str(cs[j], "influence")]; a != b {
				return a < b
			}
			return cs[i]["is_primary"] == true && cs[j]["is_primary"] != true
		})
		ov.DecisionChain = append(ov.DecisionChain, DecisionGroup{Role: role, Contacts: m.recs.PublicAll(p, Contacts, cs, nil)})
	}

	if m.hasField(Opportunities, "status") {
		opps, n, err := m.readable(ctx, p, Opportunities, ref+` && status == "open"`, "expected_close")
		if err != nil {
			return nil, err
		}
		ov.Opportunities = m.recs.PublicAll(p, Opportunities, opps, nil)
		ov.Counts["open_opportunities"] = n
	}

	acts, n, err := m.readable(ctx, p, Activities, ref, "-occurred_at")
	if err != nil {
		return nil, err
	}
	ov.Counts["activities"] = n
	for _, a := range acts {
		at, _ := timeOf(a, "occurred_at")
		ov.Timeline = append(ov.Timeline, TimelineItem{Kind: "activity", At: at, Record: m.recs.Public(p, Activities, a, nil)})
		for _, row := range rowsOf(a, "photos") {
			if f := str(row, "photo"); f != "" {
				ov.Files = append(ov.Files, FileRef{ID: f, Field: "photos.photo", Entity: Activities, Record: strconv.FormatInt(a.ID(), 10),
					Description: str(row, "caption")})
			}
		}
	}
	hist, err := m.recs.History(ctx, p, Accounts, id, 0)
	if err != nil {
		return nil, err
	}
	for _, h := range hist {
		it := TimelineItem{Kind: "history", At: h.At, Action: h.Action, Source: h.Source}
		if h.Actor != 0 {
			it.Actor = strconv.FormatInt(h.Actor, 10)
		}
		for f := range h.Changes {
			it.Fields = append(it.Fields, f)
		}
		sort.Strings(it.Fields)
		ov.Timeline = append(ov.Timeline, it)
	}
	sort.SliceStable(ov.Timeline, func(i, j int) bool { return ov.Timeline[i].At.After(ov.Timeline[j].At) })
	if len(ov.Timeline) > overviewItems {
		ov.Timeline = ov.Timeline[:overviewItems]
	}

	for _, f := range creditFields {
		if x, ok := ov.Account[f]; ok {
			if ov.Credit == nil {
				ov.Credit = map[string]any{}
			}
			ov.Credit[f] = x
		}
	}
	for _, row := range rowsOf(acct, "documents") {
		if f := str(row, "file"); f != "" && !p.RightsOn(Accounts).Hidden("documents") {
			ov.Files = append(ov.Files, FileRef{ID: f, Field: "documents.file", Entity: Accounts, Record: strconv.FormatInt(id, 10),
				Description: str(row, "description")})
		}
	}
	return ov, nil
}

// readable lists up to overviewItems records p may read matching filter,
// with their total; an entity p may not read gives nothing.
func (m *Module) readable(ctx context.Context, p *access.Principal, entity, filter, sortBy string) ([]records.Record, int64, error) {
	if !p.RightsOn(entity).Can(access.Read) {
		return nil, 0, nil
	}
	// Naming the fields loads the sub-tables (an activity's photos).
	var fields []string
	if e, ok := m.recs.Registry().Get(entity); ok {
		r := p.RightsOn(entity)
		for _, f := range e.Fields {
			if !r.Hidden(f.Name) {
				fields = append(fields, f.Name)
			}
		}
	}
	res, err := m.recs.List(ctx, p, entity, records.ListOptions{Filter: filter, Sort: sortBy, PerPage: overviewItems, Count: "exact",
		Fields: fields})
	if errors.Is(err, apperr.ErrForbidden) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	return res.Items, res.Total, nil
}

func rowsOf(r records.Record, field string) []records.Record {
	rows, _ := r[field].([]records.Record)
	return rows
}
