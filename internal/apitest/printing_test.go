package apitest

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/engine/printing/lang"
	"github.com/tenon-crm/tenon/internal/engine/printing/pdftest"
)

// printEnv is a Tenon with two custom entities to print, pr_accounts and
// pr_orders (a sub-table of lines, a cost and a margin hidden from sales
// reps), so the scenarios also show that templates work on any entity.
// Sales reps may read and print their own orders; production may read
// every order but not print.
type printEnv struct {
	*env
	admin *client
	users map[string]string
	acct  string
}

func newPrintEnv(t testing.TB) *printEnv {
	t.Helper()
	x := &printEnv{env: openEnv(t, "tenon_print", nil)}
	x.admin = x.c("admin")
	x.users = x.userIDs()
	lbl := func(zh, en string) map[string]string { return map[string]string{"zh-CN": zh, "en": en} }
	x.admin.do("POST", "/api/v1/meta/entities", map[string]any{
		"name": "pr_accounts", "label": lbl("客户", "Accounts"), "title_field": "name",
		"fields": []map[string]any{
			{"name": "name", "type": "text", "required": true, "label": lbl("客户名称", "Name")},
			{"name": "phone", "type": "text", "label": lbl("电话", "Phone")}}}, nil).want(201)
	x.admin.do("POST", "/api/v1/meta/entities", map[string]any{
		"name": "pr_orders", "label": lbl("订单", "Orders"), "title_field": "number",
		"fields": []map[string]any{
			{"name": "number", "type": "text", "required": true, "label": lbl("单号", "Number")},
			{"name": "account", "type": "link", "target": "pr_accounts", "label": lbl("客户", "Account")},
			{"name": "status", "type": "select", "label": lbl("状态", "Status"), "options": []any{
				map[string]any{"value": "draft", "label": lbl("草稿", "Draft")},
				map[string]any{"value": "sent", "label": lbl("已发送", "Sent")}}},
			{"name": "currency", "type": "text", "label": lbl("币种", "Currency")},
			{"name": "discount_pct", "type": "percent", "label": lbl("折扣", "Discount")},
			{"name": "tax_included", "type": "boolean", "label": lbl("含税", "Tax included")},
			{"name": "valid_until", "type": "date", "label": lbl("有效期", "Valid until")},
			{"name": "total", "type": "money", "label": lbl("合计", "Total")},
			{"name": "margin", "type": "money", "label": lbl("毛利", "Margin")},
			{"name": "lines", "type": "subtable", "label": lbl("明细", "Lines"), "fields": []map[string]any{
				{"name": "product", "type": "text", "label": lbl("产品", "Product")},
				{"name": "quantity", "type": "decimal", "scale": 2, "label": lbl("数量", "Quantity")},
				{"name": "unit_price", "type": "money", "label": lbl("单价", "Unit price")},
				{"name": "unit_cost", "type": "money", "label": lbl("成本", "Unit cost")}}},
		}}, nil).want(201)
	roles := x.admin.do("GET", `/api/v1/records/roles?filter=name%20in%20["sales_rep","production"]`, nil, nil).want(200).items()
	for _, r := range roles {
		perms := []any{map[string]any{"entity": "pr_orders", "actions": []string{"read", "update", "print"}, "scope": "own",
			"hidden_fields": []string{"unit_cost", "margin"}}, map[string]any{"entity": "pr_accounts", "actions": []string{"read"}, "scope": "all"}}
		if r["name"] == "production" {
			perms = []any{map[string]any{"entity": "pr_orders", "actions": []string{"read"}, "scope": "all"}}
		}
		x.admin.do("PATCH", "/api/v1/records/roles/"+r["id"].(string), map[string]any{"permissions": perms}, nil).want(200)
	}
	x.acct = x.admin.do("POST", "/api/v1/records/pr_accounts", map[string]any{"name": "上海精工机械有限公司", "phone": "021-5555 0101"}, nil).
		want(201).json()["id"].(string)
	return x
}

// order creates an order owned by rep.east with n lines.
func (x *printEnv) order(n int) string {
	x.t.Helper()
	lines := make([]any, n)
	for i := range lines {
		lines[i] = map[string]any{"product": fmt.Sprintf("数控车床 CK61%02d 型", i+1), "quantity": "2", "unit_price": "1000.50", "unit_cost": "777.77"}
	}
	return x.admin.do("POST", "/api/v1/records/pr_orders", map[string]any{"number": "PO-202611-0001", "account": x.acct, "status": "sent",
		"currency": "CNY", "discount_pct": "5", "tax_included": true, "valid_until": "2026-12-31", "total": "12345.67", "margin": "888.88",
		"lines": lines, "owner": x.users["rep.east"]}, nil).want(201).json()["id"].(string)
}

// template creates a print template as the admin and returns its id.
func (x *printEnv) template(name, body string, isDefault bool) string {
	x.t.Helper()
	return x.admin.do("POST", "/api/v1/records/print_templates", map[string]any{"name": name, "entity": "pr_orders", "is_default": isDefault,
		"header": "上海天工机床有限公司\n电话 {{account.phone}}", "footer": "{{number}} 第 {{@page}} 页", "body": body}, nil).want(201).json()["id"].(string)
}

const printBody = `<h1>订 单</h1>
<grid cols="2"><kv label="客户">{{account.name}}</kv><kv label="单号">{{number}}</kv><kv label="状态">{{status}}</kv>
<kv label="有效期">{{valid_until|date:cn}}</kv></grid>
<table widths="1,3,2,2,4">
  <tr><th>序号</th><th>产品</th><th align="right">数量</th><th align="right">单价</th><th align="right">成本</th></tr>
  {{#each lines}}<tr><td>{{@index}}</td><td>{{product}}</td><td>{{quantity|number}}</td><td>{{unit_price|money}}</td>
  <td>{{unit_cost|money}}{{#if unit_cost > 0}}COST-SHOWN{{/if}}</td></tr>{{/each}}
  <tr><td colspan="4">合计（大写）{{total|capital}}</td><td>{{total|money}}</td></tr>
</table>
<p>毛利：{{margin|money}}{{#if margin != nil}}MARGIN-SHOWN{{/if}}</p>
{{#if discount_pct > 0 && tax_included}}<p>已含税，折扣 {{discount_pct|percent:0}}</p>{{/if}}`

func TestPrintScenario(t *testing.T) {
	t.Parallel()
	x := newPrintEnv(t)
	id := x.order(3)
	tpl := x.template("订单模板", printBody, true)
	rep, south, prod := x.c("rep.east"), x.c("rep.south"), x.c("prod.lead")

	// The admin sees everything, the cost and the margin too.
	res := x.admin.do("GET", "/api/v1/records/pr_orders/"+id+"/print", nil, nil).want(200)
	if ct := res.header.Get("Content-Type"); ct != "application/pdf" {
		t.Fatalf("Content-Type %q", ct)
	}
	if cd := res.header.Get("Content-Disposition"); !strings.Contains(cd, "inline") || !strings.Contains(cd, "PO-202611-0001.pdf") {
		t.Errorf("Content-Disposition %q", cd)
	}
	text := pdftest.Text(t, res.body)
	for _, want := range []string{"上海精工机械有限公司", "PO-202611-0001", "已发送", "2026年12月31日", "数控车床CK6101型", "数控车床CK6102型",
		"数控车床CK6103型", "¥1,000.50", "壹万贰仟叁佰肆拾伍元陆角柒分", "¥12,345.67", "已含税，折扣5%", "上海天工机床有限公司", "电话021-55550101",
		"PO-202611-0001第1页", "¥777.77", "COST-SHOWN", "¥888.88", "MARGIN-SHOWN"} {
		if !strings.Contains(text, want) {
			t.Errorf("the admin's PDF lacks %q:\n%s", want, text)
		}
	}

	if strings.Contains(text, "上海天工机床有限公司电话") {
		t.Error("the header's two lines are printed as one")
	}

	// A sales rep whose role hides unit_cost and margin prints the same
	// record without them, in the loop and outside it.
	text = pdftest.Text(t, rep.do("GET", "/api/v1/records/pr_orders/"+id+"/print?template="+tpl, nil, nil).want(200).body)
	for _, want := range []string{"上海精工机械有限公司", "数控车床CK6101型", "数控车床CK6103型", "壹万贰仟叁佰肆拾伍元陆角柒分"} {
		if !strings.Contains(text, want) {
			t.Errorf("the rep's PDF lacks %q", want)
		}
	}
	for _, hidden := range []string{"777.77", "COST-SHOWN", "888.88", "MARGIN-SHOWN"} {
		if strings.Contains(text, hidden) {
			t.Errorf("the rep's PDF shows the hidden %q", hidden)
		}
	}

	// Outside the scope: 404; without the print right: 403.
	south.do("GET", "/api/v1/records/pr_orders/"+id+"/print", nil, nil).want(404)
	prod.do("GET", "/api/v1/records/pr_orders/"+id+"/print", nil, nil).want(403)

	// Each print is in the record's history.
	prints := 0
	for _, h := range x.admin.do("GET", "/api/v1/records/pr_orders/"+id+"/history", nil, nil).want(200).items() {
		if h["action"] == "print" {
			prints++
			ch := h["changes"].(map[string]any)["print_template"].(map[string]any)
			if ch["new"] != "订单模板" {
				t.Errorf("print entry %v", h)
			}
		}
	}
	if prints != 2 {
		t.Errorf("%d print entries in the history, want 2", prints)
	}

	// The print menu needs no right on print_templates.
	if items := rep.do("GET", "/api/v1/print-templates/for/pr_orders", nil, nil).want(200).items(); len(items) != 1 || items[0]["id"] != tpl ||
		items[0]["is_default"] != true {
		t.Errorf("the rep's print menu: %v", items)
	}
	if items := prod.do("GET", "/api/v1/print-templates/for/pr_orders", nil, nil).want(200).json()["items"].([]any); len(items) != 0 {
		t.Errorf("production's print menu: %v", items)
	}
	rep.do("GET", "/api/v1/records/print_templates", nil, nil).want(403)

	// Previews: the editor's draft, for those who may edit templates.
	draft := map[string]any{"entity": "pr_orders", "record": id, "body": "<p>预览 {{account.name}}</p>", "paper": "A5-landscape"}
	if text := pdftest.Text(t, x.admin.do("POST", "/api/v1/print-templates/preview", draft, nil).want(200).body); !strings.Contains(text, "预览上海精工机械有限公司") {
		t.Errorf("preview: %s", text)
	}
	rep.do("POST", "/api/v1/print-templates/preview", draft, nil).want(403)
	draft["body"] = "<p>ok</p>\n<table>\n  <tr><td>{{number</td></tr></table>"
	p := x.admin.do("POST", "/api/v1/print-templates/preview", draft, map[string]string{"Accept-Language": "en"}).want(422).json()
	if d, _ := p["detail"].(string); !strings.Contains(d, "line 3, column 11") {
		t.Errorf("a syntax error's problem: %v", p)
	}
}

func TestPrintTemplateRules(t *testing.T) {
	t.Parallel()
	x := newPrintEnv(t)
	id := x.order(2)
	first := x.template("A", "<p>A {{number}}</p>", true)

	// A template is checked when saved: syntax and field names, with the line and column.
	for body, want := range map[string]string{
		"<p>x</p>\n<p>{{numbr}}</p>":               "第 2 行第 4 列：未知字段 numbr",
		"{{#each account}}x{{/each}}":              "account 不是子表",
		"<p>{{total|money:usd}}</p>":               "格式 money 的参数无效",
		"{{#if total >}}<p>x</p>{{/if}}":           "条件无效",
		"<table><tr><blink>x</blink></tr></table>": "未知标签 <blink>",
	} {
		p := x.admin.do("POST", "/api/v1/records/print_templates", map[string]any{"name": "bad", "entity": "pr_orders", "body": body}, nil).want(422).json()
		if d, _ := p["detail"].(string); !strings.Contains(d, want) {
			t.Errorf("%q: %v, want %q", body, p, want)
		}
	}
	x.admin.do("POST", "/api/v1/records/print_templates", map[string]any{"name": "bad", "entity": "nothing", "body": "x"}, nil).want(422)

	// One default per entity: a new default unsets the old one.
	second := x.template("B", "<p>B {{number}}</p>", true)
	if d := x.admin.do("GET", "/api/v1/records/print_templates/"+first, nil, nil).want(200).json()["is_default"]; d != false {
		t.Errorf("the first template is still the default: %v", d)
	}
	text := pdftest.Text(t, x.admin.do("GET", "/api/v1/records/pr_orders/"+id+"/print", nil, nil).want(200).body)
	if !strings.Contains(text, "BPO-202611-0001") {
		t.Errorf("the default template was not used: %s", text)
	}
	// An inactive or another entity's template is not found.
	x.admin.do("PATCH", "/api/v1/records/print_templates/"+second, map[string]any{"active": false}, nil).want(200)
	x.admin.do("GET", "/api/v1/records/pr_orders/"+id+"/print?template="+second, nil, nil).want(404)
	x.admin.do("GET", "/api/v1/records/pr_accounts/"+x.acct+"/print?template="+first, nil, nil).want(404)
	x.admin.do("GET", "/api/v1/records/pr_orders/"+id+"/print?template=abc", nil, nil).want(400)

	// Limits: more than 200 pages is a clear 422.
	many := x.template("pages", strings.Repeat("<p>页</p><pagebreak/>\n", 201)+"<p>end</p>", false)
	p := x.admin.do("GET", "/api/v1/records/pr_orders/"+id+"/print?template="+many, nil, map[string]string{"Accept-Language": "en"}).want(422).json()
	if d, _ := p["detail"].(string); !strings.Contains(d, "more than 200 pages") {
		t.Errorf("too many pages: %v", p)
	}
}

// TestShippedTemplates: the shipped templates of quotes, contracts and
// sales orders are installed, once.
func TestShippedTemplates(t *testing.T) {
	t.Parallel()
	x := newPrintEnv(t)
	for _, entity := range []string{"quotes", "contracts", "sales_orders"} {
		if _, ok := x.app.Meta.Get(entity); !ok {
			t.Fatalf("no %s entity", entity)
		}
		items := x.admin.do("GET", "/api/v1/print-templates/for/"+entity, nil, nil).want(200).items()
		if len(items) == 0 || items[0]["is_default"] != true {
			t.Errorf("%s: shipped templates %v", entity, items)
		}
	}
	// Install is idempotent and leaves deleted templates deleted.
	if err := x.app.Printing.Install(t.Context()); err != nil {
		t.Fatal(err)
	}
	n := len(x.admin.do("GET", "/api/v1/print-templates/for/sales_orders", nil, nil).want(200).items())
	if n != 2 {
		t.Errorf("sales orders have %d templates, want 2 (order and delivery note)", n)
	}
}

// TestPrintShippedQuote prints a real quote with the shipped 报价单
// template as the sales rep who owns it.
func TestPrintShippedQuote(t *testing.T) {
	q := newQuotingEnv(t)
	if err := q.app.Printing.Install(t.Context()); err != nil {
		t.Fatal(err)
	}
	qt := q.quote("rep.east", map[string]any{"opportunity": q.oppAcme, "freight": "1500.5", "discount_pct": "2", "delivery_terms": "合同生效后 45 天内交货",
		"lines": []any{line(q.machine, "2"), line(q.part, "3", "discount_pct", "5", "unit_price", "2260.1")}})
	res := q.c("rep.east").do("GET", "/api/v1/records/quotes/"+qt["id"].(string)+"/print", nil, nil).want(200)
	if os.Getenv("TENON_PRINT_SAMPLE") != "" {
		_ = os.WriteFile(os.Getenv("TENON_PRINT_SAMPLE"), res.body, 0o644)
	}
	text := pdftest.Text(t, res.body)
	total, _ := decimal.NewFromString(qt["total"].(string))
	for _, want := range []string{"报价单", qt["number"].(string), "苏州精密机械有限公司", "数控折弯机WE67K", "液压密封件", "M-100", "S-200",
		lang.Capital(total), "合同生效后45天内交货",
		// the figures TestQuotingPricesAndTotals checks in the API, to the cent
		"218,218.96", "221,141.29", "4,422.83", "25,104.84", "214,700.00", "6,441.29"} {
		if !strings.Contains(text, want) {
			t.Errorf("the quote lacks %q:\n%s", want, text)
		}
	}
	if len(res.body) > 150_000 {
		t.Errorf("the quote PDF has %d bytes", len(res.body))
	}
}
