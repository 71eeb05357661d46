package crm

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// TransferBatch is how many records one transaction of a transfer moves.
const TransferBatch = 200

// TransferInput is a bulk transfer: every record of the named entities
// owned by From (opportunities: the open ones) goes to To.
type TransferInput struct {
	From     string   `json:"from"`
	To       string   `json:"to"`
	Entities []string `json:"entities"`
}

// transferable are the entities a transfer may move, with the filter that
// picks the records beyond the owner.
var transferable = map[string]string{Accounts: "", Leads: "", Opportunities: ` && status == "open"`}

// Transfer moves a leaving rep's accounts, leads and open opportunities to
// another user. The records are found as the system (all of From's
// records, so that none is silently left behind) and each is changed as p
// by an ordinary update of its owner: the records service checks that p
// may update it (scope included), audits the change and keeps the record's
// history. Administrators may transfer anyone's records; the from-user's
// manager (users.manager) may too, provided their grants let them update
// every one of the records — otherwise the batch is refused (403
// crm_transfer_not_allowed) and rolled back. Anyone else is refused. Each batch of
// TransferBatch records is one transaction; the counts of records moved
// are returned per entity (an entity the app does not define counts 0).
func (m *Module) Transfer(ctx context.Context, p *access.Principal, in TransferInput) (map[string]int, error) {
	from, ok1 := parseUserID(in.From)
	to, ok2 := parseUserID(in.To)
	switch {
	case !ok1:
		return nil, apperr.Fields(apperr.Field("from", "invalid_id"))
	case !ok2:
		return nil, apperr.Fields(apperr.Field("to", "invalid_id"))
	case from == to:
		return nil, apperr.Fields(apperr.Field("to", "crm_transfer_same_user"))
	}
	if !p.Admin {
		if ok, err := m.isManagerOf(ctx, p.UserID, from); err != nil {
			return nil, err
		} else if !ok {
			return nil, apperr.Forbidden("crm_transfer_forbidden")
		}
	}
	if _, err := m.access.Principal(ctx, to); err != nil {
		return nil, apperr.Fields(apperr.Field("to", "crm_transfer_user_inactive"))
	}
	ents := in.Entities
	if len(ents) == 0 {
		ents = []string{Accounts, Leads, Opportunities}
	}
	counts := map[string]int{}
	for _, e := range ents {
		if _, ok := transferable[e]; !ok {
			return nil, apperr.Fields(apperr.Field("entities", "invalid_option", "value", e))
		}
		counts[e] = 0
	}
	for _, e := range ents {
		if !m.hasEntity(e) {
			continue
		}
		n, err := m.transferEntity(ctx, p, e, from, to)
		counts[e] = n
		if err != nil {
			return counts, err
		}
	}
	return counts, nil
}

func (m *Module) transferEntity(ctx context.Context, p *access.Principal, entity string, from, to int64) (int, error) {
	filter := "owner == " + strconv.Quote(strconv.FormatInt(from, 10)) + transferable[entity]
	var ids []int64
	err := m.recs.Each(ctx, system(), entity, records.EachOptions{ListOptions: records.ListOptions{Filter: filter, Sort: "id", Fields: []string{"id"}}},
		func(recs []records.Record) error {
			for _, r := range recs {
				ids = append(ids, r.ID())
			}
			return nil
		})
	if err != nil {
		return 0, err
	}
	done := 0
	for batch := range slices.Chunk(ids, TransferBatch) {
		err := m.db.WithTx(ctx, func(ctx context.Context) error {
			for _, id := range batch {
				if _, err := m.recs.Update(ctx, p, entity, id, map[string]any{"owner": strconv.FormatInt(to, 10)}, 0); err != nil {
					if errors.Is(err, apperr.ErrNotFound) || errors.Is(err, apperr.ErrForbidden) {
						return apperr.Forbidden("crm_transfer_not_allowed", "entity", entity, "id", id)
					}
					return err
				}
			}
			return nil
		})
		if err != nil {
			return done, err
		}
		done += len(batch)
	}
	return done, nil
}

// isManagerOf reports whether manager is user's manager (users.manager).
func (m *Module) isManagerOf(ctx context.Context, manager, user int64) (bool, error) {
	if manager == 0 {
		return false, nil
	}
	u, err := m.recs.Get(ctx, system(), "users", user, records.GetOptions{Fields: []string{"manager"}})
	if err != nil {
		if _, ok := apperr.As(err); ok {
			return false, nil
		}
		return false, err
	}
	return idOf(u, "manager") == manager, nil
}

func parseUserID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}
