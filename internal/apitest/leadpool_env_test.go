package apitest

import (
	"context"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/module/leadpool"
	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// poolEnv is a Tenon with the demo organisation, a controllable clock,
// reps who see the leads of their regions, managers who see all leads, and
// three pools: 华东 (recycle after 7 days, cap 2), 华南 and company-wide.
type poolEnv struct {
	*env
	clock *testClock
	admin *client
	users map[string]string // login → id
	pools map[string]string // 华东, 华南, all → id
}

func newPoolEnv(t testing.TB) *poolEnv {
	t.Helper()
	clk := &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, shanghai)}
	pe := &poolEnv{env: openEnv(t, "tenon_leadpool", clk), clock: clk}
	pe.admin = pe.c("admin")
	pe.users = pe.userIDs()
	pe.role("sales_rep", []any{
		map[string]any{"entity": "leads", "actions": []string{"read", "create", "update"}, "scope": "regions"},
	})
	pe.role("sales_manager", []any{
		map[string]any{"entity": "leads", "actions": []string{"read", "create", "update"}, "scope": "all"},
	})
	pe.pools = map[string]string{}
	for _, p := range []map[string]any{
		{"name": "华东公海", "region": "华东", "recycle_days": 7, "claim_cap": 2},
		{"name": "华南公海", "region": "华南", "recycle_days": 10, "claim_cap": 5},
		{"name": "全公司公海", "recycle_days": 30, "claim_cap": 5},
	} {
		key := "all"
		if r, ok := p["region"].(string); ok {
			key = r
		}
		pe.pools[key] = pe.admin.do("POST", "/api/v1/records/lead_pools", p, nil).want(201).json()["id"].(string)
	}
	return pe
}

// role sets a demo role's permissions.
func (pe *poolEnv) role(name string, perms []any) {
	pe.t.Helper()
	roles := pe.admin.do("GET", `/api/v1/records/roles?filter=name%20==%20"`+name+`"`, nil, nil).want(200).items()
	pe.admin.do("PATCH", "/api/v1/records/roles/"+roles[0]["id"].(string), map[string]any{"permissions": perms}, nil).want(200)
}

// rule creates an active assignment rule.
func (pe *poolEnv) rule(body map[string]any) string {
	pe.t.Helper()
	return pe.admin.do("POST", "/api/v1/records/lead_assignment_rules", body, nil).want(201).json()["id"].(string)
}

// capture creates a lead as the system (a web form, a public capture):
// no owner, so the rules route it.
func (pe *poolEnv) capture(fields map[string]any) records.Record {
	pe.t.Helper()
	rec, err := pe.app.Records.Create(context.Background(), access.System(), "leads", fields)
	if err != nil {
		pe.t.Fatal(err)
	}
	return rec
}

// lead reads a lead as admin.
func (pe *poolEnv) lead(id any) map[string]any {
	pe.t.Helper()
	return pe.admin.do("GET", "/api/v1/records/leads/"+idOf(id), nil, nil).want(200).json()
}

// work runs every due job by the clock.
func (pe *poolEnv) work() {
	pe.t.Helper()
	if _, err := pe.app.Jobs.RunDue(context.Background()); err != nil {
		pe.t.Fatal(err)
	}
}

// tasksOf lists the open tasks of a user on a lead.
func (pe *poolEnv) tasksOf(login string, lead any) []map[string]any {
	pe.t.Helper()
	f := `owner == ` + pe.users[login] + ` && related_entity == "leads" && related_id == "` + idOf(lead) + `"`
	return pe.admin.do("GET", "/api/v1/records/tasks?filter="+urlEsc(f), nil, nil).want(200).items()
}

// inbox lists a user's notifications of a kind.
func (pe *poolEnv) inbox(login, kind string) []map[string]any {
	pe.t.Helper()
	var out []map[string]any
	for _, n := range pe.c(login).do("GET", "/api/v1/notifications?limit=100", nil, nil).want(200).items() {
		if n["kind"] == kind {
			out = append(out, n)
		}
	}
	return out
}

func (pe *poolEnv) action(login string, lead any, name string, body map[string]any) *response {
	pe.t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	return pe.c(login).do("POST", "/api/v1/records/leads/"+idOf(lead)+"/actions/"+name, body, nil)
}

func idOf(x any) string {
	switch v := x.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case records.Record:
		return strconv.FormatInt(v.ID(), 10)
	case map[string]any:
		return v["id"].(string)
	}
	panic("no id")
}

// ensure the package is linked (WithRules is part of the tested contract).
var _ = leadpool.WithRules

func urlEsc(s string) string { return url.QueryEscape(s) }
