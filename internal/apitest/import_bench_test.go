package apitest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/tenon-crm/tenon/internal/platform/access"
)

// BenchmarkImport100kXLSX is the import figure of bench/README.md: 100,000
// rows of leads in an XLSX file, de-duplicated against a unique field
// (e-mail, skip) or by company name (update), into an entity holding 1,000
// records that 1,000 of the rows match; 1% of the rows repeat an earlier
// row. Each iteration starts a fresh Tenon; the upload (the file checked
// and analysed) and the run (start to done) are reported, and their sum
// as the benchmark's time.
//
//	go test ./internal/apitest -run XXX -bench Import100kXLSX -benchtime 1x -timeout 30m
//	#   TENON_IMPORT_BENCH_N (rows, default 100000); TENON_TEST_POSTGRES for PostgreSQL
func BenchmarkImport100kXLSX(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("TENON_IMPORT_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	data := impWorkbook(b, n)
	for _, c := range []struct {
		name, entity string
		dedupe       map[string]any
	}{
		{"unique-field", "imp_leads", map[string]any{"field": "email", "match": "exact", "mode": "skip"}},
		{"company-name", "imp_leads", map[string]any{"field": "company", "match": "company", "mode": "update"}},
		// The CRM's own leads: their hooks normalise company, phone and
		// e-mail, and assignment and first-response run on every create.
		{"crm-leads", "leads", map[string]any{"field": "company", "match": "company", "mode": "update"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				ie := newImpEnv(b)
				ctx := context.Background()
				sys := access.System()
				if err := ie.app.DB.WithTx(ctx, func(ctx context.Context) error {
					for i := 0; i < n; i += n / 1000 {
						if _, err := ie.app.Records.Create(ctx, sys, c.entity, map[string]any{
							"company": fmt.Sprintf("苏州精密机械%06d有限公司", i), "email": fmt.Sprintf("lead%d@example.com", i)}); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				imp := ie.admin.uploadImport(c.entity, "线索.xlsx", data).want(201).json()
				uploaded := time.Since(start)
				id := imp["id"].(string)
				ie.admin.do("PATCH", "/api/v1/imports/"+id, map[string]any{"dedupe": c.dedupe}, nil).want(200)
				runStart := time.Now()
				ie.admin.do("POST", "/api/v1/imports/"+id+"/start", nil, nil).want(202)
				ie.runImports()
				ran := time.Since(runStart)
				b.StopTimer()
				done := ie.admin.do("GET", "/api/v1/imports/"+id, nil, nil).want(200).json()
				if done["status"] != "done" || done["processed"] != float64(n) || done["failed"] != 0.0 {
					b.Fatalf("import: %v", done)
				}
				dups := float64(n / 100)
				matched := 1000.0
				switch c.name {
				case "unique-field":
					if done["skipped"] != dups+matched || done["created"] != float64(n)-dups-matched {
						b.Fatalf("unique field: %v", done)
					}
				case "company-name", "crm-leads":
					if done["updated"] != dups+matched || done["created"] != float64(n)-dups-matched {
						b.Fatalf("company name: %v", done)
					}
				}
				b.ReportMetric(uploaded.Seconds(), "upload-s")
				b.ReportMetric(ran.Seconds(), "run-s")
				b.ReportMetric(float64(n)/ran.Seconds(), "rows/s")
				b.Logf("%s, %d rows: upload %v, run %v (%s)", c.name, n, uploaded.Round(time.Millisecond), ran.Round(time.Millisecond), ie.app.DB.Kind)
			}
		})
	}
}

// impWorkbook writes n rows of leads: company, contact, phone, e-mail,
// region, amount, visit date (a date cell), employees. Row i repeats row
// i-37's company and e-mail when i%100 == 99.
func impWorkbook(b *testing.B, n int) []byte {
	b.Helper()
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	sw.SetRow("A1", []any{"公司名称", "联系人", "电话", "邮箱", "区域", "预计金额", "拜访日期", "员工数"})
	date, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	regions := []string{"华东", "华南", "华北", "西南"}
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		k := i
		if i%100 == 99 {
			k = i - 37
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, []any{
			fmt.Sprintf("苏州精密机械%06d有限公司", k), fmt.Sprintf("联系人%d", i), fmt.Sprintf("138%08d", i),
			fmt.Sprintf("lead%d@example.com", k), regions[i%4], float64(i%1000) * 1000.5,
			excelize.Cell{StyleID: date, Value: day.AddDate(0, 0, i%365)}, i % 5000,
		}); err != nil {
			b.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}
