package expr

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
)

// ValueKind is how a column compares.
type ValueKind int

const (
	KText     ValueKind = iota // text, email, phone, url, select, barcode...
	KInt                       // integer, rating
	KDecimal                   // decimal, money, percent (Param converts a literal to the stored form)
	KBool                      // boolean
	KDate                      // "YYYY-MM-DD"
	KDateTime                  // RFC 3339
	KTime                      // "HH:MM[:SS]"
	KID                        // a link/user/department id (int64); literals may be numbers or numeric strings
	KTextList                  // JSON array of strings (multi_select, tags): supports `x in list`, `list contains x`
	KIDList                    // JSON array of ids (multi_link)
	KJSON                      // not comparable; only == nil / != nil
)

// String names the kind (for messages and tests).
func (k ValueKind) String() string {
	switch k {
	case KText:
		return "text"
	case KInt:
		return "integer"
	case KDecimal:
		return "decimal"
	case KBool:
		return "boolean"
	case KDate:
		return "date"
	case KDateTime:
		return "datetime"
	case KTime:
		return "time"
	case KID:
		return "id"
	case KTextList:
		return "text list"
	case KIDList:
		return "id list"
	case KJSON:
		return "json"
	}
	return "unknown"
}

// Column describes one filterable field to the compiler.
type Column struct {
	SQL  string // SQL expression, e.g. `t."amount"`
	Kind ValueKind
	// Param converts an expression literal (string, int, float64, bool,
	// decimal.Decimal) or a value returned by Env.Func to the bound SQL
	// value; a wrong type → error. For KDecimal columns a float literal is
	// handed over as an exact decimal.Decimal built from its source text.
	// For KTextList/KIDList columns Param converts one element.
	// nil = the default conversion of Normalize for the column's kind.
	Param func(v any) (any, error)
}

// Env resolves names for one query. Implemented by the records service.
type Env interface {
	Dialect() db.Dialect
	// Column resolves a field of the current entity. Unknown fields, and
	// fields the caller may not read, both return an error built with
	// apperr.Invalid("unknown_field", "field", name) — the two must be
	// indistinguishable.
	Column(name string) (Column, error)
	// Link resolves a link field for a dotted path (account.region): it
	// returns the Env of the target entity and a function that wraps a
	// predicate over the target (written with the target Env's column SQL)
	// into a predicate over the current row. The wrapper may contain '?'
	// placeholders of its own, before and/or after pred, whose args it
	// returns in order; Compile works out where pred's args go.
	Link(name string) (target Env, wrap func(pred string) (string, []any), err error)
	// Func evaluates an allow-listed function at compile time (me(),
	// today(), now(), my_department(), days_ago(n)...). Unknown → error.
	Func(name string, args []any) (any, error)
}

// Limits of a filter.
const (
	MaxFilterBytes = 4096 // source length
	MaxFilterNodes = 200  // AST nodes; the elements of a literal list count as one node
	MaxLinkDepth   = 3    // a.b.c.d is three links deep
	MaxInList      = 1000 // items of a literal list
)

// Compile turns src into an SQL boolean expression with '?' placeholders
// and its args. The result is fully parenthesised and never NULL-sensitive:
// it evaluates like the expression would in Go (see the package doc).
func Compile(src string, env Env) (sql string, args []any, err error) {
	if len(src) > MaxFilterBytes {
		return "", nil, tooComplex("the filter is too long")
	}
	if strings.TrimSpace(src) == "" {
		return "", nil, badFilter("the filter is empty")
	}
	cfg := conf.CreateNew()
	for name := range cfg.Builtins {
		cfg.Disabled[name] = true
	}
	cfg.MaxNodes = 4 * MaxFilterBytes // the real limit is counted below
	tree, perr := parser.ParseWithConfig(src, cfg)
	if perr != nil {
		return "", nil, syntaxError("bad_filter", perr)
	}
	if n := countNodes(tree.Node, MaxFilterNodes+1); n > MaxFilterNodes {
		return "", nil, tooComplex("the filter has too many parts")
	}
	c := &filterCompiler{root: env, src: []rune(src)}
	p, err := c.pred(env, tree.Node, false)
	if err != nil {
		return "", nil, err
	}
	return p.sql, p.args, nil
}

func badFilter(reason string, kv ...any) error {
	return apperr.Invalid("bad_filter", append([]any{"reason", reason}, kv...)...)
}

func tooComplex(reason string) error {
	return apperr.Invalid("filter_too_complex", "reason", reason)
}

// syntaxError turns a parser error into an apperr without the source
// snippet the parser appends.
func syntaxError(code string, err error) error {
	var fe *file.Error
	if errors.As(err, &fe) {
		return apperr.Invalid(code, "reason", "syntax error: "+fe.Message, "position", fe.From)
	}
	return apperr.Invalid(code, "reason", "syntax error")
}

// countNodes counts AST nodes, stopping once limit is reached.
func countNodes(n ast.Node, limit int) int {
	count := 0
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		if n == nil || count >= limit {
			return
		}
		count++
		switch n := n.(type) {
		case *ast.UnaryNode:
			walk(n.Node)
		case *ast.BinaryNode:
			walk(n.Left)
			walk(n.Right)
		case *ast.ChainNode:
			walk(n.Node)
		case *ast.MemberNode:
			walk(n.Node)
			walk(n.Property)
		case *ast.SliceNode:
			walk(n.Node)
			walk(n.From)
			walk(n.To)
		case *ast.CallNode:
			walk(n.Callee)
			for _, a := range n.Arguments {
				walk(a)
			}
		case *ast.BuiltinNode:
			for _, a := range n.Arguments {
				walk(a)
			}
		case *ast.PredicateNode:
			walk(n.Node)
		case *ast.VariableDeclaratorNode:
			walk(n.Value)
			walk(n.Expr)
		case *ast.SequenceNode:
			for _, a := range n.Nodes {
				walk(a)
			}
		case *ast.ConditionalNode:
			walk(n.Cond)
			walk(n.Exp1)
			walk(n.Exp2)
		case *ast.ArrayNode:
			// A literal list counts as one node; MaxInList bounds it.
			// Anything but literals in it is refused by the compiler.
		case *ast.MapNode:
			for _, a := range n.Pairs {
				walk(a)
			}
		case *ast.PairNode:
			walk(n.Key)
			walk(n.Value)
		}
	}
	walk(n)
	return count
}

type filterCompiler struct {
	root Env
	src  []rune
}

type fragment struct {
	sql  string
	args []any
}

func constant(b bool) fragment {
	if b {
		return fragment{sql: "(1=1)"}
	}
	return fragment{sql: "(1=0)"}
}

// pred compiles a condition; neg asks for its negation. Negation is pushed
// down to the leaves, where it is compiled with explicit NULL handling, so
// the output contains no NOT that could meet a NULL.
func (c *filterCompiler) pred(env Env, n ast.Node, neg bool) (fragment, error) {
	switch n := n.(type) {
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "and", "||", "or":
			isAnd := n.Operator == "&&" || n.Operator == "and"
			if neg {
				isAnd = !isAnd
			}
			l, err := c.pred(env, n.Left, neg)
			if err != nil {
				return fragment{}, err
			}
			r, err := c.pred(env, n.Right, neg)
			if err != nil {
				return fragment{}, err
			}
			join := " OR "
			if isAnd {
				join = " AND "
			}
			return fragment{sql: "(" + l.sql + join + r.sql + ")", args: append(l.args, r.args...)}, nil
		case "==", "!=", "<", "<=", ">", ">=", "in", "contains", "startsWith", "endsWith":
			return c.comparison(env, n, neg)
		case "matches":
			return fragment{}, badFilter("regular expressions are not supported in filters")
		case "+", "-", "*", "/", "%", "**", "^", "..":
			return fragment{}, badFilter("arithmetic is not supported in filters")
		case "??":
			return fragment{}, badFilter("the ?? operator is not supported in filters")
		case "|":
			return fragment{}, badFilter("pipes are not supported in filters")
		}
		return fragment{}, badFilter("operator " + n.Operator + " is not supported in filters")
	case *ast.UnaryNode:
		if n.Operator == "!" || n.Operator == "not" {
			return c.pred(env, n.Node, !neg)
		}
		return fragment{}, badFilter("a number is not a condition")
	case *ast.BoolNode:
		return constant(n.Value != neg), nil
	case *ast.IdentifierNode, *ast.MemberNode:
		path, ok, err := fieldPath(n)
		if err != nil {
			return fragment{}, err
		}
		if !ok {
			return fragment{}, badFilter("only fields and links can be used with '.'")
		}
		return c.leafPath(env, path, leaf{op: opBare, field: strings.Join(path, ".")}, neg)
	case *ast.CallNode:
		v, err := c.value(n)
		if err != nil {
			return fragment{}, err
		}
		if b, ok := v.v.(bool); ok && !v.isList {
			return constant(b != neg), nil
		}
		return fragment{}, badFilter("a function result is not a condition")
	}
	return fragment{}, unsupported(n)
}

// unsupported explains why a node kind is refused.
func unsupported(n ast.Node) error {
	switch n := n.(type) {
	case *ast.NilNode:
		return badFilter("nil is not a condition")
	case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BytesNode, *ast.ConstantNode:
		return badFilter("a value is not a condition")
	case *ast.ArrayNode:
		return badFilter("a list is not a condition")
	case *ast.BinaryNode:
		switch n.Operator {
		case "+", "-", "*", "/", "%", "**", "^":
			return badFilter("arithmetic is not supported in filters")
		case "..":
			return badFilter("ranges are not supported in filters")
		case "??":
			return badFilter("the ?? operator is not supported in filters")
		}
		return badFilter("a condition cannot be used as a value")
	case *ast.ConditionalNode:
		return badFilter("conditional expressions are not supported in filters")
	case *ast.BuiltinNode:
		return badFilter("function " + n.Name + " is not supported in filters")
	case *ast.ChainNode:
		return badFilter("optional chaining (?.) is not supported in filters")
	case *ast.PredicateNode, *ast.PointerNode:
		return badFilter("closures are not supported in filters")
	case *ast.VariableDeclaratorNode:
		return badFilter("variables are not supported in filters")
	case *ast.SequenceNode:
		return badFilter("sequences (;) are not supported in filters")
	case *ast.MapNode, *ast.PairNode:
		return badFilter("maps are not supported in filters")
	case *ast.SliceNode:
		return badFilter("slices are not supported in filters")
	}
	return badFilter("unsupported expression")
}

// fieldPath recognises a field (ident) or a link path (ident.ident...).
// ok is false for anything that is not shaped like a path.
func fieldPath(n ast.Node) (path []string, ok bool, err error) {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		if n.Value == "$env" {
			return nil, false, badFilter("$env is not supported in filters")
		}
		return []string{n.Value}, true, nil
	case *ast.MemberNode:
		if n.Optional {
			return nil, false, badFilter("optional chaining (?.) is not supported in filters")
		}
		if n.Method {
			return nil, false, badFilter("method calls are not supported in filters")
		}
		prop, isStr := n.Property.(*ast.StringNode)
		if !isStr {
			return nil, false, badFilter("indexing is not supported in filters")
		}
		base, ok, err := fieldPath(n.Node)
		if err != nil || !ok {
			return nil, false, err
		}
		if len(base) > MaxLinkDepth {
			return nil, false, tooComplex("links are nested too deeply")
		}
		return append(base, prop.Value), true, nil
	case *ast.ChainNode:
		return nil, false, badFilter("optional chaining (?.) is not supported in filters")
	}
	return nil, false, nil
}

// value is a compile-time value: a literal, a literal list, or a function
// result.
type value struct {
	v       any
	isFloat bool   // v is a float64 literal; text is its source
	text    string // source text of a float literal (underscores removed)
	isList  bool
	list    []value
}

func (c *filterCompiler) value(n ast.Node) (value, error) {
	switch n := n.(type) {
	case *ast.StringNode:
		return value{v: n.Value}, nil
	case *ast.IntegerNode:
		return value{v: n.Value}, nil
	case *ast.FloatNode:
		return value{v: n.Value, isFloat: true, text: c.floatText(n)}, nil
	case *ast.BoolNode:
		return value{v: n.Value}, nil
	case *ast.NilNode:
		return value{}, nil
	case *ast.UnaryNode:
		if n.Operator == "-" || n.Operator == "+" {
			inner, err := c.value(n.Node)
			if err != nil {
				return value{}, err
			}
			if n.Operator == "+" {
				switch inner.v.(type) {
				case int, float64:
					return inner, nil
				}
				return value{}, badFilter("unary + needs a number")
			}
			switch x := inner.v.(type) {
			case int:
				if x == -x && x != 0 {
					return value{}, badFilter("number out of range")
				}
				inner.v = -x
				return inner, nil
			case float64:
				inner.v = -x
				if strings.HasPrefix(inner.text, "-") {
					inner.text = inner.text[1:]
				} else {
					inner.text = "-" + inner.text
				}
				return inner, nil
			}
			return value{}, badFilter("unary - needs a number")
		}
		return value{}, badFilter("a condition cannot be used as a value")
	case *ast.ArrayNode:
		if len(n.Nodes) > MaxInList {
			return value{}, tooComplex("the list has too many items")
		}
		out := value{isList: true, list: make([]value, 0, len(n.Nodes))}
		for _, e := range n.Nodes {
			if _, isCall := e.(*ast.CallNode); isCall {
				return value{}, badFilter("list items must be literals")
			}
			ev, err := c.value(e)
			if err != nil {
				return value{}, err
			}
			if ev.isList {
				return value{}, badFilter("lists cannot be nested")
			}
			out.list = append(out.list, ev)
		}
		return out, nil
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok {
			return value{}, badFilter("method calls are not supported in filters")
		}
		args := make([]any, 0, len(n.Arguments))
		for _, a := range n.Arguments {
			if _, isCall := a.(*ast.CallNode); isCall {
				return value{}, badFilter("function arguments must be literals")
			}
			av, err := c.value(a)
			if err != nil {
				return value{}, err
			}
			if av.isList {
				return value{}, badFilter("function arguments must be single values")
			}
			args = append(args, av.v)
		}
		res, err := c.root.Func(id.Value, args)
		if err != nil {
			if _, ok := apperr.As(err); ok {
				return value{}, err
			}
			return value{}, fmt.Errorf("expr: function %s: %w", id.Value, err)
		}
		return funcValue(res), nil
	case *ast.IdentifierNode, *ast.MemberNode:
		return value{}, badFilter("a field cannot be used here; only literals and functions can")
	}
	return value{}, unsupported(n)
}

// funcValue wraps a function result; slices become lists.
func funcValue(res any) value {
	if res == nil {
		return value{}
	}
	switch res.(type) {
	case string, []byte:
		return value{v: res}
	}
	rv := reflect.ValueOf(res)
	if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
		out := value{isList: true, list: make([]value, rv.Len())}
		for i := range rv.Len() {
			out.list[i] = value{v: rv.Index(i).Interface()}
		}
		return out
	}
	return value{v: res}
}

// floatText returns the source text of a float literal, so that decimals
// never go through float64.
func (c *filterCompiler) floatText(n *ast.FloatNode) string {
	return literalText(c.src, n)
}

func literalText(src []rune, n *ast.FloatNode) string {
	loc := n.Location()
	if loc.From >= 0 && loc.To <= len(src) && loc.From < loc.To {
		t := strings.ReplaceAll(string(src[loc.From:loc.To]), "_", "")
		if d, err := decimal.NewFromString(t); err == nil {
			if f, _ := d.Float64(); f == n.Value {
				return t
			}
		}
	}
	return decimal.NewFromFloat(n.Value).String()
}

// Leaf operators.
const (
	opEq   = "eq"   // ==, != (negated)
	opLt   = "<"    // ordering ops keep their symbol
	opLe   = "<="   //
	opGt   = ">"    //
	opGe   = ">="   //
	opIn   = "in"   // field in [list]
	opHas  = "has"  // x in listField, listField contains x
	opText = "text" // contains/startsWith/endsWith on a field
	opBare = "bare" // a field used as a condition
)

type leaf struct {
	op    string
	mode  string // for opText: contains, startsWith, endsWith
	val   value
	field string // the dotted path, for messages
}

// nilTruth is the leaf's (un-negated) truth when the field is nil.
func (l leaf) nilTruth() bool {
	switch l.op {
	case opEq:
		return !l.val.isList && l.val.v == nil
	case opIn:
		for _, e := range l.val.list {
			if e.v == nil {
				return true
			}
		}
	}
	return false
}

// flipOp is op with its operands swapped (5 < a is a > 5).
func flipOp(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}

func (c *filterCompiler) comparison(env Env, n *ast.BinaryNode, neg bool) (fragment, error) {
	lp, lField, err := fieldPath(n.Left)
	if err != nil {
		return fragment{}, err
	}
	rp, rField, err := fieldPath(n.Right)
	if err != nil {
		return fragment{}, err
	}
	if lField && rField {
		return fragment{}, badFilter("comparing two fields is not supported")
	}
	if !lField && !rField {
		for _, side := range []ast.Node{n.Left, n.Right} {
			if _, err := c.value(side); err != nil {
				return fragment{}, err
			}
		}
		return fragment{}, badFilter("one side of a comparison must be a field")
	}
	op := n.Operator
	path, other := lp, n.Right
	if rField {
		path, other = rp, n.Left
	}
	name := strings.Join(path, ".")
	switch op {
	case "contains", "startsWith", "endsWith":
		if !lField {
			return fragment{}, badFilter(op + " needs a field on its left")
		}
		v, err := c.value(other)
		if err != nil {
			return fragment{}, err
		}
		if v.isList || v.v == nil {
			return fragment{}, badFilter(op+" needs a single value", "field", name)
		}
		return c.leafPath(env, path, leaf{op: opText, mode: op, val: v, field: name}, neg)
	case "in":
		v, err := c.value(other)
		if err != nil {
			return fragment{}, err
		}
		if lField {
			if !v.isList {
				return fragment{}, badFilter("in needs a list", "field", name)
			}
			return c.leafPath(env, path, leaf{op: opIn, val: v, field: name}, neg)
		}
		if v.isList || v.v == nil {
			return fragment{}, badFilter("in needs a single value on its left", "field", name)
		}
		return c.leafPath(env, path, leaf{op: opHas, val: v, field: name}, neg)
	}
	if rField {
		op = flipOp(op)
	}
	v, err := c.value(other)
	if err != nil {
		return fragment{}, err
	}
	if v.isList {
		return fragment{}, badFilter("a field cannot be compared with a list; use in", "field", name)
	}
	switch op {
	case "==":
		return c.leafPath(env, path, leaf{op: opEq, val: v, field: name}, neg)
	case "!=":
		return c.leafPath(env, path, leaf{op: opEq, val: v, field: name}, !neg)
	}
	if v.v == nil {
		return fragment{}, badFilter("nil can only be compared with == or !=", "field", name)
	}
	return c.leafPath(env, path, leaf{op: op, val: v, field: name}, neg)
}

// leafPath compiles a leaf over a field path, going through links.
//
// A link path reads as the linked record's field, or nil when there is no
// (visible) linked record. When the leaf is true for nil, the link is
// compiled as "no linked record where the negated leaf holds".
func (c *filterCompiler) leafPath(env Env, path []string, l leaf, neg bool) (fragment, error) {
	if len(path) == 1 {
		col, err := env.Column(path[0])
		if err != nil {
			return fragment{}, err
		}
		return c.leafSQL(env.Dialect(), col, l, neg)
	}
	target, wrap, err := env.Link(path[0])
	if err != nil {
		return fragment{}, err
	}
	matchesNil := l.nilTruth() != neg
	inner, err := c.leafPath(target, path[1:], l, neg != matchesNil)
	if err != nil {
		return fragment{}, err
	}
	w, err := wrapLink(wrap, inner)
	if err != nil {
		return fragment{}, err
	}
	if matchesNil {
		w.sql = "(NOT COALESCE(" + w.sql + ", FALSE))"
	}
	return w, nil
}

// predMarker stands for the predicate while the wrapper's own placeholders
// are located.
const predMarker = "\x00tenon-expr-pred\x00"

func wrapLink(wrap func(string) (string, []any), inner fragment) (fragment, error) {
	out, wargs := wrap(predMarker)
	if strings.Count(out, predMarker) != 1 {
		return fragment{}, errors.New("expr: link wrapper must include the predicate exactly once")
	}
	i := strings.Index(out, predMarker)
	pre, post := out[:i], out[i+len(predMarker):]
	nPre := countPlaceholders(pre)
	if nPre+countPlaceholders(post) != len(wargs) {
		return fragment{}, errors.New("expr: link wrapper returned the wrong number of args")
	}
	args := make([]any, 0, len(wargs)+len(inner.args))
	args = append(args, wargs[:nPre]...)
	args = append(args, inner.args...)
	args = append(args, wargs[nPre:]...)
	return fragment{sql: "(" + pre + inner.sql + post + ")", args: args}, nil
}

// countPlaceholders counts '?' outside quoted strings and identifiers, the
// way db.Dialect.Rebind sees them.
func countPlaceholders(q string) int {
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		ch := q[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
		case ch == '\'' || ch == '"':
			quote = ch
		case ch == '?':
			n++
		}
	}
	return n
}

// complementOp is the ordering operator true exactly when op is false.
func complementOp(op string) string {
	switch op {
	case "<":
		return ">="
	case "<=":
		return ">"
	case ">":
		return "<="
	}
	return "<"
}

func ordered(k ValueKind) bool {
	switch k {
	case KInt, KDecimal, KDate, KDateTime, KTime, KText:
		return true
	}
	return false
}

func isList(k ValueKind) bool { return k == KTextList || k == KIDList }

// leafSQL compiles one leaf over one column. Every result is TRUE or FALSE
// (never NULL) where it matters: a negated leaf says explicitly what a NULL
// column does.
func (c *filterCompiler) leafSQL(d db.Dialect, col Column, l leaf, neg bool) (fragment, error) {
	name := l.field
	switch l.op {
	case opBare:
		if col.Kind != KBool {
			return fragment{}, badFilter("the field is not a condition; compare it with a value", "field", name)
		}
		l = leaf{op: opEq, val: value{v: true}, field: name}
		fallthrough
	case opEq:
		if l.val.v == nil {
			if neg {
				return fragment{sql: "(" + col.SQL + " IS NOT NULL)"}, nil
			}
			return fragment{sql: "(" + col.SQL + " IS NULL)"}, nil
		}
		if isList(col.Kind) {
			return fragment{}, badFilter("a list field can only be compared with nil; use contains or in", "field", name)
		}
		if col.Kind == KJSON {
			return fragment{}, badFilter("the field can only be compared with nil", "field", name)
		}
		p, err := c.bind(d, col, col.Kind, l.val, name)
		if err != nil {
			return fragment{}, err
		}
		if neg {
			return fragment{sql: "(" + col.SQL + " IS NULL OR " + col.SQL + " <> ?)", args: []any{p}}, nil
		}
		return fragment{sql: "(" + col.SQL + " = ?)", args: []any{p}}, nil
	case opLt, opLe, opGt, opGe:
		if !ordered(col.Kind) {
			return fragment{}, badFilter("the field cannot be compared with "+l.op, "field", name)
		}
		p, err := c.bind(d, col, col.Kind, l.val, name)
		if err != nil {
			return fragment{}, err
		}
		if neg {
			return fragment{sql: "(" + col.SQL + " IS NULL OR " + col.SQL + " " + complementOp(l.op) + " ?)", args: []any{p}}, nil
		}
		return fragment{sql: "(" + col.SQL + " " + l.op + " ?)", args: []any{p}}, nil
	case opIn:
		if isList(col.Kind) || col.Kind == KJSON {
			return fragment{}, badFilter("in with a list needs a single-valued field; use contains", "field", name)
		}
		hasNil := false
		args := make([]any, 0, len(l.val.list))
		for _, e := range l.val.list {
			if e.v == nil {
				hasNil = true
				continue
			}
			p, err := c.bind(d, col, col.Kind, e, name)
			if err != nil {
				return fragment{}, err
			}
			args = append(args, p)
		}
		if len(args) == 0 {
			switch {
			case !hasNil:
				return constant(neg), nil
			case neg:
				return fragment{sql: "(" + col.SQL + " IS NOT NULL)"}, nil
			default:
				return fragment{sql: "(" + col.SQL + " IS NULL)"}, nil
			}
		}
		list := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ") + ")"
		switch {
		case !neg && !hasNil:
			return fragment{sql: "(" + col.SQL + " IN " + list + ")", args: args}, nil
		case !neg && hasNil:
			return fragment{sql: "(" + col.SQL + " IS NULL OR " + col.SQL + " IN " + list + ")", args: args}, nil
		case neg && !hasNil:
			return fragment{sql: "(" + col.SQL + " IS NULL OR " + col.SQL + " NOT IN " + list + ")", args: args}, nil
		default:
			return fragment{sql: "(" + col.SQL + " IS NOT NULL AND " + col.SQL + " NOT IN " + list + ")", args: args}, nil
		}
	case opHas, opText:
		if l.op == opText && col.Kind == KText {
			s, ok := l.val.v.(string)
			if !ok {
				return fragment{}, badFilter(l.mode+" needs text", "field", name)
			}
			esc := db.LikePattern(s)
			esc = esc[1 : len(esc)-1]
			switch l.mode {
			case "startsWith":
				esc += "%"
			case "endsWith":
				esc = "%" + esc
			default:
				esc = "%" + esc + "%"
			}
			like := d.Like(col.SQL)
			if neg {
				return fragment{sql: "(" + col.SQL + " IS NULL OR NOT (" + like + "))", args: []any{esc}}, nil
			}
			return fragment{sql: "(" + like + ")", args: []any{esc}}, nil
		}
		if !isList(col.Kind) || (l.op == opText && l.mode != "contains") {
			if l.op == opHas {
				return fragment{}, badFilter("in needs a list field or a list of values", "field", name)
			}
			return fragment{}, badFilter(l.mode+" is not supported on this field", "field", name)
		}
		elem, has := KText, d.JSONArrayHas(col.SQL)
		if col.Kind == KIDList {
			elem, has = KID, d.JSONArrayHasInt(col.SQL)
		}
		p, err := c.bind(d, col, elem, l.val, name)
		if err != nil {
			return fragment{}, err
		}
		if neg {
			return fragment{sql: "(" + col.SQL + " IS NULL OR NOT (" + has + "))", args: []any{p}}, nil
		}
		return fragment{sql: "(" + has + ")", args: []any{p}}, nil
	}
	return fragment{}, badFilter("unsupported comparison", "field", name)
}

// bind converts one value for a column of kind k (the element kind for
// lists) into a bound parameter.
func (c *filterCompiler) bind(d db.Dialect, col Column, k ValueKind, v value, name string) (any, error) {
	raw := v.v
	if v.isFloat && k == KDecimal {
		dec, err := decimal.NewFromString(v.text)
		if err != nil {
			return nil, badFilter("bad number", "field", name)
		}
		raw = dec
	}
	var out any
	var err error
	if col.Param != nil {
		out, err = col.Param(raw)
	} else {
		out, err = Normalize(d, k, raw)
	}
	if err != nil {
		if _, ok := apperr.As(err); ok {
			return nil, err
		}
		return nil, badFilter(err.Error(), "field", name)
	}
	return out, nil
}
