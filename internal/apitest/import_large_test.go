package apitest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestImport100kRows: a CSV of 100,000 rows (1,000 of them repeating an
// earlier row's e-mail, 100 invalid) imported with de-duplication by
// e-mail: every valid row once, the duplicates skipped, the invalid ones
// reported with their row numbers.
func TestImport100kRows(t *testing.T) {
	skipVolumeUnderRace(t)
	if testing.Short() {
		t.Skip("100,000 rows")
	}
	ie := newImpEnv(t)
	const n = 100000
	var b strings.Builder
	b.WriteString("公司名称,邮箱,电话,员工数\r\n")
	for i := range n {
		email := fmt.Sprintf("lead%d@example.com", i)
		if i%100 == 99 {
			email = fmt.Sprintf("lead%d@example.com", i-50) // a duplicate within the file
		}
		emp := fmt.Sprint(i % 5000)
		if i%1000 == 500 {
			emp = "n/a" // invalid
		}
		fmt.Fprintf(&b, "苏州精密机械%06d有限公司,%s,1380000%04d,%s\r\n", i, email, i%10000, emp)
	}
	start := time.Now()
	imp := ie.importFile(ie.admin, "imp_leads", "10万行.csv", []byte(b.String()),
		map[string]any{"dedupe": map[string]any{"field": "email", "match": "exact", "mode": "skip"}})
	t.Logf("100,000 rows imported in %v", time.Since(start))
	if imp["status"] != "done" || imp["processed"] != float64(n) || imp["skipped"] != 1000.0 || imp["failed"] != 100.0 ||
		imp["created"] != float64(n-1100) {
		t.Fatalf("import: %v", imp)
	}
	if got := ie.countLeads(""); got != n-1100 {
		t.Fatalf("%d records, want %d", got, n-1100)
	}
	if got := ie.countLeads(`email == "lead50@example.com"`); got != 1 {
		t.Fatalf("lead50: %d records", got)
	}
	var rows []string
	ie.forErrors(ie.admin, imp["id"].(string), func(row, column, code string) { rows = append(rows, row+"/"+column+"/"+code) })
	if len(rows) != 100 || rows[0] != "502/员工数/not_integer" {
		t.Fatalf("errors: %d, first %v", len(rows), rows[:min(len(rows), 3)])
	}
}
