package importer

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"slices"
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
	pct := func(d int32) numFmt { return numFmt{kind: fmtPercent, decimals: d} }
	cases := map[string]numFmt{
		`yyyy"年"m"月"d"日"`:               {kind: fmtDate},
		`[$-804]yyyy/m/d`:               {kind: fmtDate},
		`m/d/yy h:mm`:                   {kind: fmtDateTime},
		`h:mm AM/PM`:                    {kind: fmtTime},
		`[h]:mm:ss`:                     {kind: fmtTime},
		`#,##0.00`:                      {kind: fmtNumber},
		`"¥"#,##0.00;[Red]-"¥"#,##0.00`: {kind: fmtNumber},
		`0.00%`:                         pct(2),
		`0%`:                            pct(0),
		`#,##0.0%;[Red]-0.0%`:           pct(1),
		`@`:                             {kind: fmtNumber},
		`General`:                       {kind: fmtNumber},
		`mmm`:                           {kind: fmtDate},
		`0.00E+00`:                      {kind: fmtNumber},
		`"Day" 0`:                       {kind: fmtNumber},
	}
	for c, want := range cases {
		if got := classifyCode(c); got != want {
			t.Errorf("%s: %v, want %v", c, got, want)
		}
	}
	for id, want := range map[int]numFmt{0: {kind: fmtNumber}, 3: {kind: fmtNumber}, 9: pct(0), 10: pct(2), 14: {kind: fmtDate},
		20: {kind: fmtTime}, 22: {kind: fmtDateTime}, 31: {kind: fmtDate}, 49: {kind: fmtNumber}} {
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

// TestXLSXParts reads a workbook written by hand the way other programs
// write them: prefixed names, a comment and a declaration, entities and
// CDATA, rich text with a phonetic guide, escaped characters, inline
// strings, booleans, errors, ISO dates, formulas with and without a
// stored value, rows and cells without references, a gap between rows,
// percentages and dates in custom formats, numbers in display formats that
// round, and the 1904 date system.
func TestXLSXParts(t *testing.T) {
	const ns = `xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
	workbook := func(date1904 string) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, p := range [][2]string{
			{"_rels/.rels", `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="/xl/book.xml"/></Relationships>`},
			{"xl/book.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><x:workbook ` + ns + ` xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><x:workbookPr date1904="` + date1904 + `"/><x:sheets><x:sheet name="数据" sheetId="2" r:id="rId7"/><x:sheet name="其他" sheetId="1" r:id="rId1"/></x:sheets></x:workbook>`},
			{"xl/_rels/book.xml.rels", `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
				<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="sheets/other.xml"/>
				<Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="sheets/data.xml"/>
				<Relationship Id="rId8" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="strings.xml"/>
				<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="/xl/styles.xml"/></Relationships>`},
			{"xl/styles.xml", `<?xml version="1.0"?><x:styleSheet ` + ns + `><x:numFmts count="2"><x:numFmt numFmtId="164" formatCode="0.0%"/><x:numFmt numFmtId="165" formatCode="yyyy/m/d\ h:mm"/></x:numFmts>
				<x:cellXfs count="7"><x:xf numFmtId="0"/><x:xf numFmtId="10"/><x:xf numFmtId="164"/><x:xf numFmtId="165"/><x:xf numFmtId="4"/><x:xf numFmtId="49"/><x:xf numFmtId="14"/></x:cellXfs></x:styleSheet>`},
			{"xl/strings.xml", `<?xml version="1.0"?><x:sst ` + ns + ` count="5" uniqueCount="5">
				<x:si><x:t>名称</x:t></x:si>
				<x:si><x:r><x:rPr><x:b/></x:rPr><x:t xml:space="preserve">苏州 </x:t></x:r><x:r><x:t>精密</x:t></x:r><x:rPh sb="0" eb="2"><x:t>すず</x:t></x:rPh></x:si>
				<x:si><x:t>A &amp; B &lt;&#x4E2D;&#25991;&gt; &quot;x&quot;</x:t></x:si>
				<x:si><x:t>line_x000D_
two</x:t></x:si>
				<x:si><x:t><![CDATA[<raw> & ]]></x:t></x:si></x:sst>`},
			{"xl/sheets/other.xml", `<x:worksheet ` + ns + `><x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>wrong sheet</x:t></x:is></x:c></x:row></x:sheetData></x:worksheet>`},
			{"xl/sheets/data.xml", `<?xml version="1.0" encoding="UTF-8"?>
<!-- written by hand -->
<x:worksheet ` + ns + `><x:dimension ref="A1:Q3"/><x:sheetData>
<x:row r="1" spans="1:17"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c t="inlineStr"><x:is><x:t>B</x:t></x:is></x:c><x:c r="D1" t="inlineStr"><x:is><x:t>D</x:t></x:is></x:c></x:row>
<x:row r="3">
 <x:c r="A3" t="s"><x:v>1</x:v></x:c>
 <x:c r="B3" t="s"><x:v>2</x:v></x:c>
 <x:c r="C3" t="s"><x:v>3</x:v></x:c>
 <x:c r="D3" t="s"><x:v>4</x:v></x:c>
 <x:c r="E3" s="4"><x:v>123456789012.5</x:v></x:c>
 <x:c r="F3" s="1"><x:v>0.125</x:v></x:c>
 <x:c r="G3" s="2"><x:v>0.12345</x:v></x:c>
 <x:c r="H3" s="3"><x:v>46348.5</x:v></x:c>
 <x:c r="I3" s="6"><x:v>46348</x:v></x:c>
 <x:c r="J3" t="b"><x:v>1</x:v></x:c>
 <x:c r="K3" t="e"><x:v>#DIV/0!</x:v></x:c>
 <x:c r="L3" t="inlineStr"><x:is><x:r><x:t>in</x:t></x:r><x:r><x:t>line</x:t></x:r></x:is></x:c>
 <x:c r="M3" t="str"><x:f>CONCAT(A3,"!")</x:f><x:v>苏州 精密!</x:v></x:c>
 <x:c r="N3"><x:f>E3*2</x:f></x:c>
 <x:c r="O3"><x:f t="shared" si="0"/></x:c>
 <x:c r="P3" t="d"><x:v>2026-11-22T09:30:00Z</x:v></x:c>
 <x:c r="Q3" s="5"><x:v>1.5E-7</x:v></x:c>
</x:row>
<x:row r="4"/>
</x:sheetData></x:worksheet>`},
		} {
			w, _ := zw.Create(p[0])
			io.WriteString(w, p[1])
		}
		zw.Close()
		return buf.Bytes()
	}
	cols, rows, err := readAll(t, workbook("false"), FormatXLSX, "", "", testLimits())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"名称", "B", "(C)", "D"}; !slices.Equal(cols, want) {
		t.Fatalf("columns %q, want %q", cols, want)
	}
	if len(rows) != 1 || rows[0].num != 3 {
		t.Fatalf("rows %+v", rows)
	}
	// Cells beyond the header's four columns are dropped by the table:
	// read the row itself.
	wb := workbook("false")
	src, err := openSource(bytes.NewReader(wb), int64(len(wb)), FormatXLSX, "", "", testLimits())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	src.next()
	num, cells, err := src.next()
	if err != nil || num != 3 {
		t.Fatalf("row 3: %d %v", num, err)
	}
	want := []string{"苏州 精密", `A & B <中文> "x"`, "line\r\ntwo", "<raw> & ", "123456789012.5", "12.50%", "12.3%", "2026-11-22 12:00:00",
		"2026-11-22", "TRUE", "#DIV/0!", "inline", "苏州 精密!", "=E3*2", "", "2026-11-22 09:30:00", "0.00000015"}
	if !slices.Equal(cells, want) {
		t.Errorf("cells\n%q, want\n%q", cells, want)
	}
	if num, cells, err := src.next(); err != nil || num != 4 || len(cells) != 0 {
		t.Errorf("row 4: %d %q %v", num, cells, err)
	}
	if _, _, err := src.next(); !errors.Is(err, io.EOF) {
		t.Errorf("end: %v", err)
	}
	// The 1904 date system moves dates by 1,462 days.
	wb1904 := workbook("1")
	src2, err := openSource(bytes.NewReader(wb1904), int64(len(wb1904)), FormatXLSX, "", "", testLimits())
	if err != nil {
		t.Fatal(err)
	}
	defer src2.Close()
	src2.next()
	if _, cells, _ := src2.next(); len(cells) < 9 || cells[8] != "2030-11-23" {
		t.Errorf("1904 date: %q", cells)
	}
}

func TestXLSXMalformed(t *testing.T) {
	part := func(sheet string) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, p := range [][2]string{
			{"xl/workbook.xml", `<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`},
			{"xl/_rels/workbook.xml.rels", `<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="s.xml"/></Relationships>`},
			{"xl/s.xml", sheet},
		} {
			w, _ := zw.Create(p[0])
			io.WriteString(w, p[1])
		}
		zw.Close()
		return buf.Bytes()
	}
	for name, sheet := range map[string]string{
		"cut short":       `<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><row r="2"><c r="A2"><v>1`,
		"bad entity":      `<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&nbsp;</t></is></c></row></sheetData></worksheet>`,
		"row beyond max":  `<worksheet><sheetData><row r="1048577"><c t="inlineStr"><is><t>a</t></is></c></row></sheetData></worksheet>`,
		"column past XFD": `<worksheet><sheetData><row r="1"><c r="XFE1" t="inlineStr"><is><t>a</t></is></c></row></sheetData></worksheet>`,
		"bad row number":  `<worksheet><sheetData><row r="x"/></sheetData></worksheet>`,
	} {
		if _, _, err := readAll(t, part(sheet), FormatXLSX, "", "", testLimits()); code(err) != "import_xlsx_invalid" {
			t.Errorf("%s: %v", name, err)
		}
	}
}
