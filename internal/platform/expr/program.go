package expr

import (
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	exprlang "github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
)

// Defaults of Options.
const (
	DefaultMaxProgramBytes = 8192
	DefaultMaxProgramNodes = 500
	DefaultMemoryBudget    = 100_000
)

// Options tune CompileProgramWith. Zero values pick the defaults.
type Options struct {
	// Now is the clock of today() and now(); default time.Now.
	Now func() time.Time
	// Location is the zone of today(), now() and of dates written as
	// "YYYY-MM-DD"; default DefaultLocation() (UTC+8, as Asia/Shanghai).
	Location *time.Location
	// MaxBytes and MaxNodes bound the source; MemoryBudget bounds what a
	// run may allocate in the VM (list literals).
	MaxBytes     int
	MaxNodes     int
	MemoryBudget uint
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = DefaultLocation()
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxProgramBytes
	}
	if o.MaxNodes <= 0 {
		o.MaxNodes = DefaultMaxProgramNodes
	}
	if o.MemoryBudget == 0 {
		o.MemoryBudget = DefaultMemoryBudget
	}
	return o
}

// Program is a compiled condition or formula. It is immutable and safe for
// concurrent use.
type Program struct {
	src    string
	prog   *vm.Program
	refs   []string
	paths  []string
	budget uint
	// vms keeps idle VMs so that a run allocates no stack: conditions are
	// evaluated per record change (rules) and must stay cheap.
	vms sync.Pool
}

// Functions lists the functions programs may call.
func Functions() []string {
	return []string{
		"abs", "add_days", "ceil", "days_between", "floor", "len", "lower", "max",
		"min", "month", "now", "round", "string", "today", "trim", "upper", "year",
	}
}

// CompileProgram checks src against the allowed names and functions, with
// default Options. vars lists the variable names available (record fields,
// plus e.g. "user" for the acting user as a map).
func CompileProgram(src string, vars []string) (*Program, error) {
	return CompileProgramWith(src, vars, Options{})
}

// Validate checks src as CompileProgram does; for saving rules and
// formulas. Errors are apperr.Invalid("bad_expression", "reason", ...).
func Validate(src string, vars []string) error {
	_, err := CompileProgram(src, vars)
	return err
}

func badExpr(reason string, kv ...any) error {
	return apperr.Invalid("bad_expression", append([]any{"reason", reason}, kv...)...)
}

// CompileProgramWith is CompileProgram with options.
func CompileProgramWith(src string, vars []string, opt Options) (*Program, error) {
	opt = opt.withDefaults()
	if len(src) > opt.MaxBytes {
		return nil, badExpr("the expression is too large")
	}
	if strings.TrimSpace(src) == "" {
		return nil, badExpr("the expression is empty")
	}
	cfg := programConfig(opt)
	tree, err := parser.ParseWithConfig(src, cfg)
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) && strings.Contains(fe.Message, "maximum allowed nodes") {
			return nil, badExpr("the expression is too large")
		}
		return nil, syntaxError("bad_expression", err)
	}
	v := &validator{vars: make(map[string]bool, len(vars)), refs: map[string]bool{}, paths: map[string]bool{}}
	for _, name := range vars {
		v.vars[name] = true
	}
	if err := v.check(tree.Node); err != nil {
		return nil, err
	}
	ast.Walk(&tree.Node, &rewriter{src: []rune(src)})
	if _, err := checker.Check(tree, cfg); err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			return nil, badExpr(strings.ReplaceAll(fe.Message, "__", ""), "position", fe.From)
		}
		return nil, badExpr("the expression is not valid")
	}
	prog, err := compiler.Compile(tree, cfg)
	if err != nil {
		return nil, badExpr("the expression is not valid")
	}
	return &Program{
		src:    src,
		prog:   prog,
		refs:   sortedKeys(v.refs),
		paths:  sortedKeys(v.paths),
		budget: opt.MemoryBudget,
	}, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// String returns the source.
func (p *Program) String() string { return p.src }

// Refs returns the variables the program reads, sorted (for dependency
// tracking of formulas). A link path account.region reads "account".
func (p *Program) Refs() []string { return slices.Clone(p.refs) }

// Paths returns the dotted paths read through records, sorted
// ("account.region", "user.department").
func (p *Program) Paths() []string { return slices.Clone(p.paths) }

// Run evaluates with the given variables. Values: string, int64, float64,
// bool, nil, decimal.Decimal, time.Time (a date is midnight in its zone),
// []any, map[string]any. A declared variable missing from vars is nil.
// A run-time failure (division by zero, a type mismatch) is
// apperr "expression_failed" (422).
func (p *Program) Run(vars map[string]any) (any, error) {
	if vars == nil {
		vars = map[string]any{}
	}
	machine, _ := p.vms.Get().(*vm.VM)
	if machine == nil {
		machine = &vm.VM{}
	}
	machine.MemoryBudget = p.budget
	out, err := machine.Run(p.prog, vars)
	// The VM resets its stack and memory count at the start of each run;
	// the values it still holds are dropped there too.
	p.vms.Put(machine)
	if err != nil {
		reason := "the expression failed"
		var fe *file.Error
		if errors.As(err, &fe) {
			reason = fe.Message
		}
		return nil, apperr.New(apperr.ErrUnprocessable, "expression_failed", "reason", reason)
	}
	return normalizeResult(out), nil
}

// RunBool is Run for conditions; a nil result is false; a non-bool is an
// error.
func (p *Program) RunBool(vars map[string]any) (bool, error) {
	out, err := p.Run(vars)
	if err != nil {
		return false, err
	}
	switch b := out.(type) {
	case nil:
		return false, nil
	case bool:
		return b, nil
	}
	return false, apperr.New(apperr.ErrUnprocessable, "expression_failed", "reason", "the condition did not give true or false")
}

func normalizeResult(v any) any {
	switch x := v.(type) {
	case nil, string, bool, int64, float64, decimal.Decimal, time.Time:
		return v
	case float32:
		return float64(x)
	}
	if n, ok := asNum(v); ok && n.k == nInt {
		return n.i
	}
	return v
}

// programConfig is the expr-lang configuration of programs: no builtins
// (so no loops), our functions, untyped variables in a map.
func programConfig(opt Options) *conf.Config {
	loc := opt.Location
	cfg := conf.CreateNew()
	options := []exprlang.Option{
		exprlang.Env(map[string]any{}),
		exprlang.AllowUndefinedVariables(), // names are checked by the validator
		exprlang.DisableAllBuiltins(),
		exprlang.MaxNodes(uint(opt.MaxNodes)),
	}
	type fn = func(params ...any) (any, error)
	var (
		f1  = new(func(any) any)
		f2  = new(func(any, any) any)
		f0  = new(func() any)
		fv  = new(func(...any) any)
		cmp = new(func(any, any) bool)
	)
	add := func(name string, f fn, types ...any) {
		options = append(options, exprlang.Function(name, f, types...))
	}
	unary := func(f func(any) (any, error)) fn {
		return func(a ...any) (any, error) { return f(a[0]) }
	}
	binary := func(f func(any, any) (any, error)) fn {
		return func(a ...any) (any, error) { return f(a[0], a[1]) }
	}
	// Operators (see rewriter).
	for _, op := range []string{"+", "-", "*", "/", "%"} {
		add(opFunc(op), binary(func(a, b any) (any, error) { return arith(op, a, b) }), f2)
	}
	add("__neg", unary(negate), f1)
	add("__pos", unary(plus), f1)
	add("__bool", unary(func(a any) (any, error) { return truth(a) }), new(func(any) bool))
	add("__get", binary(get), f2)
	add("__eq", binary(func(a, b any) (any, error) { return equal(a, b, loc), nil }), cmp)
	add("__ne", binary(func(a, b any) (any, error) { return !equal(a, b, loc), nil }), cmp)
	for _, op := range []string{"<", "<=", ">", ">="} {
		add(opFunc(op), binary(func(a, b any) (any, error) {
			if isNil(a) || isNil(b) {
				return false, nil
			}
			c, err := compare(a, b, loc)
			if err != nil {
				return nil, err
			}
			switch op {
			case "<":
				return c < 0, nil
			case "<=":
				return c <= 0, nil
			case ">":
				return c > 0, nil
			}
			return c >= 0, nil
		}), cmp)
	}
	add("__in", binary(func(a, b any) (any, error) { return member(a, b, loc) }), cmp)
	for _, op := range []string{"contains", "startsWith", "endsWith"} {
		add(opFunc(op), binary(func(a, b any) (any, error) { return textOp(op, a, b, loc) }), cmp)
	}
	// Functions.
	add("len", unary(fnLen), f1)
	add("abs", unary(fnAbs), f1)
	add("round", fnRound, f1, f2)
	add("floor", unary(func(a any) (any, error) { return fnFloorCeil("floor", a) }), f1)
	add("ceil", unary(func(a any) (any, error) { return fnFloorCeil("ceil", a) }), f1)
	add("min", func(a ...any) (any, error) { return fnMinMax("min", loc, a) }, fv)
	add("max", func(a ...any) (any, error) { return fnMinMax("max", loc, a) }, fv)
	for _, name := range []string{"upper", "lower", "trim"} {
		add(name, unary(func(a any) (any, error) { return fnText(name, a) }), f1)
	}
	add("string", unary(func(a any) (any, error) { return fnString(a, loc) }), f1)
	add("today", func(...any) (any, error) {
		y, m, d := opt.Now().In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, loc), nil
	}, f0)
	add("now", func(...any) (any, error) { return opt.Now().In(loc), nil }, f0)
	add("days_between", binary(func(a, b any) (any, error) { return fnDaysBetween(a, b, loc) }), f2)
	add("add_days", binary(func(a, b any) (any, error) { return fnAddDays(a, b, loc) }), f2)
	add("year", unary(func(a any) (any, error) { return fnDatePart("year", a, loc) }), f1)
	add("month", unary(func(a any) (any, error) { return fnDatePart("month", a, loc) }), f1)
	for _, o := range options {
		o(cfg)
	}
	for name := range cfg.Disabled {
		delete(cfg.Builtins, name)
	}
	return cfg
}

// opFunc names the function a binary operator is rewritten to.
func opFunc(op string) string {
	switch op {
	case "+":
		return "__add"
	case "-":
		return "__sub"
	case "*":
		return "__mul"
	case "/":
		return "__div"
	case "%":
		return "__mod"
	case "==":
		return "__eq"
	case "!=":
		return "__ne"
	case "<":
		return "__lt"
	case "<=":
		return "__le"
	case ">":
		return "__gt"
	case ">=":
		return "__ge"
	}
	return "__" + op // in, contains, startsWith, endsWith
}

// validator is the allow-list of program syntax.
type validator struct {
	vars  map[string]bool
	refs  map[string]bool
	paths map[string]bool
}

func (v *validator) check(n ast.Node) error {
	switch n := n.(type) {
	case *ast.NilNode, *ast.BoolNode, *ast.StringNode, *ast.IntegerNode, *ast.FloatNode:
		return nil
	case *ast.IdentifierNode:
		if !v.vars[n.Value] || strings.HasPrefix(n.Value, "$") {
			return badExpr("unknown name "+n.Value, "name", n.Value)
		}
		v.refs[n.Value] = true
		return nil
	case *ast.UnaryNode:
		switch n.Operator {
		case "!", "not", "-", "+":
			return v.check(n.Node)
		}
		return badExpr("operator " + n.Operator + " is not allowed")
	case *ast.BinaryNode:
		switch n.Operator {
		case "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=",
			"&&", "||", "and", "or", "in", "contains", "startsWith", "endsWith", "??":
		case "matches":
			return badExpr("regular expressions are not allowed")
		case "|":
			return badExpr("pipes are not allowed")
		default:
			return badExpr("operator " + n.Operator + " is not allowed")
		}
		if err := v.check(n.Left); err != nil {
			return err
		}
		return v.check(n.Right)
	case *ast.MemberNode:
		if n.Method {
			return badExpr("method calls are not allowed")
		}
		if p, ok := memberPath(n); ok {
			v.paths[p] = true
		}
		if err := v.check(n.Node); err != nil {
			return err
		}
		if _, ok := n.Property.(*ast.StringNode); ok {
			return nil
		}
		return v.check(n.Property)
	case *ast.ChainNode:
		return v.check(n.Node)
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok {
			return badExpr("method calls are not allowed")
		}
		if !slices.Contains(Functions(), id.Value) {
			return badExpr("function "+id.Value+" is not allowed", "function", id.Value)
		}
		for _, a := range n.Arguments {
			if err := v.check(a); err != nil {
				return err
			}
		}
		return nil
	case *ast.BuiltinNode:
		return badExpr("function "+n.Name+" is not allowed", "function", n.Name)
	case *ast.ConditionalNode:
		for _, c := range []ast.Node{n.Cond, n.Exp1, n.Exp2} {
			if err := v.check(c); err != nil {
				return err
			}
		}
		return nil
	case *ast.ArrayNode:
		for _, e := range n.Nodes {
			if err := v.check(e); err != nil {
				return err
			}
		}
		return nil
	case *ast.PredicateNode, *ast.PointerNode:
		return badExpr("closures are not allowed")
	case *ast.VariableDeclaratorNode:
		return badExpr("variables (let) are not allowed")
	case *ast.SequenceNode:
		return badExpr("sequences (;) are not allowed")
	case *ast.MapNode, *ast.PairNode:
		return badExpr("map literals are not allowed")
	case *ast.SliceNode:
		return badExpr("slices are not allowed")
	}
	return badExpr("this kind of expression is not allowed")
}

// memberPath is a.b.c for a chain of names.
func memberPath(n ast.Node) (string, bool) {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		return n.Value, true
	case *ast.ChainNode:
		return memberPath(n.Node)
	case *ast.MemberNode:
		prop, ok := n.Property.(*ast.StringNode)
		if !ok {
			return "", false
		}
		base, ok := memberPath(n.Node)
		return base + "." + prop.Value, ok
	}
	return "", false
}

// rewriter routes every operator of a validated tree through our
// functions: arithmetic, comparisons, membership and member access become
// calls; conditions go through __bool; number literals become int64 and
// exact decimals. Walk is post-order, so children are already rewritten.
type rewriter struct {
	src []rune
}

func call(name string, args ...ast.Node) *ast.CallNode {
	return &ast.CallNode{Callee: &ast.IdentifierNode{Value: name}, Arguments: args}
}

func (r *rewriter) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IntegerNode:
		ast.Patch(node, &ast.ConstantNode{Value: int64(n.Value)})
	case *ast.FloatNode:
		d, err := decimal.NewFromString(literalText(r.src, n))
		if err != nil {
			d = decimal.NewFromFloat(n.Value)
		}
		ast.Patch(node, &ast.ConstantNode{Value: d})
	case *ast.UnaryNode:
		switch n.Operator {
		case "-":
			ast.Patch(node, call("__neg", n.Node))
		case "+":
			ast.Patch(node, call("__pos", n.Node))
		default: // ! and not
			n.Node = call("__bool", n.Node)
		}
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "||", "and", "or":
			n.Left = asBool(n.Left)
			n.Right = asBool(n.Right)
		case "??":
		default:
			ast.Patch(node, call(opFunc(n.Operator), n.Left, n.Right))
		}
	case *ast.MemberNode:
		ast.Patch(node, call("__get", n.Node, n.Property))
	case *ast.ChainNode:
		ast.Patch(node, n.Node)
	case *ast.ConditionalNode:
		n.Cond = asBool(n.Cond)
	}
}

// asBool wraps n in __bool unless it already gives a bool (a comparison),
// which saves a call per operand of && and ||.
func asBool(n ast.Node) ast.Node {
	switch x := n.(type) {
	case *ast.BoolNode:
		return n
	case *ast.CallNode:
		if id, ok := x.Callee.(*ast.IdentifierNode); ok {
			switch id.Value { // the functions that always give a bool
			case "__bool", "__eq", "__ne", "__lt", "__le", "__gt", "__ge", "__in", "__contains", "__startsWith", "__endsWith":
				return n
			}
		}
	}
	return call("__bool", n)
}
