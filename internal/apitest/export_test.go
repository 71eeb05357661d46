package apitest

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// exportEnv is a Tenon with two custom entities to export: ex_accounts and
// ex_leads (every kind of cell: labelled options, links, users, money,
// decimals, dates, booleans, a sub-table, and a cost field hidden from
// sales reps). Sales reps may read and export their own leads; production
// may read every lead but not export.
type exportEnv struct {
	*env
	admin *client
	users map[string]string
	accts map[string]string // name → id
}

func newExportEnv(t *testing.T) *exportEnv {
	t.Helper()
	x := &exportEnv{env: openEnv(t, "tenon_export", nil)}
	x.admin = x.c("admin")
	x.users = x.userIDs()
	lbl := func(zh, en string) map[string]string { return map[string]string{"zh-CN": zh, "en": en} }
	x.admin.do("POST", "/api/v1/meta/entities", map[string]any{
		"name": "ex_accounts", "label": lbl("客户", "Accounts"), "title_field": "name",
		"fields": []map[string]any{{"name": "name", "type": "text", "required": true, "label": lbl("客户名称", "Name")}}}, nil).want(201)
	x.admin.do("POST", "/api/v1/meta/entities", map[string]any{
		"name": "ex_leads", "label": lbl("线索", "Leads"), "title_field": "company",
		"fields": []map[string]any{
			{"name": "company", "type": "text", "required": true, "label": lbl("公司名称", "Company")},
			{"name": "contact", "type": "text", "label": lbl("联系人", "Contact")},
			{"name": "stage", "type": "select", "label": lbl("阶段", "Stage"), "options": []any{
				map[string]any{"value": "new", "label": lbl("新建", "New")},
				map[string]any{"value": "won", "label": lbl("赢单", "Won")}}},
			{"name": "tags", "type": "tags", "label": lbl("标签", "Tags")},
			{"name": "amount", "type": "money", "label": lbl("金额", "Amount")},
			{"name": "ratio", "type": "decimal", "scale": 2, "label": lbl("系数", "Ratio")},
			{"name": "qty", "type": "integer", "label": lbl("数量", "Quantity")},
			{"name": "hot", "type": "boolean", "label": lbl("重点", "Hot")},
			{"name": "due", "type": "date", "label": lbl("截止日期", "Due")},
			{"name": "met_at", "type": "datetime", "label": lbl("拜访时间", "Met at")},
			{"name": "account", "type": "link", "target": "ex_accounts", "label": lbl("客户", "Account")},
			{"name": "approver", "type": "user", "label": lbl("审批人", "Approver")},
			{"name": "cost", "type": "money", "label": lbl("成本", "Cost")},
			{"name": "note", "type": "long_text", "label": lbl("备注", "Note")},
			{"name": "remark", "type": "long_text", "label": lbl("说明", "Remark")},
			{"name": "lines", "type": "subtable", "label": lbl("明细", "Lines"), "fields": []map[string]any{
				{"name": "item", "type": "text", "label": lbl("物料", "Item")}}},
		}}, nil).want(201)
	roles := x.admin.do("GET", `/api/v1/records/roles?filter=name%20in%20["sales_rep","production"]`, nil, nil).want(200).items()
	for _, r := range roles {
		perms := []any{map[string]any{"entity": "ex_leads", "actions": []string{"read", "create", "update", "export"}, "scope": "own",
			"hidden_fields": []string{"cost"}}, map[string]any{"entity": "ex_accounts", "actions": []string{"read"}, "scope": "all"}}
		if r["name"] == "production" {
			perms = []any{map[string]any{"entity": "ex_leads", "actions": []string{"read"}, "scope": "all"}}
		}
		x.admin.do("PATCH", "/api/v1/records/roles/"+r["id"].(string), map[string]any{"permissions": perms}, nil).want(200)
	}
	x.accts = map[string]string{}
	for _, n := range []string{"苏州精密机械有限公司", "=cmd|' /C calc'!A0"} {
		x.accts[n] = x.admin.do("POST", "/api/v1/records/ex_accounts", map[string]any{"name": n}, nil).want(201).json()["id"].(string)
	}
	return x
}

// lead creates an ex_leads record as the admin.
func (x *exportEnv) lead(v map[string]any) string {
	x.t.Helper()
	return x.admin.do("POST", "/api/v1/records/ex_leads", v, nil).want(201).json()["id"].(string)
}

// seed creates the leads the scenarios read.
func (x *exportEnv) seed() {
	x.lead(map[string]any{"company": "苏州精密机械有限公司", "contact": "张三", "stage": "won", "tags": []string{"华东", "重点"},
		"amount": "1234567.80", "ratio": "-12.5", "qty": 42, "hot": true, "due": "2026-12-31", "met_at": "2026-11-20T09:30:00+08:00",
		"account": x.accts["苏州精密机械有限公司"], "approver": x.users["sales.manager"], "cost": "999.00",
		"note": "第一行\n第二行, 含逗号 \"引号\"", "lines": []any{map[string]any{"item": "A"}, map[string]any{"item": "B"}},
		"owner": x.users["rep.east"]})
	x.lead(map[string]any{"company": "=HYPERLINK(\"http://evil\",\"点我\")", "contact": "+86 138 0000 0000", "stage": "new",
		"amount": "-5.00", "ratio": "0.1", "hot": false, "note": "@SUM(A1:A9)", "account": x.accts["=cmd|' /C calc'!A0"],
		"owner": x.users["rep.east"]})
	x.lead(map[string]any{"company": "-2+3", "contact": "-张", "note": "\t制表符", "remark": "\r回车", "owner": x.users["rep.east"]})
	x.lead(map[string]any{"company": "深圳华南电子", "amount": "10.00", "cost": "5.00", "owner": x.users["rep.south"]})
}

// export downloads an export as c and returns the response.
func (x *exportEnv) export(c *client, entity string, q url.Values) *response {
	x.t.Helper()
	return c.do("GET", "/api/v1/records/"+entity+"/export?"+q.Encode(), nil, nil)
}

// readCSV checks the CSV framing (BOM, CRLF line ends) and parses it.
func readCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	if !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
		t.Fatalf("no BOM: %q", body[:min(len(body), 20)])
	}
	body = body[3:]
	quoted := false
	for i, b := range body { // rows end with CRLF (line breaks inside quoted values are data)
		switch {
		case b == '"':
			quoted = !quoted
		case b == '\n' && !quoted && (i == 0 || body[i-1] != '\r'):
			t.Fatalf("a row ends without CRLF at %d: %q", i, body)
		}
	}
	if !bytes.HasSuffix(body, []byte("\r\n")) {
		t.Fatalf("no CRLF at the end: %q", body)
	}
	r := csv.NewReader(bytes.NewReader(body))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("bad CSV: %v\n%s", err, body)
	}
	return rows
}

// column returns the values of the column headed label (without the header).
func column(t *testing.T, rows [][]string, label string) []string {
	t.Helper()
	i := slices.Index(rows[0], label)
	if i < 0 {
		t.Fatalf("no column %q in %q", label, rows[0])
	}
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[i])
	}
	return out
}

// TestExportCSVAsRep: a rep's export holds exactly their own leads (the
// list's total), no hidden field, neutralised text cells, numbers as
// numbers, people's words for every kind of value, Chinese intact.
func TestExportCSVAsRep(t *testing.T) {
	x := newExportEnv(t)
	x.seed()
	rep := x.c("rep.east")
	res := x.export(rep, "ex_leads", url.Values{"sort": {"id"}}).want(200)
	if ct := res.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	cd := res.header.Get("Content-Disposition")
	wantName := "filename*=UTF-8''" + url.PathEscape("线索") + "-"
	if !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, wantName) || !strings.HasSuffix(cd, ".csv") {
		t.Errorf("content disposition %q", cd)
	}
	rows := readCSV(t, res.body)
	total := rep.do("GET", "/api/v1/records/ex_leads?count=exact", nil, nil).want(200).json()["total"].(float64)
	if len(rows)-1 != int(total) || total != 3 {
		t.Fatalf("%d rows exported, list total %v: %q", len(rows)-1, total, rows)
	}
	wantHeader := []string{"编号", "公司名称", "联系人", "阶段", "标签", "金额", "系数", "数量", "重点", "截止日期", "拜访时间", "客户", "审批人", "备注",
		"说明", "负责人", "创建人", "创建时间", "更新时间"}
	if !slices.Equal(rows[0], wantHeader) {
		t.Errorf("header\n got %q\nwant %q", rows[0], wantHeader)
	}
	for _, r := range rows {
		if slices.Contains(r, "成本") || slices.Contains(r, "999.00") || slices.Contains(r, "深圳华南电子") {
			t.Errorf("hidden field or another rep's lead exported: %q", r)
		}
	}
	check := func(label string, want ...string) {
		t.Helper()
		if got := column(t, rows, label); !slices.Equal(got, want) {
			t.Errorf("%s\n got %q\nwant %q", label, got, want)
		}
	}
	check("公司名称", "苏州精密机械有限公司", `'=HYPERLINK("http://evil","点我")`, "'-2+3")
	check("联系人", "张三", "'+86 138 0000 0000", "'-张")
	check("备注", "第一行\n第二行, 含逗号 \"引号\"", "'@SUM(A1:A9)", "'\t制表符")
	check("说明", "", "", "'\r回车")
	if !bytes.Contains(res.body, []byte("\"第一行\n第二行, 含逗号 \"\"引号\"\"\",")) {
		t.Errorf("a value with a line break, a comma and quotes is not quoted exactly: %q", res.body)
	}
	check("阶段", "赢单", "新建", "")
	check("标签", "华东; 重点", "", "")
	check("金额", "1234567.80", "-5.00", "")
	check("系数", "-12.50", "0.10", "")
	check("数量", "42", "", "")
	check("重点", "是", "否", "")
	check("截止日期", "2026-12-31", "", "")
	check("拜访时间", "2026-11-20 09:30:00", "", "")
	check("客户", "苏州精密机械有限公司", "'=cmd|' /C calc'!A0", "")
	check("审批人", "李经理", "", "")
	check("负责人", "张伟", "张伟", "张伟")
	check("创建人", "管理员", "管理员", "管理员")

	// English: labels, options and yes/no follow Accept-Language.
	rep.lang = "en"
	en := readCSV(t, x.export(rep, "ex_leads", url.Values{"sort": {"id"}, "fields": {"company,stage,hot,lines,owner"}}).want(200).body)
	rep.lang = ""
	want := [][]string{{"Company", "Stage", "Hot", "Lines", "Owner"}, {"苏州精密机械有限公司", "Won", "Yes", "2 rows", "张伟"},
		{`'=HYPERLINK("http://evil","点我")`, "New", "No", "0 rows", "张伟"}, {"'-2+3", "", "", "0 rows", "张伟"}}
	if fmt.Sprint(en) != fmt.Sprint(want) {
		t.Errorf("en export\n got %q\nwant %q", en, want)
	}
	// A download link cannot set Accept-Language: lang= chooses instead.
	en = readCSV(t, x.export(rep, "ex_leads", url.Values{"sort": {"id"}, "fields": {"company,stage,hot,lines,owner"}, "lang": {"en"}}).want(200).body)
	if fmt.Sprint(en) != fmt.Sprint(want) {
		t.Errorf("lang=en export\n got %q\nwant %q", en, want)
	}

	// The filter, sort and q of the list.
	f := readCSV(t, x.export(rep, "ex_leads", url.Values{"filter": {`amount != nil`}, "sort": {"-amount"}, "fields": {"company,amount"}}).want(200).body)
	if fmt.Sprint(f) != fmt.Sprint([][]string{{"公司名称", "金额"}, {"苏州精密机械有限公司", "1234567.80"}, {`'=HYPERLINK("http://evil","点我")`, "-5.00"}}) {
		t.Errorf("filtered export %q", f)
	}
	s := readCSV(t, x.export(rep, "ex_leads", url.Values{"q": {"精密"}, "fields": {"company"}}).want(200).body)
	if fmt.Sprint(s) != fmt.Sprint([][]string{{"公司名称"}, {"苏州精密机械有限公司"}}) {
		t.Errorf("search export %q", s)
	}
	// The admin sees every lead and the cost.
	all := readCSV(t, x.export(x.admin, "ex_leads", url.Values{"fields": {"company,cost"}, "sort": {"id"}}).want(200).body)
	if len(all) != 5 || all[4][0] != "深圳华南电子" || all[4][1] != "5.00" || all[1][1] != "999.00" {
		t.Errorf("admin export %q", all)
	}
}

// TestExportRefusals: what cannot be exported is refused before any byte,
// as a problem.
func TestExportRefusals(t *testing.T) {
	x := newExportEnv(t)
	x.seed()
	rep := x.c("rep.east")
	for _, tc := range []struct {
		name   string
		c      *client
		entity string
		q      url.Values
		status int
		code   string
	}{
		{"bad format", rep, "ex_leads", url.Values{"format": {"pdf"}}, 400, "export_bad_format"},
		{"hidden column", rep, "ex_leads", url.Values{"fields": {"company,cost"}}, 400, "unknown_field"},
		{"unknown column", rep, "ex_leads", url.Values{"fields": {"nope"}}, 400, "unknown_field"},
		{"filter on a hidden field", rep, "ex_leads", url.Values{"filter": {"cost > 1"}}, 400, "unknown_field"},
		{"sort on a hidden field", rep, "ex_leads", url.Values{"sort": {"-cost"}}, 400, "unknown_field"},
		{"bad filter", rep, "ex_leads", url.Values{"filter": {"company =="}}, 400, "bad_filter"},
		{"bad filter, xlsx", rep, "ex_leads", url.Values{"filter": {"company =="}, "format": {"xlsx"}}, 400, "bad_filter"},
		{"no export right", x.c("prod.lead"), "ex_leads", nil, 403, "action_not_allowed"},
		{"no read right", rep, "roles", nil, 403, "action_not_allowed"},
		{"unknown entity", rep, "nope", nil, 404, "not_found"},
		{"signed out", x.anon(), "ex_leads", nil, 401, "unauthenticated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := x.export(tc.c, tc.entity, tc.q).want(tc.status)
			if ct := res.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q", ct)
			}
			if cd := res.header.Get("Content-Disposition"); cd != "" {
				t.Errorf("a problem with Content-Disposition %q", cd)
			}
			if code := res.json()["code"]; code != tc.code {
				t.Errorf("code %v, want %s: %s", code, tc.code, res.body)
			}
		})
	}
	// Production may list the leads but not export them.
	x.c("prod.lead").do("GET", "/api/v1/records/ex_leads", nil, nil).want(200)
}

// TestExportXLSXEqualsList: an XLSX export opened again with excelize
// holds the list's rows in the list's order, numbers as numeric cells,
// dates as date cells, text neutralised and Chinese intact.
func TestExportXLSXEqualsList(t *testing.T) {
	x := newExportEnv(t)
	x.seed()
	rep := x.c("rep.east")
	q := url.Values{"format": {"xlsx"}, "sort": {"-amount,company"}, "fields": {"company,amount,ratio,qty,due,met_at,hot,stage,account,owner"}}
	res := x.export(rep, "ex_leads", q).want(200)
	if ct := res.header.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("content type %q", ct)
	}
	if cd := res.header.Get("Content-Disposition"); !strings.HasSuffix(cd, ".xlsx") {
		t.Errorf("content disposition %q", cd)
	}
	f, err := excelize.OpenReader(bytes.NewReader(res.body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); !slices.Equal(sheets, []string{"线索"}) {
		t.Fatalf("sheets %q", sheets)
	}
	got, err := f.GetRows("线索")
	if err != nil {
		t.Fatal(err)
	}
	// The same list through the API, turned into the words the file uses.
	list := rep.do("GET", "/api/v1/records/ex_leads?sort=-amount,company&expand=account,owner&per_page=500", nil, nil).want(200).items()
	want := [][]string{{"公司名称", "金额", "系数", "数量", "截止日期", "拜访时间", "重点", "阶段", "客户", "负责人"}}
	str := func(v any) string { s, _ := v.(string); return s }
	for _, r := range list {
		row := []string{neutral(str(r["company"])), str(r["amount"]), str(r["ratio"]), "", str(r["due"]), "", "", "", "", ""}
		if n, ok := r["qty"].(float64); ok {
			row[3] = strconv.Itoa(int(n))
		}
		if s := str(r["met_at"]); s != "" {
			at, _ := time.Parse(time.RFC3339, s)
			row[5] = at.In(shanghai).Format("2006-01-02 15:04:05")
		}
		if b, ok := r["hot"].(bool); ok {
			row[6] = map[bool]string{true: "是", false: "否"}[b]
		}
		row[7] = map[string]string{"new": "新建", "won": "赢单"}[str(r["stage"])]
		ex, _ := r["expand"].(map[string]any)
		if a, ok := ex["account"].(map[string]any); ok {
			row[8] = neutral(str(a["name"]))
		}
		row[9] = str(ex["owner"].(map[string]any)["name"])
		for len(row) > 0 && row[len(row)-1] == "" { // GetRows drops trailing empty cells
			row = row[:len(row)-1]
		}
		want = append(want, row)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("xlsx\n got %q\nwant %q", got, want)
	}
	// Numbers and dates are numeric cells (no type attribute), text is text.
	// (Where the first lead is depends on where the database sorts nulls.)
	row := slices.IndexFunc(got, func(r []string) bool { return r[0] == "苏州精密机械有限公司" }) + 1
	ref := func(col string) string { return col + strconv.Itoa(row) }
	for _, col := range []string{"A", "B", "C", "D", "E", "F", "G", "H", "I", "J"} {
		ct, err := f.GetCellType("线索", ref(col))
		if err != nil {
			t.Fatal(err)
		}
		numeric := ct == excelize.CellTypeUnset || ct == excelize.CellTypeNumber
		if numeric != strings.Contains("BCDEF", col) {
			t.Errorf("%s is of type %v", ref(col), ct)
		}
	}
	raw := map[string]string{"B": "1234567.8", "C": "-12.5", "D": "42", "E": "46387" /* 2026-12-31 */, "F": "46346.395833333336"}
	for col, want := range raw {
		v, err := f.GetCellValue("线索", ref(col), excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if v != want {
			t.Errorf("raw %s = %q, want %q", ref(col), v, want)
		}
	}
	// A hidden field cannot be asked for in XLSX either.
	x.export(rep, "ex_leads", url.Values{"format": {"xlsx"}, "fields": {"cost"}}).want(400)
}

// neutral is what a text cell becomes in a file (see exporter.Neutralise).
func neutral(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// TestExportManyBatches: an export longer than a batch holds every row
// once, in the list's order.
func TestExportManyBatches(t *testing.T) {
	skipVolumeUnderRace(t)
	x := newExportEnv(t)
	ctx := context.Background()
	sys := access.System()
	const n = 2345
	err := x.app.DB.WithTx(ctx, func(ctx context.Context) error {
		for i := range n {
			in := map[string]any{"company": fmt.Sprintf("公司 %04d", i), "owner": x.users["rep.east"]}
			if i%3 != 0 {
				in["amount"] = strconv.Itoa(i % 50)
			}
			if _, err := x.app.Records.Create(ctx, sys, "ex_leads", in); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := x.c("rep.east")
	for _, format := range []string{"csv", "xlsx"} {
		body := x.export(rep, "ex_leads", url.Values{"format": {format}, "sort": {"amount"}, "fields": {"id,company"}}).want(200).body
		var rows [][]string
		if format == "csv" {
			rows = readCSV(t, body)
		} else {
			f, err := excelize.OpenReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			rows, err = f.GetRows("线索")
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		var want []string
		for page := 1; ; page++ {
			items := rep.do("GET", fmt.Sprintf("/api/v1/records/ex_leads?sort=amount&per_page=500&page=%d", page), nil, nil).want(200).items()
			for _, it := range items {
				want = append(want, it["id"].(string))
			}
			if len(items) < 500 {
				break
			}
		}
		if got := column(t, rows, "编号"); len(want) != n || !slices.Equal(got, want) {
			t.Errorf("%s: %d rows, want %d in the list's order", format, len(got), len(want))
		}
	}
}

// TestEachOrder: Each pages through any sort — by id, or with ties, nulls,
// both directions, several keys — in exactly the list's order, every
// record once, on both databases, and leaves out what stopped matching.
func TestEachOrder(t *testing.T) {
	x := newExportEnv(t)
	ctx := context.Background()
	sys := access.System()
	err := x.app.DB.WithTx(ctx, func(ctx context.Context) error {
		for i := range 157 {
			in := map[string]any{"company": fmt.Sprintf("C%02d", i%13), "owner": x.users["rep.east"]}
			if i%4 != 0 {
				in["amount"] = strconv.Itoa(i % 7)
			}
			if i%5 != 0 {
				in["stage"] = []string{"new", "won"}[i%2]
			}
			if i%6 != 0 {
				in["due"] = fmt.Sprintf("2026-12-%02d", 1+i%9)
			}
			if i%2 == 0 {
				in["hot"] = i%4 == 0
			}
			if _, err := x.app.Records.Create(ctx, sys, "ex_leads", in); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.ParseInt(x.users["rep.east"], 10, 64)
	p, err := x.app.Access.Principal(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	for _, sort := range []string{"", "id", "-id", "amount", "-amount", "stage,-amount", "-stage,amount,-due", "due,company", "-hot,company",
		"company,id", "-updated_at", "owner,-company"} {
		for _, per := range []int{1, 7, 50} {
			var got []int64
			err := x.app.Records.Each(ctx, p, "ex_leads", records.EachOptions{ListOptions: records.ListOptions{Sort: sort, PerPage: per,
				Filter: `company != "C03"`}}, func(b []records.Record) error {
				if len(b) > per {
					t.Fatalf("batch of %d, asked %d", len(b), per)
				}
				for _, r := range b {
					got = append(got, r.ID())
				}
				return nil
			})
			if err != nil {
				t.Fatalf("sort %q: %v", sort, err)
			}
			res, err := x.app.Records.List(ctx, p, "ex_leads", records.ListOptions{Sort: sort, PerPage: 500, Filter: `company != "C03"`})
			if err != nil {
				t.Fatal(err)
			}
			var want []int64
			for _, r := range res.Items {
				want = append(want, r.ID())
			}
			if len(want) < 140 || !slices.Equal(got, want) {
				t.Errorf("sort %q by %d: %d records, list %d; order differs: %v", sort, per, len(got), len(want), !slices.Equal(got, want))
			}
		}
	}
	// A record deleted while Each runs, after its ids were read, is left out.
	res, err := x.app.Records.List(ctx, p, "ex_leads", records.ListOptions{Sort: "amount", PerPage: 500})
	if err != nil {
		t.Fatal(err)
	}
	gone := res.Items[100].ID()
	var got []int64
	err = x.app.Records.Each(ctx, p, "ex_leads", records.EachOptions{ListOptions: records.ListOptions{Sort: "amount", PerPage: 50}},
		func(b []records.Record) error {
			if len(got) == 0 {
				if err := x.app.Records.Delete(ctx, sys, "ex_leads", gone, 0); err != nil {
					return err
				}
			}
			for _, r := range b {
				got = append(got, r.ID())
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(res.Items)-1 || slices.Contains(got, gone) || got[99] != res.Items[99].ID() || got[100] != res.Items[101].ID() {
		t.Errorf("a record deleted meanwhile: %d of %d passed, contains it: %v", len(got), len(res.Items), slices.Contains(got, gone))
	}
	// Each needs the action asked for.
	prod, _ := strconv.ParseInt(x.users["prod.lead"], 10, 64)
	pp, _ := x.app.Access.Principal(ctx, prod)
	err = x.app.Records.Each(ctx, pp, "ex_leads", records.EachOptions{Action: access.Export}, func([]records.Record) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "action_not_allowed") {
		t.Errorf("each without the export right: %v", err)
	}
}

// TestExportFailsLoudly: when reading fails after the first byte of a CSV
// (here a corrupt value in the second batch), the transfer is cut off —
// the client gets an error, never a short file that looks complete; an
// XLSX export, which sends nothing before every row is read, fails with an
// ordinary 500 problem.
func TestExportFailsLoudly(t *testing.T) {
	x := newExportEnv(t)
	ctx := context.Background()
	sys := access.System()
	var ids []int64
	err := x.app.DB.WithTx(ctx, func(ctx context.Context) error {
		for i := range 1500 {
			rec, err := x.app.Records.Create(ctx, sys, "ex_leads", map[string]any{"company": fmt.Sprintf("公司 %04d", i), "tags": []any{"a"}})
			if err != nil {
				return err
			}
			ids = append(ids, rec.ID())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A value no field type can read, in the second batch (ids ascending).
	if _, err := x.app.DB.Exec(ctx, `UPDATE r_ex_leads SET tags = `+x.app.DB.JSONParam()+` WHERE id = ?`, `{"not": "a list"}`, ids[1200]); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", x.srv.URL+"/api/v1/records/ex_leads/export?sort=id&fields=company,tags", nil)
	admin := x.c("admin")
	res, err := admin.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || err == nil {
		t.Fatalf("status %d, read error %v: the transfer should start and then break", res.StatusCode, err)
	}
	if !bytes.Contains(body, []byte("公司 0999,a\r\n")) || bytes.Contains(body, []byte("公司 1499")) {
		t.Errorf("the first batch should have arrived, and not the end: %d bytes", len(body))
	}
	x.export(admin, "ex_leads", url.Values{"format": {"xlsx"}, "sort": {"id"}}).want(500)
}
