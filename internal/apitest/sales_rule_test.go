package apitest

import (
	"context"
	"net/url"
	"testing"
	"time"
)

// TestSalesFollowUpRule: the shipped rule alerts the owner's manager of a
// new opportunity with no activity 3 days after its creation, once, and
// not for one that was followed up; it is an ordinary, editable rule.
func TestSalesFollowUpRule(t *testing.T) {
	se := newSalesEnv(t)
	if err := se.app.Rules.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	rules := se.admin.do("GET", "/api/v1/records/rules?filter="+url.QueryEscape(`entity == "opportunities"`), nil, nil).want(200).items()
	if len(rules) != 1 || rules[0]["enabled"] != true {
		t.Fatalf("shipped rules: %v", rules)
	}
	// Installing again adds nothing.
	if err := se.app.Sales.Install(context.Background()); err != nil {
		t.Fatal(err)
	}
	east := se.account("苏州精工机械有限公司", "华东")
	quiet := se.opp("rep.east", map[string]any{"name": "无人跟进的商机", "account": east})
	busy := se.opp("rep.east", map[string]any{"name": "已跟进的商机", "account": east})
	se.c("rep.east").do("POST", "/api/v1/records/activities", map[string]any{"kind": "call", "subject": "电话", "opportunity": busy["id"], "account": east}, nil).want(201)
	inbox := func(login string) []string {
		var out []string
		for _, n := range se.c(login).do("GET", "/api/v1/notifications", nil, nil).want(200).items() {
			out = append(out, n["title"].(string))
		}
		return out
	}
	run := func() {
		if _, err := se.app.Jobs.RunDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := se.app.Jobs.RunDue(context.Background()); err != nil { // the runs the scan queued
			t.Fatal(err)
		}
	}
	se.clock.Set(time.Date(2026, 10, 3, 10, 0, 30, 0, shanghai)) // 2 days: nothing yet
	run()
	wantOutcomes(t, inbox("sales.manager"))
	se.clock.Set(time.Date(2026, 10, 4, 0, 30, 0, 0, shanghai)) // the third day
	run()
	wantOutcomes(t, inbox("sales.manager"), "商机 "+quiet["name"].(string)+" 创建 3 天仍未跟进")
	wantOutcomes(t, inbox("rep.east"))
	se.clock.Add(2 * time.Hour)
	run()
	if n := len(inbox("sales.manager")); n != 1 {
		t.Fatalf("%d alerts, want 1", n)
	}
	rules = se.admin.do("GET", "/api/v1/records/rules?filter="+url.QueryEscape(`entity == "opportunities"`), nil, nil).want(200).items()
	se.admin.do("PATCH", "/api/v1/records/rules/"+rules[0]["id"].(string), map[string]any{"enabled": false}, nil).want(200)
}
