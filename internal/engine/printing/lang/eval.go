package lang

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/expr"
)

// Default evaluation limits.
const (
	DefaultMaxRows = 10_000  // loop rows in all
	DefaultMaxText = 2 << 20 // bytes of text produced
)

// Options tune an evaluation.
type Options struct {
	// Now is the time of @today and @now (default time.Now), shown in
	// Location (default UTC+8).
	Now      time.Time
	Location *time.Location
	// Printer is the printing user's name (@printer).
	Printer string
	// MaxRows bounds the rows of all loops together; MaxText the bytes of
	// text produced.
	MaxRows int
	MaxText int
}

type frame struct {
	obj   Object
	names map[string]bool
	index int // row number from 0; -1 for the root
	env   map[string]any
	links map[string]map[string]any
}

type evaluator struct {
	ctx      context.Context
	o        Options
	frames   []*frame
	rows     int
	bytes    int
	steps    int
	conds    map[*If]*expr.Program
	currency string
	pending  strings.Builder // inline content between blocks
	doc      *Document
}

func newEvaluator(ctx context.Context, root Object, o Options) (*evaluator, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Location == nil {
		o.Location = expr.DefaultLocation()
	}
	if o.MaxRows <= 0 {
		o.MaxRows = DefaultMaxRows
	}
	if o.MaxText <= 0 {
		o.MaxText = DefaultMaxText
	}
	e := &evaluator{ctx: ctx, o: o, conds: map[*If]*expr.Program{}, doc: &Document{}}
	e.push(root, -1)
	if c, err := root.Get(ctx, "currency"); err != nil {
		return nil, err
	} else if s, ok := c.(Scalar); ok {
		e.currency = s.Raw
		if e.currency == "" {
			e.currency = s.Text
		}
	}
	return e, nil
}

func (e *evaluator) push(o Object, index int) {
	names := map[string]bool{}
	for _, n := range o.Names() {
		names[n] = true
	}
	e.frames = append(e.frames, &frame{obj: o, names: names, index: index})
}

func (e *evaluator) pop() { e.frames = e.frames[:len(e.frames)-1] }

// Eval evaluates the template on a record: the document to lay out.
func (t *Template) Eval(ctx context.Context, root Object, o Options) (*Document, error) {
	e, err := newEvaluator(ctx, root, o)
	if err != nil {
		return nil, err
	}
	if err := e.walk(t.Nodes, e.blockNode); err != nil {
		return nil, err
	}
	e.flush()
	return e.doc, nil
}

// EvalInline evaluates a template of inline content (a page header or
// footer) to text; @page and @pages become PageMarker and PagesMarker.
func (t *Template) EvalInline(ctx context.Context, root Object, o Options) (string, error) {
	e, err := newEvaluator(ctx, root, o)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := e.inline(t.Nodes, &b); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// check counts a step and stops at the deadline.
func (e *evaluator) check(p Pos) error {
	e.steps++
	if e.steps%64 != 0 {
		return nil
	}
	return e.ctxErr(p)
}

func (e *evaluator) ctxErr(p Pos) error {
	if err := e.ctx.Err(); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return errAt(p, "print_timeout")
		}
		return err
	}
	return nil
}

// walk evaluates sections and hands every other node to visit.
func (e *evaluator) walk(nodes []Node, visit func(Node) error) error {
	for _, n := range nodes {
		if err := e.check(n.position()); err != nil {
			return err
		}
		switch x := n.(type) {
		case *If:
			ok, err := e.cond(x)
			if err != nil {
				return err
			}
			branch := x.Else
			if ok {
				branch = x.Then
			}
			if err := e.walk(branch, visit); err != nil {
				return err
			}
		case *Each:
			v, err := e.resolve(x.Path)
			if err != nil {
				return err
			}
			rows, _ := v.([]Object)
			for i, row := range rows {
				e.rows++
				if e.rows > e.o.MaxRows {
					return errAt(x.Pos, "print_too_many_rows", "max", e.o.MaxRows)
				}
				if err := e.ctxErr(x.Pos); err != nil {
					return err
				}
				e.push(row, i)
				err := e.walk(x.Body, visit)
				e.pop()
				if err != nil {
					return err
				}
			}
		default:
			if err := visit(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// blockNode handles a node of the document.
func (e *evaluator) blockNode(n Node) error {
	el, ok := n.(*Elem)
	if !ok || el.Tag == "br" {
		return e.inline([]Node{n}, &e.pending)
	}
	e.flush()
	switch el.Tag {
	case "h1", "h2", "h3":
		text, err := e.text(el.Kids)
		if err != nil {
			return err
		}
		align := Center
		if el.Tag != "h1" {
			align = Left
		}
		e.add(Heading{Level: int(el.Tag[1] - '0'), Align: alignOf(el, align), Text: text})
	case "p":
		text, err := e.text(el.Kids)
		if err != nil {
			return err
		}
		e.add(Paragraph{Align: alignOf(el, Left), Bold: flag(el, "bold"), Size: numAttr(el, "size"), Text: text})
	case "grid":
		g := Grid{Cols: int(numAttr(el, "cols")), Border: el.Attrs["border"], Size: numAttr(el, "size")}
		if g.Cols == 0 {
			g.Cols = 2
		}
		err := e.walk(el.Kids, func(n Node) error {
			kv, ok := n.(*Elem)
			if !ok {
				return nil // whitespace
			}
			text, err := e.text(kv.Kids)
			if err != nil {
				return err
			}
			g.Items = append(g.Items, KV{Label: kv.Attrs["label"], Value: text, Span: max(1, int(numAttr(kv, "span")))})
			return e.grow(len(kv.Attrs["label"]))
		})
		if err != nil {
			return err
		}
		e.add(g)
	case "table":
		return e.table(el)
	case "hr":
		e.add(Rule{})
	case "spacer":
		h := numAttr(el, "height")
		if h == 0 {
			h = 5
		}
		e.add(Spacer{Height: min(h, 200)})
	case "pagebreak":
		e.add(PageBreak{})
	case "signature":
		var s Signature
		err := e.walk(el.Kids, func(n Node) error {
			party, ok := n.(*Elem)
			if !ok {
				return nil
			}
			text, err := e.text(party.Kids)
			if err != nil {
				return err
			}
			s.Parties = append(s.Parties, Party{Title: party.Attrs["title"], Text: text})
			return nil
		})
		if err != nil {
			return err
		}
		e.add(s)
	}
	return nil
}

func (e *evaluator) table(el *Elem) error {
	t := Table{Border: el.Attrs["border"], Size: numAttr(el, "size")}
	if w := el.Attrs["widths"]; w != "" {
		for _, part := range strings.Split(w, ",") {
			f, _ := strconv.ParseFloat(strings.TrimSpace(part), 64)
			t.Widths = append(t.Widths, f)
		}
	}
	err := e.walk(el.Kids, func(n Node) error {
		tr, ok := n.(*Elem)
		if !ok {
			return nil
		}
		row := Row{Header: flag(tr, "header"), Bold: flag(tr, "bold")}
		allHead := true
		err := e.walk(tr.Kids, func(n Node) error {
			td, ok := n.(*Elem)
			if !ok {
				return nil
			}
			text, err := e.text(td.Kids)
			if err != nil {
				return err
			}
			_, alignSet := td.Attrs["align"]
			c := Cell{Text: text, Align: alignOf(td, Left), AlignSet: alignSet, Colspan: max(1, int(numAttr(td, "colspan"))),
				Bold: flag(td, "bold") || row.Bold, Head: td.Tag == "th", Width: numAttr(td, "width")}
			allHead = allHead && c.Head
			row.Cells = append(row.Cells, c)
			return nil
		})
		if err != nil {
			return err
		}
		if _, set := tr.Attrs["header"]; !set && len(row.Cells) > 0 && allHead && !hasBodyRows(t.Rows) {
			row.Header = true
		}
		t.Rows = append(t.Rows, row)
		return nil
	})
	if err != nil {
		return err
	}
	e.add(t)
	return nil
}

// hasBodyRows reports whether rows has a non-header row (a row of <th>
// after body rows is not repeated on every page).
func hasBodyRows(rows []Row) bool {
	return slices.ContainsFunc(rows, func(r Row) bool { return !r.Header })
}

func (e *evaluator) add(b Block) { e.doc.Blocks = append(e.doc.Blocks, b) }

// flush turns pending inline content into a paragraph.
func (e *evaluator) flush() {
	s := strings.TrimSpace(e.pending.String())
	e.pending.Reset()
	if s != "" {
		e.add(Paragraph{Text: s})
	}
}

// text evaluates inline content and trims it.
func (e *evaluator) text(nodes []Node) (string, error) {
	var b strings.Builder
	if err := e.inline(nodes, &b); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// inline writes inline content.
func (e *evaluator) inline(nodes []Node, b *strings.Builder) error {
	return e.walk(nodes, func(n Node) error {
		switch x := n.(type) {
		case *Text:
			s := normSpace(x.S)
			b.WriteString(s)
			return e.grow(len(s))
		case *Elem: // <br>
			b.WriteByte('\n')
		case *Var:
			s, err := e.value(x)
			if err != nil {
				return err
			}
			b.WriteString(s)
			return e.grow(len(s))
		}
		return nil
	})
}

func (e *evaluator) grow(n int) error {
	e.bytes += n
	if e.bytes > e.o.MaxText {
		return errAt(Pos{1, 1}, "print_too_much_text", "max", e.o.MaxText)
	}
	return nil
}

// value prints a placeholder.
func (e *evaluator) value(v *Var) (string, error) {
	x, err := e.resolve(v.Path)
	if err != nil {
		return "", err
	}
	var s Scalar
	empty := false
	switch t := x.(type) {
	case nil:
		empty = true
	case Scalar:
		s = t
	case Object:
		s = Scalar{Text: t.Title()}
	case []Object:
		s = Scalar{Kind: KNumber, Num: decimal.NewFromInt(int64(len(t))), Text: strconv.Itoa(len(t))}
	}
	return format(s, empty, v.Filters, e.currency), nil
}

// resolve finds a path: specials, then the innermost frame that declares
// its first name, then members of linked records.
func (e *evaluator) resolve(path []string) (any, error) {
	now := e.o.Now.In(e.o.Location)
	switch path[0] {
	case "@index":
		for i := len(e.frames) - 1; i >= 0; i-- {
			if f := e.frames[i]; f.index >= 0 {
				return Scalar{Kind: KNumber, Num: decimal.NewFromInt(int64(f.index + 1)), Text: strconv.Itoa(f.index + 1)}, nil
			}
		}
		return nil, nil
	case "@page":
		return Scalar{Text: PageMarker}, nil
	case "@pages":
		return Scalar{Text: PagesMarker}, nil
	case "@today":
		d := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, e.o.Location)
		return Scalar{Kind: KDate, Time: d, Text: d.Format(time.DateOnly)}, nil
	case "@now":
		return Scalar{Kind: KDateTime, Time: now, Text: now.Format("2006-01-02 15:04")}, nil
	case "@printer":
		return Scalar{Text: e.o.Printer}, nil
	}
	var cur any
	for i := len(e.frames) - 1; i >= 0; i-- {
		if f := e.frames[i]; f.names[path[0]] {
			v, err := f.obj.Get(e.ctx, path[0])
			if err != nil {
				return nil, err
			}
			cur = v
			break
		}
	}
	for _, name := range path[1:] {
		o, ok := cur.(Object)
		if !ok {
			return nil, nil
		}
		v, err := o.Get(e.ctx, name)
		if err != nil {
			return nil, err
		}
		cur = v
	}
	return cur, nil
}

// cond evaluates a section's condition with the variables in scope.
func (e *evaluator) cond(n *If) (bool, error) {
	prog, ok := e.conds[n]
	if !ok {
		var err error
		prog, err = compileCond(n, e.scopeNames())
		if err != nil {
			return false, err
		}
		e.conds[n] = prog
	}
	vars := map[string]any{}
	for _, f := range e.frames {
		if f.env == nil {
			env, err := f.obj.Env(e.ctx)
			if err != nil {
				return false, err
			}
			f.env = env
		}
		for k, v := range f.env {
			vars[k] = v
		}
		if f.index >= 0 {
			vars["index"] = int64(f.index + 1)
		}
	}
	for _, p := range prog.Paths() {
		head, _, _ := strings.Cut(p, ".")
		if _, isMap := vars[head].(map[string]any); isMap {
			continue
		}
		v, err := e.resolve([]string{head})
		if err != nil {
			return false, err
		}
		if o, ok := v.(Object); ok {
			env, err := o.Env(e.ctx)
			if err != nil {
				return false, err
			}
			vars[head] = env
		}
	}
	ok, err := prog.RunBool(vars)
	if err != nil {
		return false, errAt(n.CondPos, "print_err_condition", "reason", reasonOf(err))
	}
	return ok, nil
}

func (e *evaluator) scopeNames() []string {
	seen := map[string]bool{"index": true}
	for _, f := range e.frames {
		for n := range f.names {
			seen[n] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	return out
}

func compileCond(n *If, names []string) (*expr.Program, error) {
	prog, err := expr.CompileProgram(n.Cond, names)
	if err != nil {
		return nil, errAt(n.CondPos, "print_err_condition", "reason", reasonOf(err))
	}
	return prog, nil
}

func reasonOf(err error) string {
	if ae, ok := apperr.As(err); ok {
		if r, ok := ae.Args["reason"].(string); ok {
			return r
		}
		return ae.Code
	}
	return err.Error()
}

func alignOf(el *Elem, def Align) Align {
	switch el.Attrs["align"] {
	case "left":
		return Left
	case "center":
		return Center
	case "right":
		return Right
	}
	return def
}

func flag(el *Elem, name string) bool { return el.Attrs[name] == "true" }

func numAttr(el *Elem, name string) float64 {
	f, _ := strconv.ParseFloat(el.Attrs[name], 64)
	return f
}

// normSpace folds the layout whitespace of template text: a run of
// spaces becomes one space; a run with a line break disappears between
// two wide (CJK) characters and becomes one space otherwise.
func normSpace(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	var b strings.Builder
	var prev rune
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r != ' ' && r != '\t' && r != '\r' && r != '\n' {
			b.WriteRune(r)
			prev = r
			i += size
			continue
		}
		j, newline := i, false
		for j < len(s) && strings.IndexByte(" \t\r\n", s[j]) >= 0 {
			newline = newline || s[j] == '\n'
			j++
		}
		next, _ := utf8.DecodeRuneInString(s[j:])
		if !(newline && wide(prev) && wide(next)) {
			b.WriteByte(' ')
		}
		i = j
	}
	return b.String()
}

func wide(r rune) bool { return r >= 0x2E80 && !unicode.IsSpace(r) }
