package apitest

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

func TestMetadataAPI(t *testing.T) {
	e := newEnv(t)
	admin := setupDeals(t, e)
	rep := e.as("rep.east")
	field := map[string]any{"name": "wechat", "type": "text", "label": map[string]string{"zh-CN": "微信", "en": "WeChat"}}
	rep.do("POST", "/api/v1/meta/entities/users/fields", field, nil).want(403)
	// A custom field on a built-in entity behaves like any field.
	admin.do("POST", "/api/v1/meta/entities/users/fields", field, nil).want(201)
	admin.do("POST", "/api/v1/meta/entities/users/fields", field, nil).want(422)                                           // taken
	admin.do("POST", "/api/v1/meta/entities/users/fields", map[string]any{"name": "login", "type": "text"}, nil).want(422) // built-in name
	admin.do("POST", "/api/v1/meta/entities/users/fields", map[string]any{"name": "Bad-Name", "type": "text"}, nil).want(422)
	admin.do("POST", "/api/v1/meta/entities/users/fields", map[string]any{"name": "x", "type": "nosuch"}, nil).want(422)
	admin.do("POST", "/api/v1/meta/entities/users/fields", map[string]any{"name": "x", "type": "text", "bogus": 1}, nil).want(400)
	admin.do("POST", "/api/v1/meta/entities", map[string]any{"name": "users", "label": map[string]string{"en": "x"}, "fields": []any{}}, nil).want(422)
	users := admin.do("GET", `/api/v1/records/users?filter=login%20==%20"gm"`, nil, nil).want(200).items()
	id := users[0]["id"].(string)
	admin.do("PATCH", "/api/v1/records/users/"+id, map[string]any{"wechat": "wang_gm"}, nil).want(200)
	if got := admin.do("GET", `/api/v1/records/users?filter=wechat%20==%20"wang_gm"`, nil, nil).want(200).items(); len(got) != 1 {
		t.Fatal("filter on custom field")
	}
	// Type changes only between compatible types; built-in fields are fixed.
	admin.do("PATCH", "/api/v1/meta/entities/users/fields/wechat", map[string]any{"name": "wechat", "type": "integer"}, nil).want(422)
	admin.do("PATCH", "/api/v1/meta/entities/users/fields/wechat", map[string]any{"name": "wechat", "type": "long_text"}, nil).want(200)
	admin.do("PATCH", "/api/v1/meta/entities/users/fields/login", map[string]any{"name": "login", "type": "text"}, nil).want(409)
	// Deleting a field removes it from the API; a new field of that name starts empty.
	admin.do("DELETE", "/api/v1/meta/entities/users/fields/wechat", nil, nil).want(204)
	admin.do("GET", `/api/v1/records/users?filter=wechat%20==%20"wang_gm"`, nil, nil).want(400)
	admin.do("POST", "/api/v1/meta/entities/users/fields", field, nil).want(201)
	if v := admin.do("GET", "/api/v1/records/users/"+id, nil, nil).want(200).json()["wechat"]; v != nil {
		t.Fatalf("re-added field kept old data: %v", v)
	}
	// The OpenAPI document includes custom entities and fields.
	doc := string(admin.do("GET", "/api/v1/openapi.json", nil, nil).want(200).body)
	for _, want := range []string{`"openapi":"3.1.0"`, `/api/v1/records/deals`, `"wechat"`} {
		if !strings.Contains(doc, want) {
			t.Fatalf("openapi lacks %s", want)
		}
	}
}

func upload(t *testing.T, c *client, name string, content []byte) *response {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(content)
	mw.Close()
	return c.do("POST", "/api/v1/files", buf.Bytes(), map[string]string{"Content-Type": mw.FormDataContentType()})
}

func TestFilesThroughRecords(t *testing.T) {
	e := newEnv(t)
	admin := setupDeals(t, e)
	admin.do("POST", "/api/v1/meta/entities/deals/fields", map[string]any{"name": "drawing", "type": "file"}, nil).want(201)
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 100)...)
	f := upload(t, admin, "图纸.pdf", pdf).want(201).json()
	fid := f["id"].(string)
	upload(t, admin, "evil.png", []byte("<html><script>alert(1)</script></html>")).want(422)
	upload(t, admin, "run.sh", []byte("#!/bin/sh\necho hi\n")).want(422)
	south := admin.do("POST", "/api/v1/records/deals", map[string]any{"name": "南", "region": "华南", "drawing": fid}, nil).want(201).json()
	rep := e.as("rep.east")
	rep.do("GET", "/api/v1/files/"+fid, nil, nil).want(404) // only through a readable record
	repSouth := e.as("rep.south")
	res := repSouth.do("GET", "/api/v1/files/"+fid, nil, nil).want(200)
	if !bytes.Equal(res.body, pdf) || !strings.HasPrefix(res.header.Get("Content-Disposition"), "attachment") || res.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("download headers %v", res.header)
	}
	// Linking to a record the user cannot see is refused.
	admin.do("POST", "/api/v1/meta/entities/deals/fields", map[string]any{"name": "parent", "type": "link", "target": "deals"}, nil).want(201)
	rep.do("POST", "/api/v1/records/deals", map[string]any{"name": "东", "region": "华东", "parent": south["id"]}, nil).want(422)
	east := rep.do("POST", "/api/v1/records/deals", map[string]any{"name": "东", "region": "华东"}, nil).want(201).json()
	child := rep.do("POST", "/api/v1/records/deals", map[string]any{"name": "东2", "region": "华东", "parent": east["id"]}, nil).want(201).json()
	got := rep.do("GET", "/api/v1/records/deals/"+child["id"].(string)+"?expand=parent,owner", nil, nil).want(200).json()
	ex := got["expand"].(map[string]any)
	if ex["parent"].(map[string]any)["name"] != "东" || ex["owner"].(map[string]any)["login"] != "rep.east" {
		t.Fatalf("expand: %v", ex)
	}
	// Change feed: cursor continues without skipping.
	first := admin.do("GET", "/api/v1/changes?entity=deals&limit=2", nil, nil).want(200).json()
	next := first["next"].(string)
	rest := admin.do("GET", "/api/v1/changes?entity=deals&since="+next, nil, nil).want(200).json()
	all := admin.do("GET", "/api/v1/changes?entity=deals", nil, nil).want(200).json()
	if len(first["items"].([]any))+len(rest["items"].([]any)) != len(all["items"].([]any)) {
		t.Fatal("cursor skipped changes")
	}
	// Too large an upload: 413.
	big := bytes.Repeat([]byte("a"), 51<<20)
	r := upload(t, admin, "big.bin", big)
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("big upload: %d %s", r.status, r.body)
	}
}
