package lang

import "fmt"

// Pos is a place in the source: 1-based line and column (in characters).
type Pos struct{ Line, Col int }

// Node is a node of a parsed template.
type Node interface{ position() Pos }

// Text is literal text (entities decoded, whitespace as written).
type Text struct {
	Pos
	S string
}

// Var is a placeholder {{path | filter:arg ...}}.
type Var struct {
	Pos
	Path    []string
	Filters []Filter
}

// Filter is one format step of a placeholder.
type Filter struct {
	Name   string
	Arg    string
	HasArg bool
}

// Each repeats Body for every row of the list at Path.
type Each struct {
	Pos
	Path []string
	Body []Node
}

// If chooses Then or Else by the condition Cond (an expression of package
// expr).
type If struct {
	Pos
	Cond string
	// CondPos is where the condition's text starts (for its errors).
	CondPos Pos
	Then    []Node
	Else    []Node
}

// Elem is a layout element <tag attr="...">…</tag>.
type Elem struct {
	Pos
	Tag   string
	Attrs map[string]string
	Kids  []Node
}

func (n *Text) position() Pos { return n.Pos }
func (n *Var) position() Pos  { return n.Pos }
func (n *Each) position() Pos { return n.Pos }
func (n *If) position() Pos   { return n.Pos }
func (n *Elem) position() Pos { return n.Pos }

// Error is a template error at a place of the source. Code is a message
// code (package i18n, prefix print_) and Args its arguments.
type Error struct {
	Pos
	Code string
	Args []any
}

func (e *Error) Error() string {
	return fmt.Sprintf("line %d, column %d: %s %v", e.Line, e.Col, e.Code, e.Args)
}

func errAt(p Pos, code string, args ...any) *Error { return &Error{Pos: p, Code: code, Args: args} }
