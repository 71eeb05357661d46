package web

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

// TestScreensExistInBuild: every module the hints name is a chunk of the
// committed build, so a renamed screen fails here rather than silently
// losing its hints.
func TestScreensExistInBuild(t *testing.T) {
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := fs.ReadFile(root, ".vite/manifest.json")
	if err != nil {
		t.Fatalf("the build has no manifest (vite.config.ts build.manifest): %v", err)
	}
	var m map[string]manifestChunk
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, s := range screens {
		for _, mod := range s.modules {
			if _, ok := m[mod]; !ok {
				t.Errorf("screen %q: %s is not in the build's manifest", s.pattern, mod)
			}
		}
	}
	page := get(t, Handler(), "/e/accounts")
	if !strings.Contains(page, "/"+m["src/views/EntityList.vue"].File) {
		t.Errorf("the list page does not name the list's chunk:\n%s", page)
	}
}

func TestPagesNameTheScreensChunks(t *testing.T) {
	index := `<html><head>
    <script type="module" crossorigin src="/assets/index-1.js"></script>
    <link rel="modulepreload" crossorigin href="/assets/vue-1.js">
  </head><body></body></html>`
	manifest := map[string]manifestChunk{
		"index.html":                 {File: "assets/index-1.js", Imports: []string{"_vue-1.js"}},
		"_vue-1.js":                  {File: "assets/vue-1.js"},
		"_button-1.js":               {File: "assets/button-1.js", Imports: []string{"_vue-1.js"}, CSS: []string{"assets/button-1.css"}},
		"_table-1.js":                {File: "assets/table-1.js", Imports: []string{"_button-1.js", "index.html"}},
		"src/layouts/AppLayout.vue":  {File: "assets/AppLayout-1.js", Imports: []string{"_button-1.js"}, CSS: []string{"assets/AppLayout-1.css"}},
		"src/views/EntityList.vue":   {File: "assets/EntityList-1.js", Imports: []string{"_table-1.js", "_button-1.js"}},
		"src/views/EntityDetail.vue": {File: "assets/EntityDetail-1.js"},
		"src/views/EntityKanban.vue": {File: "assets/EntityKanban-1.js"},
		"src/views/LoginView.vue":    {File: "assets/LoginView-1.js", Imports: []string{"_button-1.js"}},
	}
	raw, _ := json.Marshal(manifest)
	fsys := fstest.MapFS{
		"index.html":          {Data: []byte(index)},
		".vite/manifest.json": {Data: raw},
		"assets/index-1.js":   {Data: []byte("//")},
	}
	h := newHandler(fsys)
	has := func(page string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Errorf("page lacks %s:\n%s", w, page)
			}
		}
	}
	lacks := func(page string, not ...string) {
		t.Helper()
		for _, w := range not {
			if strings.Contains(page, w) {
				t.Errorf("page has %s:\n%s", w, page)
			}
		}
	}
	pre := func(file string) string { return `<link rel="modulepreload" crossorigin href="/assets/` + file + `">` }
	css := func(file string) string {
		return `<link rel="preload" as="style" crossorigin href="/assets/` + file + `">`
	}

	list := get(t, h, "/e/accounts")
	has(list, pre("AppLayout-1.js"), pre("EntityList-1.js"), pre("table-1.js"), pre("button-1.js"), css("button-1.css"), css("AppLayout-1.css"))
	if strings.Count(list, "vue-1.js") != 1 || strings.Count(list, "button-1.js") != 1 {
		t.Errorf("a chunk is named twice, or one index.html names again:\n%s", list)
	}
	if strings.Index(list, "button-1.js") > strings.Index(list, "</head>") {
		t.Errorf("hints outside the head:\n%s", list)
	}
	has(get(t, h, "/e/accounts/kanban"), pre("EntityKanban-1.js"))
	has(get(t, h, "/e/accounts/42"), pre("EntityDetail-1.js"))
	login := get(t, h, "/login")
	has(login, pre("LoginView-1.js"))
	lacks(login, "AppLayout")
	other := get(t, h, "/admin/roles")
	has(other, pre("AppLayout-1.js"))
	lacks(other, "EntityList")

	// Assets are served as files, unknown ones are 404, not the page.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/assets/missing-1.js", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("missing asset: %d", rec.Code)
	}

	// Without a manifest the page is index.html as built.
	plain := newHandler(fstest.MapFS{"index.html": {Data: []byte(index)}})
	if got := get(t, plain, "/e/accounts"); got != index {
		t.Errorf("no manifest: %s", got)
	}
}

func get(t *testing.T, h http.Handler, path string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d", path, rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}
