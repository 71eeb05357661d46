package apitest

import (
	"testing"

	"github.com/tenon-crm/tenon/internal/module/demo"
)

// TestSavedViews: personal views stay personal, only administrators share,
// and a view's filter and sort are checked for its owner when saved.
func TestSavedViews(t *testing.T) {
	e := newEnv(t)
	admin := setupDeals(t, e)
	east, south := e.as("rep.east"), e.as("rep.south")

	mine := east.do("POST", "/api/v1/records/saved_views", map[string]any{
		"name": "我的大单", "entity": "deals", "filter": `amount > 100000`, "sort": "-amount", "columns": []string{"name", "amount"}}, nil).want(201).json()
	id := mine["id"].(string)
	if items := south.do("GET", "/api/v1/records/saved_views", nil, nil).want(200).items(); len(items) != 0 {
		t.Fatalf("another rep sees a personal view: %v", items)
	}
	south.do("GET", "/api/v1/records/saved_views/"+id, nil, nil).want(404)
	east.do("PATCH", "/api/v1/records/saved_views/"+id, map[string]any{"shared": true}, nil).want(403)

	shared := admin.do("POST", "/api/v1/records/saved_views", map[string]any{
		"name": "华东交易", "entity": "deals", "filter": `region == "华东"`, "shared": true}, nil).want(201).json()
	for _, c := range []*client{east, south} {
		names := map[string]bool{}
		for _, it := range c.do("GET", `/api/v1/records/saved_views?filter=entity%20==%20"deals"`, nil, nil).want(200).items() {
			names[it["name"].(string)] = true
		}
		if !names["华东交易"] {
			t.Fatalf("shared view missing: %v", names)
		}
	}
	south.do("PATCH", "/api/v1/records/saved_views/"+shared["id"].(string), map[string]any{"name": "x"}, nil).want(404)
	south.do("DELETE", "/api/v1/records/saved_views/"+shared["id"].(string), nil, nil).want(404)

	// A filter on a field hidden from the rep, a bad sort, an unreadable entity.
	bad := east.do("POST", "/api/v1/records/saved_views", map[string]any{
		"name": "x", "entity": "deals", "filter": `cost > 1`, "sort": "nosuch"}, nil).want(422).json()
	fields := map[string]bool{}
	for _, fe := range bad["errors"].([]any) {
		fields[fe.(map[string]any)["field"].(string)] = true
	}
	if !fields["filter"] {
		t.Fatalf("want an error on filter: %v", bad)
	}
	east.do("POST", "/api/v1/records/saved_views", map[string]any{"name": "x", "entity": "roles"}, nil).want(422)
}

// TestDirectoryAndProfile: every user sees colleagues by name (not their
// roles) and may change their own language and phone, nothing more.
func TestDirectoryAndProfile(t *testing.T) {
	e := newEnv(t)
	admin := e.as("admin")
	// A role with no lines at all still sees the directory.
	admin.do("POST", "/api/v1/records/roles", map[string]any{"name": "visitor", "permissions": []any{}}, nil).want(201)
	gm := admin.do("GET", `/api/v1/records/users?filter=login%20==%20"gm"`, nil, nil).want(200).items()[0]
	rep := e.as("rep.east")
	me := rep.do("GET", "/api/v1/auth/me", nil, nil).want(200).json()["user"].(map[string]any)
	users := rep.do("GET", "/api/v1/records/users?per_page=100", nil, nil).want(200).items()
	if len(users) < 10 {
		t.Fatalf("directory has %d users", len(users))
	}
	for _, u := range users {
		if _, ok := u["roles"]; ok {
			t.Fatal("roles visible to a rep")
		}
	}
	rep.do("PATCH", "/api/v1/records/users/"+me["id"].(string), map[string]any{"language": "en", "phone": "13800138000"}, nil).want(200)
	for _, change := range []map[string]any{{"active": false}, {"regions": []string{"华南"}}, {"name": "x"}} {
		if st := rep.do("PATCH", "/api/v1/records/users/"+me["id"].(string), change, nil).status; st < 400 {
			t.Fatalf("rep changed own %v: %d", change, st)
		}
	}
	rep.do("PATCH", "/api/v1/records/users/"+gm["id"].(string), map[string]any{"language": "en"}, nil).want(404)
}

// TestPasswordChange: one's own password needs the current one; an admin's
// reset needs none and signs the user out everywhere.
func TestPasswordChange(t *testing.T) {
	e := newEnv(t)
	rep := e.as("rep.east")
	id := rep.do("GET", "/api/v1/auth/me", nil, nil).want(200).json()["user"].(map[string]any)["id"].(string)
	path := "/api/v1/records/users/" + id + "/actions/set_password"
	rep.do("POST", path, map[string]any{"password": "new-secret-9"}, nil).want(422)
	rep.do("POST", path, map[string]any{"password": "new-secret-9", "current_password": "wrong-one"}, nil).want(422)
	rep.do("POST", path, map[string]any{"password": "new-secret-9", "current_password": demo.Password}, nil).want(204)
	rep.do("GET", "/api/v1/auth/me", nil, nil).want(200) // still signed in
	fresh := e.anon()
	fresh.do("POST", "/api/v1/auth/login", map[string]any{"login": "rep.east", "password": "new-secret-9"}, nil).want(200)

	admin := e.as("admin")
	admin.do("POST", path, map[string]any{"password": "reset-by-admin-1"}, nil).want(204)
	rep.do("GET", "/api/v1/auth/me", nil, nil).want(401)
	// Someone else's password is not a rep's to set.
	gm := admin.do("GET", `/api/v1/records/users?filter=login%20==%20"gm"`, nil, nil).want(200).items()[0]["id"].(string)
	e.as("rep.south").do("POST", "/api/v1/records/users/"+gm+"/actions/set_password", map[string]any{"password": "x-x-x-x-x-1"}, nil).want(403)
}

// TestDepartmentDelete: a department with sub-departments or members stays.
func TestDepartmentDelete(t *testing.T) {
	e := newEnv(t)
	admin := e.as("admin")
	sales := admin.do("GET", `/api/v1/records/departments?filter=code%20==%20"SALES"`, nil, nil).want(200).items()[0]["id"].(string)
	admin.do("DELETE", "/api/v1/records/departments/"+sales, nil, nil).want(409)
	empty := admin.do("POST", "/api/v1/records/departments", map[string]any{"name": "临时组", "code": "TMP", "parent": sales}, nil).want(201).json()["id"].(string)
	admin.do("DELETE", "/api/v1/records/departments/"+empty, nil, nil).want(204)
}
