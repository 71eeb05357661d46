package lang

import "slices"

// Schema describes the variables of a record without values, for checking
// a template when it is saved.
type Schema interface {
	Names() []string
	// Member is the schema of a linked record (list false) or of a
	// sub-table's rows (list true); nil for a plain field.
	Member(name string) (s Schema, list bool)
}

// Check verifies a template against the schema of the entity it prints:
// every placeholder names a field (of the record, of the rows of an
// enclosing loop, or of a linked record), every loop a sub-table, every
// condition compiles. Errors are *Error with line and column.
func (t *Template) Check(root Schema) error {
	c := &checker{scopes: []checkScope{{s: root}}}
	return c.nodes(t.Nodes)
}

type checkScope struct {
	s    Schema
	loop bool
}

type checker struct{ scopes []checkScope }

func (c *checker) nodes(nodes []Node) error {
	for _, n := range nodes {
		switch x := n.(type) {
		case *Var:
			if _, _, err := c.path(x.Path, x.Pos); err != nil {
				return err
			}
		case *Each:
			s, list, err := c.path(x.Path, x.Pos)
			if err != nil {
				return err
			}
			if !list {
				return errAt(x.Pos, "print_err_not_list", "path", join(x.Path))
			}
			c.scopes = append(c.scopes, checkScope{s: s, loop: true})
			err = c.nodes(x.Body)
			c.scopes = c.scopes[:len(c.scopes)-1]
			if err != nil {
				return err
			}
		case *If:
			names := []string{"index"}
			for _, sc := range c.scopes {
				names = append(names, sc.s.Names()...)
			}
			if _, err := compileCond(x, names); err != nil {
				return err
			}
			if err := c.nodes(x.Then); err != nil {
				return err
			}
			if err := c.nodes(x.Else); err != nil {
				return err
			}
		case *Elem:
			if err := c.nodes(x.Kids); err != nil {
				return err
			}
		}
	}
	return nil
}

// path resolves a path to the schema it ends in (nil for a plain field).
func (c *checker) path(path []string, at Pos) (Schema, bool, error) {
	if specials[path[0]] {
		if path[0] == "@index" && !slices.ContainsFunc(c.scopes, func(s checkScope) bool { return s.loop }) {
			return nil, false, errAt(at, "print_err_index_outside")
		}
		return nil, false, nil
	}
	var cur Schema
	for i := len(c.scopes) - 1; i >= 0; i-- {
		if slices.Contains(c.scopes[i].s.Names(), path[0]) {
			cur = c.scopes[i].s
			break
		}
	}
	if cur == nil {
		return nil, false, errAt(at, "print_err_unknown_field", "field", path[0])
	}
	list := false
	for i, name := range path {
		if cur == nil || !slices.Contains(cur.Names(), name) {
			return nil, false, errAt(at, "print_err_unknown_field", "field", join(path[:i+1]))
		}
		if i > 0 && list {
			return nil, false, errAt(at, "print_err_unknown_field", "field", join(path[:i+1]))
		}
		cur, list = cur.Member(name)
	}
	return cur, list, nil
}

func join(path []string) string {
	out := ""
	for i, p := range path {
		if i > 0 {
			out += "."
		}
		out += p
	}
	return out
}
