package web

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"strings"
)

// A deep link (a reload, a link in a notification e-mail) opens a screen
// whose code is a lazy chunk with its own imports. Left to the browser, the
// chunks are found a level at a time: the entry runs, asks for the screen,
// whose imports are then fetched over the six connections HTTP/1.1 allows.
// The page served for such a path therefore names the screen's chunks and
// stylesheets up front (modulepreload and preload links), taken from the
// build's manifest (dist/.vite/manifest.json), so they load beside the entry.

// screens maps paths to the router components they show (see
// src/router/index.ts), for the screens people land on. Patterns match
// path segments; "*" matches any one segment; the first match wins. Any
// other path gets the shell's code only. The table is a loading hint: out
// of step with the router, the app still works, only slower; a test checks
// that every module named here exists in the build.
var screens = []struct {
	pattern string
	modules []string
}{
	{"login", []string{"src/views/LoginView.vue"}},
	{"", []string{shell, "src/views/HomeView.vue"}},
	{"e/*", []string{shell, "src/views/EntityList.vue"}},
	{"e/*/kanban", []string{shell, "src/views/EntityKanban.vue"}},
	{"e/*/new", []string{shell, "src/views/EntityForm.vue"}},
	{"e/*/*", []string{shell, "src/views/EntityDetail.vue"}},
	{"e/*/*/edit", []string{shell, "src/views/EntityForm.vue"}},
}

// shell is the layout around every signed-in screen.
const shell = "src/layouts/AppLayout.vue"

// manifestChunk is the part of a Vite manifest entry the hints need.
type manifestChunk struct {
	File    string   `json:"file"`
	Imports []string `json:"imports"`
	CSS     []string `json:"css"`
}

// pages holds index.html as served for each screen, built once.
type pages struct {
	plain    []byte
	byScreen [][]byte // parallel to screens
	other    []byte   // paths no screen matches: the shell's hints
}

func newPages(root fs.FS, index []byte) *pages {
	p := &pages{plain: index}
	raw, err := fs.ReadFile(root, ".vite/manifest.json")
	if err != nil || len(index) == 0 {
		return p // a build without a manifest: no hints
	}
	var m map[string]manifestChunk
	if json.Unmarshal(raw, &m) != nil {
		return p
	}
	p.byScreen = make([][]byte, len(screens))
	for i, s := range screens {
		p.byScreen[i] = withHints(index, m, s.modules)
	}
	p.other = withHints(index, m, []string{shell})
	return p
}

// forPath returns the page for a URL path (without its leading slash).
func (p *pages) forPath(name string) []byte {
	if p.byScreen == nil {
		return p.plain
	}
	segs := strings.Split(strings.Trim(name, "/"), "/")
	for i, s := range screens {
		if matchSegments(s.pattern, segs) {
			return p.byScreen[i]
		}
	}
	return p.other
}

func matchSegments(pattern string, segs []string) bool {
	ps := strings.Split(pattern, "/")
	if len(ps) != len(segs) {
		return false
	}
	for i, s := range ps {
		if s != "*" && s != segs[i] {
			return false
		}
	}
	return true
}

// withHints inserts, before </head>, a modulepreload link for every chunk
// the modules need (transitively, through static imports) and a preload
// link for each of their stylesheets, leaving out what index.html already
// names. Module preloads make the browser fetch and compile the code;
// stylesheets are only fetched (the app attaches them when it loads the
// screen, then from the cache), so they do not hold up the first paint.
func withHints(index []byte, m map[string]manifestChunk, modules []string) []byte {
	var links bytes.Buffer
	seen := map[string]bool{}
	named := map[string]bool{}
	var visit func(key string)
	visit = func(key string) {
		if seen[key] || key == "index.html" {
			return
		}
		seen[key] = true
		c, ok := m[key]
		if !ok {
			return
		}
		for _, imp := range c.Imports {
			visit(imp)
		}
		link := func(attrs, file string) {
			if named[file] || bytes.Contains(index, []byte(`"/`+file+`"`)) {
				return
			}
			named[file] = true
			links.WriteString(`    <link ` + attrs + ` crossorigin href="/` + file + `">` + "\n")
		}
		link(`rel="modulepreload"`, c.File)
		for _, css := range c.CSS {
			link(`rel="preload" as="style"`, css)
		}
	}
	for _, mod := range modules {
		visit(mod)
	}
	i := bytes.Index(index, []byte("</head>"))
	if i < 0 || links.Len() == 0 {
		return index
	}
	out := make([]byte, 0, len(index)+links.Len())
	out = append(out, index[:i]...)
	out = append(out, links.Bytes()...)
	return append(out, index[i:]...)
}
