package reports

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// builtinFiles are the shipped reports and dashboards.
//
//go:embed builtin/*.json
var builtinFiles embed.FS

// Install creates the built-in reports and dashboards that do not exist
// yet (by key, the recycle bin included, so a deleted one stays deleted),
// shared with everyone. A report whose source entity or fields this
// installation lacks is left out, and so is its card.
func (s *Service) Install(ctx context.Context) error {
	var reps []map[string]any
	var dashes []map[string]any
	for _, f := range []struct {
		name string
		into any
	}{{"builtin/reports.json", &reps}, {"builtin/dashboards.json", &dashes}} {
		b, err := builtinFiles.ReadFile(f.name)
		if err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(f.into); err != nil {
			return err
		}
	}
	sys := access.System()
	ids := map[string]string{}
	for _, r := range reps {
		key := str(r["key"])
		id, found, err := s.byKey(ctx, Reports, key)
		if err != nil {
			return err
		}
		if !found {
			if _, ok := s.recs.Registry().Get(str(r["source"])); !ok {
				continue
			}
			in := map[string]any{"shared": true}
			for k, v := range r {
				in[k] = v
			}
			rec, err := s.recs.Create(ctx, sys, Reports, in)
			if err != nil {
				s.log.Warn("built-in report not installed", "key", key, "err", err)
				continue
			}
			id = rec.ID()
		}
		ids[key] = strconv.FormatInt(id, 10)
	}
	for _, d := range dashes {
		key := str(d["key"])
		if _, found, err := s.byKey(ctx, Dashboards, key); err != nil || found {
			if err != nil {
				return err
			}
			continue
		}
		in := map[string]any{"shared": true}
		for k, v := range d {
			in[k] = v
		}
		var layout []map[string]any
		cards, _ := d["layout"].([]any)
		for _, c := range cards {
			card, _ := c.(map[string]any)
			id, ok := ids[str(card["report"])]
			if !ok {
				continue
			}
			card["report"] = id
			layout = append(layout, card)
		}
		in["layout"] = layout
		if _, err := s.recs.Create(ctx, sys, Dashboards, in); err != nil {
			s.log.Warn("built-in dashboard not installed", "key", key, "err", err)
		}
	}
	return nil
}

// byKey finds a built-in record by its key, in the recycle bin too.
func (s *Service) byKey(ctx context.Context, entity, key string) (int64, bool, error) {
	for _, deleted := range []bool{false, true} {
		res, err := s.recs.List(ctx, access.System(), entity, records.ListOptions{Filter: "key == " + strconv.Quote(key),
			PerPage: 1, Count: records.CountNone, Deleted: deleted, Fields: []string{"key"}})
		if err != nil {
			return 0, false, err
		}
		if len(res.Items) > 0 {
			return res.Items[0].ID(), true, nil
		}
	}
	return 0, false, nil
}
