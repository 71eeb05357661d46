package access

import (
	"encoding/json"
	"slices"
)

// The actions of the permission matrix.
const (
	Read    = "read"
	Create  = "create"
	Update  = "update"
	Delete  = "delete"
	Import  = "import"
	Export  = "export"
	Print   = "print"
	Approve = "approve"
)

// AllActions lists every action in matrix order.
var AllActions = []string{Read, Create, Update, Delete, Import, Export, Print, Approve}

// Scopes of a grant.
const (
	ScopeOwn            = "own"
	ScopeDepartment     = "department"
	ScopeDepartmentTree = "department_tree"
	ScopeRegions        = "regions"
	ScopeAll            = "all"
	ScopeFilter         = "filter"
)

// Grant is one line of a role's permissions (API.md "roles").
type Grant struct {
	Entity         string   `json:"entity"`
	Actions        []string `json:"actions"`
	Scope          string   `json:"scope"`
	Regions        []string `json:"regions,omitempty"`
	Filter         string   `json:"filter,omitempty"`
	HiddenFields   []string `json:"hidden_fields,omitempty"`
	ReadonlyFields []string `json:"readonly_fields,omitempty"`
}

// Source says through what a change was made (P8).
const (
	SourceUI     = "ui"
	SourceAPI    = "api"
	SourceRule   = "rule"
	SourceFlow   = "flow"
	SourceImport = "import"
	SourceSystem = "system"
)

// Principal is the caller of a service: a user with their organisation
// facts and compiled grants, or the system.
type Principal struct {
	UserID       int64
	Login        string
	Name         string
	DepartmentID int64
	// DeptTree is the user's department and every department below it.
	DeptTree []int64
	Regions  []string
	Roles    []string
	Admin    bool
	// TokenID and Scopes are set for API-token requests.
	TokenID int64
	Scopes  []string
	Source  string
	Lang    string

	grants map[string][]Grant
}

// System is the principal of the platform itself (jobs, migrations, demo).
func System() *Principal {
	return &Principal{Login: "system", Admin: true, Source: SourceSystem, Lang: "zh-CN"}
}

// SystemFor is the platform acting for a user: every right, with the user
// as the actor the audit trail and the flows name (a document a module
// creates on its own, an approval flow's own writes).
func SystemFor(userID int64) *Principal {
	p := System()
	p.UserID = userID
	return p
}

// WithSource returns a copy of p acting through another source (a rule or
// flow acting for a user keeps the user's rights).
func (p *Principal) WithSource(src string) *Principal {
	c := *p
	c.Source = src
	return &c
}

// Rights is what a principal may do on one entity.
type Rights struct {
	Entity  string
	actions map[string]bool
	// ReadGrants are the grants that give read; their scopes are ORed.
	ReadGrants []Grant
	// UpdateGrants are the grants that give update (scope checked before and after).
	UpdateGrants []Grant
	DeleteGrants []Grant
	all          bool
	hidden       map[string]bool
	readonly     map[string]bool
}

// Can reports whether the action is granted at all.
func (r *Rights) Can(action string) bool { return r.all || r.actions[action] }

// Unrestricted reports whether the principal sees every record (admin or a
// read grant with scope all).
func (r *Rights) Unrestricted() bool {
	if r.all {
		return true
	}
	for _, g := range r.ReadGrants {
		if g.Scope == ScopeAll {
			return true
		}
	}
	return false
}

// Hidden reports whether a field is hidden from the principal.
func (r *Rights) Hidden(field string) bool { return r.hidden[field] }

// ReadOnly reports whether a field is read-only for the principal.
func (r *Rights) ReadOnly(field string) bool { return r.hidden[field] || r.readonly[field] }

// IsAll reports whether these are administrator rights.
func (r *Rights) IsAll() bool { return r.all }

// RightsOn computes the principal's rights on an entity: the union of the
// grants of all their roles. A field is hidden only if every read-granting
// grant hides it; read-only likewise among update-granting grants.
func (p *Principal) RightsOn(entity string) *Rights {
	r := &Rights{Entity: entity, actions: map[string]bool{}}
	if p.Admin {
		r.all = true
		return r
	}
	gs := append(slices.Clone(p.grants[entity]), p.grants["*"]...)
	var readers, updaters []Grant
	for _, g := range gs {
		for _, a := range g.Actions {
			r.actions[a] = true
		}
		if slices.Contains(g.Actions, Read) {
			readers = append(readers, g)
		}
		if slices.Contains(g.Actions, Update) {
			updaters = append(updaters, g)
		}
		if slices.Contains(g.Actions, Delete) {
			r.DeleteGrants = append(r.DeleteGrants, g)
		}
	}
	r.ReadGrants, r.UpdateGrants = readers, updaters
	r.hidden = intersect(readers, func(g Grant) []string { return g.HiddenFields })
	r.readonly = intersect(updaters, func(g Grant) []string { return append(slices.Clone(g.ReadonlyFields), g.HiddenFields...) })
	return r
}

func intersect(gs []Grant, f func(Grant) []string) map[string]bool {
	if len(gs) == 0 {
		return nil
	}
	count := map[string]int{}
	for _, g := range gs {
		seen := map[string]bool{}
		for _, n := range f(g) {
			if !seen[n] {
				seen[n] = true
				count[n]++
			}
		}
	}
	out := map[string]bool{}
	for n, c := range count {
		if c == len(gs) {
			out[n] = true
		}
	}
	return out
}

// AddGrants attaches grants (used when loading roles, and by tests).
func (p *Principal) AddGrants(gs ...Grant) {
	if p.grants == nil {
		p.grants = map[string][]Grant{}
	}
	for _, g := range gs {
		p.grants[g.Entity] = append(p.grants[g.Entity], g)
	}
}

// ParseGrants decodes a role's permissions strictly.
func ParseGrants(raw []byte) ([]Grant, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var gs []Grant
	if err := json.Unmarshal(raw, &gs); err != nil {
		return nil, err
	}
	return gs, nil
}
