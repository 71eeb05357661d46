package apitest

import (
	"testing"
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
