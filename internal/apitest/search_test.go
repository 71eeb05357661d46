package apitest

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// TestSearchAcrossIndexStates checks that q finds exactly the records whose
// text matches, whether SQLite's full-text index has reached them yet or
// not, and after updates on both sides of the indexer's watermark.
func TestSearchAcrossIndexStates(t *testing.T) {
	e := newEnv(t)
	admin := setupDeals(t, e)
	ctx := context.Background()
	create := func(name string) string {
		return admin.do("POST", "/api/v1/records/deals", map[string]any{"name": name, "region": "华东"}, nil).want(201).json()["id"].(string)
	}
	find := func(q string) []string {
		t.Helper()
		var names []string
		for _, it := range admin.do("GET", "/api/v1/records/deals?q="+url.QueryEscape(q), nil, nil).want(200).items() {
			names = append(names, it["name"].(string))
		}
		sort.Strings(names)
		return names
	}
	expect := func(q string, want ...string) {
		t.Helper()
		sort.Strings(want)
		if got := find(q); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("q=%s: got %v, want %v", q, got, want)
		}
	}

	a := create("苏州精密机械 A")
	create("无锡精密铸造 B")
	expect("精密", "苏州精密机械 A", "无锡精密铸造 B") // not indexed yet: found from the stored text
	expect("精密机械", "苏州精密机械 A")

	if err := e.app.Records.CatchUpSearch(ctx, nil); err != nil {
		t.Fatal(err)
	}
	c := create("常州精密电机 C") // above the watermark again
	expect("精密", "苏州精密机械 A", "无锡精密铸造 B", "常州精密电机 C")
	expect("电机", "常州精密电机 C")

	// An indexed record renamed: its old text is gone from the index.
	admin.do("PATCH", "/api/v1/records/deals/"+a, map[string]any{"name": "苏州液压泵 A"}, nil).want(200)
	expect("精密机械")
	expect("液压", "苏州液压泵 A")
	// A record not yet indexed renamed: the indexer reads the new text.
	admin.do("PATCH", "/api/v1/records/deals/"+c, map[string]any{"name": "常州减速机 C"}, nil).want(200)
	if err := e.app.Records.CatchUpSearch(ctx, nil); err != nil {
		t.Fatal(err)
	}
	expect("电机")
	expect("减速机", "常州减速机 C")
	expect("精密", "无锡精密铸造 B")
	// Running the indexer again changes nothing (no duplicates), and
	// compacting the index loses nothing.
	if err := e.app.Records.CatchUpSearch(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.app.Records.CompactSearch(ctx); err != nil {
		t.Fatal(err)
	}
	if n := admin.do("GET", "/api/v1/records/deals?q="+url.QueryEscape("州"), nil, nil).want(200).json()["total"].(float64); n != 2 {
		t.Fatalf("total %v, want 2", n)
	}
	// Pages of a search, newest first, with the total on every page.
	for _, n := range []string{"温州阀门 D", "温州阀门 E", "温州阀门 F"} {
		create(n)
	}
	var pages []string
	for page := 1; page <= 2; page++ {
		r := admin.do("GET", fmt.Sprintf("/api/v1/records/deals?q=%s&per_page=2&page=%d&sort=-name", url.QueryEscape("温州阀门"), page), nil, nil).want(200).json()
		if r["total"].(float64) != 3 || r["total_exact"] != true {
			t.Fatalf("page %d total %v", page, r["total"])
		}
		for _, it := range r["items"].([]any) {
			pages = append(pages, it.(map[string]any)["name"].(string))
		}
	}
	if strings.Join(pages, "|") != "温州阀门 F|温州阀门 E|温州阀门 D" {
		t.Fatalf("pages %v", pages)
	}
}

// TestSearchAll: the global search finds records in every readable entity,
// within the user's scope, by title.
func TestSearchAll(t *testing.T) {
	e := newEnv(t)
	admin := setupDeals(t, e)
	admin.do("POST", "/api/v1/records/deals", map[string]any{"name": "宁波液压 东", "region": "华东"}, nil).want(201)
	admin.do("POST", "/api/v1/records/deals", map[string]any{"name": "佛山液压 南", "region": "华南"}, nil).want(201)
	groups := e.as("rep.east").do("GET", "/api/v1/search?q="+url.QueryEscape("液压"), nil, nil).want(200).json()["items"].([]any)
	var titles []string
	for _, g := range groups {
		g := g.(map[string]any)
		if g["entity"] != "deals" {
			continue
		}
		for _, it := range g["items"].([]any) {
			titles = append(titles, it.(map[string]any)["title"].(string))
		}
	}
	if strings.Join(titles, "|") != "宁波液压 东" {
		t.Fatalf("rep.east found %v", titles)
	}
	// Users are searchable by everyone (the directory), by name.
	found := false
	for _, g := range admin.do("GET", "/api/v1/search?q="+url.QueryEscape("rep.east"), nil, nil).want(200).json()["items"].([]any) {
		if g.(map[string]any)["entity"] == "users" {
			found = true
		}
	}
	if !found {
		t.Fatal("users not searched")
	}
	admin.do("GET", "/api/v1/search?q=", nil, nil).want(400)
}

// TestSearchTotals: a search counts up to 100, then says "100 or more";
// count=exact still counts everything.
func TestSearchTotals(t *testing.T) {
	e := newEnv(t)
	admin := setupDeals(t, e)
	for i := 0; i < 102; i++ {
		admin.do("POST", "/api/v1/records/deals", map[string]any{"name": fmt.Sprintf("台州泵业 %03d", i)}, nil).want(201)
	}
	q := "/api/v1/records/deals?q=" + url.QueryEscape("台州泵业")
	r := admin.do("GET", q, nil, nil).want(200).json()
	if r["total"].(float64) != 100 || r["total_exact"] != false || len(r["items"].([]any)) != 50 {
		t.Fatalf("capped total: %v %v, %d items", r["total"], r["total_exact"], len(r["items"].([]any)))
	}
	if first := r["items"].([]any)[0].(map[string]any)["name"]; first != "台州泵业 101" {
		t.Fatalf("newest first: got %v", first)
	}
	r = admin.do("GET", q+"&count=exact&page=3", nil, nil).want(200).json()
	if r["total"].(float64) != 102 || r["total_exact"] != true || len(r["items"].([]any)) != 2 {
		t.Fatalf("exact: %v, %d items", r["total"], len(r["items"].([]any)))
	}
}
