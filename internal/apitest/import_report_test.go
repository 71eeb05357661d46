package apitest

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/engine/importer"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// TestImportErrorReport: the failing rows come back with their original
// cells, the row number and the errors in the reader's language, as CSV
// (BOM, CRLF, formula-like cells neutralised) and as XLSX (strings).
func TestImportErrorReport(t *testing.T) {
	ie := newImpEnv(t)
	imp := ie.importFile(ie.admin, "imp_leads", "坏数据.csv", impCSV("公司名称,邮箱,员工数,备注",
		"好公司,ok@x.com,10,",
		"\"=HYPERLINK(\"\"http://evil\"\")\",bad-email,10,",
		",,many,\"多行\n备注\"",
		"另一个好公司,ok2@x.com,-5,-5"), nil)
	if imp["created"] != 2.0 || imp["failed"] != 2.0 {
		t.Fatalf("import: %v", imp)
	}
	id := imp["id"].(string)
	res := ie.admin.do("GET", "/api/v1/imports/"+id+"/errors", nil, nil).want(200)
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("content type %s", ct)
	}
	if cd := res.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, ".csv") {
		t.Fatalf("disposition %s", cd)
	}
	if !bytes.HasPrefix(res.body, []byte{0xEF, 0xBB, 0xBF}) || !bytes.Contains(res.body, []byte("\r\n")) {
		t.Fatalf("not a BOM CRLF CSV: %q", res.body)
	}
	rows, err := csv.NewReader(bytes.NewReader(res.body[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], "|") != "公司名称|邮箱|员工数|备注|行号|错误" || len(rows) != 3 {
		t.Fatalf("report: %q", rows)
	}
	if rows[1][0] != `'=HYPERLINK("http://evil")` || rows[1][4] != "3" || !strings.Contains(rows[1][5], "邮箱: 邮箱格式不正确") {
		t.Fatalf("row 3: %q", rows[1])
	}
	if rows[2][3] != "多行\n备注" || rows[2][4] != "4" || !strings.Contains(rows[2][5], "员工数: 应为整数") || !strings.Contains(rows[2][5], "公司名称: 必填") {
		t.Fatalf("row 4: %q", rows[2])
	}
	en := ie.as("admin")
	en.lang = "en"
	res = en.do("GET", "/api/v1/imports/"+id+"/errors?format=xlsx", nil, nil).want(200)
	x := impReadXLSX(t, res.body)
	if strings.Join(x[0], "|") != "公司名称|邮箱|员工数|备注|Row|Error" || x[1][0] != `=HYPERLINK("http://evil")` ||
		!strings.Contains(x[1][5], "Not a valid e-mail address") {
		t.Fatalf("xlsx report: %q", x)
	}
	ie.admin.do("GET", "/api/v1/imports/"+id+"/errors?format=pdf", nil, nil).want(400)
	ie.admin.do("GET", "/api/v1/imports/999/errors", nil, nil).want(404)
	ie.admin.do("GET", "/api/v1/imports/"+id+"/other", nil, nil).want(404)
	ie.c("rep.east").do("GET", "/api/v1/imports/"+id+"/errors", nil, nil).want(404)
}

// TestImportTemplate: a template has the labels of the fields the caller
// may import (required ones marked *, owner last) in their language, and
// uploading it maps every column back.
func TestImportTemplate(t *testing.T) {
	ie := newImpEnv(t)
	res := ie.admin.do("GET", "/api/v1/imports/template/imp_leads", nil, nil).want(200)
	if !strings.Contains(res.header.Get("Content-Type"), "spreadsheetml") || !strings.Contains(res.header.Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("headers %v", res.header)
	}
	head := impReadXLSX(t, res.body)[0]
	if strings.Join(head, "|") != "公司名称*|联系人|电话|邮箱|区域|来源|预计金额|拜访日期|员工数|客户|重点客户|备注|标签|负责人" {
		t.Fatalf("template: %q", head)
	}
	// The CRM's leads: the status is required but has a default, so a file
	// need not carry it.
	head = impReadXLSX(t, ie.admin.do("GET", "/api/v1/imports/template/leads", nil, nil).want(200).body)[0]
	if !slices.Contains(head, "公司名称*") || !slices.Contains(head, "状态") {
		t.Fatalf("the leads' template: %q", head)
	}
	rep := ie.as("rep.east")
	rep.lang = "en"
	res = rep.do("GET", "/api/v1/imports/template/imp_leads?format=csv", nil, nil).want(200)
	if got := string(bytes.TrimSpace(res.body[3:])); got != "Company*,Contact,Phone,E-mail,Region,Source,Visit date,Employees,Account,VIP,Note,Tags,Owner" {
		t.Fatalf("rep's template: %q", got)
	}
	// The template filled in and uploaded maps every column.
	filled := append(append([]byte{}, res.body...), []byte("测试公司,张三,13800000000,t@x.com,华东,网站,2026-01-02,5,,是,备注,,rep.east\r\n")...)
	imp := rep.uploadImport("imp_leads", "template.csv", filled).want(201).json()
	for col, f := range imp["mapping"].(map[string]any) {
		if f == "" {
			t.Fatalf("column %s not mapped: %v", col, imp["mapping"])
		}
	}
	rep.do("POST", "/api/v1/imports/"+imp["id"].(string)+"/start", nil, nil).want(202)
	ie.runImports()
	l := ie.leads()["测试公司"]
	if l == nil || l["owner"] != ie.users["rep.east"] || l["region"] != "华东" || l["visit_date"] != "2026-01-02" {
		t.Fatalf("lead: %v", l)
	}
	ie.as("finance").do("GET", "/api/v1/imports/template/imp_leads", nil, nil).want(403)
	ie.admin.do("GET", "/api/v1/imports/template/nope", nil, nil).want(404)
}

// TestImportPermissions: imports act as their user. Others' imports are
// invisible; hidden fields cannot be mapped; rows outside the user's data
// scope fail; an import without the right to create is refused.
func TestImportPermissions(t *testing.T) {
	ie := newImpEnv(t)
	rep := ie.c("rep.east")
	file := impCSV("公司名称,区域,预计金额,负责人", "东部公司,华东,100,", "南部公司,华南,200,刘洋", "指派公司,华东,,陈静")
	imp := rep.uploadImport("imp_leads", "rep.csv", file).want(201).json()
	id := imp["id"].(string)
	if imp["mapping"].(map[string]any)["预计金额"] != "" || imp["created_by"] != ie.users["rep.east"] {
		t.Fatalf("rep's upload: %v", imp)
	}
	p := rep.do("PATCH", "/api/v1/imports/"+id, map[string]any{"mapping": map[string]any{"预计金额": "amount"}}, nil).want(422).json()
	if p["errors"].([]any)[0].(map[string]any)["code"] != "import_field_not_importable" {
		t.Fatalf("hidden field: %v", p)
	}
	ie.c("rep.south").do("GET", "/api/v1/imports/"+id, nil, nil).want(404)
	ie.c("rep.south").do("POST", "/api/v1/imports/"+id+"/start", nil, nil).want(404)
	if n := len(ie.c("rep.south").do("GET", "/api/v1/imports", nil, nil).want(200).items()); n != 0 {
		t.Fatalf("rep.south sees %d imports", n)
	}
	if n := len(ie.admin.do("GET", "/api/v1/imports?entity=imp_leads", nil, nil).want(200).items()); n != 1 {
		t.Fatalf("admin sees %d imports", n)
	}
	if n := len(ie.admin.do("GET", "/api/v1/imports?entity=imp_accounts", nil, nil).want(200).items()); n != 0 {
		t.Fatalf("admin sees %d account imports", n)
	}
	dry := rep.do("POST", "/api/v1/imports/"+id+"/dry-run", nil, nil).want(200).json()
	if dry["create"] != 2.0 || dry["invalid"] != 1.0 || dry["errors"].([]any)[0].(map[string]any)["code"] != "outside_scope" {
		t.Fatalf("dry run: %v", dry)
	}
	rep.do("POST", "/api/v1/imports/"+id+"/start", nil, nil).want(202)
	ie.runImports()
	done := rep.do("GET", "/api/v1/imports/"+id, nil, nil).want(200).json()
	if done["created"] != 2.0 || done["failed"] != 1.0 {
		t.Fatalf("run: %v", done)
	}
	if l := ie.leads()["指派公司"]; l["owner"] != ie.users["rep.east2"] || l["created_by"] != ie.users["rep.east"] {
		t.Fatalf("owner by name: %v", l)
	}
	// Without the right to create: refused at upload.
	ie.c("finance").uploadImport("imp_leads", "f.csv", file).want(403)
	// Update mode needs the right to update.
	roles := ie.admin.do("GET", `/api/v1/records/roles?filter=name%20==%20"sales_rep"`, nil, nil).want(200).items()
	ie.admin.do("PATCH", "/api/v1/records/roles/"+roles[0]["id"].(string), map[string]any{"permissions": []any{
		map[string]any{"entity": "imp_leads", "actions": []string{"read", "create"}, "scope": "regions"}}}, nil).want(200)
	rep2 := ie.as("rep.east2")
	id2 := rep2.uploadImport("imp_leads", "r2.csv", file).want(201).json()["id"].(string)
	rep2.do("PATCH", "/api/v1/imports/"+id2, map[string]any{"dedupe": map[string]any{"field": "company", "match": "company", "mode": "update"}}, nil).want(403)
	rep2.do("PATCH", "/api/v1/imports/"+id2, map[string]any{"dedupe": map[string]any{"field": "company", "match": "company", "mode": "skip"}}, nil).want(200)
}

// TestImportLifecycle: an import is changed only before it starts; a
// queued import cancelled never runs; a running one stops after the batch
// it is writing.
func TestImportLifecycle(t *testing.T) {
	ie := newImpEnv(t)
	file := impCSV("公司名称", "一", "二")
	id := ie.admin.uploadImport("imp_leads", "a.csv", file).want(201).json()["id"].(string)
	ie.admin.do("POST", "/api/v1/imports/"+id+"/dry-run", nil, nil).want(200)
	if s := ie.admin.do("PATCH", "/api/v1/imports/"+id, map[string]any{"mapping": map[string]any{}}, nil).want(200).json()["status"]; s != "uploaded" {
		t.Fatalf("a changed mapping keeps the dry run: %v", s)
	}
	ie.admin.do("POST", "/api/v1/imports/"+id+"/start", nil, nil).want(202)
	ie.admin.do("POST", "/api/v1/imports/"+id+"/start", nil, nil).want(409)
	ie.admin.do("PATCH", "/api/v1/imports/"+id, map[string]any{"mapping": map[string]any{}}, nil).want(409)
	ie.admin.do("POST", "/api/v1/imports/"+id+"/dry-run", nil, nil).want(409)
	if s := ie.admin.do("POST", "/api/v1/imports/"+id+"/cancel", nil, nil).want(200).json()["status"]; s != "cancelled" {
		t.Fatalf("cancel: %v", s)
	}
	ie.admin.do("POST", "/api/v1/imports/"+id+"/cancel", nil, nil).want(409)
	ie.runImports()
	if n := ie.countLeads(""); n != 0 {
		t.Fatalf("a cancelled import wrote %d records", n)
	}
	// Nothing mapped: cannot start.
	id = ie.admin.uploadImport("imp_leads", "b.csv", impCSV("列一", "x")).want(201).json()["id"].(string)
	ie.admin.do("POST", "/api/v1/imports/"+id+"/start", nil, nil).want(422)

	// Cancelled while running: the first record's write asks to cancel
	// (from another goroutine: the batch holds the writer); the batches
	// under way commit whole, no other starts.
	rows := []string{"公司名称"}
	for i := range 5000 {
		rows = append(rows, fmt.Sprintf("批量公司%d", i))
	}
	id = ie.admin.uploadImport("imp_leads", "big.csv", impCSV(rows...)).want(201).json()["id"].(string)
	var once sync.Once
	var wg sync.WaitGroup
	ie.app.Records.Use("imp_leads", records.Hook{Before: func(ctx context.Context, c *records.Change) error {
		once.Do(func() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ie.admin.do("POST", "/api/v1/imports/"+id+"/cancel", nil, nil).want(200)
			}()
		})
		return nil
	}})
	ie.admin.do("POST", "/api/v1/imports/"+id+"/start", nil, nil).want(202)
	ie.runImports()
	wg.Wait()
	imp := ie.admin.do("GET", "/api/v1/imports/"+id, nil, nil).want(200).json()
	processed := imp["processed"].(float64)
	if imp["status"] != "cancelled" || processed >= 5000 || int(processed)%500 != 0 || imp["created"] != processed ||
		ie.countLeads("") != int(processed) {
		t.Fatalf("cancelled while running: %v, %d records", imp, ie.countLeads(""))
	}
}

// TestImportPurge: the daily purge deletes finished imports after 90 days
// and imports never started after 7 — their import_jobs records go to the
// trash — with their state, batches and error rows; recent ones stay.
func TestImportPurge(t *testing.T) {
	ie := newImpEnv(t)
	ctx := context.Background()
	old := ie.importFile(ie.admin, "imp_leads", "old.csv", impCSV("公司名称,员工数", "甲,1", "乙,x"), nil)["id"].(string)
	recent := ie.importFile(ie.admin, "imp_leads", "recent.csv", impCSV("公司名称", "丙"), nil)["id"].(string)
	stale := ie.admin.uploadImport("imp_leads", "stale.csv", impCSV("公司名称", "丁")).want(201).json()["id"].(string)
	fresh := ie.admin.uploadImport("imp_leads", "fresh.csv", impCSV("公司名称", "戊")).want(201).json()["id"].(string)
	for id, age := range map[string]time.Duration{old: 91 * 24 * time.Hour, recent: 80 * 24 * time.Hour, stale: 8 * 24 * time.Hour, fresh: 6 * 24 * time.Hour} {
		if _, err := ie.app.DB.Exec(ctx, `UPDATE imports SET updated_at = ? WHERE id = ?`, time.Now().Add(-age).UnixMicro(), impInt(t, id)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ie.app.Jobs.Enqueue(ctx, importer.KindPurge, nil, jobs.EnqueueOptions{}); err != nil {
		t.Fatal(err)
	}
	ie.runImports()
	for id, want := range map[string]int{old: 404, recent: 200, stale: 404, fresh: 200} {
		ie.admin.do("GET", "/api/v1/imports/"+id, nil, nil).want(want)
	}
	for id, want := range map[string]int{old: 404, recent: 200, stale: 404, fresh: 200} {
		ie.admin.do("GET", "/api/v1/records/import_jobs/"+id, nil, nil).want(want)
	}
	for _, q := range []string{`SELECT COUNT(*) FROM import_errors WHERE import_id = ?`, `SELECT COUNT(*) FROM import_batches WHERE import_id = ?`,
		`SELECT COUNT(*) FROM imports WHERE id = ?`} {
		var n int
		if err := ie.app.DB.QueryRow(ctx, q, impInt(t, old)).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%s: %d (%v)", q, n, err)
		}
	}
	if ie.countLeads("") != 2 {
		t.Fatal("the purge touched records")
	}
}

func impInt(t testing.TB, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
