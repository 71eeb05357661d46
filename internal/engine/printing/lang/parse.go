package lang

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the source.
const (
	// MaxSource is the largest template source in bytes.
	MaxSource = 64 << 10
	// MaxDepth is the deepest nesting of elements and sections.
	MaxDepth = 32
)

// context is what a place of the template may hold.
type place int

const (
	cBlock     place = iota // the document: blocks (and inline content, an implicit paragraph)
	cInline                 // text, placeholders, <br>
	cGrid                   // <kv> items
	cTable                  // <tr> rows
	cRow                    // <th>/<td> cells
	cSignature              // <party> boxes
)

var contextNames = map[place]string{cBlock: "document", cInline: "text", cGrid: "grid", cTable: "table", cRow: "tr", cSignature: "signature"}

// elemSpec says where an element may stand, what it holds and its attributes.
type elemSpec struct {
	in    place
	holds place
	void  bool
	attrs map[string]attrKind
}

type attrKind int

const (
	aText   attrKind = iota // any text
	aAlign                  // left, center, right
	aFlag                   // present or absent (a value of "true"/"false" is accepted)
	aNum                    // a positive number
	aInt                    // a positive whole number
	aList                   // comma-separated positive numbers
	aBorder                 // all, none, outer
)

var elems = map[string]elemSpec{
	"h1":        {in: cBlock, holds: cInline, attrs: map[string]attrKind{"align": aAlign}},
	"h2":        {in: cBlock, holds: cInline, attrs: map[string]attrKind{"align": aAlign}},
	"h3":        {in: cBlock, holds: cInline, attrs: map[string]attrKind{"align": aAlign}},
	"p":         {in: cBlock, holds: cInline, attrs: map[string]attrKind{"align": aAlign, "bold": aFlag, "size": aNum}},
	"grid":      {in: cBlock, holds: cGrid, attrs: map[string]attrKind{"cols": aInt, "border": aBorder, "size": aNum}},
	"kv":        {in: cGrid, holds: cInline, attrs: map[string]attrKind{"label": aText, "span": aInt}},
	"table":     {in: cBlock, holds: cTable, attrs: map[string]attrKind{"widths": aList, "border": aBorder, "size": aNum}},
	"tr":        {in: cTable, holds: cRow, attrs: map[string]attrKind{"header": aFlag, "bold": aFlag}},
	"th":        {in: cRow, holds: cInline, attrs: map[string]attrKind{"width": aNum, "align": aAlign, "colspan": aInt, "bold": aFlag}},
	"td":        {in: cRow, holds: cInline, attrs: map[string]attrKind{"width": aNum, "align": aAlign, "colspan": aInt, "bold": aFlag}},
	"hr":        {in: cBlock, void: true, attrs: map[string]attrKind{}},
	"spacer":    {in: cBlock, void: true, attrs: map[string]attrKind{"height": aNum}},
	"pagebreak": {in: cBlock, void: true, attrs: map[string]attrKind{}},
	"signature": {in: cBlock, holds: cSignature, attrs: map[string]attrKind{}},
	"party":     {in: cSignature, holds: cInline, attrs: map[string]attrKind{"title": aText}},
	"br":        {in: cInline, void: true, attrs: map[string]attrKind{}},
}

// allowed reports whether an element of spec may stand in context c (a
// block context accepts inline content too: an implicit paragraph).
func (s elemSpec) allowed(c place) bool {
	return s.in == c || (c == cBlock && s.in == cInline)
}

// Template is a parsed template. It is immutable and safe for concurrent
// use.
type Template struct {
	Nodes []Node
}

// Parse reads a template source. Errors are *Error with the line and
// column of the problem.
func Parse(src string) (*Template, error) {
	return parseIn(src, cBlock)
}

// ParseInline reads a template of inline content only (text, placeholders,
// sections and <br>): the page header and footer.
func ParseInline(src string) (*Template, error) {
	return parseIn(src, cInline)
}

func parseIn(src string, c place) (*Template, error) {
	if len(src) > MaxSource {
		return nil, errAt(Pos{1, 1}, "print_err_too_large", "max", MaxSource)
	}
	if !utf8.ValidString(src) {
		return nil, errAt(Pos{1, 1}, "print_err_encoding")
	}
	p := &parser{src: src, line: 1, col: 1}
	nodes, end, err := p.nodes(c, 0)
	if err != nil {
		return nil, err
	}
	if end != nil {
		return nil, errAt(end.pos, "print_err_unexpected_close", "tag", end.name)
	}
	return &Template{Nodes: nodes}, nil
}

type parser struct {
	src       string
	i         int
	line, col int
}

// closer is how a list of nodes ended: a closing tag or section end.
type closer struct {
	pos  Pos
	name string // "</p>", "{{/each}}", "{{/if}}", "{{else}}"
}

func (p *parser) pos() Pos { return Pos{p.line, p.col} }

func (p *parser) advance(n int) {
	for _, r := range p.src[p.i : p.i+n] {
		if r == '\n' {
			p.line, p.col = p.line+1, 1
		} else {
			p.col++
		}
	}
	p.i += n
}

// nodes reads nodes of context c until a closer or the end of input.
func (p *parser) nodes(c place, depth int) ([]Node, *closer, error) {
	if depth > MaxDepth {
		return nil, nil, errAt(p.pos(), "print_err_too_deep", "max", MaxDepth)
	}
	var out []Node
	for p.i < len(p.src) {
		rest := p.src[p.i:]
		switch {
		case strings.HasPrefix(rest, "{{"):
			n, cl, err := p.mustache(c, depth)
			if err != nil {
				return nil, nil, err
			}
			if cl != nil {
				return out, cl, nil
			}
			if n != nil {
				out = append(out, n)
			}
		case strings.HasPrefix(rest, "<!--"):
			end := strings.Index(rest, "-->")
			if end < 0 {
				return nil, nil, errAt(p.pos(), "print_err_unclosed_comment")
			}
			p.advance(end + 3)
		case strings.HasPrefix(rest, "</"):
			start := p.pos()
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				return nil, nil, errAt(start, "print_err_bad_tag")
			}
			name := strings.TrimSpace(rest[2:end])
			p.advance(end + 1)
			return out, &closer{pos: start, name: "</" + name + ">"}, nil
		case len(rest) > 1 && rest[0] == '<' && isLetter(rest[1]):
			n, err := p.element(c, depth)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, n)
		default:
			start := p.pos()
			end := len(rest)
			for _, m := range []string{"{{", "<"} {
				if k := strings.Index(rest[1:], m); k >= 0 && k+1 < end {
					end = k + 1
				}
			}
			raw := rest[:end]
			p.advance(end)
			if c != cBlock && c != cInline && strings.TrimSpace(raw) != "" {
				return nil, nil, errAt(start, "print_err_text_here", "where", contextNames[c])
			}
			out = append(out, &Text{Pos: start, S: decodeEntities(raw)})
		}
	}
	return out, nil, nil
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// element reads <tag attrs>…</tag> (or a void element).
func (p *parser) element(c place, depth int) (Node, error) {
	start := p.pos()
	rest := p.src[p.i:]
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return nil, errAt(start, "print_err_bad_tag")
	}
	inner := rest[1:end]
	selfClose := strings.HasSuffix(inner, "/")
	inner = strings.TrimSuffix(inner, "/")
	k := 0
	for k < len(inner) && (isLetter(inner[k]) || inner[k] >= '0' && inner[k] <= '9') {
		k++
	}
	name := strings.ToLower(inner[:k])
	spec, ok := elems[name]
	if !ok {
		return nil, errAt(start, "print_err_unknown_tag", "tag", name)
	}
	if !spec.allowed(c) {
		return nil, errAt(start, "print_err_tag_here", "tag", name, "where", contextNames[c])
	}
	attrs, err := parseAttrs(inner[k:], name, spec, start)
	if err != nil {
		return nil, err
	}
	p.advance(end + 1)
	el := &Elem{Pos: start, Tag: name, Attrs: attrs}
	if spec.void || selfClose {
		return el, nil
	}
	kids, cl, err := p.nodes(spec.holds, depth+1)
	if err != nil {
		return nil, err
	}
	if cl == nil {
		return nil, errAt(start, "print_err_unclosed", "tag", "<"+name+">")
	}
	if cl.name != "</"+name+">" {
		return nil, errAt(cl.pos, "print_err_mismatch", "want", "</"+name+">", "got", cl.name)
	}
	el.Kids = kids
	return el, nil
}

// parseAttrs reads name="value" name='value' and bare names.
func parseAttrs(s, tag string, spec elemSpec, at Pos) (map[string]string, error) {
	attrs := map[string]string{}
	for {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
		if s == "" {
			return attrs, nil
		}
		k := 0
		for k < len(s) && (isLetter(s[k]) || s[k] == '_' || s[k] == '-') {
			k++
		}
		if k == 0 {
			return nil, errAt(at, "print_err_bad_tag")
		}
		name := strings.ToLower(s[:k])
		s = s[k:]
		val, flag := "", true
		if t := strings.TrimLeftFunc(s, unicode.IsSpace); strings.HasPrefix(t, "=") {
			t = strings.TrimLeftFunc(t[1:], unicode.IsSpace)
			if t == "" || (t[0] != '"' && t[0] != '\'') {
				return nil, errAt(at, "print_err_attr_quote", "attr", name)
			}
			q := t[0]
			e := strings.IndexByte(t[1:], q)
			if e < 0 {
				return nil, errAt(at, "print_err_attr_quote", "attr", name)
			}
			val, flag, s = decodeEntities(t[1:1+e]), false, t[2+e:]
		}
		kind, ok := spec.attrs[name]
		if !ok {
			return nil, errAt(at, "print_err_unknown_attr", "attr", name, "tag", tag)
		}
		if _, dup := attrs[name]; dup {
			return nil, errAt(at, "print_err_dup_attr", "attr", name)
		}
		if flag && kind != aFlag {
			return nil, errAt(at, "print_err_attr_value", "attr", name, "value", "")
		}
		if !validAttr(kind, val, flag) {
			return nil, errAt(at, "print_err_attr_value", "attr", name, "value", val)
		}
		if flag {
			val = "true"
		}
		attrs[name] = val
	}
}

func validAttr(kind attrKind, v string, flag bool) bool {
	switch kind {
	case aAlign:
		return v == "left" || v == "center" || v == "right"
	case aFlag:
		return flag || v == "true" || v == "false"
	case aNum:
		f, err := strconv.ParseFloat(v, 64)
		return err == nil && f > 0 && f <= 1000
	case aInt:
		n, err := strconv.Atoi(v)
		return err == nil && n > 0 && n <= 100
	case aList:
		for _, part := range strings.Split(v, ",") {
			if f, err := strconv.ParseFloat(strings.TrimSpace(part), 64); err != nil || f <= 0 {
				return false
			}
		}
		return true
	case aBorder:
		return v == "all" || v == "none" || v == "outer"
	}
	return true
}

// mustache reads {{…}}: a placeholder, a section start, else, a section
// end or a comment.
func (p *parser) mustache(c place, depth int) (Node, *closer, error) {
	start := p.pos()
	rest := p.src[p.i:]
	end := strings.Index(rest, "}}")
	if end < 0 {
		return nil, nil, errAt(start, "print_err_unclosed_tag")
	}
	body := rest[2:end]
	bodyPos := Pos{start.Line, start.Col + 2}
	p.advance(end + 2)
	trimmed := strings.TrimSpace(body)
	switch {
	case strings.HasPrefix(trimmed, "!"):
		return nil, nil, nil
	case trimmed == "else":
		return nil, &closer{pos: start, name: "{{else}}"}, nil
	case strings.HasPrefix(trimmed, "/"):
		return nil, &closer{pos: start, name: "{{/" + strings.TrimSpace(trimmed[1:]) + "}}"}, nil
	case strings.HasPrefix(trimmed, "#each"):
		arg := strings.TrimSpace(strings.TrimPrefix(trimmed, "#each"))
		path, ok := parsePath(arg)
		if !ok || strings.HasPrefix(path[0], "@") {
			return nil, nil, errAt(start, "print_err_bad_path", "path", arg)
		}
		kids, cl, err := p.nodes(c, depth+1)
		if err != nil {
			return nil, nil, err
		}
		if cl == nil || cl.name != "{{/each}}" {
			return nil, nil, unclosedSection(start, "{{#each}}", cl)
		}
		return &Each{Pos: start, Path: path, Body: kids}, nil, nil
	case strings.HasPrefix(trimmed, "#if"):
		cond := strings.TrimSpace(strings.TrimPrefix(trimmed, "#if"))
		if cond == "" {
			return nil, nil, errAt(start, "print_err_empty_condition")
		}
		lead := strings.Index(body, cond)
		n := &If{Pos: start, Cond: cond, CondPos: Pos{bodyPos.Line, bodyPos.Col + utf8.RuneCountInString(body[:lead])}}
		kids, cl, err := p.nodes(c, depth+1)
		if err != nil {
			return nil, nil, err
		}
		n.Then = kids
		if cl != nil && cl.name == "{{else}}" {
			kids, cl, err = p.nodes(c, depth+1)
			if err != nil {
				return nil, nil, err
			}
			n.Else = kids
		}
		if cl == nil || cl.name != "{{/if}}" {
			return nil, nil, unclosedSection(start, "{{#if}}", cl)
		}
		return n, nil, nil
	case strings.HasPrefix(trimmed, "#"):
		return nil, nil, errAt(start, "print_err_unknown_section", "section", strings.Fields(trimmed)[0])
	}
	if c != cBlock && c != cInline {
		return nil, nil, errAt(start, "print_err_text_here", "where", contextNames[c])
	}
	v, err := parseVar(trimmed, start)
	if err != nil {
		return nil, nil, err
	}
	return v, nil, nil
}

func unclosedSection(start Pos, what string, cl *closer) error {
	if cl == nil {
		return errAt(start, "print_err_unclosed", "tag", what)
	}
	return errAt(cl.pos, "print_err_mismatch", "want", strings.Replace(what, "#", "/", 1), "got", cl.name)
}

// parseVar reads "path | filter:arg | filter".
func parseVar(s string, at Pos) (*Var, error) {
	parts := splitFilters(s)
	path, ok := parsePath(strings.TrimSpace(parts[0]))
	if !ok {
		return nil, errAt(at, "print_err_bad_path", "path", strings.TrimSpace(parts[0]))
	}
	v := &Var{Pos: at, Path: path}
	for _, f := range parts[1:] {
		f = strings.TrimSpace(f)
		name, arg, has := strings.Cut(f, ":")
		name = strings.TrimSpace(name)
		flt := Filter{Name: name}
		if has {
			arg = strings.TrimSpace(arg)
			if len(arg) >= 2 && (arg[0] == '"' && arg[len(arg)-1] == '"' || arg[0] == '\'' && arg[len(arg)-1] == '\'') {
				arg = arg[1 : len(arg)-1]
			}
			flt.Arg, flt.HasArg = arg, true
		}
		if err := checkFilter(flt); err != nil {
			return nil, errAt(at, err.Code, err.Args...)
		}
		v.Filters = append(v.Filters, flt)
	}
	return v, nil
}

// splitFilters splits on | outside quotes.
func splitFilters(s string) []string {
	var out []string
	var q rune
	last := 0
	for i, r := range s {
		switch {
		case q != 0:
			if r == q {
				q = 0
			}
		case r == '"' || r == '\'':
			q = r
		case r == '|':
			out = append(out, s[last:i])
			last = i + 1
		}
	}
	return append(out, s[last:])
}

// Specials are the names a path may start with besides fields.
var specials = map[string]bool{"@index": true, "@page": true, "@pages": true, "@today": true, "@now": true, "@printer": true}

// parsePath reads a dotted path of identifiers (the first may be a
// special such as @index).
func parsePath(s string) ([]string, bool) {
	if s == "" {
		return nil, false
	}
	parts := strings.Split(s, ".")
	for i, part := range parts {
		if i == 0 && specials[part] {
			if len(parts) > 1 {
				return nil, false
			}
			continue
		}
		if !isIdent(part) {
			return nil, false
		}
	}
	return parts, len(parts) <= 3
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r < 128 && unicode.IsLetter(r) || i > 0 && r < 128 && unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

var entities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'", "&nbsp;", "\u00a0", "&lbrace;", "{", "&rbrace;", "}", "&amp;", "&")

func decodeEntities(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return entities.Replace(s)
}
