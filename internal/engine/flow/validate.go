package flow

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/expr"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// compiled is a graph checked and prepared for running: adjacency, the
// join that closes each split, which nodes lie inside parallel branches,
// typed node configurations and compiled conditions. It is immutable once
// built, so a published version's compiled form is cached and shared.
type compiled struct {
	entity    *meta.Entity
	trigger   string
	cond      *expr.Program // the trigger condition; nil: always
	graph     *Graph
	nodes     map[string]*Node
	out       map[string][]int // node → indexes of its outgoing edges
	in        map[string][]int
	edgeProg  map[int]*expr.Program
	start     string
	end       string
	joinOf    map[string]string // split → the join that closes it
	parallel  map[string]bool   // nodes inside a split's branches
	approvals map[string]*ApprovalConfig
	ccs       map[string]*CCConfig
	actions   map[string]*ActionConfig
}

// definitionInput is what a definition contributes to compilation.
type definitionInput struct {
	Entity    *meta.Entity // nil: the definition's entity does not exist
	EntityRaw string
	Trigger   string
	Condition string
	Graph     []byte
}

// maxNodes bounds a graph (a flow is drawn by a person).
const maxNodes = 200

// compileDefinition checks a definition completely and returns its compiled
// form, or every problem found as field errors (field "entity",
// "trigger", "condition", "graph", or a node's or edge's path, see
// nodePath; args name the node). It needs no database:
// references to users and roles are checked by the engine (checkRefs).
func compileDefinition(types meta.Types, in definitionInput) (*compiled, []apperr.FieldError) {
	var errs []apperr.FieldError
	add := func(field, code string, kv ...any) { errs = append(errs, apperr.Field(field, code, kv...)) }
	e := in.Entity
	if e == nil {
		add("entity", "flow_unknown_entity", "entity", in.EntityRaw)
	}
	c := &compiled{entity: e, trigger: in.Trigger, nodes: map[string]*Node{}, out: map[string][]int{}, in: map[string][]int{},
		edgeProg: map[int]*expr.Program{}, joinOf: map[string]string{}, parallel: map[string]bool{},
		approvals: map[string]*ApprovalConfig{}, ccs: map[string]*CCConfig{}, actions: map[string]*ActionConfig{}}
	switch in.Trigger {
	case TriggerSubmit, TriggerCreate, TriggerUpdate:
	default:
		add("trigger", "invalid_option", "value", in.Trigger)
	}
	var vars []string
	if e != nil {
		vars = recordVarNames(e)
		if in.Condition != "" {
			p, err := expr.CompileProgram(in.Condition, vars)
			if err != nil {
				add("condition", "flow_bad_condition", "reason", reasonOf(err))
			}
			c.cond = p
		}
	}
	g, err := ParseGraph(in.Graph)
	if err != nil {
		add("graph", "flow_bad_graph", "reason", reasonOf(err))
		return nil, errs
	}
	c.graph = g
	if len(g.Nodes) == 0 {
		add("graph", "flow_missing_start")
		add("graph", "flow_missing_end")
		return nil, errs
	}
	if len(g.Nodes) > maxNodes {
		add("graph", "flow_too_many_nodes", "max", maxNodes)
		return nil, errs
	}
	// Nodes.
	var starts, ends []string
	for i := range g.Nodes {
		n := &g.Nodes[i]
		switch {
		case n.ID == "" || len(n.ID) > 64:
			add(fmt.Sprintf("graph.nodes[%d]", i), "flow_bad_node_id", "node", n.Label())
			continue
		case c.nodes[n.ID] != nil:
			add(nodePath(n.ID), "flow_duplicate_node", "node", n.ID)
			continue
		case !nodeTypes[n.Type]:
			add(nodePath(n.ID), "flow_unknown_node_type", "node", n.Label(), "type", n.Type)
		}
		c.nodes[n.ID] = n
		switch n.Type {
		case NodeStart:
			starts = append(starts, n.ID)
		case NodeEnd:
			ends = append(ends, n.ID)
		}
	}
	switch len(starts) {
	case 0:
		add("graph", "flow_missing_start")
	case 1:
		c.start = starts[0]
	default:
		add("graph", "flow_duplicate_start")
	}
	switch len(ends) {
	case 0:
		add("graph", "flow_missing_end")
	case 1:
		c.end = ends[0]
	default:
		add("graph", "flow_duplicate_end")
	}
	// Edges.
	seen := map[[2]string]bool{}
	for i := range g.Edges {
		ed := &g.Edges[i]
		from, to := c.nodes[ed.From], c.nodes[ed.To]
		if from == nil || to == nil {
			add(edgePath(ed, i), "flow_bad_edge", "from", ed.From, "to", ed.To)
			continue
		}
		if seen[[2]string{ed.From, ed.To}] {
			add(edgePath(ed, i), "flow_duplicate_edge", "from", from.Label(), "to", to.Label())
			continue
		}
		seen[[2]string{ed.From, ed.To}] = true
		c.out[ed.From] = append(c.out[ed.From], i)
		c.in[ed.To] = append(c.in[ed.To], i)
		if from.Type != NodeCondition && (ed.Condition != "" || ed.Default) {
			add(edgePath(ed, i), "flow_condition_not_allowed", "node", from.Label())
		}
	}
	// Degrees and configuration, node by node.
	for i := range g.Nodes {
		n := &g.Nodes[i]
		if c.nodes[n.ID] != n {
			continue
		}
		outs, ins := len(c.out[n.ID]), len(c.in[n.ID])
		switch n.Type {
		case NodeStart:
			if ins > 0 {
				add(nodePath(n.ID), "flow_start_incoming", "node", n.Label())
			}
		case NodeEnd:
			if outs > 0 {
				add(nodePath(n.ID), "flow_end_outgoing", "node", n.Label())
			}
		case NodeSplit:
			if outs < 2 {
				add(nodePath(n.ID), "flow_split_branches", "node", n.Label())
			}
		case NodeJoin:
			if ins < 2 {
				add(nodePath(n.ID), "flow_join_inputs", "node", n.Label())
			}
		}
		switch n.Type {
		case NodeStart, NodeApproval, NodeCC, NodeAction, NodeJoin:
			if outs != 1 {
				add(nodePath(n.ID), "flow_one_exit", "node", n.Label())
			}
		case NodeCondition:
			errs = append(errs, c.checkCondition(n, vars)...)
		}
		if n.Type != NodeApproval && n.Type != NodeCC && n.Type != NodeAction && len(n.Config) > 0 && string(n.Config) != "null" && string(n.Config) != "{}" {
			add(nodePath(n.ID), "flow_config_not_allowed", "node", n.Label())
		}
		switch n.Type {
		case NodeApproval:
			errs = append(errs, c.checkApproval(n)...)
		case NodeCC:
			errs = append(errs, c.checkCC(n)...)
		case NodeAction:
			errs = append(errs, c.checkAction(types, n)...)
		}
	}
	if len(starts) == 0 || len(ends) == 0 {
		return nil, errs
	}
	// Reachability: every node from a start, an end from every node (with
	// duplicates already refused, from any of them, to report the rest).
	reach := c.walk(starts, c.out, func(i int) string { return g.Edges[i].To })
	back := c.walk(ends, c.in, func(i int) string { return g.Edges[i].From })
	flowOK := true
	for i := range g.Nodes {
		n := &g.Nodes[i]
		if c.nodes[n.ID] != n {
			continue
		}
		switch {
		case !reach[n.ID]:
			add(nodePath(n.ID), "flow_unreachable_node", "node", n.Label())
			flowOK = false
		case !back[n.ID]:
			add(nodePath(n.ID), "flow_no_exit", "node", n.Label())
			flowOK = false
		}
	}
	if flowOK {
		errs = append(errs, c.matchSplits()...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// walk returns the nodes reachable from roots along the given adjacency.
func (c *compiled) walk(roots []string, adj map[string][]int, next func(int) string) map[string]bool {
	seen := map[string]bool{}
	queue := append([]string(nil), roots...)
	for _, r := range roots {
		seen[r] = true
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, i := range adj[n] {
			if m := next(i); !seen[m] {
				seen[m] = true
				queue = append(queue, m)
			}
		}
	}
	return seen
}

func (c *compiled) checkCondition(n *Node, vars []string) []apperr.FieldError {
	var errs []apperr.FieldError
	defaults := 0
	for _, i := range c.out[n.ID] {
		ed := &c.graph.Edges[i]
		to := c.nodes[ed.To].Label()
		switch {
		case ed.Default && ed.Condition != "":
			errs = append(errs, apperr.Field(edgePath(ed, i), "flow_default_with_condition", "node", n.Label(), "to", to))
		case ed.Default:
			defaults++
		case ed.Condition == "":
			errs = append(errs, apperr.Field(edgePath(ed, i), "flow_missing_condition", "node", n.Label(), "to", to))
		case vars != nil:
			p, err := expr.CompileProgram(ed.Condition, vars)
			if err != nil {
				errs = append(errs, apperr.Field(edgePath(ed, i), "flow_bad_expression", "node", n.Label(), "to", to, "reason", reasonOf(err)))
				continue
			}
			c.edgeProg[i] = p
		}
	}
	switch {
	case defaults == 0:
		errs = append(errs, apperr.Field(nodePath(n.ID), "flow_no_default_branch", "node", n.Label()))
	case defaults > 1:
		errs = append(errs, apperr.Field(nodePath(n.ID), "flow_many_default_branches", "node", n.Label()))
	}
	return errs
}

func (c *compiled) checkApproval(n *Node) []apperr.FieldError {
	var errs []apperr.FieldError
	bad := func(code string, kv ...any) {
		errs = append(errs, apperr.Field(nodePath(n.ID), code, append([]any{"node", n.Label()}, kv...)...))
	}
	var cfg ApprovalConfig
	if len(n.Config) > 0 {
		if err := strictDecode(n.Config, &cfg); err != nil {
			bad("flow_bad_config", "reason", reasonOf(err))
			return errs
		}
	}
	if cfg.Mode == "" {
		cfg.Mode = ModeSingle
	}
	switch cfg.Mode {
	case ModeSingle, ModeAny, ModeAll, ModeSequential:
	default:
		bad("flow_bad_mode", "mode", cfg.Mode)
	}
	if len(cfg.Approvers) == 0 {
		bad("flow_no_approver")
	}
	if cfg.Mode == ModeSingle && len(cfg.Approvers) > 1 {
		bad("flow_single_one_approver")
	}
	for _, a := range cfg.Approvers {
		if code, kv := c.checkApprover(a); code != "" {
			bad(code, kv...)
		}
	}
	switch cfg.OnEmpty {
	case "":
		cfg.OnEmpty = EmptyAdmin
	case EmptyAdmin, EmptySkip:
	default:
		bad("flow_bad_on_empty", "value", cfg.OnEmpty)
	}
	const maxHours = 24 * 366
	switch {
	case cfg.TimeLimitHours < 0 || cfg.TimeLimitHours > maxHours || cfg.RemindBeforeHours < 0:
		bad("flow_bad_time_limit")
	case cfg.TimeLimitHours == 0 && (cfg.RemindBeforeHours > 0 || cfg.Escalate):
		bad("flow_bad_time_limit")
	case cfg.RemindBeforeHours >= cfg.TimeLimitHours && cfg.RemindBeforeHours > 0:
		bad("flow_bad_time_limit")
	}
	c.approvals[n.ID] = &cfg
	return errs
}

// checkApprover returns why an approver entry is unusable, as a message
// code and its args (besides the node), or "".
func (c *compiled) checkApprover(a Approver) (string, []any) {
	switch a.Kind {
	case ApproverUser:
		if len(a.Users) == 0 {
			return "flow_approver_no_users", nil
		}
	case ApproverRole:
		if a.Role == "" {
			return "flow_approver_no_role", nil
		}
	case ApproverField:
		if a.Field == "" {
			return "flow_approver_no_field", nil
		}
		if a.Field == "owner" || a.Field == "created_by" {
			return "", nil
		}
		if c.entity == nil {
			return "", nil
		}
		f := c.entity.Field(a.Field)
		if f == nil {
			return "flow_approver_unknown_field", []any{"field", a.Field}
		}
		if f.Type != "user" {
			return "flow_approver_not_user_field", []any{"field", a.Field}
		}
	case ApproverManager, ApproverDeptHead:
	case ApproverManagerChain:
		if a.Levels < 1 || a.Levels > MaxLevels {
			return "flow_approver_bad_levels", []any{"max", MaxLevels}
		}
	default:
		return "flow_approver_unknown_kind", []any{"kind", a.Kind}
	}
	return "", nil
}

func (c *compiled) checkCC(n *Node) []apperr.FieldError {
	var errs []apperr.FieldError
	var cfg CCConfig
	if len(n.Config) > 0 {
		if err := strictDecode(n.Config, &cfg); err != nil {
			return []apperr.FieldError{apperr.Field(nodePath(n.ID), "flow_bad_config", "node", n.Label(), "reason", reasonOf(err))}
		}
	}
	if len(cfg.Recipients) == 0 {
		errs = append(errs, apperr.Field(nodePath(n.ID), "flow_no_recipient", "node", n.Label()))
	}
	for _, a := range cfg.Recipients {
		if code, kv := c.checkApprover(a); code != "" {
			errs = append(errs, apperr.Field(nodePath(n.ID), code, append([]any{"node", n.Label()}, kv...)...))
		}
	}
	c.ccs[n.ID] = &cfg
	return errs
}

func (c *compiled) checkAction(types meta.Types, n *Node) []apperr.FieldError {
	var errs []apperr.FieldError
	var cfg ActionConfig
	if len(n.Config) > 0 {
		if err := strictDecode(n.Config, &cfg); err != nil {
			return []apperr.FieldError{apperr.Field(nodePath(n.ID), "flow_bad_config", "node", n.Label(), "reason", reasonOf(err))}
		}
	}
	if len(cfg.Set) == 0 {
		errs = append(errs, apperr.Field(nodePath(n.ID), "flow_no_fields", "node", n.Label()))
	}
	names := make([]string, 0, len(cfg.Set))
	for k := range cfg.Set {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		if c.entity == nil {
			break
		}
		f := c.entity.Field(name)
		if name == "owner" {
			if _, ok := meta.ParseID(cfg.Set[name]); !ok {
				errs = append(errs, apperr.Field(nodePath(n.ID), "flow_bad_action_value", "node", n.Label(), "field", name, "reason", i18n.T("invalid_id")))
			}
			continue
		}
		if f == nil || f.IsComputed() || f.Type == "subtable" || f.Type == "autonumber" {
			errs = append(errs, apperr.Field(nodePath(n.ID), "flow_bad_action_field", "node", n.Label(), "field", name))
			continue
		}
		v := cfg.Set[name]
		if v == nil {
			if f.Required {
				errs = append(errs, apperr.Field(nodePath(n.ID), "flow_bad_action_value", "node", n.Label(), "field", name, "reason", i18n.T("required")))
			}
			continue
		}
		t, ok := types[f.Type]
		if !ok {
			errs = append(errs, apperr.Field(nodePath(n.ID), "flow_bad_action_field", "node", n.Label(), "field", name))
			continue
		}
		if _, err := t.Normalize(f, v); err != nil {
			errs = append(errs, apperr.Field(nodePath(n.ID), "flow_bad_action_value", "node", n.Label(), "field", name, "reason", reasonOf(err)))
		}
	}
	c.actions[n.ID] = &cfg
	return errs
}

// matchSplits finds the join that closes each split: every path leaving
// the split's branches must meet one and the same join before anything
// else, nothing may enter the branches except through the split, and every
// join must close exactly one split. The runtime relies on this: a join
// waits for one token per branch of its split.
func (c *compiled) matchSplits() []apperr.FieldError {
	var errs []apperr.FieldError
	regions := map[string]map[string]bool{}
	state := map[string]int{} // 1: being matched, 2: done
	closedBy := map[string]string{}
	var match func(s string) (string, bool)
	match = func(s string) (string, bool) {
		switch state[s] {
		case 1:
			errs = append(errs, apperr.Field(nodePath(s), "flow_parallel_crossing", "node", c.nodes[s].Label()))
			return "", false
		case 2:
			j, ok := c.joinOf[s]
			return j, ok
		}
		state[s] = 1
		defer func() { state[s] = 2 }()
		region := map[string]bool{}
		termini := map[string]bool{}
		ok := true
		var visit func(n string)
		visit = func(n string) {
			if !ok || region[n] {
				return
			}
			node := c.nodes[n]
			switch {
			case n == s:
				errs = append(errs, apperr.Field(nodePath(s), "flow_parallel_crossing", "node", c.nodes[s].Label()))
				ok = false
				return
			case node.Type == NodeJoin:
				termini[n] = true
				return
			case node.Type == NodeEnd:
				errs = append(errs, apperr.Field(nodePath(s), "flow_split_without_join", "node", c.nodes[s].Label()))
				ok = false
				return
			}
			region[n] = true
			if node.Type == NodeSplit {
				j, jok := match(n)
				if !jok {
					ok = false
					return
				}
				for m := range regions[n] {
					region[m] = true
				}
				region[j] = true
				for _, i := range c.out[j] {
					visit(c.graph.Edges[i].To)
				}
				return
			}
			for _, i := range c.out[n] {
				visit(c.graph.Edges[i].To)
			}
		}
		for _, i := range c.out[s] {
			visit(c.graph.Edges[i].To)
		}
		if !ok {
			return "", false
		}
		if len(termini) != 1 {
			if len(termini) == 0 {
				errs = append(errs, apperr.Field(nodePath(s), "flow_split_without_join", "node", c.nodes[s].Label()))
			} else {
				errs = append(errs, apperr.Field(nodePath(s), "flow_parallel_crossing", "node", c.nodes[s].Label()))
			}
			return "", false
		}
		var j string
		for t := range termini {
			j = t
		}
		// Nothing enters the branches (or the join) from outside them.
		inside := func(m string) bool { return region[m] || m == s }
		for _, m := range append(sortedSet(region), j) {
			for _, i := range c.in[m] {
				if from := c.graph.Edges[i].From; !inside(from) {
					errs = append(errs, apperr.Field(nodePath(m), "flow_parallel_crossing", "node", c.nodes[m].Label()))
					return "", false
				}
			}
		}
		regions[s] = region
		c.joinOf[s] = j
		return j, true
	}
	for i := range c.graph.Nodes {
		n := &c.graph.Nodes[i]
		if n.Type != NodeSplit || c.nodes[n.ID] != n {
			continue
		}
		j, ok := match(n.ID)
		if !ok {
			continue
		}
		if other, dup := closedBy[j]; dup && other != n.ID {
			errs = append(errs, apperr.Field(nodePath(j), "flow_parallel_crossing", "node", c.nodes[j].Label()))
			continue
		}
		closedBy[j] = n.ID
		for m := range regions[n.ID] {
			c.parallel[m] = true
		}
	}
	for i := range c.graph.Nodes {
		n := &c.graph.Nodes[i]
		if n.Type == NodeJoin && c.nodes[n.ID] == n && closedBy[n.ID] == "" {
			errs = append(errs, apperr.Field(nodePath(n.ID), "flow_join_without_split", "node", n.Label()))
		}
	}
	return dedupe(errs)
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// dedupe drops repeated errors (a nested split is reported once).
func dedupe(errs []apperr.FieldError) []apperr.FieldError {
	var out []apperr.FieldError
	seen := map[string]bool{}
	for _, e := range errs {
		k := e.Field + "|" + e.Code + "|" + fmt.Sprint(e.Args)
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

// Where a problem of the graph is reported (FieldError.Field, documented
// in doc.go): a node's problem under "graph.nodes.<node id>", an edge's
// under "graph.edges.<edge id>" (by position, "graph.edges[<i>]" from 0,
// when the edge has no id), a problem of the whole graph under "graph".
func nodePath(id string) string { return "graph.nodes." + id }

func edgePath(ed *Edge, i int) string {
	if ed.ID != "" {
		return "graph.edges." + ed.ID
	}
	return fmt.Sprintf("graph.edges[%d]", i)
}

// recordVarNames are the names a condition may use: the entity's fields
// and the system fields every record has.
func recordVarNames(e *meta.Entity) []string {
	out := []string{"id", "owner", "created_by", "created_at", "updated_at"}
	for i := range e.Fields {
		if !slices.Contains(out, e.Fields[i].Name) {
			out = append(out, e.Fields[i].Name)
		}
	}
	return out
}

// reasonOf is the user-facing reason inside an error, as a message
// argument: a translated i18n.Text where the error carries a code (a
// field value's error, a malformed configuration), else the text (an
// expression's compile error carries its reason).
func reasonOf(err error) any {
	var je *jsonError
	if errors.As(err, &je) {
		return i18n.T(je.code, je.args...)
	}
	if ae, ok := apperr.As(err); ok {
		if r, ok := ae.Args["reason"].(string); ok && r != "" {
			return r
		}
		return i18n.Text{Code: ae.Code, Args: ae.Args}
	}
	if ve, ok := err.(*meta.ValueError); ok {
		return i18n.T(ve.Code, ve.Args...)
	}
	return err.Error()
}

// graphJSON renders a graph for storage.
func graphJSON(g *Graph) []byte {
	b, _ := json.Marshal(g)
	return b
}
