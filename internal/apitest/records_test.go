package apitest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// setupDeals creates a custom entity with a region and a secret cost, and
// gives sales reps region-scoped rights that hide the cost.
func setupDeals(t testing.TB, e *env) (admin *client) {
	admin = e.as("admin")
	admin.do("POST", "/api/v1/meta/entities", map[string]any{
		"name": "deals", "label": map[string]string{"zh-CN": "交易", "en": "Deals"}, "title_field": "name",
		"numbering": map[string]string{"field": "number", "pattern": "DL-{YYYY}-{seq:5}", "reset": "yearly"},
		"fields": []map[string]any{
			{"name": "name", "type": "text", "required": true, "label": map[string]string{"zh-CN": "名称", "en": "Name"}},
			{"name": "number", "type": "autonumber"},
			{"name": "code", "type": "text", "unique": true},
			{"name": "region", "type": "select", "options_from": "regions"},
			{"name": "amount", "type": "money"},
			{"name": "cost", "type": "money"},
			{"name": "lines", "type": "subtable", "fields": []map[string]any{{"name": "item", "type": "text"}, {"name": "cost", "type": "money"}}},
		},
	}, nil).want(201)
	roles := admin.do("GET", `/api/v1/records/roles?filter=name%20==%20"sales_rep"`, nil, nil).want(200).items()
	perms := []any{
		map[string]any{"entity": "users", "actions": []string{"read"}, "scope": "all"},
		map[string]any{"entity": "deals", "actions": []string{"read", "create", "update", "delete"}, "scope": "regions", "hidden_fields": []string{"cost"}},
	}
	admin.do("PATCH", "/api/v1/records/roles/"+roles[0]["id"].(string), map[string]any{"permissions": perms}, nil).want(200)
	return admin
}

func TestPermissionsAcrossRegions(t *testing.T) {
	e := newEnv(t)
	admin := setupDeals(t, e)
	east := admin.do("POST", "/api/v1/records/deals", map[string]any{"name": "苏州精密 东", "region": "华东", "amount": "100", "cost": "60",
		"lines": []any{map[string]any{"item": "主轴", "cost": "10"}}}, nil).want(201).json()
	south := admin.do("POST", "/api/v1/records/deals", map[string]any{"name": "深圳精密 南", "region": "华南", "amount": "200", "cost": "90"}, nil).want(201).json()

	rep := e.as("rep.east")
	list := rep.do("GET", "/api/v1/records/deals", nil, nil).want(200)
	items := list.items()
	if len(items) != 1 || items[0]["id"] != east["id"] || list.json()["total"].(float64) != 1 {
		t.Fatalf("rep sees %s", list.body)
	}
	for _, path := range []string{
		"/api/v1/records/deals/" + south["id"].(string),
		"/api/v1/records/deals/" + south["id"].(string) + "/history",
	} {
		rep.do("GET", path, nil, nil).want(404)
	}
	rep.do("PATCH", "/api/v1/records/deals/"+south["id"].(string), map[string]any{"name": "x"}, nil).want(404)
	rep.do("DELETE", "/api/v1/records/deals/"+south["id"].(string), nil, nil).want(404)
	// Search and filters never reach out of scope, and never count it.
	if n := rep.do("GET", "/api/v1/records/deals?q=精密", nil, nil).want(200).json()["total"].(float64); n != 1 {
		t.Fatalf("search total %v", n)
	}
	// The hidden field is in no response: get, list, nested rows, expand, history, change feed.
	for _, path := range []string{
		"/api/v1/records/deals/" + east["id"].(string),
		"/api/v1/records/deals?fields=name,lines",
		"/api/v1/records/deals/" + east["id"].(string) + "/history",
		"/api/v1/changes?entity=deals",
		"/api/v1/meta/entities/deals",
	} {
		body := string(rep.do("GET", path, nil, nil).want(200).body)
		if strings.Contains(body, `"cost"`) || strings.Contains(body, "60.00") {
			t.Fatalf("%s leaks cost: %s", path, body)
		}
	}
	changes := rep.do("GET", "/api/v1/changes?entity=deals", nil, nil).want(200).items()
	for _, c := range changes {
		if c["record_id"] == south["id"] {
			t.Fatal("change feed shows an out-of-scope record")
		}
	}
	// Filtering or sorting on the hidden field is 400, as for an unknown field.
	rep.do("GET", "/api/v1/records/deals?filter=cost%20>%201", nil, nil).want(400)
	rep.do("GET", "/api/v1/records/deals?sort=-cost", nil, nil).want(400)
	rep.do("GET", "/api/v1/records/deals?filter=nosuch%20>%201", nil, nil).want(400)
	// Writing the hidden field is refused as unknown.
	rep.do("PATCH", "/api/v1/records/deals/"+east["id"].(string), map[string]any{"cost": "1"}, nil).want(400)
	// Moving a record out of one's scope is refused and changes nothing.
	rep.do("PATCH", "/api/v1/records/deals/"+east["id"].(string), map[string]any{"region": "华南"}, nil).want(403)
	if got := admin.do("GET", "/api/v1/records/deals/"+east["id"].(string), nil, nil).want(200).json(); got["region"] != "华东" || got["version"].(float64) != 1 {
		t.Fatalf("refused update changed the record: %v", got)
	}
	// A rep edit keeps the hidden row values it cannot see.
	rep.do("PATCH", "/api/v1/records/deals/"+east["id"].(string), map[string]any{"lines": []any{map[string]any{"item": "主轴2"}}}, nil).want(200)
	// Entity without rights: 403.
	rep.do("GET", "/api/v1/records/roles", nil, nil).want(403)
}

func TestErrorStatuses(t *testing.T) {
	e := newEnv(t)
	admin := setupDeals(t, e)
	e.anon().do("GET", "/api/v1/records/deals", nil, nil).want(401)
	admin.do("POST", "/api/v1/records/deals", `{"name": "a", "name": "b"}`, nil).want(400)
	admin.do("POST", "/api/v1/records/deals", `{"name": "a", "Name": "b"}`, nil).want(400)
	admin.do("POST", "/api/v1/records/deals", `{"name": "a", "bogus": 1}`, nil).want(400)
	admin.do("POST", "/api/v1/records/deals", `{"name": `, nil).want(400)
	admin.do("GET", "/api/v1/records/deals?filter=name%20=%3D%3D", nil, nil).want(400)
	admin.do("GET", "/api/v1/records/nosuch", nil, nil).want(404)
	admin.do("GET", "/api/v1/records/deals/999999", nil, nil).want(404)
	admin.do("POST", "/api/v1/records/deals", map[string]any{"name": "a", "code": "C1"}, nil).want(201)
	taken := admin.do("POST", "/api/v1/records/deals", map[string]any{"name": "b", "code": "C1"}, nil).want(409).json()
	if errs, _ := taken["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["field"] != "code" {
		t.Fatalf("409 does not name the field: %v", taken)
	}
	if strings.Contains(fmt.Sprint(taken), "UNIQUE") || strings.Contains(fmt.Sprint(taken), "ux_") {
		t.Fatalf("409 leaks the database error: %v", taken)
	}
	// Every problem at once: two bad values and the missing required name.
	r := admin.do("POST", "/api/v1/records/deals", map[string]any{"amount": "abc", "code": "a\nb"}, nil).want(422).json()
	fields := map[string]bool{}
	for _, fe := range r["errors"].([]any) {
		fields[fe.(map[string]any)["field"].(string)] = true
	}
	if !fields["amount"] || !fields["code"] || !fields["name"] {
		t.Fatalf("want errors on amount, code and name: %v", r)
	}
	big := `{"name": "` + strings.Repeat("x", 5<<20) + `"}`
	admin.do("POST", "/api/v1/records/deals", big, nil).want(413)
	// English problem details, no internals.
	admin.lang = "en"
	res := admin.do("POST", "/api/v1/records/deals", map[string]any{}, nil).want(422)
	if !strings.Contains(string(res.body), "Required") || res.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("problem: %s", res.body)
	}
	// Cookie writes need the CSRF token.
	admin.csrf = ""
	admin.do("POST", "/api/v1/records/deals", map[string]any{"name": "x"}, nil).want(403)
	// Throttling after repeated failures.
	anon := e.anon()
	for i := 0; i < 5; i++ {
		anon.do("POST", "/api/v1/auth/login", map[string]any{"login": "rep.south", "password": "wrong"}, nil).want(401)
	}
	anon.do("POST", "/api/v1/auth/login", map[string]any{"login": "rep.south", "password": "wrong"}, nil).want(429)
}

func TestConcurrencyAndIdempotency(t *testing.T) {
	e := newEnv(t)
	admin := setupDeals(t, e)
	var wg sync.WaitGroup
	numbers := make([]string, 50)
	for i := range numbers {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := admin.do("POST", "/api/v1/records/deals", map[string]any{"name": fmt.Sprint("d", i)}, nil)
			if r.status == 201 {
				numbers[i] = r.json()["number"].(string)
			}
		}(i)
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, n := range numbers {
		if n == "" || seen[n] {
			t.Fatalf("numbers not distinct: %v", numbers)
		}
		seen[n] = true
	}
	rec := admin.do("POST", "/api/v1/records/deals", map[string]any{"name": "v"}, nil).want(201)
	id := rec.json()["id"].(string)
	etag := rec.header.Get("ETag")
	results := make(chan int, 2)
	for i := 0; i < 2; i++ {
		go func(i int) {
			results <- admin.do("PATCH", "/api/v1/records/deals/"+id, map[string]any{"name": fmt.Sprint("v", i)}, map[string]string{"If-Match": etag}).status
		}(i)
	}
	a, b := <-results, <-results
	if !(a == 200 && b == 412 || a == 412 && b == 200) {
		t.Fatalf("If-Match race: %d %d", a, b)
	}
	key := map[string]string{"Idempotency-Key": "k-1"}
	first := admin.do("POST", "/api/v1/records/deals", map[string]any{"name": "idem"}, key).want(201).json()
	second := admin.do("POST", "/api/v1/records/deals", map[string]any{"name": "idem"}, key).want(201).json()
	if first["id"] != second["id"] {
		t.Fatal("same key created two records")
	}
	admin.do("POST", "/api/v1/records/deals", map[string]any{"name": "other"}, key).want(422)
	// Concurrent twins with one key create one record.
	twin := map[string]string{"Idempotency-Key": "k-2"}
	var tw sync.WaitGroup
	for i := 0; i < 8; i++ {
		tw.Add(1)
		go func() {
			defer tw.Done()
			admin.do("POST", "/api/v1/records/deals", map[string]any{"name": "twin"}, twin).want(201)
		}()
	}
	tw.Wait()
	if n := len(admin.do("GET", `/api/v1/records/deals?filter=name%20==%20"twin"`, nil, nil).want(200).items()); n != 1 {
		t.Fatalf("%d records for concurrent twins", n)
	}
	if n := len(admin.do("GET", `/api/v1/records/deals?filter=name%20==%20"idem"`, nil, nil).want(200).items()); n != 1 {
		t.Fatalf("%d records for one key", n)
	}
	// Recycle bin.
	admin.do("DELETE", "/api/v1/records/deals/"+id, nil, nil).want(204)
	admin.do("GET", "/api/v1/records/deals/"+id, nil, nil).want(404)
	admin.do("POST", "/api/v1/records/deals/"+id+"/restore", nil, nil).want(200)
	admin.do("GET", "/api/v1/records/deals/"+id, nil, nil).want(200)
}

func TestTokensAndDeactivation(t *testing.T) {
	e := newEnv(t)
	admin := e.as("admin")
	tok := admin.do("POST", "/api/v1/auth/tokens", map[string]any{"name": "erp", "scopes": []string{"records:read"}}, nil).want(201).json()["token"].(string)
	bearer := map[string]string{"Authorization": "Bearer " + tok}
	anon := e.anon()
	anon.do("GET", "/api/v1/records/users", nil, bearer).want(200)
	anon.do("POST", "/api/v1/records/regions", map[string]any{"code": "x", "name": "x"}, bearer).want(403)
	rep := e.as("rep.south")
	rep.do("GET", "/api/v1/auth/me", nil, nil).want(200)
	users := admin.do("GET", `/api/v1/records/users?filter=login%20==%20"rep.south"`, nil, nil).want(200).items()
	admin.do("PATCH", "/api/v1/records/users/"+users[0]["id"].(string), map[string]any{"active": false}, nil).want(200)
	rep.do("GET", "/api/v1/auth/me", nil, nil).want(401)
	// Revocation and logout take effect on the very next request, even right
	// after a request that was let in.
	created := admin.do("POST", "/api/v1/auth/tokens", map[string]any{"name": "tmp", "scopes": []string{"records:read"}}, nil).want(201).json()
	tmp := map[string]string{"Authorization": "Bearer " + created["token"].(string)}
	anon.do("GET", "/api/v1/records/regions", nil, tmp).want(200)
	admin.do("DELETE", "/api/v1/auth/tokens/"+created["id"].(string), nil, nil).want(204)
	anon.do("GET", "/api/v1/records/regions", nil, tmp).want(401)
	gm := e.as("gm")
	gm.do("GET", "/api/v1/auth/me", nil, nil).want(200)
	gm.do("POST", "/api/v1/auth/logout", nil, nil).want(204)
	gm.do("GET", "/api/v1/auth/me", nil, nil).want(401)
	if strings.Contains(string(admin.do("GET", "/api/v1/openapi.json", nil, nil).want(200).body), "password_hash") {
		t.Fatal("openapi leaks")
	}
}
