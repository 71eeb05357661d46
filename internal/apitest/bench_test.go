package apitest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkCreate measures creates through the full HTTP handler (no
// network), 16 goroutines, on the entity of TestPermissionsAcrossRegions.
func BenchmarkCreate(b *testing.B) {
	e := newEnv(b)
	admin := setupDeals(b, e)
	tok := admin.do("POST", "/api/v1/auth/tokens", map[string]any{"name": "bench", "scopes": []string{"admin"}}, nil).want(201).json()["token"].(string)
	h := e.app.API.Handler()
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := fmt.Sprintf(`{"name": "苏州精密机械有限公司%d", "region": "华东", "amount": "%d.50", "code": "C%d"}`, i, i, i)
			req := httptest.NewRequest("POST", "/api/v1/records/deals", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusCreated {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkList measures a filtered, sorted page of 50 through the handler.
func BenchmarkList(b *testing.B) {
	e := newEnv(b)
	admin := setupDeals(b, e)
	tok := admin.do("POST", "/api/v1/auth/tokens", map[string]any{"name": "bench", "scopes": []string{"admin"}}, nil).want(201).json()["token"].(string)
	h := e.app.API.Handler()
	for i := 0; i < 3000; i++ {
		region := []string{"华东", "华南", "华北"}[i%3]
		admin.do("POST", "/api/v1/records/deals", map[string]any{"name": fmt.Sprint("苏州精密", i), "region": region, "amount": fmt.Sprint(i, ".25")}, nil).want(201)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("GET", `/api/v1/records/deals?filter=region%20==%20"华东"&sort=-amount&per_page=50`, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}
