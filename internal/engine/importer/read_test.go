package importer

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

func code(err error) string {
	ae, ok := apperr.As(err)
	if !ok {
		return ""
	}
	if len(ae.Fields) > 0 {
		return ae.Fields[0].Code
	}
	return ae.Code
}

func gbkBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDetectEncoding(t *testing.T) {
	names := "公司名称,联系人,地址\n苏州精密机械有限公司,张三,江苏省苏州市工业园区星湖街328号\n上海电气集团股份有限公司,李四,上海市黄浦区四川中路110号\n"
	cases := []struct {
		name string
		data []byte
		want string // encoding, or the code of the refusal
	}{
		{"ascii", []byte("a,b\n1,2\n"), EncUTF8},
		{"utf-8", []byte(names), EncUTF8},
		{"utf-8 bom", append(append([]byte{}, bomUTF8...), names...), EncUTF8BOM},
		{"gbk", gbkBytes(t, names), EncGB18030},
		{"gbk short", gbkBytes(t, "名称\n苏州\n"), EncGB18030},
		{"utf-8 latin", []byte("name\nMüller, Zoë, Ångström, Jürgen, Søren, François\n"), EncUTF8},
		{"utf-16le", []byte{0xFF, 0xFE, 'a', 0, ',', 0}, "import_encoding_utf16"},
		{"utf-16 without bom", []byte{'a', 0, ',', 0, 'b', 0}, "import_not_text"},
		{"control characters", []byte("a,b\x01\n"), "import_not_text"},
		{"neither", []byte{'a', 0xFF, 0xFE, 0x80, '\n'}, "import_encoding_unknown"},
		{"bom then invalid", append(append([]byte{}, bomUTF8...), 0xC3, 0x28), "import_encoding_invalid"},
		{"undecidable", []byte("Jos\xc3\xa9\n"), "import_encoding_ambiguous"},
	}
	for _, c := range cases {
		got, err := detectEncoding(c.data)
		if err != nil {
			got = code(err)
		}
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	// UTF-8 Chinese is often valid GB18030 too; the reading wins.
	if !validGB18030([]byte("中文公司")) {
		t.Log("(this sample is not valid GB18030)")
	}
}

func TestNormalizeCompany(t *testing.T) {
	same := [][]string{
		{"苏州精密机械有限公司", "苏州精密机械", "苏州 精密机械", "苏州精密机械股份有限公司", "苏州精密机械（集团）有限公司", "苏州精密机械集团"},
		{"西门子（中国）有限公司", "西门子(中国)", "西门子"},
		{"Suzhou Precision Co., Ltd.", "SUZHOU PRECISION", "Ｓｕｚｈｏｕ　Ｐｒｅｃｉｓｉｏｎ　Ｃｏ．，Ｌｔｄ．", "suzhou-precision company limited"},
		{"Bosch (China) Investment Ltd.", "Bosch Investment"},
	}
	for _, group := range same {
		want := normalizeCompany(group[0])
		for _, s := range group[1:] {
			if got := normalizeCompany(s); got != want {
				t.Errorf("%q → %q, %q → %q", group[0], want, s, got)
			}
		}
	}
	for _, pair := range [][2]string{{"有限公司", "有限公司"}, {"Tesco", "tesco"}, {"Co", "co"}, {"  ", ""}} {
		if got := normalizeCompany(pair[0]); got != pair[1] {
			t.Errorf("%q → %q, want %q", pair[0], got, pair[1])
		}
	}
	if normalizeCompany("苏州精密") == normalizeCompany("苏州精工") {
		t.Error("different companies match")
	}
}

func TestSuggestMapping(t *testing.T) {
	ts := []target{
		{name: "company", label: meta.Label{"zh-CN": "公司名称", "en": "Company"}},
		{name: "contact_name", label: meta.Label{"zh-CN": "联系人", "en": "Contact name"}},
		{name: "email", label: meta.Label{"zh-CN": "邮箱", "en": "E-mail"}},
		{name: "owner", label: meta.Label{"zh-CN": "负责人", "en": "Owner"}},
	}
	got := suggest([]string{"公司名称*", "ＣＯＮＴＡＣＴ  NAME", "e_mail", "Email", "负责人 (必填)", "其他"}, ts)
	want := map[string]string{"公司名称*": "company", "ＣＯＮＴＡＣＴ  NAME": "contact_name", "e_mail": "email", "Email": "",
		"负责人 (必填)": "", "其他": ""}
	for col, f := range want {
		if got[col] != f {
			t.Errorf("%s → %q, want %q", col, got[col], f)
		}
	}
}

func TestConvert(t *testing.T) {
	pct := &meta.Field{Name: "p", Type: "percent"}
	src := &meta.Field{Name: "s", Type: "select", Options: []meta.Option{{Value: "web", Label: meta.Label{"zh-CN": "网站", "en": "Website"}}}}
	cases := []struct {
		typ  string
		f    *meta.Field
		cell string
		want any
	}{
		{"integer", nil, "1,200", "1200"},
		{"integer", nil, "１２", "12"},
		{"integer", nil, "12.0", "12"},
		{"integer", nil, "12.5", "12.5"},
		{"money", nil, "￥1,234.50", "1234.50"},
		{"money", nil, "RMB 99", "99"},
		{"decimal", nil, "12.5%", "0.125"},
		{"percent", pct, "12.5%", "12.5"},
		{"boolean", nil, "是", true},
		{"boolean", nil, "N", false},
		{"boolean", nil, "maybe", "maybe"},
		{"date", nil, "2026/1/2", "2026-01-02"},
		{"date", nil, "2026年11月22日", "2026-11-22"},
		{"date", nil, "20261122", "2026-11-22"},
		{"date", nil, "2026-11-22 09:30:00", "2026-11-22"},
		{"date", nil, "2026-02-30", "2026-02-30"},
		{"datetime", nil, "2026-11-22 09:30", "2026-11-22T09:30:00+08:00"},
		{"datetime", nil, "2026-11-22T01:00:00Z", "2026-11-22T01:00:00Z"},
		{"time", nil, "9:30", "09:30:00"},
		{"select", src, "网站", "web"},
		{"select", src, " WEBSITE ", "web"},
		{"select", src, "电话", "电话"},
		{"geo", nil, "31.2, 121.5", map[string]any{"lat": "31.2", "lng": "121.5"}},
	}
	for _, c := range cases {
		got := convert(c.typ, c.f, c.cell)
		if !equalAny(got, c.want) {
			t.Errorf("%s %q → %#v, want %#v", c.typ, c.cell, got, c.want)
		}
	}
	if got := convert("tags", &meta.Field{Type: "tags"}, "老客户、华东, 展会"); len(got.([]any)) != 3 {
		t.Errorf("tags: %v", got)
	}
}

func equalAny(a, b any) bool {
	am, ok1 := a.(map[string]any)
	bm, ok2 := b.(map[string]any)
	if ok1 && ok2 {
		if len(am) != len(bm) {
			return false
		}
		for k := range am {
			if am[k] != bm[k] {
				return false
			}
		}
		return true
	}
	return a == b
}

func TestClassifyNumFmt(t *testing.T) {
	cases := map[string]fmtKind{
		`yyyy"年"m"月"d"日"`:               fmtDate,
		`[$-804]yyyy/m/d`:               fmtDate,
		`m/d/yy h:mm`:                   fmtDateTime,
		`h:mm AM/PM`:                    fmtTime,
		`[h]:mm:ss`:                     fmtTime,
		`#,##0.00`:                      fmtNumber,
		`"¥"#,##0.00;[Red]-"¥"#,##0.00`: fmtNumber,
		`0.00%`:                         fmtKeep,
		`@`:                             fmtKeep,
		`General`:                       fmtKeep,
		`mmm`:                           fmtDate,
		`0.00E+00`:                      fmtNumber,
		`"Day" 0`:                       fmtNumber,
	}
	for c, want := range cases {
		if got := classifyCode(c); got != want {
			t.Errorf("%s: %v, want %v", c, got, want)
		}
	}
	for id, want := range map[int]fmtKind{0: fmtKeep, 3: fmtNumber, 9: fmtKeep, 14: fmtDate, 20: fmtTime, 22: fmtDateTime, 31: fmtDate, 49: fmtKeep} {
		if got := classifyNumFmt(id, nil); got != want {
			t.Errorf("built-in %d: %v, want %v", id, got, want)
		}
	}
}

func testLimits() Limits { return Limits{}.withDefaults() }

// readAll reads a file's header and rows as analyze and the run do.
func readAll(t *testing.T, data []byte, format, enc, delim string, lim Limits) ([]string, []dataRow, error) {
	t.Helper()
	src, err := openSource(bytes.NewReader(data), int64(len(data)), format, enc, delim, lim)
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	tb, err := openTable(src, lim)
	if err != nil {
		return nil, nil, err
	}
	var rows []dataRow
	for {
		r, err := tb.next()
		if errors.Is(err, io.EOF) {
			return tb.columns, rows, nil
		}
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, r)
	}
}

func TestCSVRows(t *testing.T) {
	data := []byte("\n名称,,名称,电话,\n\n甲,\"多行\n文本\",x,1\n5\" pipe,b,c,2\n,,,\n乙,,,3,extra\n")
	cols, rows, err := readAll(t, data, FormatCSV, EncUTF8, ",", testLimits())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cols, "|") != "名称|(B)|名称 (C)|电话" {
		t.Fatalf("columns %q", cols)
	}
	// A spreadsheet shows the quoted cell with a line break as one row.
	if len(rows) != 3 || rows[0].num != 4 || rows[0].cells[1] != "多行\n文本" || rows[1].num != 5 || rows[1].cells[0] != `5" pipe` ||
		rows[2].num != 7 || strings.Join(rows[2].cells, "|") != "乙|||3" {
		t.Fatalf("rows %+v", rows)
	}
	if d := detectDelimiter([]byte("a;b;\"c,d\"\n"), EncUTF8); d != ";" {
		t.Fatalf("delimiter %q", d)
	}
	if d := detectDelimiter([]byte("a\tb\tc\n"), EncUTF8); d != "\t" {
		t.Fatalf("delimiter %q", d)
	}
	lim := testLimits()
	lim.MaxRows, lim.MaxColumns = 2, 3
	if _, err := analyze(bytes.NewReader(data), int64(len(data)), FormatCSV, lim); code(err) != "import_too_many_columns" {
		t.Fatalf("columns limit: %v", err)
	}
	lim.MaxColumns = 10
	if _, err := analyze(bytes.NewReader(data), int64(len(data)), FormatCSV, lim); code(err) != "import_too_many_rows" {
		t.Fatalf("rows limit: %v", err)
	}
}

func TestXLSXCells(t *testing.T) {
	f := excelize.NewFile()
	sh := "Sheet1"
	f.SetSheetRow(sh, "A1", &[]any{"日期", "日期时间", "时间", "大数", "金额", "百分比", "公式", "文本公式", "长数字", "文本数字"})
	f.SetSheetRow(sh, "A3", &[]any{time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 22, 9, 30, 5, 0, time.UTC),
		0.5, 12000000, 1234567.891, 0.125, nil, "=SUM(A1:A2)", 12345678901234567890.0, "00123"})
	ymd := `yyyy"年"m"月"d"日"`
	s1, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &ymd})
	f.SetCellStyle(sh, "A3", "A3", s1)
	s2, _ := f.NewStyle(&excelize.Style{NumFmt: 20})
	f.SetCellStyle(sh, "C3", "C3", s2)
	s3, _ := f.NewStyle(&excelize.Style{NumFmt: 4})
	f.SetCellStyle(sh, "E3", "E3", s3)
	s4, _ := f.NewStyle(&excelize.Style{NumFmt: 10})
	f.SetCellStyle(sh, "F3", "F3", s4)
	s5, _ := f.NewStyle(&excelize.Style{NumFmt: 11})
	f.SetCellStyle(sh, "D3", "D3", s5)
	f.SetCellFormula(sh, "G3", "B3*2")
	var buf bytes.Buffer
	f.WriteTo(&buf)
	cols, rows, err := readAll(t, buf.Bytes(), FormatXLSX, "", "", testLimits())
	if err != nil {
		t.Fatal(err)
	}
	if len(cols) != 10 || len(rows) != 1 || rows[0].num != 3 {
		t.Fatalf("columns %q rows %+v", cols, rows)
	}
	want := []string{"2026-11-22", "2026-11-22 09:30:05", "12:00:00", "12000000", "1234567.891", "12.50%", "=B3*2", "=SUM(A1:A2)",
		"", "00123"}
	for i, w := range want {
		if i == 8 { // beyond the 15 digits a spreadsheet keeps: plain digits all the same
			if c := rows[0].cells[i]; len(c) != 20 || !strings.HasPrefix(c, "123456789012345") {
				t.Errorf("%s: %q", cols[i], c)
			}
			continue
		}
		if rows[0].cells[i] != w {
			t.Errorf("%s: %q, want %q", cols[i], rows[0].cells[i], w)
		}
	}
}

// bomb builds a workbook whose sheet holds n bytes of spaces (a comment),
// compressed about a thousand times.
func bomb(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	parts := map[string]string{
		"[Content_Types].xml":        `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"_rels/.rels":                `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml":            `<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
	}
	for name, body := range parts {
		w, _ := zw.Create(name)
		io.WriteString(w, body)
	}
	w, _ := zw.Create("xl/worksheets/sheet1.xml")
	io.WriteString(w, `<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><!--`)
	chunk := bytes.Repeat([]byte(" "), 1<<16)
	for n > 0 {
		k := min(n, len(chunk))
		w.Write(chunk[:k])
		n -= k
	}
	io.WriteString(w, `--><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>名称</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>`)
	zw.Close()
	return buf.Bytes()
}

func TestZipBombs(t *testing.T) {
	lim := testLimits()
	lim.MaxUnzipped = 8 << 20
	// Within the limits: read.
	small := bomb(t, 512<<10)
	if _, rows, err := readAll(t, small, FormatXLSX, "", "", lim); err != nil || len(rows) != 1 {
		t.Fatalf("small workbook: %v %v", rows, err)
	}
	// A sheet expanding past the limit, its ratio allowed.
	lim.MaxRatio = 100000
	if _, _, err := readAll(t, bomb(t, 9<<20), FormatXLSX, "", "", lim); code(err) != "import_xlsx_unzipped_too_large" {
		t.Fatalf("size: %v", err)
	}
	// Expanding a thousand times.
	lim.MaxRatio, lim.MaxUnzipped = 200, 512<<20
	if _, _, err := readAll(t, bomb(t, 4<<20), FormatXLSX, "", "", lim); code(err) != "import_xlsx_ratio" {
		t.Fatalf("ratio: %v", err)
	}
	lim.MaxParts = 3
	if _, _, err := readAll(t, small, FormatXLSX, "", "", lim); code(err) != "import_xlsx_too_many_parts" {
		t.Fatalf("parts: %v", err)
	}
}

func TestNeutralise(t *testing.T) {
	for in, want := range map[string]string{"=1+1": "'=1+1", "+86 138": "'+86 138", "-12.5": "-12.5", "@x": "'@x",
		"\tx": "'\tx", "普通": "普通", "": "", "-": "'-"} {
		if got := neutralise(in); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}
