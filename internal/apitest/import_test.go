package apitest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// TestImportCSVEncodings: a CSV in UTF-8 with a BOM, in UTF-8 and in GBK
// (as Excel on a Chinese Windows saves it) is read without garbling, its
// delimiter found; UTF-16, binary and undecidable bytes are refused with
// a clear 422 and nothing is stored.
func TestImportCSVEncodings(t *testing.T) {
	ie := newImpEnv(t)
	text := "公司名称,联系人,电话\r\n苏州精密机械有限公司,张三,138-0000-0001\r\n无锡恒通,李四,13900000002\r\n"
	cases := []struct {
		name, enc string
		data      []byte
	}{
		{"线索-bom.csv", "utf-8-bom", append([]byte{0xEF, 0xBB, 0xBF}, text...)},
		{"线索-utf8.csv", "utf-8", []byte(text)},
		{"线索-gbk.csv", "gb18030", impGBK(t, text)},
		{"线索-semicolon.csv", "gb18030", impGBK(t, strings.ReplaceAll(text, ",", ";"))},
	}
	for _, c := range cases {
		imp := ie.admin.uploadImport("imp_leads", c.name, c.data).want(201).json()
		if imp["encoding"] != c.enc || imp["format"] != "csv" || imp["status"] != "uploaded" || imp["rows"] != 2.0 {
			t.Fatalf("%s: %v", c.name, imp)
		}
		cols := fmt.Sprint(imp["columns"])
		sample := fmt.Sprint(imp["sample"])
		if cols != "[公司名称 联系人 电话]" || sample != "[[苏州精密机械有限公司 张三 138-0000-0001] [无锡恒通 李四 13900000002]]" {
			t.Fatalf("%s: columns %s sample %s", c.name, cols, sample)
		}
		m := imp["mapping"].(map[string]any)
		if m["公司名称"] != "company" || m["联系人"] != "contact_name" || m["电话"] != "phone" {
			t.Fatalf("%s: mapping %v", c.name, m)
		}
	}
	refused := []struct {
		name, code string
		data       []byte
	}{
		{"utf16.csv", "import_encoding_utf16", append([]byte{0xFF, 0xFE}, []byte("a\x00,\x00b\x00")...)},
		{"binary.csv", "import_not_text", []byte("PK\x00\x01\x02garbage")},
		{"latin1.csv", "import_encoding_unknown", []byte("name\r\nM\xfcller \xff\r\n")},
		// Three bytes that are "é" in UTF-8 and a common hanzi in GBK: no way to tell.
		{"tiny.csv", "import_encoding_ambiguous", []byte("name\r\nJos\xc3\xa9\r\n")},
		{"empty.csv", "import_empty_file", []byte("\r\n\r\n")},
		{"header.csv", "import_no_rows", []byte("公司名称\r\n")},
		{"old.xls", "import_xls_unsupported", []byte("x")},
		{"leads.pdf", "import_format_unsupported", []byte("%PDF-1.4")},
	}
	for _, c := range refused {
		p := ie.admin.uploadImport("imp_leads", c.name, c.data).want(422).json()
		errs := p["errors"].([]any)
		if errs[0].(map[string]any)["code"] != c.code || errs[0].(map[string]any)["message"] == "" {
			t.Fatalf("%s: %v", c.name, p)
		}
	}
	ie.admin.uploadImport("", "x.csv", []byte(text)).want(422)
	ie.admin.uploadImport("imp_leads", "", nil).want(422)
	ie.admin.uploadImport("nope", "x.csv", []byte(text)).want(422)
	if n := len(ie.admin.do("GET", "/api/v1/imports", nil, nil).want(200).items()); n != len(cases) {
		t.Fatalf("%d imports stored, want %d", n, len(cases))
	}
	// The GBK file imports as the text it is.
	imp := ie.importFile(ie.admin, "imp_leads", "gbk.csv", impGBK(t, text), nil)
	if imp["status"] != "done" || imp["created"] != 2.0 || imp["failed"] != 0.0 {
		t.Fatalf("import: %v", imp)
	}
	if l := ie.leads()["苏州精密机械有限公司"]; l == nil || l["contact_name"] != "张三" || l["phone"] != "138-0000-0001" {
		t.Fatalf("leads: %v", ie.leads())
	}
}

// TestImportXLSXValues: an XLSX made with excelize: dates in several
// formats become YYYY-MM-DD, large numbers stay plain digits, currency
// formats and grouping go, option labels and linked records' names are
// resolved, and formulas are never evaluated (a formula without a stored
// value imports as its text, like a text cell that looks like one).
func TestImportXLSXValues(t *testing.T) {
	ie := newImpEnv(t)
	acc := ie.admin.do("POST", "/api/v1/records/imp_accounts", map[string]any{"name": "苏州精密", "code": "A001"}, nil).want(201).json()
	ie.admin.do("POST", "/api/v1/records/imp_accounts", map[string]any{"name": "重名", "code": "A002"}, nil).want(201)
	ie.admin.do("POST", "/api/v1/records/imp_accounts", map[string]any{"name": "重名", "code": "A003"}, nil).want(201)
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	data := impXLSX(t, [][]any{
		{"公司名称*", "电话", "拜访日期", "预计金额", "员工数", "来源", "区域", "客户", "重点客户", "备注", "标签", "无关列"},
		{"苏州精密机械有限公司", 13800000001, day, 12345678.5, 1200, "网站", "华东", "苏州精密", "是", "=1+1", "老客户、华东", "x"},
		{"无锡恒通", "021-5555 1234", "2026/11/23", "¥1,234.50", "1,500", "Trade show", "华南", "A001", "否", nil, nil, nil},
		{"常州重名", "13900000003", "2026年11月24日", 0, 7, "expo", "华北", "重名", "true", "@SUM(A1)", nil, nil},
		{"南通未知", "13900000004", "not a date", "abc", 1.5, "电话", "火星", "不存在", "maybe", nil, nil, nil},
	}, func(f *excelize.File) {
		ymd := "yyyy\"年\"m\"月\"d\"日\""
		style, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &ymd})
		f.SetCellStyle("Sheet1", "C2", "C2", style)
		cur, _ := f.NewStyle(&excelize.Style{NumFmt: 8}) // ¥#,##0.00 style currency
		f.SetCellStyle("Sheet1", "D2", "D2", cur)
		f.SetCellFormula("Sheet1", "J5", "=B5&\"x\"")
	})
	imp := ie.admin.uploadImport("imp_leads", "线索.xlsx", data).want(201).json()
	if imp["format"] != "xlsx" || imp["encoding"] != "" || imp["rows"] != 4.0 {
		t.Fatalf("upload: %v", imp)
	}
	first := imp["sample"].([]any)[0].([]any)
	if first[1] != "13800000001" || first[2] != "2026-11-22" || first[3] != "12345678.5" || first[9] != "=1+1" {
		t.Fatalf("sample: %v", first)
	}
	m := imp["mapping"].(map[string]any)
	want := map[string]string{"公司名称*": "company", "电话": "phone", "拜访日期": "visit_date", "预计金额": "amount",
		"员工数": "employees", "来源": "source", "区域": "region", "客户": "account", "重点客户": "vip", "备注": "note",
		"标签": "tags", "无关列": ""}
	for col, f := range want {
		if m[col] != f {
			t.Fatalf("mapping of %s: %v, want %q", col, m[col], f)
		}
	}
	id := imp["id"].(string)
	dry := ie.admin.do("POST", "/api/v1/imports/"+id+"/dry-run", nil, nil).want(200).json()
	if dry["total"] != 4.0 || dry["valid"] != 2.0 || dry["invalid"] != 2.0 || dry["create"] != 2.0 {
		t.Fatalf("dry run: %v", dry)
	}
	got := map[string]bool{}
	for _, x := range dry["errors"].([]any) {
		e := x.(map[string]any)
		if e["message"] == "" {
			t.Fatalf("error %v", e)
		}
		got[fmt.Sprintf("%v/%s/%s", e["row"], e["column"], e["code"])] = true
	}
	for _, w := range []string{"4/客户/import_link_ambiguous", "5/客户/import_link_unknown", "5/拜访日期/not_date",
		"5/预计金额/not_decimal", "5/员工数/not_integer", "5/来源/invalid_option", "5/重点客户/not_boolean"} {
		if !got[w] {
			t.Fatalf("dry-run errors %v lack %s", got, w)
		}
	}
	if ie.countLeads("") != 0 {
		t.Fatal("the dry run wrote records")
	}
	if s := ie.admin.do("GET", "/api/v1/imports/"+id, nil, nil).want(200).json()["status"]; s != "checked" {
		t.Fatalf("status after the dry run: %v", s)
	}
	ie.admin.do("POST", "/api/v1/imports/"+id+"/start", nil, nil).want(202)
	ie.runImports()
	done := ie.admin.do("GET", "/api/v1/imports/"+id, nil, nil).want(200).json()
	if done["status"] != "done" || done["created"] != 2.0 || done["failed"] != 2.0 || done["processed"] != 4.0 || done["total"] != 4.0 {
		t.Fatalf("run: %v", done)
	}
	leads := ie.leads()
	a := leads["苏州精密机械有限公司"]
	if a["phone"] != "13800000001" || a["visit_date"] != "2026-11-22" || a["amount"] != "12345678.50" || a["employees"] != 1200.0 ||
		a["source"] != "web" || a["region"] != "华东" || a["account"] != acc["id"] || a["vip"] != true || a["note"] != "=1+1" ||
		fmt.Sprint(a["tags"]) != "[老客户 华东]" || a["score"] != "2400.0000" {
		t.Fatalf("first lead: %v", a)
	}
	b := leads["无锡恒通"]
	if b["phone"] != "021-5555 1234" || b["visit_date"] != "2026-11-23" || b["amount"] != "1234.50" || b["employees"] != 1500.0 ||
		b["source"] != "expo" || b["account"] != acc["id"] || b["vip"] != false {
		t.Fatalf("second lead: %v", b)
	}
	if c := leads["常州重名"]; c != nil {
		t.Fatalf("an ambiguous account name was imported: %v", c)
	}
	// Every imported record says where it came from.
	hist := ie.admin.do("GET", "/api/v1/records/imp_leads/"+a["id"].(string)+"/history", nil, nil).want(200).body
	if !bytes.Contains(hist, []byte(`"import"`)) {
		t.Fatalf("history: %s", hist)
	}
}
