package leadpool

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// maxReason bounds a return reason.
const maxReason = 500

// activePools returns the active pools, by id.
func (s *Service) activePools(ctx context.Context) ([]records.Record, error) {
	res, err := s.recs.List(ctx, system(), Pools, records.ListOptions{Filter: "active == true", Sort: "id", PerPage: records.MaxPerPage,
		Count: records.CountNone})
	if err != nil {
		return nil, err
	}
	return res.Items, nil
}

// poolFor is the pool a lead of region returns to: the active pool of the
// region, else the active company-wide pool, else nil. The record is
// shared (s.pools): read it, do not change it.
func (s *Service) poolFor(ctx context.Context, region string) (records.Record, error) {
	pools, err := s.pools.Get(ctx)
	if err != nil {
		return nil, err
	}
	return pickPool(pools, region), nil
}

func pickPool(pools []records.Record, region string) records.Record {
	var company records.Record
	for _, p := range pools {
		switch r := text(p["region"]); {
		case r == "" && company == nil:
			company = p
		case r != "" && r == region:
			return p
		}
	}
	return company
}

// usable reports whether p may use (list, claim from) an active pool.
func usable(p *access.Principal, pool records.Record) bool {
	if pool == nil || pool["active"] != true {
		return false
	}
	r := text(pool["region"])
	return p.Admin || r == "" || slices.Contains(p.Regions, r)
}

// Pools returns the pools p may use, by name.
func (s *Service) Pools(ctx context.Context, p *access.Principal) ([]records.Record, error) {
	all, err := s.activePools(ctx)
	if err != nil {
		return nil, err
	}
	var out []records.Record
	for _, pool := range all {
		if usable(p, pool) {
			out = append(out, pool)
		}
	}
	slices.SortStableFunc(out, func(a, b records.Record) int { return strings.Compare(text(a["name"]), text(b["name"])) })
	return out, nil
}

// Pool returns one pool p may use (404 otherwise: a pool of another region
// is not shown to exist).
func (s *Service) Pool(ctx context.Context, p *access.Principal, poolID int64) (records.Record, error) {
	pool, err := s.recs.Get(ctx, system(), Pools, poolID, records.GetOptions{})
	if err != nil {
		return nil, err
	}
	if !usable(p, pool) {
		return nil, apperr.NotFound()
	}
	return pool, nil
}

// PoolLeads is a page of the leads of a pool as p may list them.
func (s *Service) PoolLeads(ctx context.Context, p *access.Principal, poolID int64, o records.ListOptions) (*records.ListResult, error) {
	if _, err := s.Pool(ctx, p, poolID); err != nil {
		return nil, err
	}
	f := "pool == " + idText(poolID)
	if strings.TrimSpace(o.Filter) != "" {
		f += " && (" + o.Filter + ")"
	}
	o.Filter = f
	if o.Sort == "" {
		o.Sort = "-pooled_at"
	}
	return s.recs.List(ctx, p, Leads, o)
}

// PoolCount counts the leads of a pool p may list.
func (s *Service) PoolCount(ctx context.Context, p *access.Principal, poolID int64) (int64, error) {
	return s.recs.Count(ctx, p, Leads, "pool == "+idText(poolID))
}

// lockedLead is a lead's routing state read under its row lock.
type lockedLead struct {
	pool, owner int64
	status      string
	region      string
}

// lockLead reads a lead's pool, owner and status, locking its row on
// PostgreSQL (SQLite's single writer already orders the transaction).
func (s *Service) lockLead(ctx context.Context, leadID int64) (lockedLead, error) {
	q := "SELECT pool, owner, status, region FROM r_leads WHERE id = ? AND deleted_at IS NULL"
	if s.db.Kind == db.Postgres {
		q += " FOR UPDATE"
	}
	var pool, owner sql.NullInt64
	var status, region sql.NullString
	err := s.db.QueryRow(ctx, q, leadID).Scan(&pool, &owner, &status, &region)
	if errors.Is(err, sql.ErrNoRows) {
		return lockedLead{}, apperr.NotFound()
	}
	if err != nil {
		return lockedLead{}, err
	}
	return lockedLead{pool: pool.Int64, owner: owner.Int64, status: status.String, region: region.String}, nil
}

// lockUser holds a user's row until the transaction ends (PostgreSQL), so
// that one user's claims queue behind each other and the cap holds.
func (s *Service) lockUser(ctx context.Context, user int64) error {
	if s.db.Kind != db.Postgres {
		return nil
	}
	var x int64
	return s.db.QueryRow(ctx, "SELECT id FROM r_users WHERE id = ? FOR UPDATE", user).Scan(&x)
}

// Claimed counts user's claimed leads that hold a place under the cap:
// claimed after they last entered a pool, still the user's, open and out
// of every pool.
func (s *Service) Claimed(ctx context.Context, user int64) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, `SELECT COUNT(DISTINCT l.id) FROM r_lead_claims c JOIN r_leads l ON l.id = c.lead
		WHERE c.deleted_at IS NULL AND c.claimed_by = ? AND l.deleted_at IS NULL AND l.owner = ? AND l.pool IS NULL
		AND (l.status IS NULL OR l.status NOT IN (`+closedStatuses+`)) AND (l.pooled_at IS NULL OR c.claimed_at >= l.pooled_at)`,
		user, user).Scan(&n)
	return n, err
}

// lockPooled locks a lead that must be in a pool p may use.
func (s *Service) lockPooled(ctx context.Context, p *access.Principal, leadID int64) (lockedLead, records.Record, error) {
	l, err := s.lockLead(ctx, leadID)
	if err != nil {
		return l, nil, err
	}
	if l.pool == 0 {
		return l, nil, apperr.Conflict("lead_not_in_pool")
	}
	pool, err := s.recs.Get(ctx, system(), Pools, l.pool, records.GetOptions{})
	if err != nil {
		return l, nil, err
	}
	if !usable(p, pool) {
		return l, nil, apperr.Forbidden("leadpool_pool_forbidden", "pool", text(pool["name"]))
	}
	return l, pool, nil
}

// claimAction: POST .../leads/{id}/actions/claim.
func (s *Service) claimAction(ctx context.Context, p *access.Principal, rec records.Record, _ map[string]any) (records.Record, error) {
	if p.UserID == 0 {
		return nil, apperr.Forbidden("leadpool_claim_user_only")
	}
	l, pool, err := s.lockPooled(ctx, p, rec.ID())
	if err != nil {
		return nil, err
	}
	if err := s.lockUser(ctx, p.UserID); err != nil {
		return nil, err
	}
	n, err := s.Claimed(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	if limit := num(pool["claim_cap"]); n >= limit {
		return nil, apperr.New(apperr.ErrUnprocessable, "leadpool_claim_cap", "cap", limit, "held", n)
	}
	now := s.stamp()
	out, err := s.recs.Update(ctx, acting(p), Leads, rec.ID(), (&decision{owner: p.UserID}).input(now), 0)
	if err != nil {
		return nil, err
	}
	if _, err := s.recs.Create(ctx, acting(p), Claims, map[string]any{"lead": idText(rec.ID()), "claimed_by": idText(p.UserID),
		"pool": idText(l.pool), "claimed_at": now.Format(time.RFC3339Nano)}); err != nil {
		return nil, err
	}
	return out, nil
}

// returnAction: POST .../leads/{id}/actions/return {"reason": ...}.
func (s *Service) returnAction(ctx context.Context, p *access.Principal, rec records.Record, input map[string]any) (records.Record, error) {
	reason, _ := input["reason"].(string)
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, apperr.Fields(apperr.Field("reason", "required"))
	}
	if len([]rune(reason)) > maxReason {
		return nil, apperr.Fields(apperr.Field("reason", "too_long", "max", maxReason))
	}
	l, err := s.lockLead(ctx, rec.ID())
	if err != nil {
		return nil, err
	}
	if l.pool != 0 {
		return nil, apperr.Conflict("lead_already_in_pool")
	}
	if l.status == StatusConverted || l.status == StatusDisqualified {
		return nil, apperr.Conflict("leadpool_lead_closed", "status", l.status)
	}
	if l.owner != p.UserID {
		ok, err := s.manages(ctx, p, l.owner)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, apperr.Forbidden("leadpool_return_forbidden")
		}
	}
	pool, err := s.poolFor(ctx, l.region)
	if err != nil {
		return nil, err
	}
	if pool == nil {
		return nil, apperr.Conflict("leadpool_no_pool")
	}
	in := (&decision{pool: pool.ID()}).input(s.stamp())
	in["return_reason"] = reason
	return s.recs.Update(ctx, acting(p), Leads, rec.ID(), in, 0)
}

// assignAction: POST .../leads/{id}/actions/assign {"user": id}.
func (s *Service) assignAction(ctx context.Context, p *access.Principal, rec records.Record, input map[string]any) (records.Record, error) {
	user, ok := meta.ParseID(input["user"])
	if !ok {
		return nil, apperr.Fields(apperr.Field("user", "required"))
	}
	active, err := s.activeUser(ctx, user)
	if err != nil {
		return nil, err
	}
	if !active {
		return nil, apperr.Fields(apperr.Field("user", "link_not_found"))
	}
	if _, _, err := s.lockPooled(ctx, p, rec.ID()); err != nil {
		return nil, err
	}
	if ok, err := s.manages(ctx, p, user); err != nil {
		return nil, err
	} else if !ok {
		return nil, apperr.Forbidden("leadpool_assign_forbidden")
	}
	d := &decision{owner: user, followUpHours: defaultFollowUpHours}
	out, err := s.recs.Update(ctx, acting(p), Leads, rec.ID(), d.input(s.stamp()), 0)
	if err != nil {
		return nil, err
	}
	return out, s.followUp(ctx, p, out, d)
}

// assignByRulesAction: POST .../leads/{id}/actions/assign_by_rules routes
// an existing lead as if it were new (its owner, an administrator or the
// owner's manager).
func (s *Service) assignByRulesAction(ctx context.Context, p *access.Principal, rec records.Record, _ map[string]any) (records.Record, error) {
	l, err := s.lockLead(ctx, rec.ID())
	if err != nil {
		return nil, err
	}
	if l.status == StatusConverted || l.status == StatusDisqualified {
		return nil, apperr.Conflict("leadpool_lead_closed", "status", l.status)
	}
	if l.owner != p.UserID || l.owner == 0 {
		ok, err := s.manages(ctx, p, l.owner)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, apperr.Forbidden("leadpool_assign_forbidden")
		}
	}
	full, err := s.recs.Get(ctx, system(), Leads, rec.ID(), records.GetOptions{})
	if err != nil {
		return nil, err
	}
	d, err := s.route(ctx, full)
	if err != nil {
		return nil, err
	}
	if d.owner == 0 && d.pool == 0 {
		return nil, apperr.Conflict("leadpool_no_route")
	}
	if d.pool != 0 && d.pool == l.pool {
		return rec, nil
	}
	out, err := s.recs.Update(ctx, acting(p), Leads, rec.ID(), d.input(s.stamp()), 0)
	if err != nil || d.owner == 0 {
		return out, err
	}
	return out, s.followUp(ctx, p, out, d)
}

// defaultFollowUpHours is the follow-up time of a lead assigned by hand.
const defaultFollowUpHours = 24

// manages reports whether p may act for user: an administrator, the user's
// manager, or the head of the user's department or of a department above
// it. Nobody manages "no user" but administrators.
func (s *Service) manages(ctx context.Context, p *access.Principal, user int64) (bool, error) {
	if p.Admin {
		return true, nil
	}
	if user == 0 || p.UserID == 0 {
		return false, nil
	}
	var manager, dept sql.NullInt64
	err := s.db.QueryRow(ctx, "SELECT manager, department FROM r_users WHERE id = ?", user).Scan(&manager, &dept)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if manager.Int64 == p.UserID {
		return true, nil
	}
	seen := map[int64]bool{}
	for d := dept.Int64; d != 0 && !seen[d]; {
		seen[d] = true
		var head, parent sql.NullInt64
		err := s.db.QueryRow(ctx, "SELECT head, parent FROM r_departments WHERE id = ? AND deleted_at IS NULL", d).Scan(&head, &parent)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if head.Int64 == p.UserID {
			return true, nil
		}
		d = parent.Int64
	}
	return false, nil
}

func (s *Service) activeUser(ctx context.Context, user int64) (bool, error) {
	var n int64
	err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM r_users WHERE id = ? AND deleted_at IS NULL AND active = ?", user,
		meta.BoolToDB(s.db.Dialect, true)).Scan(&n)
	return n > 0, err
}

// beforePool keeps one active pool per region (and one company-wide).
func (s *Service) beforePool(ctx context.Context, c *records.Change) error {
	if c.New == nil || c.New["active"] != true {
		return nil
	}
	region := text(c.New["region"])
	pools, err := s.activePools(ctx)
	if err != nil {
		return err
	}
	for _, p := range pools {
		if p.ID() != c.New.ID() && text(p["region"]) == region {
			return apperr.Fields(apperr.Field("region", "leadpool_region_taken", "pool", text(p["name"])))
		}
	}
	return nil
}

// afterPool installs the recycling schedule with the pools (kept on every
// change, so a database with pools always has it).
func (s *Service) afterPool(ctx context.Context, c *records.Change) error {
	if c.Op == records.OpDelete {
		return nil
	}
	_, err := s.jobs.UpsertSchedule(ctx, jobs.ScheduleDef{Name: JobRecycle, Spec: recycleSpec, Kind: JobRecycle})
	return err
}

// beforeRule refuses a rule that could never assign anyone.
func (s *Service) beforeRule(ctx context.Context, c *records.Change) error {
	if c.New == nil {
		return nil
	}
	if len(ids(c.New["assignees"])) == 0 && id(c.New["department"]) == 0 {
		return apperr.Fields(apperr.Field("assignees", "leadpool_rule_no_assignee"))
	}
	return nil
}
