package rules

import (
	"sort"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/expr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// systemFields are the fields every record has besides its entity's.
var systemFields = []string{"id", "version", "created_at", "updated_at", "created_by", "owner"}

// userKeys are what a condition may read of the acting user.
var userKeys = []string{"id", "login", "name", "department", "regions", "roles"}

// program is one compiled expression of a rule: its condition, a mapping
// expression, a when of a by_rule assignment, or a {{part}} of a template.
type program struct {
	src  string
	prog *expr.Program
	// cost is the static cost counted against Limits.MaxExprCost; a run
	// charges it, plus the size of what it reads, to the step budget.
	cost int
	refs []string
	// links are the link fields read through (account.grade), with what
	// is read through them in turn (account.owner.login).
	links map[string]*linkNode
}

// linkNode is a link field whose linked record an expression reads: its
// target entity, and the links of that record read in turn.
type linkNode struct {
	target   string
	children map[string]*linkNode
}

// compiler compiles the expressions of one rule against its entity,
// collecting field errors and the rule's total cost.
type compiler struct {
	e      *Engine
	ent    *meta.Entity
	limits Limits
	total  int
	errs   []apperr.FieldError
}

// vars are the names an expression of the rule may use: the entity's
// fields, the system fields, and user, old and payload (plus target in an
// update_linked mapping).
func (c *compiler) vars(extra ...string) []string {
	out := make([]string, 0, len(c.ent.Fields)+len(systemFields)+4)
	for i := range c.ent.Fields {
		out = append(out, c.ent.Fields[i].Name)
	}
	out = append(out, systemFields...)
	out = append(out, "user", "old", "payload")
	return append(out, extra...)
}

// compile compiles src found at path (a field name of the rule, e.g.
// "condition" or "actions[2].expressions.title"). target is the entity of
// the "target" variable (update_linked), or nil. On failure it records a
// field error and returns nil.
func (c *compiler) compile(path, src string, target *meta.Entity) *program {
	lim := c.limits
	if len(src) > lim.MaxExprBytes {
		c.errs = append(c.errs, apperr.Field(path, "rule_expression_too_large", "max", lim.MaxExprBytes, "nodes", lim.MaxExprNodes))
		return nil
	}
	var extra []string
	if target != nil {
		extra = append(extra, "target")
	}
	p, err := expr.CompileProgramWith(src, c.vars(extra...), expr.Options{Now: c.e.now, MaxBytes: lim.MaxExprBytes,
		MaxNodes: lim.MaxExprNodes, MemoryBudget: lim.MemoryBudget})
	if err != nil {
		ae, ok := apperr.As(err)
		if !ok {
			c.errs = append(c.errs, apperr.Field(path, "bad_expression", "reason", "the expression is not valid"))
			return nil
		}
		if reason, _ := ae.Args["reason"].(string); strings.Contains(reason, "too large") {
			c.errs = append(c.errs, apperr.Field(path, "rule_expression_too_large", "max", lim.MaxExprBytes, "nodes", lim.MaxExprNodes))
			return nil
		}
		c.errs = append(c.errs, apperr.FieldError{Field: path, Code: ae.Code, Args: ae.Args})
		return nil
	}
	tree, err := parser.Parse(src)
	if err != nil { // cannot happen: it compiled
		c.errs = append(c.errs, apperr.Field(path, "bad_expression", "reason", "the expression is not valid"))
		return nil
	}
	prog := &program{src: src, prog: p, refs: p.Refs(), links: map[string]*linkNode{}}
	cv := &costVisitor{}
	ast.Walk(&tree.Node, cv)
	prog.cost = cv.cost
	for _, path2 := range p.Paths() {
		if fe := c.path(prog, path2, target); fe != nil {
			fe.Field = path
			c.errs = append(c.errs, *fe)
			return nil
		}
	}
	prog.cost += lim.LinkCost * countLinks(prog.links)
	if prog.cost > lim.MaxExprCost {
		c.errs = append(c.errs, apperr.Field(path, "rule_expression_too_costly", "cost", prog.cost, "max", lim.MaxExprCost))
		return nil
	}
	c.total += prog.cost
	return prog
}

// countLinks counts the linked records an evaluation may fetch.
func countLinks(m map[string]*linkNode) int {
	n := 0
	for _, l := range m {
		n += 1 + countLinks(l.children)
	}
	return n
}

// linkTarget is the entity a link-like field points to ("" for other
// fields; multi_link is not followed by paths).
func linkTarget(name string, e *meta.Entity) string {
	if name == "owner" || name == "created_by" {
		return "users"
	}
	f := e.Field(name)
	if f == nil {
		return ""
	}
	switch f.Type {
	case "link":
		return f.Target
	case "user":
		return "users"
	case "department":
		return "departments"
	}
	return ""
}

// hasField reports whether name is a field or system field of e.
func hasField(e *meta.Entity, name string) bool {
	return e.Field(name) != nil || containsStr(systemFields, name)
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// path checks one dotted path an expression reads and records the links
// it goes through. It returns a field error (without its field) when the
// path cannot be read.
func (c *compiler) path(prog *program, path string, target *meta.Entity) *apperr.FieldError {
	parts := strings.Split(path, ".")
	if len(parts) < 2 {
		return nil
	}
	bad := func(reason string) *apperr.FieldError {
		fe := apperr.Field("", "rule_path_invalid", "path", path, "reason", reason)
		return &fe
	}
	head := parts[0]
	switch head {
	case "user":
		if len(parts) > 2 || !containsStr(userKeys, parts[1]) {
			return bad("the user has " + strings.Join(userKeys, ", "))
		}
		return nil
	case "old":
		if len(parts) > 2 || !hasField(c.ent, parts[1]) {
			return bad("old has the fields of " + c.ent.Name + " (links are not followed)")
		}
		return nil
	case "payload":
		return nil
	case "target":
		if target == nil {
			return nil // not a variable here: the compiler refused it already
		}
		if len(parts) > 2 || !hasField(target, parts[1]) {
			return bad("target has the fields of " + target.Name + " (links are not followed)")
		}
		return nil
	}
	if f := c.ent.Field(head); f != nil {
		switch f.Type {
		case "json", "address", "geo":
			return nil // a JSON value: any member, nil when absent
		}
	}
	nodes := prog.links
	ent := c.ent
	for i := 0; i < len(parts)-1; i++ {
		name := parts[i]
		tgt := linkTarget(name, ent)
		if tgt == "" {
			return bad(name + " is not a link field of " + ent.Name)
		}
		te, ok := c.e.recs.Registry().Get(tgt)
		if !ok {
			return bad("the entity " + tgt + " does not exist")
		}
		if i >= c.limits.MaxLinkDepth {
			return bad("links are followed at most " + strconv.Itoa(c.limits.MaxLinkDepth) + " deep")
		}
		n := nodes[name]
		if n == nil {
			n = &linkNode{target: tgt, children: map[string]*linkNode{}}
			nodes[name] = n
		}
		if !hasField(te, parts[i+1]) {
			return bad(tgt + " has no field " + parts[i+1])
		}
		nodes, ent = n.children, te
	}
	return nil
}

// costVisitor computes the static cost of an expression: one per node,
// more for calls and for operators that scan a text or a list (their time
// grows with the value), and a list literal's elements.
type costVisitor struct{ cost int }

func (v *costVisitor) Visit(node *ast.Node) {
	v.cost++
	switch n := (*node).(type) {
	case *ast.CallNode:
		v.cost += 4
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			switch id.Value {
			case "upper", "lower", "trim", "string", "len", "min", "max":
				v.cost += 8
			}
		}
	case *ast.BuiltinNode: // parsed without the engine's configuration, upper() and len() are builtins
		v.cost += 4
		switch n.Name {
		case "upper", "lower", "trim", "string", "len", "min", "max":
			v.cost += 8
		}
	case *ast.BinaryNode:
		switch n.Operator {
		case "contains", "startsWith", "endsWith", "in", "not in":
			v.cost += 8
		}
	case *ast.ArrayNode:
		v.cost += len(n.Nodes)
	}
}

// template is a text with {{ expression }} parts (notification titles and
// bodies, task titles).
type template struct {
	src   string
	parts []templatePart
}

type templatePart struct {
	text string
	prog *program
}

// compileTemplate splits src into text and {{ expression }} parts and
// compiles the expressions.
func (c *compiler) compileTemplate(path, src string) *template {
	t := &template{src: src}
	rest := src
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				t.parts = append(t.parts, templatePart{text: rest})
			}
			return t
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			c.errs = append(c.errs, apperr.Field(path, "rule_template_invalid", "reason", "{{ without }}"))
			return nil
		}
		if i > 0 {
			t.parts = append(t.parts, templatePart{text: rest[:i]})
		}
		inner := strings.TrimSpace(rest[i+2 : i+j])
		p := c.compile(path, inner, nil)
		if p == nil {
			return nil
		}
		t.parts = append(t.parts, templatePart{prog: p})
		rest = rest[i+j+2:]
	}
}

// programs lists a template's expressions.
func (t *template) programs() []*program {
	if t == nil {
		return nil
	}
	var out []*program
	for _, p := range t.parts {
		if p.prog != nil {
			out = append(out, p.prog)
		}
	}
	return out
}

// sortedKeys returns a map's keys in order (mappings are applied and
// reported in field order).
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
