package apitest

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
)

// BenchmarkRulesBatchLoad is the rule engine's load figure (bench/README.md):
// 10,000 records updated in one transaction trigger a rule each; the job
// workers run every action while clients keep reading through the API.
// Each iteration starts a fresh Tenon and reports how long the batch and
// the actions took and the read latencies (also as benchmark metrics); it
// fails unless every action was done.
//
//	go test ./internal/apitest -run XXX -bench RulesBatchLoad -benchtime 1x
func BenchmarkRulesBatchLoad(b *testing.B) {
	for range b.N {
		rulesBatchLoad(b)
	}
}

func rulesBatchLoad(b *testing.B) {
	t := testing.TB(b)
	b.StopTimer()
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("TENON_RULES_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	re := newRulesEnv(t)
	ctx := context.Background()
	sys := access.System()
	a := re.app

	// The records, created in batches (not measured).
	ids := make([]int64, 0, n)
	for start := 0; start < n; start += 1000 {
		err := a.DB.WithTx(ctx, func(ctx context.Context) error {
			for i := start; i < min(start+1000, n); i++ {
				rec, err := a.Records.Create(ctx, sys, "rl_deals", map[string]any{"name": "批量 " + strconv.Itoa(i),
					"amount": "1000", "region": "华东", "owner": re.users["rep.east"]})
				if err != nil {
					return err
				}
				ids = append(ids, rec.ID())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	rid := re.rule(map[string]any{"name": "大单跟进", "trigger": map[string]any{"type": "field_changed", "fields": []string{"amount"}},
		"condition": `amount > 500000 && region == "华东"`,
		"actions": []any{
			map[string]any{"type": "set_fields", "values": map[string]any{"priority": "high"},
				"expressions": map[string]any{"note": `"金额调整为 " + string(amount)`}},
			map[string]any{"type": "create_task", "title": "跟进大单 {{name}}", "assignee": "owner", "due": "add_days(now(), 2)"},
		}})

	// Readers: list pages and single records, as the web app does, each
	// pausing readPause between requests (4 readers: about 200 reads/s).
	readPause := 20 * time.Millisecond
	if v, err := time.ParseDuration(os.Getenv("TENON_RULES_BENCH_PAUSE")); err == nil {
		readPause = v
	}
	stop := make(chan struct{})
	var mu sync.Mutex
	var lat []time.Duration
	var readers sync.WaitGroup
	for r, login := range readerLogins() {
		c := re.c(login)
		readers.Add(1)
		go func() {
			defer readers.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				path := "/api/v1/records/rl_deals?per_page=20&page=" + strconv.Itoa(1+(i*7+r)%50)
				if i%2 == 1 {
					path = "/api/v1/records/rl_deals/" + strconv.FormatInt(ids[(i*131+r*17)%len(ids)], 10)
				}
				t0 := time.Now()
				res := c.do("GET", path, nil, nil)
				d := time.Since(t0)
				if res.status != 200 {
					t.Errorf("read %s: %d", path, res.status)
					return
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
				time.Sleep(readPause) // a client reading, not a flood
			}
		}()
	}
	workCtx, stopWork := context.WithCancel(ctx)
	workDone := make(chan error, 1)
	go func() { workDone <- a.Jobs.Run(workCtx) }()
	time.Sleep(500 * time.Millisecond) // readers warm up

	mu.Lock()
	lat = lat[:0]
	mu.Unlock()
	t0 := time.Now()
	err := a.DB.WithTx(ctx, func(ctx context.Context) error {
		for _, id := range ids {
			if _, err := a.Records.Update(ctx, sys, "rl_deals", id, map[string]any{"amount": "600000"}, 0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	batch := time.Since(t0)
	for re.count(`SELECT COUNT(*) FROM jobs WHERE kind = 'rules.run' AND status <> 'done'`) > 0 {
		time.Sleep(100 * time.Millisecond)
	}
	total := time.Since(t0)
	close(stop)
	readers.Wait()
	stopWork()
	if err := <-workDone; err != nil {
		t.Fatal(err)
	}

	if got := re.count(`SELECT COUNT(*) FROM rule_runs WHERE rule_id = ? AND outcome = 'matched'`, rid); got != n {
		t.Fatalf("%d matched runs, want %d", got, n)
	}
	if got := re.count(`SELECT COUNT(*) FROM r_tasks`); got != n {
		t.Fatalf("%d tasks, want %d", got, n)
	}
	if got := re.count(`SELECT COUNT(*) FROM r_rl_deals WHERE priority = 'high'`); got != n {
		t.Fatalf("%d deals set, want %d", got, n)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	msg := fmt.Sprintf("rules batch (%s): %d records updated in one transaction in %v; all %d rule runs (set_fields + create_task) done %v after the batch started (%.0f runs/s); %d API reads meanwhile (%d readers, %v pause): p50 %v, p99 %v, max %v",
		a.DB.Kind, n, batch.Round(time.Millisecond), n, total.Round(time.Millisecond), float64(n)/total.Seconds(), len(lat), len(readerLogins()), readPause,
		pct(0.50).Round(100*time.Microsecond), pct(0.99).Round(100*time.Microsecond), pct(1).Round(100*time.Microsecond))
	t.Log(msg)
	fmt.Println(msg)
	b.ReportMetric(float64(n)/total.Seconds(), "runs/s")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "read-p99-ms")
}

// readerLogins are the API readers of the load figure (TENON_RULES_BENCH_READERS, default 4).
func readerLogins() []string {
	n := 4
	if v, err := strconv.Atoi(os.Getenv("TENON_RULES_BENCH_READERS")); err == nil && v >= 0 {
		n = v
	}
	out := make([]string, n)
	for i := range out {
		out[i] = []string{"admin", "rep.east"}[i%2]
	}
	return out
}
