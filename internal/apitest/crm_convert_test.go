package apitest

import (
	"strings"
	"testing"
)

// Conversion reuses an existing account the caller may read whose
// normalised name is the lead's; it is one transaction and happens once.
func TestCRMConvertReusesAccount(t *testing.T) {
	x := newCRMEnv(t)
	east, south := x.c("rep.east"), x.c("rep.south")
	// The oldest account of that name is in 华南: rep.east must not get it.
	southAcct := x.mk(south, "accounts", map[string]any{"name": "上海精密机械有限公司", "region": "华南"})
	acct := x.mk(x.c("rep.east2"), "accounts", map[string]any{"name": "上海精密机械股份有限公司", "region": "华东"})
	lead := x.mk(east, "leads", map[string]any{"company": "上海 精密机械（集团）有限公司", "contact_name": "王工", "title": "设备部经理",
		"phone": "13800001234", "email": "wang@precision.cn", "region": "华东", "industry": "machinery", "product_line": "equipment",
		"source": "trade_show", "expected_amount": "880000.00"})
	lid := lead["id"].(string)
	path := "/api/v1/records/leads/" + lid + "/actions/convert"
	// A visit logged on the lead before it converts (by the manager, whose
	// activity the rep could not edit) goes with it.
	visit := x.mk(x.c("sales.manager"), "activities", map[string]any{"kind": "visit", "subject": "拜访 上海精密", "lead": lid})

	// An account the caller may not read cannot be named.
	east.do("POST", path, map[string]any{"account": southAcct["id"]}, nil).want(404)
	east.do("POST", path, map[string]any{"bogus": 1}, nil).want(400)

	res := east.do("POST", path, map[string]any{"create_opportunity": true,
		"opportunity": map[string]any{"name": "上海精密 二期产线", "expected_close": "2026-06-30"}}, nil).want(200).json()
	if res["account_reused"] != true || res["account"].(map[string]any)["id"] != acct["id"] {
		t.Fatalf("account %v", res["account"])
	}
	contact := res["contact"].(map[string]any)
	if contact["account"] != acct["id"] || contact["name"] != "王工" || contact["title"] != "设备部经理" || contact["region"] != "华东" ||
		contact["is_primary"] != false {
		t.Fatalf("contact %v", contact)
	}
	opp := res["opportunity"].(map[string]any)
	if opp["account"] != acct["id"] || opp["name"] != "上海精密 二期产线" || opp["lead"] != lid || opp["contact"] != contact["id"] ||
		!strings.HasPrefix(opp["amount"].(string), "880000") || opp["expected_close"] != "2026-06-30" {
		t.Fatalf("opportunity %v", opp)
	}
	l := x.get(east, "leads", lid)
	if l["status"] != "converted" || l["converted_account"] != acct["id"] || l["converted_contact"] != contact["id"] ||
		l["converted_opportunity"] != opp["id"] || l["converted_at"] == nil {
		t.Fatalf("lead %v", l)
	}
	v := x.get(x.admin, "activities", visit["id"].(string))
	if v["lead"] != lid || v["account"] != acct["id"] || v["contact"] != contact["id"] || v["opportunity"] != opp["id"] {
		t.Fatalf("the lead's visit after conversion: %v", v)
	}
	// Once only.
	if code := east.do("POST", path, map[string]any{}, nil).want(409).json()["code"]; code != "crm_lead_converted" {
		t.Fatalf("code %v", code)
	}
	// No duplicate account was made in 华东.
	n := len(x.admin.do("GET", `/api/v1/records/accounts?filter=name_norm%20==%20"上海精密机械"`, nil, nil).want(200).items())
	if n != 2 {
		t.Fatalf("%d accounts", n)
	}

	// Without a match a new account is made from the lead, the contact is
	// its primary one, and no opportunity unless asked.
	lead2 := x.mk(east, "leads", map[string]any{"company": "杭州新材料有限公司", "contact_name": "赵总", "region": "华东", "industry": "chemical"})
	res = east.do("POST", "/api/v1/records/leads/"+lead2["id"].(string)+"/actions/convert", nil, nil).want(200).json()
	a2 := res["account"].(map[string]any)
	if res["account_reused"] != false || a2["name"] != "杭州新材料有限公司" || a2["region"] != "华东" || a2["industry"] != "chemical" ||
		res["opportunity"] != nil || res["contact"].(map[string]any)["is_primary"] != true {
		t.Fatalf("new account %v", res)
	}
	// The 华南 rep cannot convert a 华东 lead.
	south.do("POST", "/api/v1/records/leads/"+lead2["id"].(string)+"/actions/convert", nil, nil).want(404)
}

// Bulk transfer moves a leaving rep's accounts, leads and open
// opportunities, as audited updates.
func TestCRMTransfer(t *testing.T) {
	x := newCRMEnv(t)
	east := x.c("rep.east")
	var accts []string
	for _, n := range []string{"宁波机床有限公司", "无锡电子有限公司"} {
		accts = append(accts, x.mk(east, "accounts", map[string]any{"name": n, "region": "华东"})["id"].(string))
	}
	for _, n := range []string{"甲", "乙", "丙"} {
		x.mk(east, "leads", map[string]any{"company": n + "公司", "region": "华东"})
	}
	open := x.mk(east, "opportunities", map[string]any{"name": "产线改造", "account": accts[0], "region": "华东"})
	won := x.mk(east, "opportunities", map[string]any{"name": "备件", "account": accts[1], "region": "华东"})
	x.admin.do("POST", "/api/v1/records/opportunities/"+won["id"].(string)+"/actions/win", map[string]any{"reason": "价格"}, nil).want(200)
	keep := x.mk(x.c("rep.east2"), "leads", map[string]any{"company": "别人的线索", "region": "华东"})
	body := map[string]any{"from": x.users["rep.east"], "to": x.users["rep.east2"]}

	// Another rep may not; nor a user from another team.
	if code := x.c("rep.east2").do("POST", "/api/v1/crm/transfer", body, nil).want(403).json()["code"]; code != "crm_transfer_forbidden" {
		t.Fatalf("code %v", code)
	}
	x.c("finance").do("POST", "/api/v1/crm/transfer", body, nil).want(403)
	x.admin.do("POST", "/api/v1/crm/transfer", map[string]any{"from": x.users["rep.east"], "to": x.users["rep.east"]}, nil).want(422)
	x.admin.do("POST", "/api/v1/crm/transfer", map[string]any{"from": x.users["rep.east"], "to": x.users["rep.east2"],
		"entities": []string{"users"}}, nil).want(422)

	// The manager may.
	res := x.c("sales.manager").do("POST", "/api/v1/crm/transfer", body, nil).want(200).json()
	counts := res["counts"].(map[string]any)
	if counts["accounts"] != 2.0 || counts["leads"] != 3.0 {
		t.Fatalf("counts %v", counts)
	}
	wonNow := x.get(x.admin, "opportunities", won["id"].(string))
	if wonNow["status"] != "won" || counts["opportunities"] != 1.0 || wonNow["owner"] != x.users["rep.east"] {
		t.Fatalf("won opportunity moved: %v %v %v", counts, wonNow["status"], wonNow["owner"])
	}
	if o := x.get(x.admin, "opportunities", open["id"].(string)); o["owner"] != x.users["rep.east2"] {
		t.Fatalf("open opportunity owner %v", o["owner"])
	}
	for _, id := range accts {
		if a := x.get(x.admin, "accounts", id); a["owner"] != x.users["rep.east2"] {
			t.Fatalf("account owner %v", a["owner"])
		}
	}
	n := len(x.admin.do("GET", "/api/v1/records/leads?filter=owner%20==%20\""+x.users["rep.east"]+"\"", nil, nil).want(200).items())
	if n != 0 {
		t.Fatalf("%d leads left", n)
	}
	if k := x.get(x.admin, "leads", keep["id"].(string)); k["owner"] != x.users["rep.east2"] {
		t.Fatalf("untouched lead owner %v", k["owner"])
	}
	// History kept: the change is an audited update by the manager.
	hist := x.admin.do("GET", "/api/v1/records/accounts/"+accts[0]+"/history", nil, nil).want(200).items()
	last := hist[0]
	if last["action"] != "update" || last["actor"] != x.users["sales.manager"] || last["changes"].(map[string]any)["owner"] == nil || len(hist) < 2 {
		t.Fatalf("history %v", hist)
	}
	// Nothing left to move: zero counts.
	res = x.admin.do("POST", "/api/v1/crm/transfer", body, nil).want(200).json()
	if c := res["counts"].(map[string]any); c["accounts"] != 0.0 || c["leads"] != 0.0 {
		t.Fatalf("second transfer %v", c)
	}
}
