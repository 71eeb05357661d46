package inbound

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/expr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Mapping kinds.
const (
	KindExpression  = "expression"          // the field is set to the expression's value
	KindLinkByExtID = "link_by_external_id" // the expression gives the linked record's external id
)

// Endpoint is an inbound endpoint compiled for calls: its target entity,
// paths and mappings checked, its expressions compiled within the limits.
type Endpoint struct {
	ID      int64
	Version int64
	Name    string
	Source  string
	Entity  string
	Active  bool
	RunAs   int64
	// Rate is the calls per minute the endpoint accepts.
	Rate int

	secret    string
	ent       *meta.Entity
	extPath   []string
	itemsPath []string
	mappings  []*mapping
}

// mapping is one target field ← expression of an endpoint.
type mapping struct {
	index    int
	field    string
	f        *meta.Field // nil for owner
	kind     string
	prog     *expr.Program
	cost     int  // the expression's nodes, charged per evaluation
	item     bool // the expression reads item
	payload  bool // the expression reads payload
	clearNil bool
	// target is the linked entity of a link_by_external_id mapping, and
	// source the source its external ids are known in.
	target string
	source string
}

// exprVars are the variables mapping expressions may use.
var exprVars = []string{"item", "payload"}

// maxPathParts bounds the segments of an external id or items path.
const maxPathParts = 10

// parsePath splits a dotted path ("data.items"); each segment is a
// non-empty key of at most 64 bytes.
func parsePath(s string) ([]string, bool) {
	if s == "" {
		return nil, false
	}
	parts := strings.Split(s, ".")
	if len(parts) > maxPathParts {
		return nil, false
	}
	for _, p := range parts {
		if p == "" || len(p) > 64 || strings.TrimSpace(p) != p {
			return nil, false
		}
	}
	return parts, true
}

// compile checks an endpoint record (canonical values) against the
// metadata as it is now and compiles its mappings. The errors name the
// endpoint's fields (mappings[2].expression).
func (e *Engine) compile(rec records.Record) (*Endpoint, []apperr.FieldError) {
	ep := &Endpoint{ID: rec.ID(), Version: rec.Version(), Rate: e.limits.DefaultRate}
	ep.Name, _ = rec["name"].(string)
	ep.Source, _ = rec["source"].(string)
	ep.Entity, _ = rec["entity"].(string)
	ep.Active, _ = rec["active"].(bool)
	ep.RunAs, _ = rec["run_as"].(int64)
	ep.secret, _ = rec["secret"].(string)
	if n, ok := rec["rate_limit"].(int64); ok && n > 0 {
		ep.Rate = int(n)
	}
	var errs []apperr.FieldError
	ent, ok := e.recs.Registry().Get(ep.Entity)
	if !ok || ep.Entity == Entity {
		return nil, []apperr.FieldError{apperr.Field("entity", "inbound_entity_unknown", "entity", ep.Entity)}
	}
	ep.ent = ent
	extPath, _ := rec["external_id_path"].(string)
	if p, ok := parsePath(extPath); ok {
		ep.extPath = p
	} else {
		errs = append(errs, apperr.Field("external_id_path", "inbound_path_invalid", "max", maxPathParts))
	}
	if s, _ := rec["items_path"].(string); s != "" {
		if p, ok := parsePath(s); ok {
			ep.itemsPath = p
		} else {
			errs = append(errs, apperr.Field("items_path", "inbound_path_invalid", "max", maxPathParts))
		}
	}
	rows, _ := rec["mappings"].([]records.Record)
	switch {
	case len(rows) == 0:
		errs = append(errs, apperr.Field("mappings", "required"))
	case len(rows) > e.limits.MaxMappings:
		errs = append(errs, apperr.Field("mappings", "too_many_items", "max", e.limits.MaxMappings))
	}
	seen := map[string]bool{}
	for i, row := range rows {
		m, fes := e.compileMapping(ent, i, row)
		errs = append(errs, fes...)
		if m == nil {
			continue
		}
		if m.kind == KindLinkByExtID && m.source == "" {
			m.source = ep.Source
		}
		if seen[m.field] {
			errs = append(errs, apperr.Field(fmt.Sprintf("mappings[%d].field", i), "duplicate_name", "name", m.field))
			continue
		}
		seen[m.field] = true
		ep.mappings = append(ep.mappings, m)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return ep, nil
}

// compileMapping checks one mapping row: the field exists and can be
// written, the kind fits it, the expression compiles within the limits.
func (e *Engine) compileMapping(ent *meta.Entity, i int, row records.Record) (*mapping, []apperr.FieldError) {
	path := fmt.Sprintf("mappings[%d]", i)
	m := &mapping{index: i, kind: KindExpression}
	m.field, _ = row["field"].(string)
	if k, _ := row["kind"].(string); k != "" {
		m.kind = k
	}
	m.clearNil, _ = row["clear_when_nil"].(bool)
	m.source, _ = row["link_source"].(string)
	src, _ := row["expression"].(string)
	var errs []apperr.FieldError
	if m.field != "owner" {
		m.f = ent.Field(m.field)
		switch {
		case m.f == nil:
			errs = append(errs, apperr.Field(path+".field", "inbound_field_unknown", "entity", ent.Name, "field", m.field))
		case m.f.IsComputed() || m.f.ReadOnly:
			errs = append(errs, apperr.Field(path+".field", "inbound_field_not_writable", "field", m.field))
		}
	}
	if m.kind == KindLinkByExtID && m.f != nil {
		if m.f.Type != "link" && m.f.Type != "multi_link" {
			errs = append(errs, apperr.Field(path+".kind", "inbound_link_kind_invalid", "field", m.field))
		} else {
			m.target = m.f.Target
		}
	} else if m.kind == KindLinkByExtID && m.field == "owner" {
		errs = append(errs, apperr.Field(path+".kind", "inbound_link_kind_invalid", "field", m.field))
	}
	if m.source != "" && m.kind != KindLinkByExtID {
		errs = append(errs, apperr.Field(path+".link_source", "inbound_link_source_unused"))
	}
	if strings.TrimSpace(src) == "" {
		errs = append(errs, apperr.Field(path+".expression", "required"))
		return nil, errs
	}
	lim := e.limits
	if len(src) > lim.MaxExprBytes {
		return nil, append(errs, apperr.Field(path+".expression", "inbound_expression_too_large", "max", lim.MaxExprBytes, "nodes", lim.MaxExprNodes))
	}
	prog, err := expr.CompileProgramWith(src, exprVars, expr.Options{Now: e.now, MaxBytes: lim.MaxExprBytes,
		MaxNodes: lim.MaxExprNodes, MemoryBudget: lim.MemoryBudget})
	if err != nil {
		ae, ok := apperr.As(err)
		if !ok {
			return nil, append(errs, apperr.Field(path+".expression", "bad_expression", "reason", "the expression is not valid"))
		}
		if reason, _ := ae.Args["reason"].(string); strings.Contains(reason, "too large") {
			return nil, append(errs, apperr.Field(path+".expression", "inbound_expression_too_large", "max", lim.MaxExprBytes, "nodes", lim.MaxExprNodes))
		}
		return nil, append(errs, apperr.FieldError{Field: path + ".expression", Code: ae.Code, Args: ae.Args})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	m.prog = prog
	for _, r := range prog.Refs() {
		switch r {
		case "item":
			m.item = true
		case "payload":
			m.payload = true
		}
	}
	if tree, err := parser.Parse(src); err == nil {
		var n nodeCount
		ast.Walk(&tree.Node, &n)
		m.cost = int(n)
	}
	m.cost++
	return m, nil
}

// nodeCount counts the nodes of an expression (its static cost).
type nodeCount int

func (n *nodeCount) Visit(*ast.Node) { *n++ }

// endpoint returns the endpoint record with the given id as the system
// sees it (nil when it does not exist or is deleted).
func (e *Engine) endpoint(ctx context.Context, id int64) (records.Record, error) {
	rec, err := e.recs.Get(ctx, access.System(), Entity, id, records.GetOptions{})
	if err != nil {
		if ae, ok := apperr.As(err); ok && ae.Kind == apperr.ErrNotFound {
			return nil, nil
		}
		return nil, err
	}
	return rec, nil
}

// compiledEndpoint returns the endpoint compiled, reusing a compilation
// of the same version against the same metadata.
func (e *Engine) compiledEndpoint(rec records.Record) (*Endpoint, []apperr.FieldError) {
	e.mu.Lock()
	ep := e.compiled[rec.ID()]
	e.mu.Unlock()
	if ep != nil && ep.Version == rec.Version() {
		// The metadata is rebuilt whenever an entity changes: an endpoint
		// compiled against an older definition is compiled again.
		if cur, ok := e.recs.Registry().Get(ep.Entity); ok && cur == ep.ent {
			return ep, nil
		}
	}
	ep, errs := e.compile(rec)
	if errs != nil {
		return nil, errs
	}
	e.mu.Lock()
	if len(e.compiled) > 1000 {
		e.compiled = map[int64]*Endpoint{}
	}
	e.compiled[ep.ID] = ep
	e.mu.Unlock()
	return ep, nil
}

// beforeSave checks an endpoint when it is saved: the target entity,
// paths and mappings (see compile), who it runs as and the secret (one is
// generated when empty). Someone who is not an administrator may only save
// an endpoint that runs as themselves, so a grant on inbound_endpoints
// never lends another user's rights. The user it runs as must be active
// and able to create and update the target's records and write every
// mapped field.
func (e *Engine) beforeSave(ctx context.Context, c *records.Change) error {
	if c.Op != records.OpCreate && c.Op != records.OpUpdate {
		return nil
	}
	var errs []apperr.FieldError
	runAs, _ := c.New["run_as"].(int64)
	if runAs == 0 && c.P.UserID != 0 {
		runAs = c.P.UserID
		c.New["run_as"] = runAs
	}
	switch {
	case runAs == 0:
		errs = append(errs, apperr.Field("run_as", "required"))
	case !c.P.Admin && runAs != c.P.UserID:
		errs = append(errs, apperr.Field("run_as", "inbound_run_as_admin_only"))
	}
	secret, _ := c.New["secret"].(string)
	switch {
	case secret == "":
		c.New["secret"] = newSecret()
	case len(secret) < 32:
		errs = append(errs, apperr.Field("secret", "inbound_secret_short", "min", 32))
	}
	ep, fes := e.compile(c.New)
	errs = append(errs, fes...)
	if ep != nil && runAs != 0 && len(errs) == 0 {
		fes, err := e.checkRunAs(ctx, ep, runAs)
		if err != nil {
			return err
		}
		errs = append(errs, fes...)
	}
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	return nil
}

// checkRunAs checks that the user an endpoint runs as is active and may
// write what the endpoint maps.
func (e *Engine) checkRunAs(ctx context.Context, ep *Endpoint, userID int64) ([]apperr.FieldError, error) {
	active, err := e.users.Active(ctx, userID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if !active {
		return []apperr.FieldError{apperr.Field("run_as", "inbound_run_as_inactive")}, nil
	}
	p, err := e.access.Principal(ctx, userID)
	if err != nil {
		if _, ok := apperr.As(err); ok {
			return []apperr.FieldError{apperr.Field("run_as", "inbound_run_as_inactive")}, nil
		}
		return nil, err
	}
	r := p.RightsOn(ep.Entity)
	if !r.Can(access.Read) || !r.Can(access.Create) || !r.Can(access.Update) {
		return []apperr.FieldError{apperr.Field("run_as", "inbound_run_as_cannot_write", "entity", ep.Entity)}, nil
	}
	var errs []apperr.FieldError
	for _, m := range ep.mappings {
		if m.f != nil && r.ReadOnly(m.field) {
			errs = append(errs, apperr.Field(fmt.Sprintf("mappings[%d].field", m.index), "inbound_field_not_writable", "field", m.field))
		}
	}
	return errs, nil
}

// afterSave drops the compiled copy of a changed endpoint once the change
// commits.
func (e *Engine) afterSave(ctx context.Context, c *records.Change) error {
	id := c.New.ID()
	if id == 0 && c.Old != nil {
		id = c.Old.ID()
	}
	db.AfterCommit(ctx, func() {
		e.mu.Lock()
		delete(e.compiled, id)
		e.mu.Unlock()
	})
	return nil
}
