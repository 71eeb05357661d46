package rules

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Run is one row of a rule's run log as the API shows it.
type Run struct {
	ID         string         `json:"id"`
	Rule       string         `json:"rule"`
	Entity     string         `json:"entity"`
	Record     *string        `json:"record_id"`
	Trigger    string         `json:"trigger"`
	Outcome    string         `json:"outcome"`
	Actions    []actionResult `json:"actions"`
	Error      *RunError      `json:"error"`
	DurationMS float64        `json:"duration_ms"`
	Depth      int            `json:"depth"`
	Job        *string        `json:"job,omitempty"`
	At         string         `json:"at"`
}

// RunError is a run's error in the reader's language.
type RunError struct {
	Code    string      `json:"code"`
	Message string      `json:"message"`
	Action  *int        `json:"action,omitempty"`
	Type    string      `json:"type,omitempty"`
	Fields  []RunFieldE `json:"fields,omitempty"`
}

// RunFieldE is one field error of a failed action.
type RunFieldE struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// RunPage is a page of a rule's run log, newest first; NextBefore continues
// it.
type RunPage struct {
	Items      []Run  `json:"items"`
	NextBefore string `json:"next_before,omitempty"`
}

// RunFilter selects runs.
type RunFilter struct {
	Outcome string
	Before  int64
	Limit   int
}

// Runs lists a rule's run log for p, who must be able to read the rule.
func (e *Engine) Runs(ctx context.Context, p *access.Principal, ruleID int64, f RunFilter) (RunPage, error) {
	if _, err := e.recs.Get(ctx, p, Entity, ruleID, records.GetOptions{Fields: []string{"name"}}); err != nil {
		return RunPage{}, err
	}
	limit, err := records.PageLimit(f.Limit)
	if err != nil {
		return RunPage{}, err
	}
	f.Limit = limit
	q := `SELECT id, rule_id, entity, record_id, trigger_type, outcome, actions, error, duration_us, depth, job_id, at
		FROM rule_runs WHERE rule_id = ?`
	args := []any{ruleID}
	if f.Outcome != "" {
		switch f.Outcome {
		case outcomeMatched, outcomeSkipped, outcomeFailed, outcomeLoop:
		default:
			return RunPage{}, apperr.Invalid("rule_bad_outcome", "outcome", f.Outcome)
		}
		q += ` AND outcome = ?`
		args = append(args, f.Outcome)
	}
	if f.Before > 0 {
		q += ` AND id < ?`
		args = append(args, f.Before)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit+1)
	rows, err := e.db.Query(ctx, q, args...)
	if err != nil {
		return RunPage{}, err
	}
	defer rows.Close()
	lang := i18n.Lang(p.Lang)
	page := RunPage{Items: []Run{}}
	var lastID int64
	for rows.Next() {
		var id, rule, dur, at int64
		var depth int
		var entity, trigger, outcome string
		var record, job sql.NullInt64
		var actions, errRaw []byte
		if err := rows.Scan(&id, &rule, &entity, &record, &trigger, &outcome, &actions, &errRaw, &dur, &depth, &job, &at); err != nil {
			return RunPage{}, err
		}
		if len(page.Items) == f.Limit {
			page.NextBefore = itoa64(lastID)
			break
		}
		run := Run{ID: itoa64(id), Rule: itoa64(rule), Entity: entity, Trigger: trigger, Outcome: outcome,
			DurationMS: float64(dur) / 1000, Depth: depth, At: meta.FormatTime(time.UnixMicro(at))}
		if record.Valid {
			s := itoa64(record.Int64)
			run.Record = &s
		}
		if job.Valid {
			s := itoa64(job.Int64)
			run.Job = &s
		}
		if err := json.Unmarshal(actions, &run.Actions); err != nil || run.Actions == nil {
			run.Actions = []actionResult{}
		}
		if len(errRaw) > 0 && string(errRaw) != "null" {
			var re runError
			if json.Unmarshal(errRaw, &re) == nil {
				run.Error = re.render(lang)
			}
		}
		page.Items = append(page.Items, run)
		lastID = id
	}
	return page, rows.Err()
}

// render writes a stored error in lang.
func (re *runError) render(lang i18n.Lang) *RunError {
	out := &RunError{Code: re.Code, Action: re.Action, Type: re.Type}
	msg := i18n.Message(lang, re.Code, re.Args)
	var parts []string
	for _, f := range re.Fields {
		m := i18n.Message(lang, f.Code, f.Args)
		out.Fields = append(out.Fields, RunFieldE{Field: f.Field, Code: f.Code, Message: m})
		parts = append(parts, f.Field+": "+m)
	}
	if len(parts) > 0 {
		msg += " (" + strings.Join(parts, "; ") + ")"
	}
	if re.Action != nil {
		msg = i18n.Message(lang, "rule_action_failed", map[string]any{"index": *re.Action + 1, "type": re.Type, "reason": msg})
	}
	out.Message = msg
	return out
}

// purgeJob keeps the run log bounded: rows older than Limits.KeepRuns go,
// and each rule keeps at most Limits.KeepRunsPerRule rows. Old marks and
// rate-limit windows go too.
func (e *Engine) purgeJob(ctx context.Context, _ *jobs.Job) error {
	now := e.now()
	if _, err := e.db.Exec(ctx, `DELETE FROM rule_runs WHERE at < ?`, now.Add(-e.limits.KeepRuns).UnixMicro()); err != nil {
		return err
	}
	rows, err := e.db.Query(ctx, `SELECT rule_id FROM rule_runs GROUP BY rule_id HAVING COUNT(*) > ?`, e.limits.KeepRunsPerRule)
	if err != nil {
		return err
	}
	var over []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		over = append(over, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range over {
		if _, err := e.db.Exec(ctx, `DELETE FROM rule_runs WHERE rule_id = ? AND id <= (SELECT id FROM rule_runs
			WHERE rule_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`, id, id, e.limits.KeepRunsPerRule); err != nil {
			return err
		}
	}
	// A date mark is needed until its date has passed (a scheduled scan
	// removes its own marks when it ends; a crashed one's go here).
	if _, err := e.db.Exec(ctx, `DELETE FROM rule_marks WHERE at < ?`, now.Add(-48*time.Hour).UnixMicro()); err != nil {
		return err
	}
	_, err = e.db.Exec(ctx, `DELETE FROM rule_hook_hits WHERE window_start < ?`, now.Unix()/60-60)
	return err
}
