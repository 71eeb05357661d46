package crm

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// maxMergeOthers bounds how many leads one merge folds into the winner.
const maxMergeOthers = 10

// notMergeable are the lead fields a merge never takes from another lead:
// those the module derives or that describe the lead's own history.
var notMergeable = []string{"company_norm", "phone_norm", "email_norm", "status", "converted_account", "converted_contact",
	"converted_opportunity", "converted_at", "merged_into", "first_response_at", "first_response_minutes", "last_followup_at",
	"assigned_at", "pooled_at", "pool"}

// MergeInput is the merge action's body: the leads folded into the
// winner, and for each field the lead whose value the winner keeps.
type MergeInput struct {
	Others []int64
	Fields map[string]int64
}

func parseMerge(in map[string]any) (MergeInput, error) {
	var mi MergeInput
	for k := range in {
		if k != "others" && k != "fields" {
			return mi, apperr.Invalid("unknown_field", "field", k)
		}
	}
	list, _ := in["others"].([]any)
	if len(list) == 0 {
		return mi, apperr.Fields(apperr.Field("others", "required"))
	}
	if len(list) > maxMergeOthers {
		return mi, apperr.Fields(apperr.Field("others", "too_many_items", "max", maxMergeOthers))
	}
	for _, x := range list {
		id, ok := meta.ParseID(x)
		if !ok {
			return mi, apperr.Fields(apperr.Field("others", "invalid_id"))
		}
		if !slices.Contains(mi.Others, id) {
			mi.Others = append(mi.Others, id)
		}
	}
	mi.Fields = map[string]int64{}
	if raw, ok := in["fields"]; ok && raw != nil {
		obj, ok := raw.(map[string]any)
		if !ok {
			return mi, apperr.Fields(apperr.Field("fields", "not_object"))
		}
		for f, x := range obj {
			id, ok := meta.ParseID(x)
			if !ok {
				return mi, apperr.Fields(apperr.Field("fields."+f, "invalid_id"))
			}
			mi.Fields[f] = id
		}
	}
	return mi, nil
}

// mergeAction folds other leads into this one (the winner): for each field
// named in "fields" the winner takes the value of the chosen lead; the
// activities of the others are re-pointed to the winner; each other lead
// gets merged_into = winner and goes to the recycle bin. The caller needs
// update on the winner and on every other lead and delete on the others
// (each write is checked and audited by the records service); it all
// happens in the action's one transaction.
func (m *Module) mergeAction(ctx context.Context, p *access.Principal, winner records.Record, raw map[string]any) (records.Record, error) {
	in, err := parseMerge(raw)
	if err != nil {
		return nil, err
	}
	wid := winner.ID()
	if str(winner, "status") == StatusConverted {
		return nil, apperr.Conflict("crm_merge_converted")
	}
	byID := map[int64]records.Record{wid: winner}
	for _, id := range in.Others {
		if id == wid {
			return nil, apperr.Fields(apperr.Field("others", "crm_merge_self"))
		}
		rec, err := m.recs.Get(ctx, p, Leads, id, records.GetOptions{})
		if err != nil {
			return nil, err
		}
		if str(rec, "status") == StatusConverted {
			return nil, apperr.Conflict("crm_merge_converted")
		}
		byID[id] = rec
	}
	e, _ := m.recs.Registry().Get(Leads)
	rights := p.RightsOn(Leads)
	vals := map[string]any{}
	for f, src := range in.Fields {
		fd := e.Field(f)
		if fd == nil || rights.Hidden(f) {
			return nil, apperr.Invalid("unknown_field", "field", f)
		}
		if fd.IsComputed() || slices.Contains(notMergeable, f) {
			return nil, apperr.Fields(apperr.Field("fields."+f, "crm_merge_field"))
		}
		rec, ok := byID[src]
		if !ok {
			return nil, apperr.Fields(apperr.Field("fields."+f, "crm_merge_source"))
		}
		if src != wid {
			vals[f] = rec[f]
		}
	}
	if len(vals) > 0 {
		if _, err := m.update(ctx, p, Leads, wid, vals); err != nil {
			return nil, err
		}
	}
	if err := m.repointActivities(ctx, "lead", in.Others, wid); err != nil {
		return nil, err
	}
	for _, id := range in.Others {
		if _, err := m.update(ctx, p, Leads, id, map[string]any{"merged_into": wid}); err != nil {
			return nil, err
		}
		if err := m.recs.Delete(ctx, p, Leads, id, 0); err != nil {
			return nil, err
		}
	}
	return m.recs.Get(ctx, p, Leads, wid, records.GetOptions{})
}

// repointActivities moves every activity linked (by field) to one of from
// onto to. It runs as the system: the activities belong to the records
// being merged, whoever logged them, and must not be left pointing at a
// lead in the recycle bin. Each change is an audited update.
func (m *Module) repointActivities(ctx context.Context, field string, from []int64, to int64) error {
	if len(from) == 0 {
		return nil
	}
	ids := make([]string, len(from))
	for i, id := range from {
		ids[i] = strconv.Quote(strconv.FormatInt(id, 10))
	}
	filter := field + " in [" + strings.Join(ids, ", ") + "]"
	var todo []int64
	err := m.recs.Each(ctx, system(), Activities, records.EachOptions{ListOptions: records.ListOptions{Filter: filter, Fields: []string{"id"}}},
		func(recs []records.Record) error {
			for _, r := range recs {
				todo = append(todo, r.ID())
			}
			return nil
		})
	if err != nil {
		return err
	}
	for _, id := range todo {
		if _, err := m.update(ctx, system(), Activities, id, map[string]any{field: to}); err != nil {
			return err
		}
	}
	return nil
}
