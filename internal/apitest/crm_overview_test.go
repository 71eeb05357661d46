package apitest

import "testing"

// The account 360° overview: decision chain, open opportunities, one
// timeline, credit data only for those who may read it.
func TestCRMAccountOverview(t *testing.T) {
	x := newCRMEnv(t)
	east := x.c("rep.east")
	acct := x.mk(x.admin, "accounts", map[string]any{"name": "南京重工集团", "region": "华东", "credit_rating": "aa",
		"credit_limit": "2000000.00", "payment_terms_days": 60, "owner": x.users["rep.east"]})
	aid := acct["id"].(string)
	for _, c := range []map[string]any{
		{"name": "采购李", "decision_role": "procurement", "influence": "medium"},
		{"name": "总经理孙", "decision_role": "decision_maker", "influence": "high"},
		{"name": "技术吴", "decision_role": "technical", "influence": "low"},
		{"name": "技术郑", "decision_role": "technical", "influence": "high"},
	} {
		c["account"] = aid
		x.mk(east, "contacts", c)
	}
	x.mk(east, "opportunities", map[string]any{"name": "重工二期", "account": aid, "region": "华东"})
	x.mk(east, "activities", map[string]any{"kind": "visit", "subject": "拜访总经理", "account": aid})

	ov := east.do("GET", "/api/v1/crm/accounts/"+aid+"/overview", nil, nil).want(200).json()
	chain := ov["decision_chain"].([]any)
	var order []string
	for _, g := range chain {
		for _, c := range g.(map[string]any)["contacts"].([]any) {
			order = append(order, c.(map[string]any)["name"].(string))
		}
	}
	want := []string{"总经理孙", "技术郑", "技术吴", "采购李"}
	if len(order) != 4 || order[0] != want[0] || order[1] != want[1] || order[2] != want[2] || order[3] != want[3] {
		t.Fatalf("decision chain %v", order)
	}
	if chain[0].(map[string]any)["role"] != "decision_maker" {
		t.Fatalf("first role %v", chain[0])
	}
	if n := len(ov["opportunities"].([]any)); n != 1 {
		t.Fatalf("%d opportunities", n)
	}
	kinds := map[string]int{}
	for _, it := range ov["timeline"].([]any) {
		kinds[it.(map[string]any)["kind"].(string)]++
	}
	if kinds["activity"] != 1 || kinds["history"] < 1 {
		t.Fatalf("timeline %v", kinds)
	}
	// The rep may not read credit data: none of it appears.
	if ov["credit"] != nil {
		t.Fatalf("rep sees credit %v", ov["credit"])
	}
	if _, ok := ov["account"].(map[string]any)["credit_limit"]; ok {
		t.Fatalf("rep sees credit_limit")
	}
	counts := ov["counts"].(map[string]any)
	if counts["contacts"] != 4.0 || counts["activities"] != 1.0 {
		t.Fatalf("counts %v", counts)
	}
	// Finance sees it (and no opportunities or activities: no grant).
	fin := x.c("finance").do("GET", "/api/v1/crm/accounts/"+aid+"/overview", nil, nil).want(200).json()
	credit, _ := fin["credit"].(map[string]any)
	if credit["credit_limit"] != "2000000.00" || credit["credit_rating"] != "aa" {
		t.Fatalf("finance credit %v", fin["credit"])
	}
	if len(fin["opportunities"].([]any)) != 0 {
		t.Fatalf("finance sees opportunities")
	}
	// Another region: not found.
	x.c("rep.south").do("GET", "/api/v1/crm/accounts/"+aid+"/overview", nil, nil).want(404)
}
