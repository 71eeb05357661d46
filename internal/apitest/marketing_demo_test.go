package apitest

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/module/demo"
)

// TestMarketingDemoCompany loads the demo company on the demo
// organisation: its size, the MK1 table from its campaigns, loading twice,
// and a 华南 rep who sees nothing of 华东.
func TestMarketingDemoCompany(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, shanghai)}
	e := openEnv(t, "tenon_demo_company", clk)
	ctx := context.Background()
	start := time.Now()
	if err := demo.LoadCompany(ctx, e.app.Records, clk); err != nil {
		t.Fatal(err)
	}
	t.Logf("demo company loaded in %v", time.Since(start))
	count := func(c *client, entity, filter string) int {
		t.Helper()
		res := c.do("GET", "/api/v1/records/"+entity+"?per_page=1&count=exact&filter="+url.QueryEscape(filter), nil, nil).want(200).json()
		return int(res["total"].(float64))
	}
	admin := e.c("admin")
	for entity, want := range map[string]int{"accounts": 200, "leads": 1000, "opportunities": 300, "campaigns": 6, "activities": 1500} {
		if n := count(admin, entity, ""); n != want {
			t.Errorf("%s: %d, want %d", entity, n, want)
		}
	}
	if n := count(admin, "contacts", ""); n < 400 {
		t.Errorf("contacts: %d", n)
	}
	if n := count(admin, "opportunities", `status == "won"`); n < 30 {
		t.Errorf("won: %d", n)
	}
	// Loading again changes nothing.
	if err := demo.LoadCompany(ctx, e.app.Records, clk); err != nil {
		t.Fatal(err)
	}
	if n := count(admin, "accounts", ""); n != 200 {
		t.Errorf("accounts after a second load: %d", n)
	}
	rows := roiRows(t, admin, "")
	wantROI(t, "demo", rows["上海工博会"], map[string]any{"leads": 120, "opportunities": 35, "wins": 10, "amount": "4800000.00", "lead_to_win_rate": "0.0833"})
	wantROI(t, "demo", rows["区域技术交流会-华东"], map[string]any{"leads": 60, "opportunities": 18, "wins": 8, "amount": "2600000.00", "lead_to_win_rate": "0.1333"})
	wantROI(t, "demo", rows["白皮书下载"], map[string]any{"leads": 200, "opportunities": 20, "wins": 4, "amount": "900000.00", "lead_to_win_rate": "0.0200"})

	// The 华南 rep: records of 华南 only, and no credit data.
	south := e.c("rep.south")
	for _, entity := range []string{"leads", "accounts", "opportunities", "contacts"} {
		seen := count(south, entity, "")
		if seen == 0 || seen != count(south, entity, `region == "华南"`) {
			t.Errorf("rep.south %s: %d, of which 华南 %d", entity, seen, count(south, entity, `region == "华南"`))
		}
		if n := count(admin, entity, `region == "华南"`); n != seen {
			t.Errorf("rep.south %s: %d, 华南 has %d", entity, seen, n)
		}
	}
	for _, a := range south.do("GET", "/api/v1/records/accounts?per_page=500", nil, nil).want(200).items() {
		if _, ok := a["credit_limit"]; ok {
			t.Fatalf("rep sees credit data: %v", a)
		}
	}
	// Search finds no 华东 company (demo names start with their city).
	hits := string(south.do("GET", "/api/v1/search?q="+url.QueryEscape("苏州"), nil, nil).want(200).body)
	if strings.Contains(hits, "苏州") {
		t.Errorf("search shows 华东: %s", hits)
	}
	// Finance sees the credit data of every account.
	fin := e.c("finance").do("GET", "/api/v1/records/accounts?per_page=1", nil, nil).want(200).items()
	if _, ok := fin[0]["credit_limit"]; !ok {
		t.Errorf("finance: %v", fin[0])
	}
}
