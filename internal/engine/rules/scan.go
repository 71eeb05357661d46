package rules

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// scheduleJob is a scheduled rule's scan: every record of the entity
// matching the condition gets a run, bounded and in batches.
func (e *Engine) scheduleJob(ctx context.Context, j *jobs.Job) error {
	var p scheduleRun
	if err := j.Decode(&p); err != nil {
		return jobs.Permanent(err)
	}
	r, err := e.ruleByID(ctx, p.Rule)
	if err != nil {
		if domainError(err) {
			return jobs.Permanent(err)
		}
		return err
	}
	if r == nil || !r.Enabled || r.Trigger.Type != TriggerSchedule {
		return nil // changed since the schedule fired; its schedule is gone or moved
	}
	// One mark per firing: a scan that is run again after a crash does
	// not queue a record twice.
	return e.scan(ctx, r, "", "s"+itoa64(j.ID), true)
}

// datesJob is the hourly scan of date-relative rules: each enabled one
// runs on the records whose date field plus the offset falls on today
// (Asia/Shanghai), once per record and date.
func (e *Engine) datesJob(ctx context.Context, _ *jobs.Job) error {
	all, err := e.enabledRules(ctx)
	if err != nil {
		return err
	}
	today := e.now().In(meta.Shanghai)
	for _, r := range all {
		if r.Trigger.Type != TriggerDate {
			continue
		}
		filter := dateFilter(r, today)
		if err := e.scan(ctx, r, filter, today.Format(time.DateOnly), false); err != nil {
			e.log.Warn("rules: date scan failed", "rule", r.ID, "err", err)
		}
	}
	return nil
}

// dateFilter selects the records whose date field plus the offset is
// today: their date is today minus the offset.
func dateFilter(r *Rule, today time.Time) string {
	y, m, d := today.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, meta.Shanghai).AddDate(0, 0, -r.Trigger.OffsetDays)
	if dateFieldType(r.ent, r.Trigger.Field) == "datetime" {
		return r.Trigger.Field + " >= " + strconv.Quote(day.Format(time.RFC3339)) + " && " +
			r.Trigger.Field + " < " + strconv.Quote(day.AddDate(0, 0, 1).Format(time.RFC3339))
	}
	return r.Trigger.Field + " == " + strconv.Quote(day.Format(time.DateOnly))
}

// scan reads the entity's records the filter selects, in id order (at
// most Limits.ScanRecords), keeps those the condition holds for (at most
// the trigger's limit), and queues a run for each that has no mark yet,
// marking it in the same transaction. It logs one summary row. A
// scheduled scan's marks are removed when it ends; date marks stay until
// the purge (their date is over by then).
func (e *Engine) scan(ctx context.Context, r *Rule, filter, mark string, scheduled bool) error {
	start := time.Now()
	limit := e.limits.ScanMatches
	if r.Trigger.Limit > 0 {
		limit = r.Trigger.Limit
	}
	// The condition also narrows the query when it is a valid filter
	// (no arithmetic, no user); the exact test is still done in Go.
	pre := filter
	if r.cond != nil && e.recs.CheckQuery(access.System(), r.Entity, r.cond.src, "") == nil {
		if pre != "" {
			pre += " && "
		}
		pre += "(" + r.cond.src + ")"
	}
	var subs []string
	for i := range r.ent.Fields {
		if r.ent.Fields[i].Type == "subtable" {
			subs = append(subs, r.ent.Fields[i].Name)
		}
	}
	var last int64
	scanned, matched, queued, failed := 0, 0, 0, 0
	capped := false
	var found []int64
	flush := func(ids []int64) error {
		return e.db.WithTx(ctx, func(ctx context.Context) error {
			n := 0
			for _, id := range ids {
				res, err := e.db.Exec(ctx, `INSERT INTO rule_marks (rule_id, record_id, mark, at) VALUES (?, ?, ?, ?)
					ON CONFLICT DO NOTHING`, r.ID, id, mark, e.now().UnixMicro())
				if err != nil {
					return err
				}
				if k, err := res.RowsAffected(); err != nil || k == 0 {
					continue // already queued for this firing or date
				}
				if _, err := e.jobs.Enqueue(ctx, KindRun, runPayload{Rule: r.ID, Version: r.Version, Entity: r.Entity,
					Record: id, Trigger: r.Trigger.Type}, jobs.EnqueueOptions{}); err != nil {
					return err
				}
				n++
			}
			queued += n
			return nil
		})
	}
	// With a filter the query selects the candidates (in id order, a page
	// at a time; no run is queued before the reading ends, so the pages do
	// not shift under it); without one the records are read in id order by
	// key.
	for page := 1; matched < limit; page++ {
		if scanned >= e.limits.ScanRecords {
			capped = true
			break
		}
		opts := records.ListOptions{Sort: "id", PerPage: 500, Fields: subs, Count: records.CountNone}
		if pre != "" {
			opts.Filter, opts.Page = pre, page
		} else {
			ids, err := e.nextIDs(ctx, r.ent, last, 500)
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				break
			}
			last = ids[len(ids)-1]
			opts.Filter = "id in [" + joinIDs(ids) + "]"
		}
		res, err := e.recs.List(ctx, access.System(), r.Entity, opts)
		if err != nil {
			return err
		}
		if pre != "" && len(res.Items) == 0 {
			break
		}
		scanned += len(res.Items)
		for _, rec := range res.Items {
			if matched >= limit {
				capped = true
				break
			}
			if r.cond != nil {
				sc := &scope{e: e, ctx: ctx, ent: r.ent, rec: rec}
				ok, err := sc.evalBool(r.cond)
				if err != nil {
					if _, isApp := apperr.As(err); !isApp {
						return err
					}
					failed++
					if isCutOff(err) {
						e.log.Warn("rules: condition evaluation cut off", "rule", r.ID, "record", rec.ID(), "err", err)
					}
					if err := e.logRun(ctx, &runRow{rule: r.ID, entity: r.Entity, record: rec.ID(), trigger: r.Trigger.Type,
						outcome: outcomeFailed, err: errorOf(err)}, start); err != nil {
						return err
					}
					continue
				}
				if !ok {
					continue
				}
			}
			matched++
			found = append(found, rec.ID())
		}
	}
	// Runs are queued once the reading is over, so that none changes a
	// record (and the pages of the query) while the scan reads.
	for len(found) > 0 {
		n := min(len(found), e.limits.ScanBatch)
		if err := flush(found[:n]); err != nil {
			return err
		}
		found = found[n:]
	}
	if scheduled {
		// The firing's marks guard a scan run again after a crash; once it
		// is over they are not needed (a frequent schedule would pile them up).
		if _, err := e.db.Exec(ctx, `DELETE FROM rule_marks WHERE rule_id = ? AND mark = ?`, r.ID, mark); err != nil {
			return err
		}
	}
	outcome := outcomeSkipped
	if matched > 0 {
		outcome = outcomeMatched
	}
	return e.logRun(ctx, &runRow{rule: r.ID, entity: r.Entity, trigger: r.Trigger.Type, outcome: outcome,
		actions: []actionResult{{Index: -1, Type: "scan", Status: "done", Detail: map[string]any{
			"scanned": scanned, "matched": matched, "queued": queued, "failed": failed, "capped": capped, "mark": mark}}}}, start)
}

// nextIDs reads the ids of live records after last, in order. Rules act
// as the system, so no scope applies; the records themselves are then
// read through the records service.
func (e *Engine) nextIDs(ctx context.Context, ent *meta.Entity, last int64, n int) ([]int64, error) {
	return e.db.Int64s(ctx, "SELECT id FROM "+e.db.Ident(ent.Table())+" WHERE deleted_at IS NULL AND id > ? ORDER BY id LIMIT ?", last, n)
}

// quoteFilter quotes a text for a filter literal.
func quoteFilter(s string) string { return strconv.Quote(strings.TrimSpace(s)) }
