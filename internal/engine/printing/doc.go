// Package printing is Tenon's print-template engine (P5): a record of any
// entity printed to PDF through a template that is data — a record of the
// system entity print_templates, edited by administrators.
//
// # Pieces
//
//   - lang: the template language. Parse turns a source into an AST (never
//     Go's text/template or html/template); Check verifies it against an
//     entity's fields when a template is saved; Eval runs it on a view
//     model and produces a Document (headings, paragraphs, grids, tables,
//     rules, spacers, page breaks, signature areas).
//   - pdf: lays a Document out on A4/A5 pages (wrapping, page breaks inside
//     tables with the header rows repeated, a page header with the logo
//     and company header, a footer with page numbers) and writes it with
//     gopdf and the embedded WenQuanYi Micro Hei font (package fonts),
//     subset to the glyphs used, so a quote is tens of KB. The font is
//     parsed once per process.
//   - this package: the print_templates entity and its save hook, the view
//     model, Render/Preview/ForEntity, the HTTP routes and the shipped
//     zh-CN templates (defaults/*.tmpl, created by Install).
//
// # The language
//
// A template is a small HTML-like layout markup with mustache sections.
// docs/print-templates.md is the user guide; in short:
//
//	<h1>报价单</h1>                                  heading (h1–h3; align="left|center|right")
//	<p align="right" bold size="12">…</p>          paragraph
//	<grid cols="2" border="all"><kv label="客户" span="2">{{account.name}}</kv></grid>
//	<table widths="1,4,2" border="all|outer|none" size="9">
//	  <tr><th>序号</th><th>产品</th><th align="right">金额</th></tr>   header row (repeated on each page)
//	  {{#each lines}}<tr><td>{{@index}}</td><td>{{product.name}}</td><td>{{amount|money}}</td></tr>{{/each}}
//	  <tr bold><td colspan="2">合计</td><td>{{total|money}}</td></tr>
//	</table>
//	<hr/> <spacer height="5"/> <pagebreak/> <br/>
//	<signature><party title="买方（盖章）">日期：</party><party title="卖方（盖章）"></party></signature>
//
// Placeholders {{path | filter:arg}} name fields with dotted paths: a field
// of the record, of the current loop row, or of a linked record one level
// deep (account.name, owner.name, product.code inside #each lines).
// Specials: @index (row number in #each), @today, @now, @printer, and in the
// header and footer @page and @pages. Filters: number[:decimals] (thousands
// separators), money[:USD|code], percent[:decimals], date[:cn|"YYYY/MM/DD"],
// datetime[:cn|pattern], capital (Chinese capital numerals, 壹万贰仟…元整),
// default:"—", raw (a select's stored value), upper, lower.
// {{#if condition}}…{{else}}…{{/if}} takes a condition of package expr
// (discount_pct > 0 && account.grade == "A"; select fields compare by their
// stored value; hidden and empty fields are nil). {{! comments }} and
// <!-- comments --> print nothing; &lt; &gt; &amp; &lbrace; &rbrace; are
// entities. Every error is reported with its line and column (422
// print_template_error), when a template is saved or previewed.
//
// # Safety
//
// The view model is built from records.Service.Get with the caller's
// principal: fields hidden from the caller are absent (they print nothing
// and are nil in conditions, in sub-table rows too), a record outside the
// caller's scope is a 404, linked records are read with the same rights (a
// link the caller may not see prints nothing). Select fields print their
// labels in the template's language (zh-CN by default). A template can
// reach nothing else: no URLs, no files but the template's own logo, read
// through the files service. Limits: 64 KB of source, 32 levels of
// nesting, 10,000 loop rows, 2 MB of text, 200 pages and 5 seconds per
// print (422 print_too_many_rows, print_too_much_text,
// print_too_many_pages, print_timeout).
//
// # Routes
//
//	GET  /api/v1/records/{entity}/{id}/print?template={id}   the PDF (default template without ?template)
//	POST /api/v1/print-templates/preview                      a draft template's PDF, for the editor
//	GET  /api/v1/print-templates/for/{entity}                 the print menu: active templates, default first
//
// Printing needs the permission-matrix action "print" (and read) on the
// entity; each print (Render, from the route or from Go) writes an audit
// entry with action "print" and the template's name and id on the record,
// so its history shows who printed what. Previews are not logged; they
// need the right to update print_templates. Templates themselves are
// records of the system entity print_templates (administrators only unless
// a role grants it); making one the default of its entity unsets the
// previous default.
package printing
