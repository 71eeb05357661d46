package apitest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// BenchmarkSalesBoard seeds N opportunities (TENON_SALES_BENCH_N, default
// 20,000; the figure is 1,000,000) and L leads
// (TENON_SALES_BENCH_LEADS, default 2N), then measures, through the HTTP
// handler, the board's first page per stage, the weighted forecast and the
// funnel, as an administrator and as a 华南 rep, reporting p50 and p95 of
// each (ms).
//
// Seeding: a template of about 2,000 opportunities and 4,000 leads goes
// through the records service (hooks, derived fields, indexes: the rows are
// what Tenon writes), created over three years by a moving clock — 20% of
// the deals open across the open stages, 45% won, 35% lost, four regions.
// The template is then copied table-to-table in SQL (each copy doubles the
// table, a last partial copy makes up the count), so the distribution over
// time, stages, owners and regions is the template's. The records service
// writes ~1,000 records/s; copying makes the 3,000,000 rows in minutes.
// TENON_SALES_BENCH_SAVE=<file> keeps a copy of the seeded SQLite database.
// Benchmarks do not run in go test without -bench.
func BenchmarkSalesBoard(b *testing.B) {
	n := benchN()
	se, clk, tokens := newSalesBench(b, "tenon_sales_bench", "opportunities", "leads")
	h := se.app.API.Handler()
	seedSalesBench(b, se, clk, n)
	clk.Set(time.Date(2028, 12, 31, 9, 0, 0, 0, shanghai))
	// measure times path and checks, on the last answer, that it is not
	// empty (a figure over an empty answer would mean nothing).
	measure := func(name, login, path string, nonEmpty func(map[string]any) bool) {
		var took []time.Duration
		var last []byte
		for range max(b.N, 20) {
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Authorization", "Bearer "+tokens[login])
			w := httptest.NewRecorder()
			t0 := time.Now()
			h.ServeHTTP(w, req)
			took = append(took, time.Since(t0))
			if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
				b.Fatalf("%s: status %d %s: %.300s", name, w.Code, w.Header().Get("Content-Type"), w.Body)
			}
			last = w.Body.Bytes()
		}
		var body map[string]any
		if err := json.Unmarshal(last, &body); err != nil || !nonEmpty(body) {
			b.Fatalf("%s as %s: an empty answer: %.500s", name, login, last)
		}
		sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
		p := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))].Microseconds()) / 1000 }
		b.ReportMetric(p(0.5), name+"_"+login+"_p50_ms")
		b.ReportMetric(p(0.95), name+"_"+login+"_p95_ms")
	}
	num := func(x any) float64 { f, _ := x.(float64); return f }
	b.ResetTimer()
	for _, login := range []string{"admin", "rep.south"} {
		measure("board", login, "/api/v1/sales/board", func(m map[string]any) bool {
			cols, _ := m["columns"].([]any)
			for _, c := range cols {
				if items, _ := c.(map[string]any)["items"].([]any); len(items) > 0 {
					return true
				}
			}
			return false
		})
		measure("forecast", login, "/api/v1/sales/forecast?period=month&from=2028-01-01&to=2029-01-01", func(m map[string]any) bool {
			total, _ := m["total"].(map[string]any)
			return num(total["open"]) > 0 && num(total["won"]) > 0
		})
		measure("funnel", login, "/api/v1/sales/funnel?from=2028-01-01&to=2029-01-01", func(m map[string]any) bool {
			return num(m["leads"]) > 0 && num(m["opportunities"]) > 0 && num(m["won"]) > 0
		})
	}
}

// benchN is the benchmarks' number of opportunities (TENON_SALES_BENCH_N,
// default 20,000).
func benchN() int {
	if v, err := strconv.Atoi(os.Getenv("TENON_SALES_BENCH_N")); err == nil && v > 0 {
		return v
	}
	return 20000
}

// newSalesBench is a Tenon with the demo organisation and the sales
// defaults on a clock at 2026-01-01, where the sales rep's role reads the
// given entities in its regions ("pipelines:all": all of them;
// opportunities it also updates), and
// API tokens of admin and rep.south.
func newSalesBench(b *testing.B, dbName string, entities ...string) (*salesEnv, *testClock, map[string]string) {
	clk := &testClock{t: time.Date(2026, 1, 1, 9, 0, 0, 0, shanghai)}
	se := &salesEnv{env: openEnv(b, dbName, clk), clock: clk}
	if err := se.app.Sales.Install(context.Background()); err != nil {
		b.Fatal(err)
	}
	se.admin = se.c("admin")
	se.users = se.userIDs()
	var grants []any
	for _, e := range entities {
		actions := []string{"read"}
		if e == "opportunities" {
			actions = append(actions, "update")
		}
		scope := "regions"
		if name, all := strings.CutSuffix(e, ":all"); all {
			e, scope = name, "all"
		}
		grants = append(grants, map[string]any{"entity": e, "actions": actions, "scope": scope})
	}
	roles := se.admin.do("GET", `/api/v1/records/roles?filter=name%20==%20"sales_rep"`, nil, nil).want(200).items()
	se.admin.do("PATCH", "/api/v1/records/roles/"+roles[0]["id"].(string), map[string]any{"permissions": grants}, nil).want(200)
	tokens := map[string]string{}
	for _, login := range []string{"admin", "rep.south"} {
		tokens[login] = se.c(login).do("POST", "/api/v1/auth/tokens", map[string]any{"name": "bench", "scopes": []string{"records:read"}}, nil).want(201).json()["token"].(string)
	}
	return se, clk, tokens
}

// seedSalesBench seeds n opportunities and the leads (TENON_SALES_BENCH_LEADS,
// default 2n) as BenchmarkSalesBoard describes.
func seedSalesBench(b *testing.B, se *salesEnv, clk *testClock, n int) {
	ctx := context.Background()
	sys := access.System()
	recs := se.app.Records
	regions := []string{"华东", "华南", "华北", "西南"}
	var accounts []string
	if err := recs.DB().WithTx(ctx, func(ctx context.Context) error {
		accounts = accounts[:0]
		for i := range 200 {
			r, err := recs.Create(ctx, sys, "accounts", map[string]any{"name": fmt.Sprintf("精密机械 %03d 有限公司", i), "region": regions[i%4]})
			if err != nil {
				return err
			}
			accounts = append(accounts, strconv.FormatInt(r.ID(), 10))
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	open := []string{"requirement", "tech_exchange", "solution", "quotation", "bidding", "negotiation"} // contract_review needs a contact
	owners := []string{se.users["rep.east"], se.users["rep.east2"], se.users["rep.south"], se.users["sales.manager"]}
	leadCount := 2 * n
	if v, err := strconv.Atoi(os.Getenv("TENON_SALES_BENCH_LEADS")); err == nil && v >= 0 {
		leadCount = v
	}
	start := time.Now()
	span := 3 * 365 * 24 * time.Hour
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, shanghai)
	// seedTemplate creates count records through the records service in
	// transactions of 500, the clock moving through the three years.
	seedTemplate := func(entity string, count int, make func(i int) map[string]any) {
		for lo := 0; lo < count; lo += 500 {
			if err := recs.DB().WithTx(ctx, func(ctx context.Context) error {
				for i := lo; i < min(lo+500, count); i++ {
					clk.Set(t0.Add(span / time.Duration(count) * time.Duration(i)))
					if _, err := recs.Create(ctx, sys, entity, make(i)); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	}
	oppTemplate, oppCopies := templateSize(n, 2000)
	seedTemplate("opportunities", oppTemplate, func(i int) map[string]any {
		in := map[string]any{"name": fmt.Sprintf("商机 %07d", i), "account": accounts[i%len(accounts)], "region": regions[i%4],
			"owner": owners[i%4], "amount": strconv.Itoa(10000 + i%500*1000),
			"expected_close": clk.Now().AddDate(0, 1+i%12, 0).Format(time.DateOnly), "product_line": []string{"equipment", "automation", "parts"}[i%3]}
		switch k := i % 20; {
		case k < 4: // open
			in["stage"] = open[i%len(open)]
			if i%len(open) >= 3 {
				in["expected_close"] = time.Date(2028, 12, 1+i%28, 0, 0, 0, 0, shanghai).AddDate(0, i%12, 0).Format(time.DateOnly)
			}
		case k < 13:
			in["stage"] = "won"
		default:
			in["stage"], in["loss_reason"] = "lost", "price"
		}
		return in
	})
	leadTemplate, leadCopies := templateSize(leadCount, 4000)
	sources := []string{"web_form", "trade_show", "business_card", "referral", "dealer", "cold_call"}
	statuses := []string{"new", "assigned", "working", "qualified", "converted", "disqualified"}
	seedTemplate("leads", leadTemplate, func(i int) map[string]any {
		return map[string]any{"company": fmt.Sprintf("线索公司 %07d", i), "region": regions[i%4], "owner": owners[i%4],
			"source": sources[i%len(sources)], "status": statuses[i%len(statuses)], "phone": fmt.Sprintf("1380000%04d", i%10000)}
	})
	b.Logf("templates: %d opportunities, %d leads in %s", oppTemplate, leadTemplate, time.Since(start).Round(time.Second))
	copyRows(b, recs, "opportunities", oppCopies, n)
	copyRows(b, recs, "leads", leadCopies, leadCount)
	b.Logf("seeded %d opportunities and %d leads in %s", n, leadCount, time.Since(start).Round(time.Second))
	if path := os.Getenv("TENON_SALES_BENCH_SAVE"); path != "" && recs.DB().Kind == db.SQLite {
		// A copy of the seeded database, to study query plans with sqlite3
		// (VACUUM cannot run in the writer's transaction: a connection of
		// its own).
		src, err := sql.Open("sqlite", strings.TrimPrefix(recs.DB().DSN(), "sqlite:"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := src.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
			b.Fatal(err)
		}
		src.Close()
	}
}

// templateSize splits a count into a template of at least least records
// (or all of them) and the number of times it is doubled: template × 2^k ≤
// count, the rest made up by a last partial copy.
func templateSize(count, least int) (template, doublings int) {
	template = count
	for template/2 >= least {
		template /= 2
		doublings++
	}
	return template, doublings
}

// copyRows doubles an entity's table `doublings` times by copying its rows
// (every column but the id) and then copies the first rows again until it
// holds want rows, each statement in its own transaction.
func copyRows(b *testing.B, recs *records.Service, entity string, doublings, want int) {
	ctx := context.Background()
	e, ok := recs.Registry().Get(entity)
	if !ok {
		b.Fatalf("no entity %s", entity)
	}
	d := recs.DB()
	table := d.Ident(e.Table())
	rows, err := d.Query(ctx, "SELECT * FROM "+table+" WHERE 1 = 0")
	if err != nil {
		b.Fatal(err)
	}
	names, err := rows.Columns()
	rows.Close()
	if err != nil {
		b.Fatal(err)
	}
	var cols []string
	for _, c := range names {
		if c != "id" {
			cols = append(cols, d.Ident(c))
		}
	}
	list := strings.Join(cols, ", ")
	start := time.Now()
	exec := func(q string, args ...any) {
		if err := d.WithTx(ctx, func(ctx context.Context) error {
			_, err := d.Exec(ctx, q, args...)
			return err
		}); err != nil {
			b.Fatalf("copy %s: %v", entity, err)
		}
	}
	for range doublings {
		exec("INSERT INTO " + table + " (" + list + ") SELECT " + list + " FROM " + table + " ORDER BY id")
	}
	var have int
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM "+table).Scan(&have); err != nil {
		b.Fatal(err)
	}
	if have < want {
		exec("INSERT INTO "+table+" ("+list+") SELECT "+list+" FROM "+table+" ORDER BY id LIMIT ?", want-have)
	}
	if d.Kind == db.Postgres {
		// VACUUM (as autovacuum would, soon) sets the visibility map that
		// index-only scans need; it cannot run in a transaction.
		conn, err := sql.Open("pgx", d.DSN())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "VACUUM ANALYZE "+table); err != nil {
			b.Fatal(err)
		}
		conn.Close()
	} else {
		exec("ANALYZE")
	}
	b.Logf("copied %s to %d rows in %s", entity, want, time.Since(start).Round(time.Second))
}
