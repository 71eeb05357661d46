package apitest

import (
	"strings"
	"testing"
)

// A 华南 rep never sees 华东 leads, accounts or opportunities through the
// paths that do not go through a list screen: exports (CSV), the global
// search and counts. (Lists, duplicates, the pool, the board and the
// forecast have their own tests.)
func TestCRMRegionIsolationExportAndSearch(t *testing.T) {
	x := newCRMEnv(t)
	// Reps may export what they read.
	for _, r := range x.admin.do("GET", `/api/v1/records/roles?per_page=100`, nil, nil).want(200).items() {
		if r["name"] != "sales_rep" {
			continue
		}
		perms := []any{}
		for _, g := range r["permissions"].([]any) {
			g := g.(map[string]any)
			if e := g["entity"]; e == "leads" || e == "accounts" || e == "opportunities" {
				g["actions"] = append(g["actions"].([]any), "export")
			}
			perms = append(perms, g)
		}
		x.admin.do("PATCH", "/api/v1/records/roles/"+r["id"].(string), map[string]any{"permissions": perms}, nil).want(200)
	}
	east, south := x.c("rep.east"), x.c("rep.south")
	ea := x.mk(east, "accounts", map[string]any{"name": "华东机密机床有限公司", "region": "华东"})
	x.mk(east, "leads", map[string]any{"company": "华东机密机床有限公司", "contact_name": "赵工", "region": "华东"})
	x.mk(east, "opportunities", map[string]any{"name": "华东机密 产线", "account": ea["id"], "amount": "990000.00"})
	sa := x.mk(south, "accounts", map[string]any{"name": "华南公开装备有限公司", "region": "华南"})
	x.mk(south, "leads", map[string]any{"company": "华南公开装备有限公司", "contact_name": "钱工", "region": "华南"})
	x.mk(south, "opportunities", map[string]any{"name": "华南公开 产线", "account": sa["id"], "amount": "120000.00"})

	for _, entity := range []string{"leads", "accounts", "opportunities"} {
		csv := string(south.do("GET", "/api/v1/records/"+entity+"/export?format=csv", nil, nil).want(200).body)
		if strings.Contains(csv, "华东机密") || !strings.Contains(csv, "华南公开") {
			t.Fatalf("%s export as rep.south:\n%s", entity, csv)
		}
		if n := south.do("GET", "/api/v1/records/"+entity+"?per_page=1", nil, nil).want(200).json()["total"]; n != float64(1) {
			t.Fatalf("%s total as rep.south: %v", entity, n)
		}
		// The admin sees both (the records exist).
		all := string(x.admin.do("GET", "/api/v1/records/"+entity+"/export?format=csv", nil, nil).want(200).body)
		if !strings.Contains(all, "华东机密") || !strings.Contains(all, "华南公开") {
			t.Fatalf("%s export as admin:\n%s", entity, all)
		}
	}
	found := string(south.do("GET", "/api/v1/search?q=机密", nil, nil).want(200).body)
	if strings.Contains(found, "华东机密") {
		t.Fatalf("search as rep.south: %s", found)
	}
	if found := string(east.do("GET", "/api/v1/search?q=机密", nil, nil).want(200).body); !strings.Contains(found, "华东机密") {
		t.Fatalf("search as rep.east: %s", found)
	}
}
