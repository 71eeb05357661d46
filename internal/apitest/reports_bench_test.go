package apitest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db"
)

// BenchmarkReports runs every built-in report through
// GET /api/v1/reports/{id}/data over N opportunities (TENON_SALES_BENCH_N,
// default 20,000; the figure is 1,000,000) and 2N leads, seeded as
// BenchmarkSalesBoard seeds them, as an administrator and as a 华南 rep,
// and the report's hand-written query (handReports, the tests' reference)
// as the administrator's equivalent. It reports p50 and p95 (ms) of each,
// and the ratio of the administrator's p50 to the hand query's.
// go test ./internal/apitest -run XXX -bench Reports -benchtime 1x
func BenchmarkReports(b *testing.B) {
	n := benchN()
	runs := 15
	se, clk, tokens := newSalesBench(b, "tenon_reports_bench", "opportunities", "leads", "accounts", "activities", "campaigns:all", "quotes", "sales_orders", "pipelines:all")
	ids := map[string]string{}
	for _, it := range se.admin.do("GET", "/api/v1/records/reports?per_page=100&fields=key", nil, nil).want(200).items() {
		ids[it["key"].(string)] = it["id"].(string)
	}
	seedSalesBench(b, se, clk, n)
	ctx := context.Background()
	clk.Set(time.Date(2028, 12, 31, 9, 0, 0, 0, shanghai))
	h := se.app.API.Handler()
	pct := func(took []time.Duration, q float64) float64 {
		sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
		return float64(took[int(q*float64(len(took)-1))].Microseconds()) / 1000
	}
	hand := handReports(dialectSQL{pg: se.app.DB.Kind == db.Postgres}, clk.Now())
	keys := make([]string, 0, len(hand))
	for k := range hand {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.ResetTimer()
	for _, key := range keys {
		var handTook []time.Duration
		for range runs {
			t0 := time.Now()
			rows, err := se.app.DB.Query(ctx, hand[key])
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
			}
			rows.Close()
			handTook = append(handTook, time.Since(t0))
		}
		handP50 := pct(handTook, 0.5)
		b.ReportMetric(handP50, key+"_sql_p50_ms")
		for _, login := range []string{"admin", "rep.south"} {
			var took []time.Duration
			for range runs {
				req := httptest.NewRequest("GET", "/api/v1/reports/"+ids[key]+"/data", nil)
				req.Header.Set("Authorization", "Bearer "+tokens[login])
				w := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(w, req)
				took = append(took, time.Since(t0))
				if w.Code != http.StatusOK {
					b.Fatalf("%s as %s: %d %.300s", key, login, w.Code, w.Body)
				}
				if key == "sales_funnel" && !strings.Contains(w.Body.String(), `"rows":[["`) {
					b.Fatalf("%s: empty %.300s", key, w.Body)
				}
			}
			p50 := pct(took, 0.5)
			b.ReportMetric(p50, key+"_"+login+"_p50_ms")
			b.ReportMetric(pct(took, 0.95), key+"_"+login+"_p95_ms")
			if login == "admin" && handP50 > 0 {
				b.ReportMetric(p50/handP50, key+"_ratio")
			}
		}
	}
}
