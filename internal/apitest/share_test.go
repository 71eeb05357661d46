package apitest

import "testing"

func TestSharingAndAuditSearch(t *testing.T) {
	e := newEnv(t)
	admin := setupDeals(t, e)
	south := e.as("rep.south")
	east := e.as("rep.east")
	deal := south.do("POST", "/api/v1/records/deals", map[string]any{"name": "深圳项目", "region": "华南"}, nil).want(201).json()
	id := deal["id"].(string)
	east.do("GET", "/api/v1/records/deals/"+id, nil, nil).want(404)
	me := east.do("GET", "/api/v1/auth/me", nil, nil).want(200).json()["user"].(map[string]any)["id"]
	east.do("POST", "/api/v1/records/deals/"+id+"/shares", map[string]any{"user": me}, nil).want(404) // cannot share what it cannot see
	south.do("POST", "/api/v1/records/deals/"+id+"/shares", map[string]any{"user": me}, nil).want(200)
	east.do("GET", "/api/v1/records/deals/"+id, nil, nil).want(200)
	if n := len(east.do("GET", "/api/v1/records/deals", nil, nil).want(200).items()); n != 1 {
		t.Fatalf("shared record in list: %d", n)
	}
	south.do("POST", "/api/v1/records/deals/"+id+"/shares", map[string]any{"user": me, "department": "1"}, nil).want(422)
	south.do("DELETE", "/api/v1/records/deals/"+id+"/shares", map[string]any{"user": me}, nil).want(200)
	east.do("GET", "/api/v1/records/deals/"+id, nil, nil).want(404)
	// Admins search the audit trail; others may not.
	east.do("GET", "/api/v1/audit?entity=deals", nil, nil).want(403)
	items := admin.do("GET", "/api/v1/audit?entity=deals&record="+id, nil, nil).want(200).items()
	actions := map[string]bool{}
	for _, it := range items {
		actions[it["action"].(string)] = true
	}
	if !actions["create"] || !actions["share"] || !actions["unshare"] {
		t.Fatalf("audit actions %v", actions)
	}
	// Logins and failed logins are visible to administrators.
	e.anon().do("POST", "/api/v1/auth/login", map[string]any{"login": "rep.east", "password": "wrong"}, nil).want(401)
	east.do("GET", "/api/v1/audit/logins", nil, nil).want(403)
	failed := admin.do("GET", "/api/v1/audit/logins?kind=login_failed&login=rep.east", nil, nil).want(200).items()
	if len(failed) != 1 || failed[0]["ip"] == "" {
		t.Fatalf("failed logins: %v", failed)
	}
	if ok := admin.do("GET", "/api/v1/audit/logins?kind=login_ok", nil, nil).want(200).items(); len(ok) < 3 {
		t.Fatalf("successful logins: %v", ok)
	}
}
