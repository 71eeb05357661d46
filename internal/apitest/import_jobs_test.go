package apitest

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"strings"
	"testing"
)

// oneShot posts a file for an import with the optional one-shot parts
// (mapping, mode, dedupe, dry_run; "" leaves a part out).
func (c *client) oneShot(entity, name string, content []byte, parts map[string]string) *response {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("entity", entity)
	for k, v := range parts {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(content)
	mw.Close()
	return c.do("POST", "/api/v1/imports", buf.Bytes(), map[string]string{"Content-Type": mw.FormDataContentType()})
}

// TestImportJobsOneShot: POST /imports with mapping and mode starts the
// import at once; it runs to the end and its import_jobs record shows the
// progress, the counters and the error report file, which the uploader
// downloads through /files and another rep cannot; another rep sees
// neither the record nor the import.
func TestImportJobsOneShot(t *testing.T) {
	ie := newImpEnv(t)
	rep, south := ie.c("rep.east"), ie.c("rep.south")
	rows := []string{"公司名称,员工数,区域"}
	for i := range 1200 {
		emp := fmt.Sprint(i)
		if i == 7 || i == 1100 {
			emp = "很多"
		}
		rows = append(rows, fmt.Sprintf("一次导入%d,%s,华东", i, emp))
	}
	imp := rep.oneShot("imp_leads", "线索.csv", impCSV(rows...), map[string]string{
		"mapping": `{"公司名称":"company","员工数":"employees","区域":"region"}`, "mode": "skip"}).want(202).json()
	id := imp["id"].(string)
	if imp["status"] != "queued" || imp["mapping"].(map[string]any)["员工数"] != "employees" || imp["dedupe"].(map[string]any)["mode"] != "skip" {
		t.Fatalf("one-shot start: %v", imp)
	}
	rec := rep.do("GET", "/api/v1/records/import_jobs/"+id, nil, nil).want(200).json()
	if rec["status"] != "queued" || rec["entity"] != "imp_leads" || rec["file_name"] != "线索.csv" || rec["owner"] != ie.users["rep.east"] ||
		rec["created_by"] != ie.users["rep.east"] || rec["row_count"] != 1200.0 || rec["total"] != 1200.0 || rec["file"] == nil {
		t.Fatalf("queued record: %v", rec)
	}
	ie.runImports()
	rec = rep.do("GET", "/api/v1/records/import_jobs/"+id, nil, nil).want(200).json()
	if rec["status"] != "done" || rec["processed"] != 1200.0 || rec["created"] != 1198.0 || rec["failed"] != 2.0 ||
		rec["started_at"] == nil || rec["finished_at"] == nil {
		t.Fatalf("finished record: %v", rec)
	}
	if n := ie.countLeads(""); n != 1198 {
		t.Fatalf("%d leads", n)
	}
	// Progress: each batch moved the counters on the record (its history).
	var progress []float64
	for _, h := range rep.do("GET", "/api/v1/records/import_jobs/"+id+"/history", nil, nil).want(200).items() {
		if ch, ok := h["changes"].(map[string]any)["processed"].(map[string]any); ok && h["action"] != "create" {
			progress = append(progress, ch["new"].(float64))
		}
	}
	if len(progress) != 3 {
		t.Fatalf("progress %v, want one change per batch", progress)
	}
	// The error report is on the record: the uploader downloads it.
	report, _ := rec["error_report"].(string)
	if report == "" {
		t.Fatalf("no error report: %v", rec)
	}
	body := rep.do("GET", "/api/v1/files/"+report, nil, nil).want(200).body
	sheet := impReadXLSX(t, body)
	if len(sheet) != 3 || sheet[0][3] != "行号" || sheet[0][4] != "错误" || sheet[1][3] != "9" || sheet[2][3] != "1102" ||
		!strings.Contains(sheet[1][4], "员工数") {
		t.Fatalf("error report: %v", sheet)
	}
	// Another rep: neither the record, the report, nor the import.
	south.do("GET", "/api/v1/files/"+report, nil, nil).want(404)
	south.do("GET", "/api/v1/files/"+rec["file"].(string), nil, nil).want(404)
	south.do("GET", "/api/v1/records/import_jobs/"+id, nil, nil).want(404)
	if n := len(south.do("GET", "/api/v1/records/import_jobs", nil, nil).want(200).items()); n != 0 {
		t.Fatalf("rep.south lists %d import jobs", n)
	}
	south.do("GET", "/api/v1/imports/"+id, nil, nil).want(404)
	if n := len(rep.do("GET", "/api/v1/records/import_jobs", nil, nil).want(200).items()); n != 1 {
		t.Fatalf("rep.east lists %d import jobs", n)
	}
	if n := len(ie.admin.do("GET", "/api/v1/records/import_jobs", nil, nil).want(200).items()); n != 1 {
		t.Fatalf("admin lists %d import jobs", n)
	}
	// A refused one-shot call leaves nothing: a field the rep may not
	// import.
	rep.oneShot("imp_leads", "bad.csv", impCSV("公司名称,预计金额", "甲,1"), map[string]string{
		"mapping": `{"公司名称":"company","预计金额":"amount"}`}).want(422)
	rep.oneShot("imp_leads", "bad.csv", impCSV("公司名称", "甲"), map[string]string{"mapping": `[1]`}).want(422)
	rep.oneShot("imp_leads", "bad.csv", impCSV("公司名称", "甲"), map[string]string{"mode": "merge"}).want(422)
	if n := len(ie.admin.do("GET", "/api/v1/records/import_jobs", nil, nil).want(200).items()); n != 1 {
		t.Fatalf("refused one-shot calls left %d import jobs", n)
	}
}

// TestImportJobsOneShotDryRun: dry_run=true analyses the file and answers
// the dry run with the import (checked); it writes no record of the
// entity. Without mapping, mode or dry_run the call only uploads.
func TestImportJobsOneShotDryRun(t *testing.T) {
	ie := newImpEnv(t)
	rep := ie.c("rep.east")
	file := impCSV("公司名称,员工数,区域", "甲,1,华东", "乙,x,华东", "丙,3,华南")
	res := rep.oneShot("imp_leads", "d.csv", file, map[string]string{"dry_run": "true",
		"mapping": `{"公司名称":"company","员工数":"employees","区域":"region"}`}).want(200).json()
	imp := res["import"].(map[string]any)
	if res["total"] != 3.0 || res["create"] != 2.0 || res["invalid"] != 1.0 || imp["status"] != "checked" || len(res["errors"].([]any)) != 1 {
		t.Fatalf("one-shot dry run: %v", res)
	}
	if n := ie.countLeads(""); n != 0 {
		t.Fatalf("a dry run wrote %d leads", n)
	}
	rec := rep.do("GET", "/api/v1/records/import_jobs/"+imp["id"].(string), nil, nil).want(200).json()
	if rec["status"] != "checked" || rec["processed"] != 0.0 {
		t.Fatalf("record after the dry run: %v", rec)
	}
	// It may then be started as the wizard would.
	rep.do("POST", "/api/v1/imports/"+imp["id"].(string)+"/start", nil, nil).want(202)
	ie.runImports()
	if n := ie.countLeads(""); n != 2 {
		t.Fatalf("%d leads after the start", n)
	}
	// Only the upload.
	up := rep.oneShot("imp_leads", "u.csv", file, map[string]string{"dry_run": "false"}).want(201).json()
	if up["status"] != "uploaded" || up["mapping"].(map[string]any)["员工数"] != "employees" {
		t.Fatalf("upload: %v", up)
	}
}

// TestImportJobsReadOnly: import_jobs are written by the import routes
// only; an administrator may delete one that is not queued or running,
// which drops the import; nobody restores one.
func TestImportJobsReadOnly(t *testing.T) {
	ie := newImpEnv(t)
	rep := ie.c("rep.east")
	id := rep.uploadImport("imp_leads", "a.csv", impCSV("公司名称", "甲")).want(201).json()["id"].(string)
	// The rep has no right to update; the baseline right to create (own
	// jobs) is the import routes'.
	rep.do("PATCH", "/api/v1/records/import_jobs/"+id, map[string]any{"status": "done"}, nil).want(403)
	for _, r := range []*response{
		rep.do("POST", "/api/v1/records/import_jobs", map[string]any{"entity": "imp_leads", "file_name": "x.csv", "format": "csv"}, nil),
		ie.admin.do("PATCH", "/api/v1/records/import_jobs/"+id, map[string]any{"created": 5}, nil),
		ie.admin.do("POST", "/api/v1/records/import_jobs", map[string]any{"entity": "imp_leads", "file_name": "x.csv", "format": "csv"}, nil),
	} {
		if code := r.want(403).json()["code"]; code != "import_job_readonly" {
			t.Fatalf("generic write: %s", r.body)
		}
	}
	rep.do("DELETE", "/api/v1/records/import_jobs/"+id, nil, nil).want(403)
	// Queued: not deletable.
	ie.admin.do("POST", "/api/v1/imports/"+id+"/start", nil, nil).want(202)
	if code := ie.admin.do("DELETE", "/api/v1/records/import_jobs/"+id, nil, nil).want(409).json()["code"]; code != "import_job_running" {
		t.Fatalf("delete while queued: %v", code)
	}
	ie.runImports()
	if s := rep.do("GET", "/api/v1/records/import_jobs/"+id, nil, nil).want(200).json()["status"]; s != "done" {
		t.Fatalf("status %v", s)
	}
	ie.admin.do("DELETE", "/api/v1/records/import_jobs/"+id, nil, nil).want(204)
	rep.do("GET", "/api/v1/imports/"+id, nil, nil).want(404)
	rep.do("GET", "/api/v1/records/import_jobs/"+id, nil, nil).want(404)
	if code := ie.admin.do("POST", "/api/v1/records/import_jobs/"+id+"/restore", nil, nil).want(403).json()["code"]; code != "import_job_readonly" {
		t.Fatalf("restore: %v", code)
	}
	var n int
	if err := ie.app.DB.QueryRow(t.Context(), `SELECT COUNT(*) FROM imports WHERE id = ?`, impInt(t, id)).Scan(&n); err != nil || n != 0 {
		t.Fatalf("imports rows left: %d (%v)", n, err)
	}
	if ie.countLeads("") != 1 {
		t.Fatal("deleting the import job touched the imported records")
	}
}
