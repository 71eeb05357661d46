// Package web holds the browser app. Its built copy in dist/ is committed and
// embedded, so building Tenon needs no Node; the sources beside it are built
// with Vite (see web/README.md).
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// Handler serves the app: files from dist as they are, hashed assets with a
// long cache life, and index.html for every other path so the client-side
// router can take it (a deep link or a reload lands on the app). The page
// served for a path names the code of the screen that path opens (see
// preload.go), so the browser fetches it beside the entry script.
func Handler() http.Handler {
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed directive guarantees dist exists
	}
	return newHandler(root)
}

func newHandler(root fs.FS) http.Handler {
	files := http.FileServerFS(root)
	index, indexErr := fs.ReadFile(root, "index.html")
	pages := newPages(root, index)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name != "" && name != "index.html" {
			if st, err := fs.Stat(root, name); err == nil && !st.IsDir() {
				if strings.HasPrefix(name, "assets/") {
					w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				}
				files.ServeHTTP(w, r)
				return
			}
			if path.Ext(name) != "" {
				http.NotFound(w, r)
				return
			}
		}
		if indexErr != nil {
			http.Error(w, "web app not built", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(pages.forPath(name))
	})
}
