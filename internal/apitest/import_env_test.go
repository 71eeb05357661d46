package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// impEnv is a Tenon with the demo organisation and two custom entities the
// import scenarios fill: imp_accounts and imp_leads (linked to an account,
// a region drawn from regions, a unique e-mail).
type impEnv struct {
	*env
	admin *client
	users map[string]string // login → id
}

func newImpEnv(t testing.TB) *impEnv {
	t.Helper()
	ie := &impEnv{env: openEnv(t, "tenon_imp", nil)}
	ie.admin = ie.c("admin")
	ie.users = ie.userIDs()
	lbl := func(zh, en string) map[string]string { return map[string]string{"zh-CN": zh, "en": en} }
	ie.admin.do("POST", "/api/v1/meta/entities", map[string]any{
		"name": "imp_accounts", "label": lbl("客户", "Accounts"), "title_field": "name",
		"fields": []map[string]any{
			{"name": "name", "type": "text", "required": true, "label": lbl("客户名称", "Name")},
			{"name": "code", "type": "text", "unique": true, "label": lbl("客户编号", "Code")},
		}}, nil).want(201)
	ie.admin.do("POST", "/api/v1/meta/entities", map[string]any{
		"name": "imp_leads", "label": lbl("线索", "Leads"), "title_field": "company",
		"fields": []map[string]any{
			{"name": "company", "type": "text", "required": true, "label": lbl("公司名称", "Company")},
			{"name": "contact_name", "type": "text", "label": lbl("联系人", "Contact")},
			{"name": "phone", "type": "phone", "label": lbl("电话", "Phone")},
			{"name": "email", "type": "email", "unique": true, "label": lbl("邮箱", "E-mail")},
			{"name": "region", "type": "select", "options_from": "regions", "label": lbl("区域", "Region")},
			{"name": "source", "type": "select", "label": lbl("来源", "Source"), "options": []any{
				map[string]any{"value": "web", "label": lbl("网站", "Website")},
				map[string]any{"value": "expo", "label": lbl("展会", "Trade show")}}},
			{"name": "amount", "type": "money", "label": lbl("预计金额", "Amount")},
			{"name": "visit_date", "type": "date", "label": lbl("拜访日期", "Visit date")},
			{"name": "employees", "type": "integer", "label": lbl("员工数", "Employees")},
			{"name": "account", "type": "link", "target": "imp_accounts", "label": lbl("客户", "Account")},
			{"name": "vip", "type": "boolean", "label": lbl("重点客户", "VIP")},
			{"name": "note", "type": "text", "label": lbl("备注", "Note")},
			{"name": "tags", "type": "tags", "label": lbl("标签", "Tags")},
			{"name": "score", "type": "formula", "expression": "employees * 2", "label": lbl("评分", "Score")},
		}}, nil).want(201)
	// Sales reps import leads of their regions; the amount is hidden from
	// them; they read every account.
	roles := ie.admin.do("GET", `/api/v1/records/roles?filter=name%20==%20"sales_rep"`, nil, nil).want(200).items()
	perms := []any{
		map[string]any{"entity": "imp_leads", "actions": []string{"read", "create", "update"}, "scope": "regions",
			"hidden_fields": []string{"amount"}},
		map[string]any{"entity": "imp_accounts", "actions": []string{"read"}, "scope": "all"},
	}
	ie.admin.do("PATCH", "/api/v1/records/roles/"+roles[0]["id"].(string), map[string]any{"permissions": perms}, nil).want(200)
	return ie
}

// uploadImport posts a file for an import into entity.
func (c *client) uploadImport(entity, name string, content []byte) *response {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if entity != "" {
		mw.WriteField("entity", entity)
	}
	if name != "" {
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write(content)
	}
	mw.Close()
	return c.do("POST", "/api/v1/imports", buf.Bytes(), map[string]string{"Content-Type": mw.FormDataContentType()})
}

// runImports runs due jobs until none is left (the import jobs among them).
func (ie *impEnv) runImports() {
	ie.t.Helper()
	for {
		n, err := ie.app.Jobs.RunDue(context.Background())
		if err != nil {
			ie.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// importFile uploads, maps (settings, when not nil), starts and runs an
// import as c, and returns the finished import.
func (ie *impEnv) importFile(c *client, entity, name string, content []byte, settings map[string]any) map[string]any {
	ie.t.Helper()
	imp := c.uploadImport(entity, name, content).want(201).json()
	id := imp["id"].(string)
	if settings != nil {
		c.do("PATCH", "/api/v1/imports/"+id, settings, nil).want(200)
	}
	c.do("POST", "/api/v1/imports/"+id+"/start", nil, nil).want(202)
	ie.runImports()
	return c.do("GET", "/api/v1/imports/"+id, nil, nil).want(200).json()
}

// leads returns every imp_leads record the admin sees, by company.
func (ie *impEnv) leads() map[string]map[string]any {
	ie.t.Helper()
	out := map[string]map[string]any{}
	for page := 1; ; page++ {
		items := ie.admin.do("GET", fmt.Sprintf("/api/v1/records/imp_leads?per_page=500&page=%d&sort=id", page), nil, nil).want(200).items()
		for _, it := range items {
			out[it["company"].(string)] = it
		}
		if len(items) < 500 {
			return out
		}
	}
}

// countLeads counts imp_leads matching filter ("" for all).
func (ie *impEnv) countLeads(filter string) int {
	ie.t.Helper()
	q := "/api/v1/records/imp_leads?count=exact&per_page=1"
	if filter != "" {
		q += "&filter=" + url.QueryEscape(filter)
	}
	return int(ie.admin.do("GET", q, nil, nil).want(200).json()["total"].(float64))
}

// impCSV joins rows into CSV text (cells are written as given: quote
// them yourself) with CRLF line ends.
func impCSV(rows ...string) []byte { return []byte(strings.Join(rows, "\r\n") + "\r\n") }

// impGBK encodes text as GBK (what Excel on a Chinese Windows writes).
func impGBK(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// impXLSX builds a workbook whose first sheet holds rows; fill may add
// formats, formulas and more.
func impXLSX(t testing.TB, rows [][]any, fill func(f *excelize.File)) []byte {
	t.Helper()
	f := excelize.NewFile()
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	if fill != nil {
		fill(f)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// impReadXLSX reads the first sheet of a workbook.
func impReadXLSX(t testing.TB, b []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// importChecked uploads a file, applies settings, dry-runs it, runs it,
// and checks that the dry run foretold the run exactly: the same counts
// and the same errors (row, column, code) as the run's error report. It
// returns the finished import and the dry run.
func (ie *impEnv) importChecked(c *client, name string, content []byte, settings map[string]any) (imp, dry map[string]any) {
	ie.t.Helper()
	id := c.uploadImport("imp_leads", name, content).want(201).json()["id"].(string)
	if settings != nil {
		c.do("PATCH", "/api/v1/imports/"+id, settings, nil).want(200)
	}
	dry = c.do("POST", "/api/v1/imports/"+id+"/dry-run", nil, nil).want(200).json()
	c.do("POST", "/api/v1/imports/"+id+"/start", nil, nil).want(202)
	ie.runImports()
	imp = c.do("GET", "/api/v1/imports/"+id, nil, nil).want(200).json()
	if imp["status"] != "done" {
		ie.t.Fatalf("import %s: %v", name, imp)
	}
	for k, w := range map[string]string{"create": "created", "update": "updated", "skip": "skipped", "invalid": "failed", "total": "processed"} {
		if dry[k] != imp[w] {
			ie.t.Fatalf("%s: the dry run said %s %v, the run %s %v\ndry: %v\nrun: %v", name, k, dry[k], w, imp[w], dry, imp)
		}
	}
	var dryErrs []string
	for _, x := range dry["errors"].([]any) {
		e := x.(map[string]any)
		dryErrs = append(dryErrs, fmt.Sprintf("%v|%v|%v", e["row"], e["column"], e["code"]))
	}
	var runErrs []string
	ie.forErrors(c, id, func(row, column, code string) { runErrs = append(runErrs, row+"|"+column+"|"+code) })
	if strings.Join(dryErrs, "\n") != strings.Join(runErrs, "\n") && len(dryErrs) < 200 {
		ie.t.Fatalf("%s: dry-run errors\n%s\nrun errors\n%s", name, strings.Join(dryErrs, "\n"), strings.Join(runErrs, "\n"))
	}
	return imp, dry
}

// forErrors reads the import's stored error rows (one call per error).
func (ie *impEnv) forErrors(c *client, id string, fn func(row, column, code string)) {
	ie.t.Helper()
	n, _ := strconv.ParseInt(id, 10, 64)
	rows, err := ie.app.DB.Query(context.Background(), `SELECT row_no, errors FROM import_errors WHERE import_id = ? ORDER BY row_no`, n)
	if err != nil {
		ie.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var row int64
		var raw []byte
		if err := rows.Scan(&row, &raw); err != nil {
			ie.t.Fatal(err)
		}
		var errs []struct{ Column, Code string }
		if err := json.Unmarshal(raw, &errs); err != nil {
			ie.t.Fatal(err)
		}
		for _, e := range errs {
			fn(fmt.Sprint(row), e.Column, e.Code)
		}
	}
	if err := rows.Err(); err != nil {
		ie.t.Fatal(err)
	}
}
