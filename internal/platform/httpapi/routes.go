package httpapi

import (
	"fmt"
	"net/http"
	"net/http/pprof"
	"runtime"

	"github.com/tenon-crm/tenon/internal/platform/auth"
)

func (s *Server) routes() {
	m := s.mux
	m.Handle("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}))
	m.Handle("GET /readyz", s.public(s.ready))
	m.Handle("GET /metrics", s.authed(auth.ScopeAdmin, s.metrics))
	m.Handle("GET /api/v1/openapi.json", s.public(s.openapi))
	m.Handle("GET /debug/pprof/{name...}", s.authed(auth.ScopeAdmin, s.pprof))

	m.Handle("POST /api/v1/auth/login", s.public(s.login))
	m.Handle("POST /api/v1/auth/logout", s.public(s.logout))
	m.Handle("GET /api/v1/auth/me", s.authed("", s.me))
	m.Handle("GET /api/v1/auth/scopes", s.authed("", s.scopes))
	m.Handle("GET /api/v1/auth/tokens", s.authed(auth.ScopeAdmin, s.listTokens))
	m.Handle("POST /api/v1/auth/tokens", s.authed(auth.ScopeAdmin, s.createToken))
	m.Handle("DELETE /api/v1/auth/tokens/{id}", s.authed(auth.ScopeAdmin, s.revokeToken))

	rr, rw := auth.ScopeRecordsRead, auth.ScopeRecordsWrite
	m.Handle("GET /api/v1/records/{entity}", s.authed(rr, s.listRecords))
	m.Handle("POST /api/v1/records/{entity}", s.authed(rw, s.createRecord))
	m.Handle("GET /api/v1/records/{entity}/{id}", s.authed(rr, s.getRecord))
	m.Handle("PATCH /api/v1/records/{entity}/{id}", s.authed(rw, s.patchRecord))
	m.Handle("DELETE /api/v1/records/{entity}/{id}", s.authed(rw, s.deleteRecord))
	m.Handle("POST /api/v1/records/{entity}/{id}/restore", s.authed(rw, s.restoreRecord))
	m.Handle("GET /api/v1/records/{entity}/{id}/history", s.authed(rr, s.history))
	m.Handle("POST /api/v1/records/{entity}/{id}/actions/{action}", s.authed(rw, s.action))
	m.Handle("PUT /api/v1/records/{entity}/by-external-id/{source}/{external_id}", s.authed(rw, s.upsert))
	m.Handle("GET /api/v1/changes", s.authed(rr, s.changes))
	m.Handle("GET /api/v1/search", s.authed(rr, s.searchAll))
	m.Handle("GET /api/v1/records/{entity}/{id}/shares", s.authed(rr, s.listShares))
	m.Handle("POST /api/v1/records/{entity}/{id}/shares", s.authed(rw, s.share))
	m.Handle("DELETE /api/v1/records/{entity}/{id}/shares", s.authed(rw, s.unshare))
	m.Handle("GET /api/v1/audit", s.authed(auth.ScopeAdmin, s.auditSearch))
	m.Handle("GET /api/v1/audit/logins", s.authed(auth.ScopeAdmin, s.loginEvents))

	m.Handle("GET /api/v1/meta/entities", s.authed(auth.ScopeMetaRead, s.listEntities))
	m.Handle("GET /api/v1/meta/entities/{entity}", s.authed(auth.ScopeMetaRead, s.getEntity))
	m.Handle("POST /api/v1/meta/entities", s.authed(auth.ScopeMetaWrite, s.createEntity))
	m.Handle("POST /api/v1/meta/entities/{entity}/fields", s.authed(auth.ScopeMetaWrite, s.addField))
	m.Handle("PATCH /api/v1/meta/entities/{entity}/fields/{field}", s.authed(auth.ScopeMetaWrite, s.patchField))
	m.Handle("DELETE /api/v1/meta/entities/{entity}/fields/{field}", s.authed(auth.ScopeMetaWrite, s.deleteField))

	m.Handle("POST /api/v1/files", s.authed(auth.ScopeFilesWrite, s.uploadFile))
	m.Handle("GET /api/v1/files/{id}", s.authed(auth.ScopeFilesRead, s.downloadFile))

	s.jobsRoutes()
	s.mountSurfaces()

	m.Handle("/api/", s.public(func(w http.ResponseWriter, r *http.Request) error { return errNoRoute }))
	if s.UI != nil {
		m.Handle("/", s.UI)
	} else {
		m.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, "Tenon API: /api/v1/openapi.json")
		}))
	}
}

// pprof serves Go's profiles to administrators (CPU, heap, goroutines).
func (s *Server) pprof(w http.ResponseWriter, r *http.Request) error {
	if !principal(r).Admin {
		return errAdminOnly
	}
	switch name := r.PathValue("name"); name {
	case "", "index":
		pprof.Index(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		pprof.Handler(name).ServeHTTP(w, r)
	}
	return nil
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) error {
	if err := s.DB.Ping(r.Context()); err != nil {
		s.Log.Warn("not ready", "err", err)
		return errNotReady
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) error {
	if !principal(r).Admin {
		return errAdminOnly
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := s.DB.Stats()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	s.Metrics.Write(w, map[string]float64{
		"tenon_go_heap_bytes":         float64(ms.HeapAlloc),
		"tenon_go_sys_bytes":          float64(ms.Sys),
		"tenon_go_goroutines":         float64(runtime.NumGoroutine()),
		"tenon_db_open_connections":   float64(st.OpenConnections),
		"tenon_db_in_use_connections": float64(st.InUse),
	})
	return nil
}
