package apitest

import (
	"net/url"
	"slices"
	"testing"
)

// Leads get normalised keys; duplicates are found on any of them, among
// the records the caller may read only.
func TestCRMDuplicates(t *testing.T) {
	x := newCRMEnv(t)
	east, south := x.c("rep.east"), x.c("rep.south")
	a := x.mk(east, "leads", map[string]any{"company": "上海 精密机械（集团）股份有限公司", "contact_name": "王工", "phone": "+86 138-0000-1234",
		"email": " Wang@Precision.CN ", "region": "华东"})
	if a["company_norm"] != "上海精密机械" || a["phone_norm"] != "13800001234" || a["email_norm"] != "wang@precision.cn" {
		t.Fatalf("norms: %v %v %v", a["company_norm"], a["phone_norm"], a["email_norm"])
	}
	// A second lead of another region shares the company name.
	s := x.mk(south, "leads", map[string]any{"company": "上海精密机械有限公司", "phone": "020-8888-0000", "region": "华南"})
	acct := x.mk(x.admin, "accounts", map[string]any{"name": "上海精密机械(集团)有限责任公司", "region": "华东", "phone": "0086 13800001234"})
	if acct["name_norm"] != "上海精密机械" || acct["phone_norm"] != "13800001234" {
		t.Fatalf("account norms: %v %v", acct["name_norm"], acct["phone_norm"])
	}
	// Changing the company changes the key.
	upd := east.do("PATCH", "/api/v1/records/leads/"+a["id"].(string), map[string]any{"company": "上海精密机械有限公司"}, nil).want(200).json()
	if upd["company_norm"] != "上海精密机械" {
		t.Fatalf("updated norm %v", upd["company_norm"])
	}

	q := url.Values{"entity": {"leads"}, "company": {"上海精密机械股份有限公司"}, "phone": {"13800001234"}, "email": {"WANG@precision.cn"}}
	all := ids(x.dups(x.admin, q))
	if len(all) != 3 {
		t.Fatalf("admin sees %v", all)
	}
	if m := all["leads:"+a["id"].(string)]; !slices.Equal(m, []any{"company", "phone", "email"}) {
		t.Fatalf("match %v", m)
	}
	if m := all["accounts:"+acct["id"].(string)]; !slices.Equal(m, []any{"company", "phone"}) {
		t.Fatalf("account match %v", m)
	}
	if m := all["leads:"+s["id"].(string)]; !slices.Equal(m, []any{"company"}) {
		t.Fatalf("south match %v", m)
	}
	// The 华南 rep learns nothing of the 华东 lead and account.
	got := ids(x.dups(south, q))
	if len(got) != 1 || got["leads:"+s["id"].(string)] == nil {
		t.Fatalf("south rep sees %v", got)
	}
	// The 华东 rep sees the 华东 lead and account, and exclude leaves the
	// record being edited out.
	q.Set("exclude", a["id"].(string))
	got = ids(x.dups(east, q))
	if len(got) != 1 || got["accounts:"+acct["id"].(string)] == nil {
		t.Fatalf("east rep sees %v", got)
	}
	// Nothing to compare: nothing found; an empty company key never matches.
	if got := x.dups(x.admin, url.Values{"entity": {"leads"}, "company": {"有限公司"}}); len(got) != 0 {
		t.Fatalf("empty key matched %v", got)
	}
	x.admin.do("GET", "/api/v1/crm/duplicates?entity=users", nil, nil).want(400)
	x.anon().do("GET", "/api/v1/crm/duplicates?entity=leads&company=x", nil, nil).want(401)
}

// Merging folds leads into a winner: chosen values, activities re-pointed,
// the others in the recycle bin pointing to the winner.
func TestCRMMerge(t *testing.T) {
	x := newCRMEnv(t)
	east, south := x.c("rep.east"), x.c("rep.south")
	w := x.mk(east, "leads", map[string]any{"company": "苏州精密机械有限公司", "contact_name": "李工", "region": "华东"})
	l := x.mk(east, "leads", map[string]any{"company": "苏州精密机械", "contact_name": "李明", "phone": "13900001111", "email": "li@sz.cn",
		"region": "华东"})
	act := x.mk(east, "activities", map[string]any{"kind": "call", "subject": "首次电话", "lead": l["id"]})
	other := x.mk(south, "leads", map[string]any{"company": "苏州精密机械", "region": "华南"})
	wid, lid := w["id"].(string), l["id"].(string)
	path := "/api/v1/records/leads/" + wid + "/actions/merge"

	// A lead the caller cannot read cannot be merged in (it does not exist for them).
	east.do("POST", path, map[string]any{"others": []string{other["id"].(string)}}, nil).want(404)
	east.do("POST", path, map[string]any{"others": []string{wid}}, nil).want(422)
	east.do("POST", path, map[string]any{"others": []string{lid}, "fields": map[string]any{"phone": "999"}}, nil).want(422)
	east.do("POST", path, map[string]any{"others": []string{lid}, "fields": map[string]any{"status": lid}}, nil).want(422)

	res := east.do("POST", path, map[string]any{"others": []string{lid},
		"fields": map[string]any{"phone": lid, "email": lid, "contact_name": wid}}, nil).want(200).json()
	if res["id"] != wid || res["phone"] != "13900001111" || res["email"] != "li@sz.cn" || res["contact_name"] != "李工" || res["phone_norm"] != "13900001111" {
		t.Fatalf("winner %v", res)
	}
	east.do("GET", "/api/v1/records/leads/"+lid, nil, nil).want(404)
	gone := east.do("GET", "/api/v1/records/leads/"+lid+"?deleted=true", nil, nil).want(200).json()
	if gone["merged_into"] != wid {
		t.Fatalf("loser %v", gone)
	}
	if a := x.get(east, "activities", act["id"].(string)); a["lead"] != wid {
		t.Fatalf("activity still on %v", a["lead"])
	}
	// The moved activity now counts as the winner's follow-up.
	if wl := x.get(east, "leads", wid); wl["status"] != "working" || wl["last_followup_at"] != act["occurred_at"] {
		t.Fatalf("winner follow-up %v %v", wl["status"], wl["last_followup_at"])
	}
}
