package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Actor is the user whose write started a chain of rule runs: what
// conditions see as user. Rule-caused writes keep the actor of the write
// that started the chain; schedules and inbound webhooks have none.
type Actor struct {
	ID         int64    `json:"id,string"`
	Login      string   `json:"login,omitempty"`
	Name       string   `json:"name,omitempty"`
	Department int64    `json:"department,omitempty,string"`
	Regions    []string `json:"regions,omitempty"`
	Roles      []string `json:"roles,omitempty"`
}

// actorOf is the actor of a principal (nil for the system).
func actorOf(p *access.Principal) *Actor {
	if p == nil || p.UserID == 0 {
		return nil
	}
	return &Actor{ID: p.UserID, Login: p.Login, Name: p.Name, Department: p.DepartmentID, Regions: p.Regions, Roles: p.Roles}
}

// vars is the user variable of expressions.
func (a *Actor) vars() map[string]any {
	if a == nil {
		return nil
	}
	var dept any
	if a.Department != 0 {
		dept = a.Department
	}
	return map[string]any{"id": a.ID, "login": a.Login, "name": a.Name, "department": dept,
		"regions": a.Regions, "roles": a.Roles}
}

// scope is what the expressions of one run (or one trigger check) see:
// the record, its values before the change, the acting user, an inbound
// payload, and the linked records fetched so far.
type scope struct {
	e       *Engine
	ctx     context.Context
	ent     *meta.Entity
	rec     records.Record // canonical; nil when the run has no record
	old     records.Record // before an update
	user    map[string]any
	payload any
	// fetched caches linked records by entity and id, converted to
	// expression values (without their own links expanded).
	fetched map[string]map[string]any
	oldVars map[string]any
	vars    map[string]any // reused by eval
}

// meter is the step budget of one evaluation: the program's static cost,
// the size of the values it reads and each linked record it fetches are
// charged as the evaluation gathers them; past the budget it is cut off.
type meter struct{ left int }

func (m *meter) charge(n int, what string) error {
	m.left -= n
	if m.left < 0 {
		return cutOff("step budget exceeded while reading " + what)
	}
	return nil
}

// cutOff is the error of an evaluation stopped by a budget.
func cutOff(reason string) error {
	return apperr.New(apperr.ErrUnprocessable, "rule_eval_cut_off", "reason", reason)
}

// isCutOff reports whether err stopped an evaluation for its budget.
func isCutOff(err error) bool {
	ae, ok := apperr.As(err)
	return ok && ae.Code == "rule_eval_cut_off"
}

// eval runs p over the scope. target is the record an update_linked
// mapping is writing (its "target" variable), or nil.
func (s *scope) eval(p *program, target map[string]any) (any, error) {
	m := &meter{left: s.e.limits.StepBudget}
	if err := m.charge(p.cost, "the expression"); err != nil {
		return nil, err
	}
	// One map per scope: a scope serves one goroutine, a run only reads
	// the map, and every variable the program reads is set below (names
	// left by another program are never read by this one).
	vars := s.vars
	if vars == nil {
		vars = make(map[string]any, max(len(p.refs), 8))
		s.vars = vars
	}
	for _, name := range p.refs {
		switch name {
		case "user":
			if s.user != nil {
				vars[name] = s.user
			} else {
				vars[name] = nil
			}
			continue
		case "old":
			if s.old == nil {
				vars[name] = nil
				continue
			}
			if s.oldVars == nil {
				s.oldVars = recordVars(s.ent, s.old)
			}
			vars[name] = s.oldVars
			continue
		case "payload":
			if err := m.charge(sizeOf(s.payload), "the payload"); err != nil {
				return nil, err
			}
			vars[name] = s.payload
			continue
		case "target":
			if target != nil {
				vars[name] = target
			} else {
				vars[name] = nil
			}
			continue
		}
		x := s.rec[name]
		if ln := p.links[name]; ln != nil && x != nil {
			v, err := s.expand(ln, x, m)
			if err != nil {
				return nil, err
			}
			vars[name] = v
			continue
		}
		v := exprValue(x)
		if err := m.charge(sizeOf(v), name); err != nil {
			return nil, err
		}
		vars[name] = v
	}
	out, err := p.prog.Run(vars)
	if err != nil {
		if ae, ok := apperr.As(err); ok {
			reason, _ := ae.Args["reason"].(string)
			if strings.Contains(reason, "memory budget") {
				return nil, cutOff("memory budget exceeded")
			}
			return nil, apperr.New(apperr.ErrUnprocessable, "rule_eval_failed", "expression", p.src, "reason", reason)
		}
		return nil, err
	}
	return out, nil
}

// evalBool runs a condition: nil is false, anything but a boolean an
// error.
func (s *scope) evalBool(p *program) (bool, error) {
	out, err := s.eval(p, nil)
	if err != nil {
		return false, err
	}
	switch b := out.(type) {
	case nil:
		return false, nil
	case bool:
		return b, nil
	}
	return false, apperr.New(apperr.ErrUnprocessable, "rule_eval_failed", "expression", p.src, "reason", "the condition did not give true or false")
}

// expand fetches the record a link value points to (as the system: rules
// are administered) and expands its own links the program reads. A link
// to a record that no longer exists is nil.
func (s *scope) expand(ln *linkNode, x any, m *meter) (any, error) {
	id, ok := x.(int64)
	if !ok {
		return nil, nil
	}
	key := ln.target + ":" + strconv.FormatInt(id, 10)
	base, ok := s.fetched[key]
	if !ok {
		if err := m.charge(s.e.limits.LinkCost, ln.target); err != nil {
			return nil, err
		}
		te, found := s.e.recs.Registry().Get(ln.target)
		if !found {
			return nil, nil
		}
		rec, err := s.e.recs.Get(s.ctx, access.System(), ln.target, id, records.GetOptions{})
		if err != nil {
			if ae, ok := apperr.As(err); ok && ae.Kind == apperr.ErrNotFound {
				rec = nil
			} else {
				return nil, err
			}
		}
		if rec != nil {
			base = recordVars(te, rec)
		}
		if s.fetched == nil {
			s.fetched = map[string]map[string]any{}
		}
		s.fetched[key] = base
	}
	if base == nil {
		return nil, nil
	}
	if err := m.charge(len(base), ln.target); err != nil {
		return nil, err
	}
	if len(ln.children) == 0 {
		return base, nil
	}
	out := make(map[string]any, len(base))
	for k, v := range base {
		out[k] = v
	}
	for name, child := range ln.children {
		v, err := s.expand(child, base[name], m)
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

// recordVars converts a canonical record to expression values: every
// field (nil when empty) and the system fields.
func recordVars(e *meta.Entity, rec records.Record) map[string]any {
	out := make(map[string]any, len(e.Fields)+len(systemFields))
	for i := range e.Fields {
		n := e.Fields[i].Name
		out[n] = exprValue(rec[n])
	}
	for _, n := range systemFields {
		out[n] = rec[n]
	}
	return out
}

// exprValue converts a canonical record value to what expressions use:
// JSON fields are decoded, sub-table rows become maps; the rest is used as
// it is (strings, int64, decimals, booleans, times, lists).
func exprValue(x any) any {
	switch v := x.(type) {
	case json.RawMessage:
		return decodeJSONValue(v)
	case []records.Record:
		out := make([]any, len(v))
		for i, r := range v {
			out[i] = map[string]any(r)
		}
		return out
	}
	return x
}

// decodeJSONValue decodes JSON for expressions: numbers become int64 or
// exact decimals, never floats.
func decodeJSONValue(b []byte) any {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	return jsonNumbers(v)
}

// jsonNumbers replaces json.Number in decoded JSON.
func jsonNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			return i
		}
		if d, err := decimal.NewFromString(x.String()); err == nil {
			return d
		}
		return nil
	case []any:
		for i := range x {
			x[i] = jsonNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = jsonNumbers(x[k])
		}
	}
	return v
}

// sizeOf is what reading a value costs against the step budget: texts by
// their length, lists and maps by their elements.
func sizeOf(x any) int {
	switch v := x.(type) {
	case string:
		return len(v)/64 + 1
	case []any:
		n := len(v) + 1
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				n += len(m)
			} else if s, ok := e.(string); ok {
				n += len(s) / 64
			}
		}
		return n
	case []string:
		return len(v) + 1
	case []int64:
		return len(v) + 1
	case map[string]any:
		n := len(v) + 1
		for _, e := range v {
			n += sizeOf(e)
		}
		return n
	}
	return 1
}

// render fills a template.
func (s *scope) render(t *template) (string, error) {
	if t == nil {
		return "", nil
	}
	var b strings.Builder
	for _, part := range t.parts {
		if part.prog == nil {
			b.WriteString(part.text)
			continue
		}
		v, err := s.eval(part.prog, nil)
		if err != nil {
			return "", err
		}
		b.WriteString(formatValue(v))
	}
	return b.String(), nil
}

// formatValue renders an expression value in a text.
func formatValue(x any) string {
	switch v := x.(type) {
	case nil:
		return ""
	case string:
		return v
	case decimal.Decimal:
		return v.String()
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case time.Time:
		if h, m, sec := v.Clock(); h == 0 && m == 0 && sec == 0 && v.Nanosecond() == 0 {
			return v.Format(time.DateOnly)
		}
		return v.In(meta.Shanghai).Format("2006-01-02 15:04")
	case []string:
		return strings.Join(v, "、")
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = formatValue(e)
		}
		return strings.Join(parts, "、")
	}
	b, err := json.Marshal(x)
	if err != nil {
		return ""
	}
	return string(b)
}
