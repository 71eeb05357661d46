package apitest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	apiclient "github.com/tenon-crm/tenon/client"
	"github.com/tenon-crm/tenon/internal/app"
	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// BenchmarkExport100k is the export figure of bench/README.md: 100,000
// records of a 14-field entity (links, users, selects, money, dates…)
// downloaded as CSV and as XLSX from the real binary (built into a temp
// dir and started on a seeded database), timing each download and
// sampling the server's resident memory (VmRSS, and VmHWM, its peak since
// start) from /proc while it runs. Target: each download ≤ 10 s with the
// server under 250 MB. It fails unless every row arrives.
//
//	go test ./internal/apitest -run XXX -bench Export100k -benchtime 1x
//
// TENON_EXPORT_BENCH_N changes the number of records; TENON_EXPORT_BENCH_ADDR
// the server's address (default 127.0.0.1:18311).
func BenchmarkExport100k(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("TENON_EXPORT_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	addr := os.Getenv("TENON_EXPORT_BENCH_ADDR")
	if addr == "" {
		addr = "127.0.0.1:18311"
	}
	b.StopTimer()
	dir := b.TempDir()
	bin := filepath.Join(dir, "tenon")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/tenon-crm/tenon/cmd/tenon").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	dsn := "sqlite:" + filepath.Join(dir, "tenon.db")
	if dbtest.PostgresURL() != "" {
		dsn = dbtest.Postgres(b, "tenon_exbench")
	}
	seedStart := time.Now()
	seedExportBench(b, dsn, filepath.Join(dir, "data"), n)
	b.Logf("seeded %d records in %s", n, time.Since(seedStart).Round(time.Second))

	srv := exec.Command(bin, "serve", "--db", dsn, "--addr", addr, "--data", filepath.Join(dir, "data"))
	srv.Env = append(os.Environ(), "TENON_ADMIN_PASSWORD=admin-pass-1")
	srv.Stdout, srv.Stderr = io.Discard, io.Discard
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = srv.Process.Signal(os.Interrupt)
		_ = srv.Wait()
	}()
	base := "http://" + addr
	for i := 0; ; i++ {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if i > 600 {
			b.Fatalf("the server did not get ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctx := context.Background()
	c, err := apiclient.New(base)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Login(ctx, "admin", "admin-pass-1"); err != nil {
		b.Fatal(err)
	}
	pid := srv.Process.Pid
	b.Logf("server RSS after start: %.0f MB", procMB(pid, "VmRSS"))
	for range b.N {
		for _, tc := range []struct {
			name string
			o    apiclient.ExportOptions
		}{
			{"csv", apiclient.ExportOptions{Format: "csv"}},
			{"xlsx", apiclient.ExportOptions{Format: "xlsx"}},
			{"csv sorted by an unindexed field", apiclient.ExportOptions{Format: "csv", Sort: "-amount,company"}},
			// The first read of freshly written PostgreSQL pages also sets
			// their hint bits (a write); the second pass shows the steady state.
			{"csv again", apiclient.ExportOptions{Format: "csv"}},
		} {
			peak := sampleRSS(pid)
			start := time.Now()
			b.StartTimer()
			dl, err := c.Export(ctx, "bench_export", tc.o)
			if err != nil {
				b.Fatal(err)
			}
			rows, size, took := countRows(b, dl, tc.o.Format, start)
			b.StopTimer()
			dl.Close()
			max := peak()
			if rows != n {
				b.Fatalf("%s: %d rows, want %d", tc.name, rows, n)
			}
			b.Logf("%s: %d rows, %.1f MB in %s (%.0f rows/s); server RSS peak during the download %.0f MB, VmHWM %.0f MB",
				tc.name, rows, float64(size)/1e6, took.Round(time.Millisecond), float64(rows)/took.Seconds(), max, procMB(pid, "VmHWM"))
			b.ReportMetric(took.Seconds(), strings.ReplaceAll(tc.name, " ", "_")+"_s")
			b.ReportMetric(max, strings.ReplaceAll(tc.name, " ", "_")+"_rss_MB")
		}
	}
}

// seedExportBench creates the entities and n records through the records
// service (in transactions of 1,000), then lets the search index catch up,
// so the server starts with nothing left to do.
func seedExportBench(b *testing.B, dsn, dataDir string, n int) {
	ctx := context.Background()
	a, err := app.Open(ctx, app.Config{DSN: dsn, DataDir: dataDir, AdminPassword: "admin-pass-1", Stdout: io.Discard,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	if err := a.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	for _, def := range []string{
		`{"name": "bench_accounts", "label": {"zh-CN": "客户", "en": "Accounts"}, "title_field": "name",
		  "fields": [{"name": "name", "type": "text", "label": {"zh-CN": "名称", "en": "Name"}}]}`,
		`{"name": "bench_export", "label": {"zh-CN": "导出线索", "en": "Export leads"}, "title_field": "company",
		  "fields": [
		    {"name": "company", "type": "text", "label": {"zh-CN": "公司名称", "en": "Company"}},
		    {"name": "contact", "type": "text", "label": {"zh-CN": "联系人", "en": "Contact"}},
		    {"name": "phone", "type": "phone", "label": {"zh-CN": "电话", "en": "Phone"}},
		    {"name": "email", "type": "email", "label": {"zh-CN": "邮箱", "en": "E-mail"}},
		    {"name": "region", "type": "select", "options": ["华东", "华南", "华北", "西南"], "label": {"zh-CN": "区域", "en": "Region"}},
		    {"name": "stage", "type": "select", "label": {"zh-CN": "阶段", "en": "Stage"},
		     "options": [{"value": "new", "label": {"zh-CN": "新建", "en": "New"}}, {"value": "won", "label": {"zh-CN": "赢单", "en": "Won"}}]},
		    {"name": "tags", "type": "tags", "label": {"zh-CN": "标签", "en": "Tags"}},
		    {"name": "amount", "type": "money", "label": {"zh-CN": "金额", "en": "Amount"}},
		    {"name": "qty", "type": "integer", "label": {"zh-CN": "数量", "en": "Quantity"}},
		    {"name": "due", "type": "date", "label": {"zh-CN": "截止日期", "en": "Due"}},
		    {"name": "hot", "type": "boolean", "label": {"zh-CN": "重点", "en": "Hot"}},
		    {"name": "account", "type": "link", "target": "bench_accounts", "label": {"zh-CN": "客户", "en": "Account"}},
		    {"name": "approver", "type": "user", "label": {"zh-CN": "审批人", "en": "Approver"}},
		    {"name": "note", "type": "long_text", "label": {"zh-CN": "备注", "en": "Note"}}]}`,
	} {
		e, err := meta.ParseEntity([]byte(def))
		if err != nil {
			b.Fatal(err)
		}
		if err := a.Meta.CreateEntity(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	sys := access.System()
	var accounts []string
	err = a.DB.WithTx(ctx, func(ctx context.Context) error {
		accounts = accounts[:0]
		for i := range 500 {
			rec, err := a.Records.Create(ctx, sys, "bench_accounts", map[string]any{"name": fmt.Sprintf("苏州精密机械 %03d 有限公司", i)})
			if err != nil {
				return err
			}
			accounts = append(accounts, strconv.FormatInt(rec.ID(), 10))
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	regions := []string{"华东", "华南", "华北", "西南"}
	for start := 0; start < n; start += 1000 {
		err := a.DB.WithTx(ctx, func(ctx context.Context) error {
			for i := start; i < min(start+1000, n); i++ {
				in := map[string]any{
					"company": fmt.Sprintf("客户公司 %06d 精密制造", i), "contact": "张三", "phone": fmt.Sprintf("138%08d", i),
					"email": fmt.Sprintf("buyer%d@example.com", i), "region": regions[i%4], "stage": []string{"new", "won"}[i%2],
					"tags": []any{"展会", "重点"}, "amount": fmt.Sprintf("%d.%02d", i*7%1000000, i%100), "qty": json.Number(strconv.Itoa(i % 500)),
					"due": fmt.Sprintf("2026-%02d-%02d", 1+i%12, 1+i%28), "hot": i%3 == 0, "account": accounts[i%len(accounts)],
					"approver": "1", "note": "=1+1 第一行\n第二行, 含逗号",
				}
				if _, err := a.Records.Create(ctx, sys, "bench_export", in); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := a.Records.CatchUpSearch(ctx, nil); err != nil {
		b.Fatal(err)
	}
}

// countRows reads a download to its end and counts its data rows.
// It returns how long the download took from start.
func countRows(b *testing.B, r io.Reader, format string, start time.Time) (rows int, size int64, took time.Duration) {
	if format == "xlsx" {
		var buf bytes.Buffer
		size, err := io.Copy(&buf, r)
		if err != nil {
			b.Fatal(err)
		}
		took = time.Since(start)
		b.StopTimer() // opening the workbook is the reader's time, not the server's
		defer b.StartTimer()
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		it, err := f.Rows(f.GetSheetName(0))
		if err != nil {
			b.Fatal(err)
		}
		defer it.Close()
		for it.Next() {
			rows++
		}
		return rows - 1, size, took
	}
	br := bufio.NewReaderSize(r, 1<<20)
	quoted := false
	lines := 0
	for {
		chunk, err := br.ReadSlice('\n')
		size += int64(len(chunk))
		for _, c := range chunk {
			if c == '"' {
				quoted = !quoted
			}
		}
		if !quoted && len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
			lines++
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	return lines - 1, size, time.Since(start)
}

// sampleRSS samples a process's VmRSS every 10 ms until the returned
// function is called, which returns the highest value in MB.
func sampleRSS(pid int) func() float64 {
	var mu sync.Mutex
	peak := 0.0
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			v := procMB(pid, "VmRSS")
			mu.Lock()
			peak = max(peak, v)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 {
		close(done)
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// procMB reads a kB line of /proc/<pid>/status in MB.
func procMB(pid int, key string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}
