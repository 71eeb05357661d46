// Command load drives Tenon's HTTP API like a client would and reports
// throughput and latency percentiles per scenario. It creates (if missing) a
// customer-like entity of 15 fields, seeds it to the requested size, then
// runs: create, get by id (many clients and one client), an indexed filter
// + sort page of 50, and a Chinese substring search. Optionally it samples
// the server's resident memory from /proc.
//
//	go run ./bench/load --url http://127.0.0.1:8080 --login admin --password ... --records 1000000
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type client struct {
	base  string
	token string
	hc    *http.Client
}

func (c *client) do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

func login(base, user, pw string) (string, error) {
	hc := &http.Client{}
	b, _ := json.Marshal(map[string]string{"login": user, "password": pw})
	res, err := hc.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
		return "", fmt.Errorf("login failed: %d", res.StatusCode)
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/auth/tokens", strings.NewReader(`{"name":"bench","scopes":["admin"]}`))
	for _, c := range res.Cookies() {
		req.AddCookie(c)
	}
	req.Header.Set("X-CSRF-Token", out.CSRF)
	req.Header.Set("Origin", base)
	r2, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer r2.Body.Close()
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(r2.Body).Decode(&tok); err != nil || tok.Token == "" {
		return "", fmt.Errorf("token creation failed: %d", r2.StatusCode)
	}
	return tok.Token, nil
}

const entity = "bench_customers"

var entityDef = map[string]any{
	"name": entity, "label": map[string]string{"zh-CN": "压测客户", "en": "Bench customers"}, "title_field": "name",
	"numbering": map[string]string{"field": "code", "pattern": "C-{seq:8}"},
	"indexes":   []map[string]any{{"fields": []string{"region", "amount"}}},
	"fields": []map[string]any{
		{"name": "name", "type": "text", "required": true},
		{"name": "code", "type": "autonumber"},
		{"name": "region", "type": "select", "options": []string{"华东", "华南", "华北", "西南", "西北", "东北"}},
		{"name": "industry", "type": "select", "options": []string{"机械", "模具", "汽配", "电子", "医疗", "能源"}},
		{"name": "grade", "type": "select", "options": []string{"A", "B", "C"}},
		{"name": "amount", "type": "money"},
		{"name": "credit_limit", "type": "money"},
		{"name": "employees", "type": "integer"},
		{"name": "phone", "type": "phone"},
		{"name": "email", "type": "email"},
		{"name": "website", "type": "url"},
		{"name": "since", "type": "date"},
		{"name": "active", "type": "boolean"},
		{"name": "tags", "type": "tags"},
		{"name": "notes", "type": "long_text"},
	},
}

var cities = []string{"苏州", "无锡", "宁波", "东莞", "深圳", "佛山", "青岛", "天津", "成都", "重庆", "温州", "台州", "常州", "昆山", "嘉兴"}
var words = []string{"精密", "机械", "模具", "汽配", "电子", "液压", "数控", "五金", "塑胶", "铸造", "传动", "轴承", "阀门", "泵业", "仪表"}
var suffix = []string{"有限公司", "股份有限公司", "制造有限公司", "科技有限公司"}

func record(r *rand.Rand) map[string]any {
	regions := []string{"华东", "华南", "华北", "西南", "西北", "东北"}
	inds := []string{"机械", "模具", "汽配", "电子", "医疗", "能源"}
	name := cities[r.IntN(len(cities))] + words[r.IntN(len(words))] + words[r.IntN(len(words))] + suffix[r.IntN(len(suffix))] + strconv.Itoa(r.IntN(100000))
	return map[string]any{
		"name": name, "region": regions[r.IntN(len(regions))], "industry": inds[r.IntN(len(inds))],
		"grade": []string{"A", "B", "C"}[r.IntN(3)], "amount": fmt.Sprintf("%d.%02d", r.IntN(5_000_000), r.IntN(100)),
		"credit_limit": fmt.Sprintf("%d.00", r.IntN(1_000_000)), "employees": r.IntN(2000),
		"phone": fmt.Sprintf("0512-%08d", r.IntN(100000000)), "email": fmt.Sprintf("buyer%d@example.com", r.IntN(1000000)),
		"website": "https://example.com/" + strconv.Itoa(r.IntN(1000)), "since": fmt.Sprintf("20%02d-%02d-%02d", 10+r.IntN(16), 1+r.IntN(12), 1+r.IntN(28)),
		"active": r.IntN(10) > 0, "tags": []string{"vip", "老客户"}[:r.IntN(3)%2+0], "notes": "年度框架协议，按月结算。",
	}
}

type result struct {
	name string
	n    int64
	errs int64
	dur  time.Duration
	lat  []time.Duration
}

func (r result) String() string {
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	pct := func(p float64) time.Duration {
		if len(r.lat) == 0 {
			return 0
		}
		return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p))]
	}
	return fmt.Sprintf("%-28s %8.0f req/s  p50 %7.2fms  p95 %7.2fms  p99 %7.2fms  n=%d errors=%d",
		r.name, float64(r.n)/r.dur.Seconds(), ms(pct(.5)), ms(pct(.95)), ms(pct(.99)), r.n, r.errs)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// run calls fn from clients goroutines for d and collects latencies.
func run(name string, clients int, d time.Duration, fn func(r *rand.Rand) error) result {
	var n, errs atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, seed*7+1))
			local := make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) {
				t0 := time.Now()
				err := fn(r)
				local = append(local, time.Since(t0))
				if err != nil {
					errs.Add(1)
				} else {
					n.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}(uint64(i + 1))
	}
	wg.Wait()
	return result{name: name, n: n.Load(), errs: errs.Load(), dur: time.Since(start), lat: lat}
}

func rss(pid int) string {
	if pid == 0 {
		return "-"
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	var cur, peak string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			cur = strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:"))
		}
		if strings.HasPrefix(line, "VmHWM:") {
			peak = strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "rss " + cur + ", peak " + peak
}

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "Tenon base URL")
	user := flag.String("login", "admin", "admin login")
	pw := flag.String("password", os.Getenv("TENON_ADMIN_PASSWORD"), "admin password")
	records := flag.Int("records", 100000, "seed the entity up to this many records")
	clients := flag.Int("clients", 16, "concurrent clients")
	dur := flag.Duration("duration", 20*time.Second, "duration of each scenario")
	pid := flag.Int("pid", 0, "server pid, to report its memory")
	only := flag.String("only", "", "comma list of scenarios: create,get,get1,list,search")
	flag.Parse()

	tok, err := login(*base, *user, *pw)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c := &client{base: *base, token: tok, hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
	ctx := context.Background()
	if st, _, _ := c.do(ctx, "GET", "/api/v1/meta/entities/"+entity, nil); st == 404 {
		if st, b, err := c.do(ctx, "POST", "/api/v1/meta/entities", entityDef); err != nil || st != 201 {
			fmt.Fprintln(os.Stderr, "create entity:", st, string(b), err)
			os.Exit(1)
		}
	}
	count := func() int {
		_, b, _ := c.do(ctx, "GET", "/api/v1/records/"+entity+"?per_page=1&count=exact&fields=id", nil)
		var out struct {
			Total int `json:"total"`
		}
		_ = json.Unmarshal(b, &out)
		return out.Total
	}
	have := count()
	if have < *records {
		fmt.Printf("seeding %d records...\n", *records-have)
		var left atomic.Int64
		left.Store(int64(*records - have))
		t0 := time.Now()
		var wg sync.WaitGroup
		for i := 0; i < *clients; i++ {
			wg.Add(1)
			go func(seed uint64) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(seed, 99))
				for left.Add(-1) >= 0 {
					if err := create(ctx, c, r); err != nil {
						fmt.Fprintln(os.Stderr, "seed:", err)
						return
					}
				}
			}(uint64(i + 1000))
		}
		wg.Wait()
		fmt.Printf("seeded in %s\n", time.Since(t0).Round(time.Second))
	}
	maxID := *records
	want := func(s string) bool { return *only == "" || strings.Contains(","+*only+",", ","+s+",") }
	fmt.Printf("records: %d, clients: %d, duration: %s per scenario\n", count(), *clients, *dur)
	if want("create") {
		fmt.Println(run("create", *clients, *dur, func(r *rand.Rand) error { return create(ctx, c, r) }), "|", rss(*pid))
	}
	get := func(r *rand.Rand) error {
		st, _, err := c.do(ctx, "GET", "/api/v1/records/"+entity+"/"+strconv.Itoa(1+r.IntN(maxID)), nil)
		return check(st, err, 200)
	}
	if want("get") {
		fmt.Println(run("get by id", *clients, *dur, get), "|", rss(*pid))
	}
	if want("get1") {
		fmt.Println(run("get by id (1 client)", 1, *dur, get), "|", rss(*pid))
	}
	if want("list") {
		fmt.Println(run("filter+sort page of 50", *clients, *dur, func(r *rand.Rand) error {
			region := []string{"华东", "华南", "华北", "西南", "西北", "东北"}[r.IntN(6)]
			q := url.Values{"filter": {`region == "` + region + `"`}, "sort": {"-amount"}, "per_page": {"50"}, "page": {strconv.Itoa(1 + r.IntN(5))}}
			st, _, err := c.do(ctx, "GET", "/api/v1/records/"+entity+"?"+q.Encode(), nil)
			return check(st, err, 200)
		}), "|", rss(*pid))
	}
	if want("search") {
		fmt.Println(run("search q (Chinese substring)", *clients, *dur, func(r *rand.Rand) error {
			term := cities[r.IntN(len(cities))] + words[r.IntN(len(words))] + words[r.IntN(len(words))]
			q := url.Values{"q": {term}, "per_page": {"20"}}
			st, _, err := c.do(ctx, "GET", "/api/v1/records/"+entity+"?"+q.Encode(), nil)
			return check(st, err, 200)
		}), "|", rss(*pid))
	}
}

func create(ctx context.Context, c *client, r *rand.Rand) error {
	st, _, err := c.do(ctx, "POST", "/api/v1/records/"+entity, record(r))
	return check(st, err, 201)
}

func check(st int, err error, want int) error {
	if err != nil {
		return err
	}
	if st != want {
		return fmt.Errorf("status %d", st)
	}
	return nil
}
