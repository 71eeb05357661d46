package webhooks

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/audit"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// purgeKey is the settings row that carries a purge's counts from batch
// to batch, written in each batch's transaction: a run that stops midway
// and is retried still audits everything it deleted, in one entry.
const purgeKey = "webhooks.purge"

// purgeCounts is how many deliveries of each status a purge deleted.
type purgeCounts struct {
	Succeeded int64 `json:"succeeded"`
	Dead      int64 `json:"dead"`
}

// purgeJob is the daily webhooks.purge: it deletes for good the succeeded
// deliveries last changed more than Limits.KeepSucceeded ago and the dead
// ones more than Limits.KeepDead ago (live or in the recycle bin), through
// records.Purge in batches of Limits.PurgeBatch, one transaction each,
// and then writes one audit entry that sums them up (entity
// webhook_deliveries, action purged, record 0, source system). Pending
// and failed deliveries are never purged: their attempts are still due.
func (e *Engine) purgeJob(ctx context.Context, _ *jobs.Job) error {
	now := e.now()
	before := map[string]time.Time{
		StatusSucceeded: now.Add(-e.limits.KeepSucceeded),
		StatusDead:      now.Add(-e.limits.KeepDead),
	}
	for _, status := range []string{StatusSucceeded, StatusDead} {
		o := records.PurgeOptions{Limit: e.limits.PurgeBatch,
			Filter: `status == "` + status + `" && updated_at < "` + before[status].UTC().Format(time.RFC3339Nano) + `"`}
		for {
			var res records.PurgeResult
			err := e.db.WithTx(ctx, func(ctx context.Context) error {
				var err error
				if res, err = e.recs.Purge(ctx, system(), DeliveryEntity, o); err != nil || len(res.IDs) == 0 {
					return err
				}
				c, _, err := e.purgeCounts(ctx)
				if err != nil {
					return err
				}
				if status == StatusSucceeded {
					c.Succeeded += int64(len(res.IDs))
				} else {
					c.Dead += int64(len(res.IDs))
				}
				b, err := json.Marshal(c)
				if err != nil {
					return err
				}
				_, err = e.db.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
					ON CONFLICT (key) DO UPDATE SET value = excluded.value`, purgeKey, string(b))
				return err
			})
			if err != nil {
				return err
			}
			if res.Next == 0 {
				break
			}
			o.After = res.Next
		}
	}
	return e.db.WithTx(ctx, func(ctx context.Context) error {
		c, found, err := e.purgeCounts(ctx)
		if err != nil || !found {
			return err
		}
		entry := func(n int64, before time.Time) audit.Change {
			return audit.Change{New: map[string]any{"deleted": n, "updated_before": meta.FormatTime(before)}}
		}
		if err := audit.Write(ctx, e.db, audit.Entry{Entity: DeliveryEntity, Action: "purged", Source: access.SourceSystem, At: now,
			Changes: map[string]audit.Change{
				StatusSucceeded: entry(c.Succeeded, before[StatusSucceeded]),
				StatusDead:      entry(c.Dead, before[StatusDead]),
			}}); err != nil {
			return err
		}
		_, err = e.db.Exec(ctx, `DELETE FROM settings WHERE key = ?`, purgeKey)
		return err
	})
}

// purgeCounts reads the counts of the purge under way (found is false
// when none is).
func (e *Engine) purgeCounts(ctx context.Context) (c purgeCounts, found bool, err error) {
	var raw string
	err = e.db.QueryRow(ctx, `SELECT value FROM settings WHERE key = ?`, purgeKey).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	return c, true, json.Unmarshal([]byte(raw), &c)
}
