package leadpool

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/notify"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// rulesKey marks a context whose lead creates go through the rules.
type rulesKey struct{}

// WithRules returns ctx in which leads created without an owner other than
// their creator are assigned by the rules (a capture screen's "assign by
// rules" option).
func WithRules(ctx context.Context) context.Context { return context.WithValue(ctx, rulesKey{}, true) }

// decision is where routing sends a lead: to a user by a rule, or to a pool.
type decision struct {
	owner         int64
	rule          string // the rule's name
	followUpHours int64
	pool          int64
}

// decisionKey carries a create's decision from its before hook to its after
// hook (the same *records.Change), within one attempt of the transaction.
type decisionKey struct{ c *records.Change }

// beforeLead routes new leads that nobody took on, and stamps pooled_at
// when a lead enters a pool by a plain edit.
func (s *Service) beforeLead(ctx context.Context, c *records.Change) error {
	if c.New == nil {
		return nil
	}
	if c.Op == records.OpUpdate {
		if id(c.New["pool"]) != 0 && id(c.New["pool"]) != id(c.Old["pool"]) && c.New["pooled_at"] == c.Old["pooled_at"] {
			c.New["pooled_at"] = s.stamp()
		}
		return nil
	}
	if c.Op != records.OpCreate {
		return nil
	}
	if id(c.New["pool"]) != 0 {
		if c.New["pooled_at"] == nil {
			c.New["pooled_at"] = s.stamp()
		}
		return nil
	}
	if st := text(c.New["status"]); st == StatusConverted || st == StatusDisqualified || !wantsRules(ctx, c) {
		return nil
	}
	d, err := s.route(ctx, c.New)
	if err != nil {
		return err
	}
	d.apply(c.New, s.stamp())
	db.SetTxValue(ctx, decisionKey{c}, d)
	return nil
}

// afterLead creates the follow-up task and the notification of a lead a
// rule assigned on create.
func (s *Service) afterLead(ctx context.Context, c *records.Change) error {
	if c.Op != records.OpCreate {
		return nil
	}
	d, ok := db.TxValue(ctx, decisionKey{c}).(*decision)
	if !ok || d.owner == 0 {
		return nil
	}
	return s.followUp(ctx, c.P, c.New, d)
}

// wantsRules reports whether a new lead was left for the rules (see the
// package doc).
func wantsRules(ctx context.Context, c *records.Change) bool {
	if on, _ := ctx.Value(rulesKey{}).(bool); on {
		return true
	}
	owner := id(c.New["owner"])
	return owner == 0 || c.P.Source == sourceImport && c.P.UserID != 0 && owner == c.P.UserID
}

// apply writes a decision into a lead's values.
func (d *decision) apply(lead records.Record, now time.Time) {
	if d.owner != 0 {
		lead["owner"] = d.owner
		lead["status"] = StatusAssigned
		lead["assigned_at"] = now
		delete(lead, "pool")
		return
	}
	if d.pool != 0 {
		lead["pool"] = d.pool
		lead["pooled_at"] = now
		lead["status"] = StatusNew
	}
}

// input is the decision as a records.Update input.
func (d *decision) input(now time.Time) map[string]any {
	if d.owner != 0 {
		return map[string]any{"owner": idText(d.owner), "status": StatusAssigned, "assigned_at": now.Format(time.RFC3339Nano), "pool": nil}
	}
	return map[string]any{"pool": idText(d.pool), "pooled_at": now.Format(time.RFC3339Nano), "status": StatusNew}
}

// rule is an active assignment rule as routing reads it.
type rule struct {
	id            int64
	name          string
	regions       []string
	productLines  []string
	industries    []string
	assignees     []int64
	department    int64
	method        string
	followUpHours int64
}

func (r rule) matches(lead records.Record) bool {
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	return in(r.regions, text(lead["region"])) && in(r.productLines, text(lead["product_line"])) && in(r.industries, text(lead["industry"]))
}

// activeRules returns the active rules in the order they are tried.
func (s *Service) activeRules(ctx context.Context) ([]rule, error) {
	res, err := s.recs.List(ctx, system(), Rules, records.ListOptions{Filter: "active == true", Sort: "priority,id",
		PerPage: records.MaxPerPage, Count: records.CountNone})
	if err != nil {
		return nil, err
	}
	out := make([]rule, 0, len(res.Items))
	for _, r := range res.Items {
		out = append(out, rule{id: r.ID(), name: text(r["name"]), regions: texts(r["regions"]), productLines: texts(r["product_lines"]),
			industries: texts(r["industries"]), assignees: ids(r["assignees"]), department: id(r["department"]),
			method: text(r["method"]), followUpHours: max(num(r["follow_up_hours"]), 1)})
	}
	return out, nil
}

// route decides where a lead goes: the first matching rule with an active
// candidate, else the pool of its region, else the company-wide pool, else
// nowhere (the lead stays as it is).
func (s *Service) route(ctx context.Context, lead records.Record) (*decision, error) {
	rules, err := s.rules.Get(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		if !r.matches(lead) {
			continue
		}
		cands, err := s.candidates(ctx, r)
		if err != nil {
			return nil, err
		}
		if len(cands) == 0 {
			continue
		}
		owner, err := s.pick(ctx, r, cands)
		if err != nil {
			return nil, err
		}
		return &decision{owner: owner, rule: r.name, followUpHours: r.followUpHours}, nil
	}
	pool, err := s.poolFor(ctx, text(lead["region"]))
	if err != nil {
		return nil, err
	}
	return &decision{pool: pool.ID()}, nil
}

// candidates are the active users among the rule's assignees and its
// department's members, by id.
func (s *Service) candidates(ctx context.Context, r rule) ([]int64, error) {
	var conds []string
	var args []any
	args = append(args, meta.BoolToDB(s.db.Dialect, true))
	if len(r.assignees) > 0 {
		conds = append(conds, "id IN ("+marks(len(r.assignees))+")")
		for _, a := range r.assignees {
			args = append(args, a)
		}
	}
	if r.department != 0 {
		conds = append(conds, "department = ?")
		args = append(args, r.department)
	}
	if len(conds) == 0 {
		return nil, nil
	}
	return s.db.Int64s(ctx, "SELECT id FROM r_users WHERE deleted_at IS NULL AND active = ? AND ("+strings.Join(conds, " OR ")+") ORDER BY id", args...)
}

// pick chooses among candidates by the rule's method and moves its
// rotation on, holding the rule's row until the transaction ends.
func (s *Service) pick(ctx context.Context, r rule, cands []int64) (int64, error) {
	var pos int64
	q := "SELECT COALESCE(rr_position, 0) FROM r_lead_assignment_rules WHERE id = ?"
	if s.db.Kind == db.Postgres {
		q += " FOR UPDATE"
	}
	if err := s.db.QueryRow(ctx, q, r.id).Scan(&pos); err != nil {
		return 0, err
	}
	pool := cands
	if r.method == LeastLoaded {
		loads, err := s.openLoads(ctx, cands)
		if err != nil {
			return 0, err
		}
		least := loads[cands[0]]
		for _, c := range cands {
			least = min(least, loads[c])
		}
		pool = nil
		for _, c := range cands {
			if loads[c] == least {
				pool = append(pool, c)
			}
		}
	}
	chosen := pool[int(pos%int64(len(pool)))]
	if _, err := s.recs.Update(ctx, system(), Rules, r.id, map[string]any{"rr_position": json.Number(strconv.FormatInt(pos+1, 10))}, 0); err != nil {
		return 0, err
	}
	return chosen, nil
}

// openStatuses is the SQL list of statuses a lead counts as open with.
const closedStatuses = "'" + StatusConverted + "','" + StatusDisqualified + "'"

// openLoads counts the open leads out of pools of each user.
func (s *Service) openLoads(ctx context.Context, users []int64) (map[int64]int64, error) {
	args := make([]any, len(users))
	for i, u := range users {
		args[i] = u
	}
	rows, err := s.db.Query(ctx, "SELECT owner, COUNT(*) FROM r_leads WHERE deleted_at IS NULL AND pool IS NULL AND (status IS NULL OR status NOT IN ("+
		closedStatuses+")) AND owner IN ("+marks(len(users))+") GROUP BY owner", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var u, n int64
		if err := rows.Scan(&u, &n); err != nil {
			return nil, err
		}
		out[u] = n
	}
	return out, rows.Err()
}

// followUp gives the assignee a follow-up task on the lead and tells them,
// in the caller's transaction.
func (s *Service) followUp(ctx context.Context, p *access.Principal, lead records.Record, d *decision) error {
	lang, err := s.userLang(ctx, d.owner)
	if err != nil {
		return err
	}
	company := text(lead["company"])
	due := s.stamp().Add(time.Duration(d.followUpHours) * time.Hour)
	task := map[string]any{
		"title":          i18n.Message(lang, "leadpool_task_title", map[string]any{"company": company}),
		"description":    i18n.Message(lang, "leadpool_task_body", map[string]any{"company": company, "hours": d.followUpHours}),
		"due_at":         due.Format(time.RFC3339Nano),
		"owner":          idText(d.owner),
		"related_entity": Leads,
		"related_id":     idText(lead.ID()),
	}
	if _, err := s.recs.Create(ctx, system(), Tasks, task); err != nil {
		return err
	}
	args := map[string]any{"company": company, "due": due.In(meta.Shanghai).Format("2006-01-02 15:04"),
		"rule": d.rule}
	code := "leadpool_assigned"
	if d.rule == "" {
		code = "leadpool_assigned_by"
		args["actor"] = actorName(p)
	}
	return s.note.Send(ctx, notify.Message{Kind: KindAssigned, To: []int64{d.owner}, Code: code, Args: args,
		Entity: Leads, RecordID: lead.ID(), Actor: p.UserID})
}

func actorName(p *access.Principal) string {
	if p.Name != "" {
		return p.Name
	}
	return "Tenon"
}

func (s *Service) userLang(ctx context.Context, user int64) (i18n.Lang, error) {
	var lang *string
	if err := s.db.QueryRow(ctx, "SELECT language FROM r_users WHERE id = ?", user).Scan(&lang); err != nil {
		return "", err
	}
	if lang != nil && *lang == string(i18n.EN) {
		return i18n.EN, nil
	}
	return i18n.ZH, nil
}

// ---------------------------------------------------------------- values

func id(x any) int64 {
	switch v := x.(type) {
	case int64:
		return v
	case int:
		return int64(v)
	}
	return 0
}

func num(x any) int64 { return id(x) }

func ids(x any) []int64 { v, _ := x.([]int64); return v }

func text(x any) string { v, _ := x.(string); return v }

func texts(x any) []string { v, _ := x.([]string); return v }

func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func idText(n int64) string { return strconv.FormatInt(n, 10) }
