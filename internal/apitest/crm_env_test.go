package apitest

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"
)

// crmEnv is a Tenon with the demo organisation and the crm permission
// matrix: reps read and write the leads, accounts, contacts, activities and
// opportunities of their regions, with the credit fields of accounts hidden;
// the sales manager updates every one; finance reads accounts with credit.
type crmEnv struct {
	*env
	clk   *testClock
	admin *client
	users map[string]string
}

func newCRMEnv(t *testing.T) *crmEnv {
	t.Helper()
	clk := &testClock{}
	clk.Set(time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("CST", 8*3600)))
	x := &crmEnv{env: openEnv(t, "tenon_crm", clk), clk: clk}
	x.admin = x.c("admin")
	x.users = x.userIDs()
	crud := []string{"read", "create", "update", "delete"}
	credit := []string{"credit_rating", "credit_limit", "payment_terms_days", "receivables"}
	grant := func(entity, scope string, actions []string, hidden ...string) map[string]any {
		g := map[string]any{"entity": entity, "actions": actions, "scope": scope}
		if len(hidden) > 0 {
			g["hidden_fields"] = hidden
		}
		return g
	}
	perms := map[string][]any{
		"sales_rep": {grant("leads", "regions", crud), grant("accounts", "regions", crud, credit...), grant("contacts", "regions", crud),
			grant("activities", "regions", crud), grant("opportunities", "regions", crud), grant("web_forms", "own", []string{"read"})},
		"sales_manager": {grant("leads", "all", crud), grant("accounts", "all", crud), grant("contacts", "all", crud),
			grant("activities", "all", crud), grant("opportunities", "all", crud)},
		"finance": {grant("accounts", "all", []string{"read"}), grant("contacts", "all", []string{"read"})},
	}
	for _, r := range x.admin.do("GET", `/api/v1/records/roles?per_page=100`, nil, nil).want(200).items() {
		if p, ok := perms[r["name"].(string)]; ok {
			x.admin.do("PATCH", "/api/v1/records/roles/"+r["id"].(string), map[string]any{"permissions": p}, nil).want(200)
		}
	}
	return x
}

// mk creates a record as c and returns it.
func (x *crmEnv) mk(c *client, entity string, v map[string]any) map[string]any {
	x.t.Helper()
	return c.do("POST", "/api/v1/records/"+entity, v, nil).want(201).json()
}

// get reads a record as c.
func (x *crmEnv) get(c *client, entity, id string) map[string]any {
	x.t.Helper()
	return c.do("GET", "/api/v1/records/"+entity+"/"+id, nil, nil).want(200).json()
}

// dups asks for duplicates as c.
func (x *crmEnv) dups(c *client, q url.Values) []map[string]any {
	x.t.Helper()
	return c.do("GET", "/api/v1/crm/duplicates?"+q.Encode(), nil, nil).want(200).items()
}

func ids(items []map[string]any) map[string][]any {
	out := map[string][]any{}
	for _, it := range items {
		m, _ := it["match"].([]any)
		out[it["entity"].(string)+":"+it["id"].(string)] = m
	}
	return out
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }
