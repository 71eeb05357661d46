package apitest

import (
	"testing"
	"time"
)

// Activities keep the follow-up fields of what they are about, with the
// controllable clock; contacts and activities take their region from what
// they belong to.
func TestCRMActivityHooks(t *testing.T) {
	x := newCRMEnv(t)
	east := x.c("rep.east")
	t0 := x.clk.Now()
	lead := x.mk(east, "leads", map[string]any{"company": "常州轴承有限公司", "region": "华东"})
	lid := lead["id"].(string)
	acct := x.mk(east, "accounts", map[string]any{"name": "常州轴承有限公司", "region": "华东"})
	aid := acct["id"].(string)

	// A contact takes its account's region, whatever it was sent with.
	c := x.mk(east, "contacts", map[string]any{"account": aid, "name": "钱工", "decision_role": "technical"})
	if c["region"] != "华东" {
		t.Fatalf("contact region %v", c["region"])
	}

	// First activity 95 minutes after the lead was created.
	x.clk.Add(95 * time.Minute)
	a1 := x.mk(east, "activities", map[string]any{"kind": "call", "subject": "首次电话", "lead": lid})
	if a1["region"] != "华东" || a1["occurred_at"] == nil {
		t.Fatalf("activity %v", a1)
	}
	l := x.get(east, "leads", lid)
	if l["first_response_minutes"] != 95.0 || !sameTime(t, l["first_response_at"], t0.Add(95*time.Minute)) ||
		!sameTime(t, l["last_followup_at"], t0.Add(95*time.Minute)) || l["status"] != "working" {
		t.Fatalf("lead after first activity %v", l)
	}
	// A later one moves last_followup_at only.
	x.clk.Add(48 * time.Hour)
	x.mk(east, "activities", map[string]any{"kind": "visit", "subject": "上门拜访", "lead": lid})
	l = x.get(east, "leads", lid)
	if l["first_response_minutes"] != 95.0 || !sameTime(t, l["last_followup_at"], t0.Add(95*time.Minute+48*time.Hour)) {
		t.Fatalf("lead after second activity %v", l)
	}
	// One logged now for an earlier day does not move it back.
	x.mk(east, "activities", map[string]any{"kind": "email", "subject": "补记", "lead": lid,
		"occurred_at": t0.Add(time.Hour).Format(time.RFC3339)})
	if l2 := x.get(east, "leads", lid); l2["last_followup_at"] != l["last_followup_at"] {
		t.Fatalf("last follow-up moved back: %v", l2["last_followup_at"])
	}

	// Measured from assigned_at when the lead has one.
	assigned := x.mk(x.admin, "leads", map[string]any{"company": "扬州阀门", "region": "华东", "owner": x.users["rep.east"]})
	x.clk.Add(time.Hour)
	x.admin.do("PATCH", "/api/v1/records/leads/"+assigned["id"].(string), map[string]any{
		"assigned_at": x.clk.Now().Format(time.RFC3339)}, nil).want(200)
	x.clk.Add(30 * time.Minute)
	x.mk(east, "activities", map[string]any{"kind": "call", "subject": "电话", "lead": assigned["id"]})
	if m := x.get(east, "leads", assigned["id"].(string))["first_response_minutes"]; m != 30.0 {
		t.Fatalf("minutes from assignment %v", m)
	}

	// Accounts and opportunities: last_activity_at.
	opp := x.mk(east, "opportunities", map[string]any{"name": "轴承产线", "account": aid, "region": "华东"})
	x.clk.Add(time.Hour)
	now := x.clk.Now()
	act := x.mk(east, "activities", map[string]any{"kind": "meeting", "subject": "方案评审", "account": aid, "opportunity": opp["id"],
		"contact": c["id"]})
	if act["region"] != "华东" {
		t.Fatalf("activity region %v", act["region"])
	}
	if a := x.get(east, "accounts", aid); !sameTime(t, a["last_activity_at"], now) {
		t.Fatalf("account last activity %v", a["last_activity_at"])
	}
	if o := x.get(east, "opportunities", opp["id"].(string)); !sameTime(t, o["last_activity_at"], now) {
		t.Fatalf("opportunity last activity %v", o["last_activity_at"])
	}
	// The derived writes are audited updates by the system.
	hist := x.admin.do("GET", "/api/v1/records/accounts/"+aid+"/history", nil, nil).want(200).items()
	if hist[0]["changes"].(map[string]any)["last_activity_at"] == nil || hist[0]["source"] != "system" {
		t.Fatalf("history %v", hist[0])
	}
}

func sameTime(t *testing.T, v any, want time.Time) bool {
	t.Helper()
	s, _ := v.(string)
	got, err := time.Parse(time.RFC3339Nano, s)
	return err == nil && got.Equal(want)
}
