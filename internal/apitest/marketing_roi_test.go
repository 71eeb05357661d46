package apitest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
)

// mkCampaign is one campaign of the MK1 example and how its figures split
// over the regions 华东 and 华南.
type mkCampaign struct {
	name, kind, cost string
	// per region: leads, opportunities attributed by their own campaign
	// field, opportunities attributed only through their lead, wins, and
	// the amount of each win
	split map[string]mkSplit
}

type mkSplit struct {
	leads, ownOpps, leadOpps, wins int
	winAmount                      int64
}

// mk1 is REQUIREMENTS MK1: 上海工博会 120 leads, 35 opps, 10 wins, 480万;
// 区域技术交流会-华东 60, 18, 8, 260万; 白皮书下载 200, 20, 4, 90万.
var mk1 = []mkCampaign{
	{"上海工博会", "trade_show", "600000.00", map[string]mkSplit{
		"华东": {leads: 100, ownOpps: 20, leadOpps: 10, wins: 8, winAmount: 500000},
		"华南": {leads: 20, ownOpps: 5, leadOpps: 0, wins: 2, winAmount: 400000}}},
	{"区域技术交流会-华东", "seminar", "150000.00", map[string]mkSplit{
		"华东": {leads: 60, ownOpps: 10, leadOpps: 8, wins: 8, winAmount: 325000}}},
	{"白皮书下载", "white_paper", "80000.00", map[string]mkSplit{
		"华东": {leads: 150, ownOpps: 0, leadOpps: 14, wins: 3, winAmount: 200000},
		"华南": {leads: 50, ownOpps: 0, leadOpps: 6, wins: 1, winAmount: 300000}}},
}

// loadMK1 creates the MK1 campaigns with their leads and opportunities (as
// the system, in one transaction) plus records that must not count: a lead
// and a won opportunity of no campaign, and a lost opportunity of a
// campaign (counted as an opportunity, not a win).
func loadMK1(t *testing.T, e *env) map[string]string {
	t.Helper()
	ctx := context.Background()
	sys := access.System()
	recs := e.app.Records
	ids := map[string]string{}
	err := recs.DB().WithTx(ctx, func(ctx context.Context) error {
		mk := func(entity string, in map[string]any) (string, error) {
			r, err := recs.Create(ctx, sys, entity, in)
			if err != nil {
				return "", fmt.Errorf("%s %v: %w", entity, in, err)
			}
			return fmt.Sprint(r.ID()), nil
		}
		accounts := map[string]string{}
		for _, reg := range []string{"华东", "华南"} {
			id, err := mk("accounts", map[string]any{"name": "苏州精工机械有限公司-" + reg, "region": reg})
			if err != nil {
				return err
			}
			accounts[reg] = id
		}
		n := 0
		for _, c := range mk1 {
			cid, err := mk("campaigns", map[string]any{"name": c.name, "kind": c.kind, "cost": c.cost, "status": "done",
				"started_on": "2026-03-01"})
			if err != nil {
				return err
			}
			ids[c.name] = cid
			for _, reg := range []string{"华东", "华南"} {
				sp, ok := c.split[reg]
				if !ok {
					continue
				}
				var leads []string
				for i := 0; i < sp.leads; i++ {
					n++
					id, err := mk("leads", map[string]any{"company": fmt.Sprintf("测试客户%04d有限公司", n), "region": reg,
						"source": "trade_show", "campaign": cid, "phone": fmt.Sprintf("0512-6%07d", n)})
					if err != nil {
						return err
					}
					leads = append(leads, id)
				}
				for i := 0; i < sp.ownOpps+sp.leadOpps; i++ {
					in := map[string]any{"name": fmt.Sprintf("%s 商机 %s %d", c.name, reg, i), "account": accounts[reg],
						"region": reg, "amount": "100000", "stage": "solution"}
					if i < sp.ownOpps {
						in["campaign"] = cid
					} else {
						in["lead"] = leads[i]
					}
					if i < sp.wins {
						in["stage"], in["amount"] = "won", fmt.Sprint(sp.winAmount)
					}
					if _, err := mk("opportunities", in); err != nil {
						return err
					}
				}
			}
		}
		// Noise: a campaign-less lead and won deal; a lost deal of a campaign
		// (an opportunity, not a win).
		if _, err := mk("leads", map[string]any{"company": "无活动线索有限公司", "region": "华东", "source": "cold_call"}); err != nil {
			return err
		}
		if _, err := mk("opportunities", map[string]any{"name": "无活动商机", "account": accounts["华东"], "region": "华东",
			"amount": "9990000", "stage": "won"}); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func roiRows(t *testing.T, c *client, query string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, r := range c.do("GET", "/api/v1/marketing/roi"+query, nil, nil).want(200).items() {
		out[r["name"].(string)] = r
	}
	return out
}

func wantROI(t *testing.T, who string, row map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if got := row[k]; fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("%s %s: %s = %v, want %v", who, row["name"], k, got, v)
		}
	}
}

// TestMarketingROIMK1 reproduces the MK1 table from real records, and
// checks it under the caller's scope and field rights.
func TestMarketingROIMK1(t *testing.T) {
	e := openEnv(t, "tenon_mk1", &testClock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, shanghai)})
	loadMK1(t, e)

	// The administrator sees everything: the MK1 table exactly.
	rows := roiRows(t, e.c("admin"), "")
	if len(rows) != 3 {
		t.Fatalf("rows: %v", rows)
	}
	wantROI(t, "admin", rows["上海工博会"], map[string]any{"leads": 120, "opportunities": 35, "wins": 10,
		"amount": "4800000.00", "cost": "600000.00", "lead_to_win_rate": "0.0833", "roi": "7.0000"})
	wantROI(t, "admin", rows["区域技术交流会-华东"], map[string]any{"leads": 60, "opportunities": 18, "wins": 8,
		"amount": "2600000.00", "lead_to_win_rate": "0.1333", "roi": "16.3333"})
	wantROI(t, "admin", rows["白皮书下载"], map[string]any{"leads": 200, "opportunities": 20, "wins": 4,
		"amount": "900000.00", "lead_to_win_rate": "0.0200", "roi": "10.2500"})

	// Sorted by the rate, best first.
	sorted := e.c("admin").do("GET", "/api/v1/marketing/roi?sort=-lead_to_win_rate", nil, nil).want(200).items()
	if sorted[0]["name"] != "区域技术交流会-华东" || sorted[2]["name"] != "白皮书下载" {
		t.Errorf("sorted: %v, %v, %v", sorted[0]["name"], sorted[1]["name"], sorted[2]["name"])
	}
	e.c("admin").do("GET", "/api/v1/marketing/roi?sort=colour", nil, nil).want(400)
	e.c("admin").do("GET", "/api/v1/marketing/roi?from=June", nil, nil).want(400)
	if got := e.c("admin").do("GET", "/api/v1/marketing/roi?from=2026-04-01", nil, nil).want(200).items(); len(got) != 0 {
		t.Errorf("from after every start: %v", got)
	}

	// A rep of 华南 counts only 华南 leads and deals.
	south := roiRows(t, e.c("rep.south"), "")
	wantROI(t, "rep.south", south["上海工博会"], map[string]any{"leads": 20, "opportunities": 5, "wins": 2,
		"amount": "800000.00", "lead_to_win_rate": "0.1000"})
	wantROI(t, "rep.south", south["区域技术交流会-华东"], map[string]any{"leads": 0, "opportunities": 0, "wins": 0,
		"amount": "0.00", "lead_to_win_rate": nil})
	wantROI(t, "rep.south", south["白皮书下载"], map[string]any{"leads": 50, "opportunities": 6, "wins": 1,
		"amount": "300000.00", "lead_to_win_rate": "0.0200"})
	// and 华东's rep only 华东's.
	east := roiRows(t, e.c("rep.east"), "")
	wantROI(t, "rep.east", east["上海工博会"], map[string]any{"leads": 100, "opportunities": 30, "wins": 8, "amount": "4000000.00"})

	// Marketing reads every lead and deal but not the deals' amounts: no
	// amount, no ROI, the counts and rates all the same.
	mkt := roiRows(t, e.c("marketing"), "")
	wantROI(t, "marketing", mkt["上海工博会"], map[string]any{"leads": 120, "opportunities": 35, "wins": 10,
		"amount": nil, "roi": nil, "lead_to_win_rate": "0.0833", "cost": "600000.00"})

	// Production may not read campaigns at all.
	e.c("prod.lead").do("GET", "/api/v1/marketing/roi", nil, nil).want(403)
}
