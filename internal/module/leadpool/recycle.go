package leadpool

import (
	"context"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/notify"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// recycleStatuses is the SQL list of the statuses a recycled lead may have.
const recycleStatuses = "'" + StatusNew + "','" + StatusAssigned + "','" + StatusWorking + "'"

// recycleJob returns stale leads to their pools (see the package doc).
func (s *Service) recycleJob(ctx context.Context, _ *jobs.Job) error {
	_, err := s.Recycle(ctx)
	return err
}

// Recycle runs one recycling pass and returns how many leads it returned.
func (s *Service) Recycle(ctx context.Context) (int, error) {
	pools, err := s.activePools(ctx)
	if err != nil {
		return 0, err
	}
	var regional []any
	for _, p := range pools {
		if r := text(p["region"]); r != "" {
			regional = append(regional, r)
		}
	}
	total := 0
	for _, p := range pools {
		cond, args := "region = ?", []any{text(p["region"])}
		if text(p["region"]) == "" {
			cond, args = "region IS NULL", nil
			if len(regional) > 0 {
				cond = "(region IS NULL OR region NOT IN (" + marks(len(regional)) + "))"
				args = regional
			}
		}
		days := max(num(p["recycle_days"]), 1)
		cutoff := meta.TimeToDB(s.db.Dialect, s.stamp().Add(-time.Duration(days)*24*time.Hour))
		where := "deleted_at IS NULL AND pool IS NULL AND status IN (" + recycleStatuses + ") AND " + cond +
			" AND COALESCE(last_followup_at, assigned_at, created_at) < ?"
		args = append(args, cutoff)
		var after int64
		for {
			q := "SELECT id FROM r_leads WHERE " + where + " AND id > ? ORDER BY id LIMIT ?"
			batch, err := s.db.Int64s(ctx, q, append(append([]any(nil), args...), after, s.batch)...)
			if err != nil {
				return total, err
			}
			if len(batch) == 0 {
				break
			}
			after = batch[len(batch)-1]
			n, err := s.recycleBatch(ctx, p, days, where, args, batch)
			total += n
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// recycleBatch returns one batch of leads in one transaction: each is
// checked again under its lock, put in the pool and its former owner told.
func (s *Service) recycleBatch(ctx context.Context, pool records.Record, days int64, where string, args []any, batch []int64) (int, error) {
	n := 0
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		n = 0
		for _, leadID := range batch {
			if _, err := s.lockLead(ctx, leadID); err != nil {
				continue // gone meanwhile
			}
			var still int64
			if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM r_leads WHERE id = ? AND "+where, append([]any{leadID}, args...)...).Scan(&still); err != nil {
				return err
			}
			if still == 0 {
				continue
			}
			in := (&decision{pool: pool.ID()}).input(s.stamp())
			in["return_reason"] = i18n.Message(i18n.ZH, "leadpool_recycled_reason", map[string]any{"days": days})
			lead, err := s.recs.Update(ctx, system(), Leads, leadID, in, 0)
			if err != nil {
				return err
			}
			n++
			if owner := id(lead["owner"]); owner != 0 {
				if err := s.note.Send(ctx, notify.Message{Kind: KindRecycled, To: []int64{owner}, Code: "leadpool_recycled",
					Args:   map[string]any{"company": text(lead["company"]), "days": days, "pool": text(pool["name"])},
					Entity: Leads, RecordID: leadID}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return n, err
}
