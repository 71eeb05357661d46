package apitest

import (
	"fmt"
	"strings"
	"testing"
)

// TestImportDedupeExact: duplicates by the stored value of a unique field
// (e-mail, compared after the records service lower-cases it), against
// existing records and within the file, with skip, update and create;
// every dry run foretells its run.
func TestImportDedupeExact(t *testing.T) {
	ie := newImpEnv(t)
	a := ie.admin.do("POST", "/api/v1/records/imp_leads", map[string]any{"company": "苏州精密", "email": "a@x.com", "contact_name": "旧", "phone": "13800000000"}, nil).want(201).json()
	file := impCSV("公司名称,邮箱,联系人",
		"苏州精密二号,A@X.com,新",    // matches a@x.com
		"常州新材,c@x.com,王五",     // new
		"常州新材重复,C@X.COM,王五二",  // duplicate of the row above (within the file)
		"南通,,赵六",              // no key: created
		"错误行,not-an-email,钱七") // invalid
	skip := map[string]any{"dedupe": map[string]any{"field": "email", "match": "exact", "mode": "skip"}}
	imp, _ := ie.importChecked(ie.admin, "skip.csv", file, skip)
	if imp["created"] != 2.0 || imp["skipped"] != 2.0 || imp["failed"] != 1.0 {
		t.Fatalf("skip: %v", imp)
	}
	if ie.countLeads(`email == "c@x.com"`) != 1 || ie.countLeads("") != 3 {
		t.Fatalf("skip: %d leads", ie.countLeads(""))
	}
	// Update: the matching record gets the row's non-empty cells; the key
	// itself is not rewritten; a later row of the same key updates again.
	upd := map[string]any{"dedupe": map[string]any{"field": "email", "match": "exact", "mode": "update"}}
	imp, _ = ie.importChecked(ie.admin, "update.csv", impCSV("公司名称,邮箱,联系人,电话",
		"苏州精密新名,A@X.COM,新联系人,",
		"扬州,e@x.com,孙八,13900000001",
		"扬州二,E@x.com,,13900000002"), upd)
	if imp["updated"] != 2.0 || imp["created"] != 1.0 || imp["failed"] != 0.0 {
		t.Fatalf("update: %v", imp)
	}
	got := ie.admin.do("GET", "/api/v1/records/imp_leads/"+a["id"].(string), nil, nil).want(200).json()
	if got["company"] != "苏州精密新名" || got["contact_name"] != "新联系人" || got["phone"] != "13800000000" || got["email"] != "a@x.com" {
		t.Fatalf("updated record: %v", got)
	}
	if l := ie.leads()["扬州二"]; l == nil || l["contact_name"] != "孙八" || l["phone"] != "13900000002" {
		t.Fatalf("the duplicate within the file: %v", ie.leads())
	}
	// "Create anyway" is refused for a unique field.
	id := ie.admin.uploadImport("imp_leads", "c.csv", file).want(201).json()["id"].(string)
	p := ie.admin.do("PATCH", "/api/v1/imports/"+id, map[string]any{"dedupe": map[string]any{"field": "email", "mode": "create"}}, nil).want(422).json()
	if p["errors"].([]any)[0].(map[string]any)["code"] != "import_dedupe_create_unique" {
		t.Fatalf("create on a unique field: %v", p)
	}
	ie.admin.do("PATCH", "/api/v1/imports/"+id, map[string]any{"dedupe": map[string]any{"field": "vip"}}, nil).want(422)
	ie.admin.do("PATCH", "/api/v1/imports/"+id, map[string]any{"dedupe": map[string]any{"field": "phone"}}, nil).want(422) // not mapped
	ie.admin.do("PATCH", "/api/v1/imports/"+id, map[string]any{"mapping": map[string]any{"联系人": "company"}}, nil).want(422)
	ie.admin.do("PATCH", "/api/v1/imports/"+id, map[string]any{"mapping": map[string]any{"不存在": "company"}}, nil).want(422)
	ie.admin.do("PATCH", "/api/v1/imports/"+id, map[string]any{"mapping": map[string]any{"联系人": "score"}}, nil).want(422)
	ie.admin.do("PATCH", "/api/v1/imports/"+id, map[string]any{"dedupe": map[string]any{"mode": "merge"}}, nil).want(422)
	ie.admin.do("PATCH", "/api/v1/imports/"+id, map[string]any{"bogus": 1}, nil).want(400)
}

// TestImportDedupeCompany: company names match without legal forms,
// spaces, punctuation, width or case; ambiguous matches fail in update
// mode and skip in skip mode.
func TestImportDedupeCompany(t *testing.T) {
	ie := newImpEnv(t)
	mk := func(company string) string {
		return ie.admin.do("POST", "/api/v1/records/imp_leads", map[string]any{"company": company}, nil).want(201).json()["id"].(string)
	}
	suzhou := mk("苏州精密机械有限公司")
	bosch := mk("博世（中国）投资有限公司")
	mk("常州新材")
	mk("常州新材股份有限公司")
	upd := map[string]any{"dedupe": map[string]any{"field": "company", "match": "company", "mode": "update"}}
	imp, _ := ie.importChecked(ie.admin, "company.csv", impCSV("公司名称,联系人",
		"苏州 精密机械,张三",              // → 苏州精密机械有限公司
		"博世投资（集团）有限公司,李四",         // → 博世（中国）投资有限公司
		"常州新材有限责任公司,王五",           // two records match: ambiguous
		"Ｓｕｚｈｏｕ Ｔｅｃｈ Ｃｏ．，Ｌｔｄ．,赵六", // new (full-width)
		"suzhou tech,钱七"), upd)    // the row above, within the file
	if imp["updated"] != 3.0 || imp["created"] != 1.0 || imp["failed"] != 1.0 {
		t.Fatalf("company update: %v", imp)
	}
	for id, contact := range map[string]string{suzhou: "张三", bosch: "李四"} {
		got := ie.admin.do("GET", "/api/v1/records/imp_leads/"+id, nil, nil).want(200).json()
		if got["contact_name"] != contact || !strings.Contains(got["company"].(string), "有限公司") {
			t.Fatalf("record %s: %v", id, got)
		}
	}
	if l := ie.leads()["Ｓｕｚｈｏｕ Ｔｅｃｈ Ｃｏ．，Ｌｔｄ．"]; l == nil || l["contact_name"] != "钱七" {
		t.Fatalf("in-file duplicate: %v", ie.leads())
	}
	skip := map[string]any{"dedupe": map[string]any{"field": "company", "match": "company", "mode": "skip"}}
	imp, _ = ie.importChecked(ie.admin, "company-skip.csv", impCSV("公司名称", "常州新材集团", "苏州精密机械股份有限公司", "全新公司"), skip)
	if imp["skipped"] != 2.0 || imp["created"] != 1.0 {
		t.Fatalf("company skip: %v", imp)
	}
	// create: duplicates are created anyway.
	imp, _ = ie.importChecked(ie.admin, "company-create.csv", impCSV("公司名称", "全新公司"),
		map[string]any{"dedupe": map[string]any{"field": "company", "match": "company", "mode": "create"}})
	if imp["created"] != 1.0 || ie.countLeads(`company == "全新公司"`) != 2 {
		t.Fatalf("company create: %v", imp)
	}
}

// TestImportDryRunAcrossBatches: a file of several batches whose later
// rows depend on earlier ones — duplicates within the file (update and
// skip), a unique e-mail taken by an earlier row — gives the same counts
// and errors in the dry run (whose batches are rolled back) as in the run.
func TestImportDryRunAcrossBatches(t *testing.T) {
	ie := newImpEnv(t)
	build := func(n int) []byte {
		rows := []string{"公司名称,邮箱,联系人,员工数"}
		for i := range n {
			company := fmt.Sprintf("公司%04d有限公司", i%700) // rows i and i+700 are the same company
			email := fmt.Sprintf("u%d@x.com", i)
			if i == 1100 {
				email = "u10@x.com" // taken by row 10, in another batch
			}
			emp := fmt.Sprint(i)
			if i%97 == 0 {
				emp = "many" // invalid
			}
			rows = append(rows, fmt.Sprintf("%s,%s,联系人%d,%s", company, email, i, emp))
		}
		return impCSV(rows...)
	}
	file := build(1400)
	upd := map[string]any{"dedupe": map[string]any{"field": "company", "match": "company", "mode": "update"}}
	imp, dry := ie.importChecked(ie.admin, "batches.csv", file, upd)
	if imp["created"] == 0.0 || imp["updated"] == 0.0 || imp["failed"] == 0.0 || dry["total"] != 1400.0 {
		t.Fatalf("update: %v", imp)
	}
	if n := ie.countLeads(""); float64(n) != imp["created"] {
		t.Fatalf("%d leads, %v created", n, imp["created"])
	}
	// The same file again, skipping: everything matches now.
	imp, _ = ie.importChecked(ie.admin, "batches-skip.csv", file, map[string]any{"dedupe": map[string]any{"field": "company", "match": "company", "mode": "skip"}})
	if imp["created"] != 0.0 || imp["skipped"].(float64)+imp["failed"].(float64) != 1400 {
		t.Fatalf("skip: %v", imp)
	}
	// De-duplication by e-mail, into an empty entity: the e-mail taken
	// by row 10 fails row 1100 in both.
	ie2 := newImpEnv(t)
	imp, _ = ie2.importChecked(ie2.admin, "batches-email.csv", file, map[string]any{"dedupe": map[string]any{"field": "email", "match": "exact", "mode": "skip"}})
	if imp["skipped"] != 1.0 {
		t.Fatalf("email: %v", imp)
	}
	imp, _ = ie2.importChecked(ie2.admin, "batches-none.csv", build(1200), nil)
	if imp["created"] != 0.0 {
		t.Fatalf("no de-duplication: %v", imp)
	}
}
