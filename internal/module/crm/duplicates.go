package crm

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// DuplicateQuery is what a duplicate check compares: the raw values a form
// holds (normalised here), the entity being entered, and a record to leave
// out (the one being edited, an id of Entity).
type DuplicateQuery struct {
	Entity  string // leads or accounts
	Company string
	Phone   string
	Email   string
	Exclude int64
}

// Duplicate is one record that shares a normalised key with the query.
type Duplicate struct {
	Entity string   `json:"entity"`
	ID     string   `json:"id"`
	Title  string   `json:"title"`
	Owner  string   `json:"owner,omitempty"`
	Status string   `json:"status,omitempty"`
	Match  []string `json:"match"`
}

// maxDuplicates bounds the matches returned per entity.
const maxDuplicates = 20

// dupKey is one comparison: the query key ("company"), the stored
// normalised field, the field it is derived from, and the normalised value.
type dupKey struct{ name, normField, srcField, value string }

// Duplicates finds the leads (and, for leads, also the accounts) that share
// a normalised company name, phone or e-mail with the query. It lists as p,
// so only records p may read are returned, and a key whose source field is
// hidden from p is not compared (a duplicate must not reveal a hidden phone).
func (m *Module) Duplicates(ctx context.Context, p *access.Principal, q DuplicateQuery) ([]Duplicate, error) {
	var targets []string
	switch q.Entity {
	case Leads:
		targets = []string{Leads, Accounts}
	case Accounts:
		targets = []string{Accounts, Leads}
	default:
		return nil, apperr.Invalid("crm_duplicate_entity")
	}
	out := []Duplicate{}
	for _, entity := range targets {
		var keys []dupKey
		company := NormCompany(q.Company)
		phone := NormPhone(q.Phone)
		email := NormEmail(q.Email)
		switch entity {
		case Leads:
			keys = []dupKey{{"company", "company_norm", "company", company}, {"phone", "phone_norm", "phone", phone}, {"email", "email_norm", "email", email}}
		case Accounts:
			keys = []dupKey{{"company", "name_norm", "name", company}, {"phone", "phone_norm", "phone", phone}}
		}
		var exclude int64
		if entity == q.Entity {
			exclude = q.Exclude
		}
		found, err := m.duplicatesIn(ctx, p, entity, keys, exclude)
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	return out, nil
}

func (m *Module) duplicatesIn(ctx context.Context, p *access.Principal, entity string, keys []dupKey, exclude int64) ([]Duplicate, error) {
	r := p.RightsOn(entity)
	if !r.Can(access.Read) {
		return nil, nil
	}
	var terms []string
	var used []dupKey
	for _, k := range keys {
		if k.value == "" || r.Hidden(k.srcField) || r.Hidden(k.normField) {
			continue
		}
		terms = append(terms, k.normField+" == "+strconv.Quote(k.value))
		used = append(used, k)
	}
	if len(terms) == 0 {
		return nil, nil
	}
	filter := "(" + strings.Join(terms, " || ") + ")"
	if exclude != 0 {
		filter += " && id != " + strconv.Quote(strconv.FormatInt(exclude, 10))
	}
	e, _ := m.recs.Registry().Get(entity)
	res, err := m.recs.List(ctx, p, entity, records.ListOptions{Filter: filter, Sort: "-created_at", PerPage: maxDuplicates, Count: "none"})
	if errors.Is(err, apperr.ErrForbidden) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]Duplicate, 0, len(res.Items))
	for _, rec := range res.Items {
		d := Duplicate{Entity: entity, ID: strconv.FormatInt(rec.ID(), 10), Title: str(rec, e.TitleField), Status: str(rec, "status"), Match: []string{}}
		if o := idOf(rec, "owner"); o != 0 {
			d.Owner = strconv.FormatInt(o, 10)
		}
		for _, k := range used {
			if str(rec, k.normField) == k.value {
				d.Match = append(d.Match, k.name)
			}
		}
		out = append(out, d)
	}
	return out, nil
}
