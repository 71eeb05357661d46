package apitest

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"
)

// salesEnv is a Tenon with the demo organisation, the sales defaults
// installed, a controllable clock starting 2026-10-01 09:00 Shanghai, and
// grants: reps read and write the opportunities and accounts of their
// regions and read their own targets; the sales manager everything.
type salesEnv struct {
	*env
	clock *testClock
	admin *client
	users map[string]string
}

func newSalesEnv(t *testing.T) *salesEnv {
	t.Helper()
	clk := &testClock{t: time.Date(2026, 10, 1, 9, 0, 0, 0, shanghai)}
	se := &salesEnv{env: openEnv(t, "tenon_sales", clk), clock: clk}
	if err := se.app.Sales.Install(context.Background()); err != nil {
		t.Fatal(err)
	}
	se.admin = se.c("admin")
	se.users = se.userIDs()
	role := func(name string, perms []any) {
		roles := se.admin.do("GET", `/api/v1/records/roles?filter=`+url.QueryEscape(`name == "`+name+`"`), nil, nil).want(200).items()
		se.admin.do("PATCH", "/api/v1/records/roles/"+roles[0]["id"].(string), map[string]any{"permissions": perms}, nil).want(200)
	}
	rw := []string{"read", "create", "update"}
	role("sales_rep", []any{
		map[string]any{"entity": "opportunities", "actions": rw, "scope": "regions"},
		map[string]any{"entity": "accounts", "actions": rw, "scope": "regions"},
		map[string]any{"entity": "activities", "actions": rw, "scope": "own"},
		map[string]any{"entity": "sales_targets", "actions": []string{"read"}, "scope": "own"},
	})
	all := []string{"read", "create", "update", "delete"}
	role("sales_manager", []any{
		map[string]any{"entity": "opportunities", "actions": all, "scope": "all"},
		map[string]any{"entity": "accounts", "actions": all, "scope": "all"},
		map[string]any{"entity": "leads", "actions": all, "scope": "all"},
		map[string]any{"entity": "sales_targets", "actions": all, "scope": "all"},
	})
	return se
}

func (se *salesEnv) account(name, region string) string {
	se.t.Helper()
	return se.admin.do("POST", "/api/v1/records/accounts", map[string]any{"name": name, "region": region, "industry": "machinery"}, nil).
		want(201).json()["id"].(string)
}

func (se *salesEnv) opp(as string, in map[string]any) map[string]any {
	se.t.Helper()
	return se.c(as).do("POST", "/api/v1/records/opportunities", in, nil).want(201).json()
}

func (se *salesEnv) action(as, id, name string, in map[string]any) *response {
	se.t.Helper()
	return se.c(as).do("POST", "/api/v1/records/opportunities/"+id+"/actions/"+name, in, nil)
}

// problem reads a problem+json body: its code and its field codes.
func problem(t *testing.T, r *response) (string, map[string]string, string) {
	t.Helper()
	j := r.json()
	fields := map[string]string{}
	if errs, ok := j["errors"].([]any); ok {
		for _, x := range errs {
			f := x.(map[string]any)
			fields[f["field"].(string)] = f["code"].(string)
		}
	}
	code, _ := j["code"].(string)
	detail, _ := j["detail"].(string)
	if detail == "" {
		detail, _ = j["title"].(string)
	}
	return code, fields, detail
}

func want(t *testing.T, what string, got, exp any) {
	t.Helper()
	if got != exp {
		t.Fatalf("%s = %v, want %v", what, got, exp)
	}
}

// TestSalesStageGates: defaults from the pipeline and the account, the
// required fields of a stage, the 15-day rule for key deals through
// move_stage and through a plain PATCH, win and loss.
func TestSalesStageGates(t *testing.T) {
	se := newSalesEnv(t)
	east := se.account("苏州精工机械有限公司", "华东")
	o := se.opp("rep.east", map[string]any{"name": "三号线改造", "account": east})
	want(t, "stage", o["stage"], "requirement")
	want(t, "probability", o["probability"], "10.00")
	want(t, "region", o["region"], "华东")
	want(t, "industry", o["industry"], "machinery")
	want(t, "status", o["status"], "open")
	want(t, "stage_reached", o["stage_reached"], float64(1))
	if o["stage_changed_at"] == nil || o["pipeline"] == nil {
		t.Fatalf("stage_changed_at / pipeline not set: %v", o)
	}
	id := o["id"].(string)
	// 报价 needs an amount: refused by the action and by PATCH.
	code, fields, _ := problem(t, se.action("rep.east", id, "move_stage", map[string]any{"stage": "quotation"}).want(422))
	want(t, "code", code, "validation_failed")
	want(t, "amount", fields["amount"], "sales_stage_requires")
	_, fields, _ = problem(t, se.c("rep.east").do("PATCH", "/api/v1/records/opportunities/"+id, map[string]any{"stage": "bidding", "amount": "500000"}, nil).want(422))
	want(t, "expected_close", fields["expected_close"], "sales_stage_requires")
	_, fields, _ = problem(t, se.c("rep.east").do("PATCH", "/api/v1/records/opportunities/"+id, map[string]any{"stage": "nonsense"}, nil).want(422))
	want(t, "stage", fields["stage"], "sales_stage_unknown")
	se.c("rep.east").do("PATCH", "/api/v1/records/opportunities/"+id, map[string]any{"amount": "500000"}, nil).want(200)
	o = se.action("rep.east", id, "move_stage", map[string]any{"stage": "quotation"}).want(200).json()
	want(t, "probability", o["probability"], "60.00")
	want(t, "stage_reached", o["stage_reached"], float64(4))

	// A key deal 16 days without an update cannot advance, by either path.
	k := se.opp("rep.east", map[string]any{"name": "大客户整线", "account": east, "amount": "2000000", "key_deal": true,
		"expected_close": "2026-12-31"})
	kid := k["id"].(string)
	se.clock.Add(16*24*time.Hour + time.Hour)
	r := se.action("rep.east", kid, "move_stage", map[string]any{"stage": "solution"}).want(422)
	code, _, detail := problem(t, r)
	want(t, "code", code, "sales_key_deal_stale")
	if !strings.Contains(detail, "16") {
		t.Fatalf("the reason does not give the days: %s", r.body)
	}
	code, _, _ = problem(t, se.c("rep.east").do("PATCH", "/api/v1/records/opportunities/"+kid, map[string]any{"stage": "negotiation"}, nil).want(422))
	want(t, "code", code, "sales_key_deal_stale")
	code, _, _ = problem(t, se.action("rep.east", kid, "win", map[string]any{"reason": "价格"}).want(422))
	want(t, "code", code, "sales_key_deal_stale")
	// An import or the API as an administrator is held to it too.
	code, _, _ = problem(t, se.admin.do("PATCH", "/api/v1/records/opportunities/"+kid, map[string]any{"stage": "solution"}, nil).want(422))
	want(t, "code", code, "sales_key_deal_stale")
	// A follow-up (an activity: crm sets last_activity_at) opens the gate.
	se.c("rep.east").do("POST", "/api/v1/records/activities", map[string]any{"kind": "visit", "subject": "拜访", "opportunity": kid, "account": east}, nil).want(201)
	o = se.action("rep.east", kid, "move_stage", map[string]any{"stage": "solution"}).want(200).json()
	want(t, "stage", o["stage"], "solution")
	// 15 days later it may still advance; 16 days later not.
	se.clock.Add(15 * 24 * time.Hour)
	se.action("rep.east", kid, "move_stage", map[string]any{"stage": "quotation"}).want(200)
	se.clock.Add(15*24*time.Hour + time.Minute)
	se.action("rep.east", kid, "move_stage", map[string]any{"stage": "bidding"}).want(422)
	// Moving back is not advancing.
	se.action("rep.east", kid, "move_stage", map[string]any{"stage": "solution"}).want(200)

	// Loss needs a reason.
	_, fields, _ = problem(t, se.action("rep.east", kid, "lose", map[string]any{}).want(422))
	want(t, "loss_reason", fields["loss_reason"], "sales_loss_reason_required")
	_, fields, _ = problem(t, se.action("rep.east", kid, "move_stage", map[string]any{"stage": "lost"}).want(422))
	want(t, "loss_reason", fields["loss_reason"], "sales_loss_reason_required")
	o = se.action("rep.east", kid, "lose", map[string]any{"loss_reason": "price", "note": "对手低价 15%"}).want(200).json()
	want(t, "status", o["status"], "lost")
	want(t, "probability", o["probability"], "0.00")
	want(t, "loss_note", o["loss_note"], "对手低价 15%")
	if o["closed_at"] == nil {
		t.Fatal("closed_at not set on loss")
	}
	// Win: 100%, closed_at, the cycle in days; reopening clears them.
	se.c("rep.east").do("PATCH", "/api/v1/records/opportunities/"+id, map[string]any{"expected_close": "2026-12-01"}, nil).want(200)
	o = se.action("rep.east", id, "win", map[string]any{"reason": "技术领先"}).want(200).json()
	want(t, "status", o["status"], "won")
	want(t, "stage", o["stage"], "won")
	want(t, "probability", o["probability"], "100.00")
	want(t, "win_reason", o["win_reason"], "技术领先")
	want(t, "cycle_days", o["cycle_days"], "46.0") // 2026-10-01 09:00 → 2026-11-16 10:01
	want(t, "stage_reached", o["stage_reached"], float64(8))
	// Reopening into a stage checks its gate too (contract_review needs a contact).
	_, fields, _ = problem(t, se.action("rep.east", id, "move_stage", map[string]any{"stage": "contract_review"}).want(422))
	want(t, "contact", fields["contact"], "sales_stage_requires")
	// status follows the stage: writing it directly changes nothing.
	o = se.c("rep.east").do("PATCH", "/api/v1/records/opportunities/"+id, map[string]any{"status": "open"}, nil).json()
	want(t, "status", o["status"], "won")
}
