package meta

import (
	"html"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
)

// Rich text is HTML from the web app's editor, stored only after an
// allow-list sanitiser has kept the formatting an editor makes (paragraphs,
// headings, emphasis, lists, quotes, code, links, tables, images of Tenon's
// own files) and dropped everything else: scripts, event handlers, styles,
// frames, forms, and links other than http(s) and mailto. What is stored is
// therefore safe to show as HTML; its plain text feeds export and audit.

var richPolicy = newRichPolicy()

var ownFileSrc = regexp.MustCompile(`^/api/v1/files/[A-Za-z0-9_-]{10,64}$`)

func newRichPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "hr", "h1", "h2", "h3", "h4", "strong", "b", "em", "i", "u", "s", "del", "sub", "sup",
		"ul", "ol", "li", "blockquote", "pre", "code", "span", "div",
		"table", "thead", "tbody", "tr", "th", "td")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(true) // Tenon's own file links and images
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.AllowAttrs("src").Matching(ownFileSrc).OnElements("img")
	p.AllowAttrs("alt").OnElements("img")
	p.AllowAttrs("colspan", "rowspan").Matching(bluemonday.Integer).OnElements("td", "th")
	return p
}

var plainPolicy = bluemonday.StrictPolicy()

// sanitizeRich keeps the allowed markup of s; "" when nothing visible is left.
func sanitizeRich(s string) string {
	out := strings.TrimSpace(richPolicy.Sanitize(s))
	if strings.TrimSpace(richText(out)) == "" && !strings.Contains(out, "<img") {
		return ""
	}
	return out
}

// richText is the plain text of sanitised rich text: block ends become line
// breaks, tags go, entities are decoded.
func richText(s string) string {
	r := strings.NewReplacer("</p>", "</p>\n", "<br>", "\n", "<br/>", "\n", "</li>", "</li>\n", "</h1>", "</h1>\n",
		"</h2>", "</h2>\n", "</h3>", "</h3>\n", "</h4>", "</h4>\n", "</div>", "</div>\n", "</tr>", "</tr>\n")
	t := html.UnescapeString(plainPolicy.Sanitize(r.Replace(s)))
	return strings.TrimSpace(t)
}
