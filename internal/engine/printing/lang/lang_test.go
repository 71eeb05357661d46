package lang

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func num(s string, scale int) Scalar {
	d := decimal.RequireFromString(s)
	return Scalar{Kind: KNumber, Num: d, Scale: scale, Text: d.StringFixed(int32(scale))}
}

func money(s string) Scalar { v := num(s, 2); v.Money = true; return v }

func text(s string) Scalar { return Scalar{Text: s} }

// quote is a record of a quote with two lines.
func quote() Map {
	line := func(name, qty, price, disc string) Object {
		return Map{"product": Map{"name": text(name), "code": text("P-" + name)}, "quantity": num(qty, 2),
			"unit_price": money(price), "discount_pct": func() Scalar { v := num(disc, 2); v.Percent = true; return v }()}
	}
	return Map{
		"number":       text("QT-202611-0001"),
		"account":      Map{"name": text("上海精工机械有限公司"), "grade": Scalar{Text: "A 级", Raw: "A"}},
		"status":       Scalar{Text: "已发送", Raw: "sent"},
		"currency":     Scalar{Text: "人民币", Raw: "CNY"},
		"discount_pct": func() Scalar { v := num("5", 2); v.Percent = true; return v }(),
		"total":        money("12345.67"),
		"weight":       num("2.5000", 4),
		"valid_until":  Scalar{Kind: KDate, Time: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), Text: "2026-11-23"},
		"lines":        []Object{line("主轴", "2", "1000", "0"), line("刀库", "1", "10345.67", "10")},
		"empty":        nil,
	}
}

func eval(t *testing.T, src string) *Document {
	t.Helper()
	tp, err := Parse(src)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	doc, err := tp.Eval(context.Background(), quote(), Options{Now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatalf("eval: %v", err)
	}
	return doc
}

func TestPlaceholdersAndFilters(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"{{number}}", "QT-202611-0001"},
		{"{{account.name}}", "上海精工机械有限公司"},
		{"{{account}}", "上海精工机械有限公司"},
		{"{{status}}/{{status|raw}}", "已发送/sent"},
		{"{{total}}", "12345.67"},
		{"{{total|number}}", "12,345.67"},
		{"{{total|number:0}}", "12,346"},
		{"{{weight|number:auto}} {{total|number:auto}} {{lines|number:auto}}", "2.5 12,345.67 2"},
		{"{{account.grade|number:auto}}", "A 级"},
		{"{{total|money}}", "¥12,345.67"},
		{"{{total|money:USD}}", "$12,345.67"},
		{"{{total|money:code}}", "CNY 12,345.67"},
		{"{{total|capital}}", "壹万贰仟叁佰肆拾伍元陆角柒分"},
		{"{{discount_pct|percent}}", "5.00%"},
		{"{{discount_pct|percent:0}}", "5%"},
		{"{{valid_until|date:cn}}", "2026年11月23日"},
		{"{{valid_until|date}}", "2026-11-23"},
		{`{{valid_until|date:"YYYY/MM/DD"}}`, "2026/11/23"},
		{"{{@today|date:cn}}", "2026年11月23日"},
		{"{{empty}}|{{empty|default:\"—\"}}|{{nothing}}", "|—|"},
		{"{{lines}} 行", "2 行"},
		{"a &lt;b&gt; &amp; c", "a <b> & c"},
		{"{{! a comment }}x", "x"},
		{"报价\n   单", "报价单"},
		{"Quote\n   no", "Quote no"},
	} {
		doc := eval(t, "<p>"+c.src+"</p>")
		if got := doc.Blocks[0].(Paragraph).Text; got != c.want {
			t.Errorf("%s: got %q, want %q", c.src, got, c.want)
		}
	}
}

func TestLoopsAndConditions(t *testing.T) {
	doc := eval(t, `<table widths="1,3,2">
  <tr><th>序号</th><th>名称</th><th align="right">单价</th></tr>
  {{#each lines}}<tr><td>{{@index}}</td><td>{{product.name}} {{product.code}}</td><td>{{unit_price|money}}{{#if discount_pct > 0}} (-{{discount_pct|percent:0}}){{/if}}</td></tr>{{/each}}
  <tr><td colspan="2">合计</td><td>{{total|money}}</td></tr>
</table>
{{#if discount_pct > 0 && account.grade == "A"}}<p>A 级客户折扣</p>{{else}}<p>无折扣</p>{{/if}}
{{#if status == "draft"}}<p>草稿</p>{{/if}}`)
	tb := doc.Blocks[0].(Table)
	var got [][]string
	for _, r := range tb.Rows {
		var cells []string
		for _, c := range r.Cells {
			cells = append(cells, c.Text)
		}
		got = append(got, cells)
	}
	want := [][]string{{"序号", "名称", "单价"}, {"1", "主轴 P-主轴", "¥1,000.00"}, {"2", "刀库 P-刀库", "¥10,345.67 (-10%)"}, {"合计", "¥12,345.67"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("table: %v", got)
	}
	if !tb.Rows[0].Header || tb.Rows[1].Header || tb.Rows[3].Cells[0].Colspan != 2 || !reflect.DeepEqual(tb.Widths, []float64{1, 3, 2}) {
		t.Errorf("table shape: %+v", tb)
	}
	if len(doc.Blocks) != 2 || doc.Blocks[1].(Paragraph).Text != "A 级客户折扣" {
		t.Errorf("blocks: %+v", doc.Blocks[1:])
	}
}

func TestBlocks(t *testing.T) {
	doc := eval(t, `<h1>报价单</h1>
<grid cols="2"><kv label="客户">{{account.name}}</kv><kv label="编号">{{number}}</kv></grid>
loose text {{number}}
<hr/><spacer height="10"/><pagebreak>
<signature><party title="买方（盖章）">{{account.name}}<br>日期：</party><party title="卖方"></party></signature>`)
	want := []Block{
		Heading{Level: 1, Align: Center, Text: "报价单"},
		Grid{Cols: 2, Items: []KV{{Label: "客户", Value: "上海精工机械有限公司", Span: 1}, {Label: "编号", Value: "QT-202611-0001", Span: 1}}},
		Paragraph{Text: "loose text QT-202611-0001"},
		Rule{}, Spacer{Height: 10}, PageBreak{},
		Signature{Parties: []Party{{Title: "买方（盖章）", Text: "上海精工机械有限公司\n日期："}, {Title: "卖方"}}},
	}
	if !reflect.DeepEqual(doc.Blocks, want) {
		t.Errorf("got %#v", doc.Blocks)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		src       string
		code      string
		line, col int
	}{
		{"<p>\n  <blink>x</blink></p>", "print_err_unknown_tag", 2, 3},
		{"<p>x</div>", "print_err_mismatch", 1, 5},
		{"<p>x", "print_err_unclosed", 1, 1},
		{"<p align=\"middle\">x</p>", "print_err_attr_value", 1, 1},
		{"<p onclick=\"x\">x</p>", "print_err_unknown_attr", 1, 1},
		{"<table>text</table>", "print_err_text_here", 1, 8},
		{"<table>{{number}}</table>", "print_err_text_here", 1, 8},
		{"<td>x</td>", "print_err_tag_here", 1, 1},
		{"<p>{{number</p>", "print_err_unclosed_tag", 1, 4},
		{"<p>{{a..b}}</p>", "print_err_bad_path", 1, 4},
		{"<p>{{total|rot13}}</p>", "print_err_unknown_filter", 1, 4},
		{"<p>{{total|number:x}}</p>", "print_err_filter_arg", 1, 4},
		{"<p>{{total|capital:2}}</p>", "print_err_filter_arg", 1, 4},
		{"\n\n{{#each lines}}<p>x</p>", "print_err_unclosed", 3, 1},
		{"{{#if x}}<p>x</p>{{/each}}", "print_err_mismatch", 1, 18},
		{"{{#with x}}{{/with}}", "print_err_unknown_section", 1, 1},
		{"{{/if}}", "print_err_unexpected_close", 1, 1},
		{"<!-- x", "print_err_unclosed_comment", 1, 1},
		{strings.Repeat("{{#if a}}", MaxDepth+2), "print_err_too_deep", 1, 9*(MaxDepth+1) + 1},
		{strings.Repeat("x", MaxSource+1), "print_err_too_large", 1, 1},
	} {
		_, err := Parse(c.src)
		var e *Error
		if !errors.As(err, &e) || e.Code != c.code || e.Line != c.line || e.Col != c.col {
			t.Errorf("%.40q: got %v, want %s at %d:%d", c.src, err, c.code, c.line, c.col)
		}
	}
}

// schema describes quote() for Check.
type schema map[string]any

func (s schema) Names() []string {
	var out []string
	for k := range s {
		out = append(out, k)
	}
	return out
}

func (s schema) Member(name string) (Schema, bool) {
	switch m := s[name].(type) {
	case schema:
		return m, false
	case []schema:
		return m[0], true
	}
	return nil, false
}

func TestCheck(t *testing.T) {
	sc := schema{"number": nil, "total": nil, "discount_pct": nil, "account": schema{"name": nil},
		"lines": []schema{{"quantity": nil, "product": schema{"name": nil}}}}
	for _, c := range []struct{ src, code string }{
		{"<p>{{number}} {{account.name}}</p>{{#each lines}}<p>{{@index}} {{product.name}} {{quantity}} {{number}}</p>{{/each}}", ""},
		{"{{#if total > 100 && discount_pct == nil}}x{{/if}}{{#each lines}}{{#if quantity > 1 && index > 1}}y{{/if}}{{/each}}", ""},
		{"<p>{{numbr}}</p>", "print_err_unknown_field"},
		{"<p>{{account.nmae}}</p>", "print_err_unknown_field"},
		{"<p>{{quantity}}</p>", "print_err_unknown_field"},
		{"<p>{{lines.quantity}}</p>", "print_err_unknown_field"},
		{"{{#each account}}x{{/each}}", "print_err_not_list"},
		{"<p>{{@index}}</p>", "print_err_index_outside"},
		{"{{#if total >}}x{{/if}}", "print_err_condition"},
		{"{{#if secret > 1}}x{{/if}}", "print_err_condition"},
	} {
		tp, err := Parse(c.src)
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		err = tp.Check(sc)
		var e *Error
		if c.code == "" && err != nil || c.code != "" && (!errors.As(err, &e) || e.Code != c.code) {
			t.Errorf("%s: got %v, want %q", c.src, err, c.code)
		}
	}
}

// rows is a record with n lines.
func rows(n int) Map {
	lines := make([]Object, n)
	for i := range lines {
		lines[i] = Map{"quantity": num(fmt.Sprint(i), 0)}
	}
	return Map{"lines": lines}
}

func TestLimits(t *testing.T) {
	tp, err := Parse("{{#each lines}}{{#each lines}}<p>{{quantity}}</p>{{/each}}{{/each}}")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tp.Eval(context.Background(), rows(200), Options{})
	var e *Error
	if !errors.As(err, &e) || e.Code != "print_too_many_rows" {
		t.Errorf("nested loops of 200×200: %v", err)
	}
	if _, err := tp.Eval(context.Background(), rows(50), Options{}); err != nil {
		t.Errorf("50×50: %v", err)
	}
	big := Map{"s": text(strings.Repeat("字", 100_000))}
	tp, _ = Parse("{{#each lines}}<p>{{s}}</p>{{/each}}")
	root := rows(100)
	for k, v := range big {
		root[k] = v
	}
	if _, err := tp.Eval(context.Background(), root, Options{}); !errors.As(err, &e) || e.Code != "print_too_much_text" {
		t.Errorf("30 MB of text: %v", err)
	}
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	tp, _ = Parse("{{#each lines}}<p>{{quantity}}</p>{{/each}}")
	if _, err := tp.Eval(ctx, rows(100), Options{}); !errors.As(err, &e) || e.Code != "print_timeout" {
		t.Errorf("past the deadline: %v", err)
	}
}

func TestInline(t *testing.T) {
	tp, err := ParseInline("第 {{@page}} 页 / 共 {{@pages}} 页 {{number}}")
	if err != nil {
		t.Fatal(err)
	}
	s, err := tp.EvalInline(context.Background(), quote(), Options{})
	if err != nil || s != "第 "+PageMarker+" 页 / 共 "+PagesMarker+" 页 QT-202611-0001" {
		t.Errorf("%q %v", s, err)
	}
	if _, err := ParseInline("<p>x</p>"); err == nil {
		t.Error("a block in the footer was accepted")
	}
}
