// Package org gives the organisation entities (users, departments, regions,
// roles) their behaviour: logins are normalised, role permissions are
// validated, deactivation ends sessions at once, passwords are set through
// an action, and every change refreshes cached principals.
package org

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/expr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Org wires the behaviour.
type Org struct {
	db     *db.DB
	recs   *records.Service
	auth   *auth.Service
	access *access.Service
}

// Users implements auth.Users over the users table.
type Users struct{ DB *db.DB }

// ByLogin finds an account by its (lower-case) login.
func (u Users) ByLogin(ctx context.Context, login string) (int64, bool, error) {
	var id int64
	var active any
	err := u.DB.QueryRow(ctx, `SELECT id, active FROM r_users WHERE login = ? AND deleted_at IS NULL`, strings.ToLower(login)).Scan(&id, &active)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, apperr.NotFound()
	}
	return id, db.Truthy(active), err
}

// Active reports whether the account exists and is active.
func (u Users) Active(ctx context.Context, id int64) (bool, error) {
	var active any
	err := u.DB.QueryRow(ctx, `SELECT active FROM r_users WHERE id = ? AND deleted_at IS NULL`, id).Scan(&active)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return db.Truthy(active), err
}

// Install registers hooks and actions on the records service.
func Install(d *db.DB, recs *records.Service, a *auth.Service, acc *access.Service) *Org {
	o := &Org{db: d, recs: recs, auth: a, access: acc}
	invalidate := records.Hook{Priority: 100, After: func(ctx context.Context, c *records.Change) error {
		db.AfterCommit(ctx, acc.Invalidate)
		return nil
	}}
	for _, e := range []string{"users", "roles", "departments", "regions"} {
		recs.Use(e, invalidate)
	}
	recs.Use("users", records.Hook{Before: o.beforeUser, After: o.afterUser})
	recs.Use("users", records.Hook{Priority: 100, After: func(ctx context.Context, c *records.Change) error {
		a.ForgetCredentials(ctx) // a deleted or deactivated user's credentials stop working at once
		return nil
	}})
	recs.Use("roles", records.Hook{Before: o.beforeRole})
	recs.Use("departments", records.Hook{Before: o.beforeDepartment})
	recs.Action("users", "set_password", o.setPassword)
	return o
}

func (o *Org) beforeUser(ctx context.Context, c *records.Change) error {
	if c.New == nil {
		if c.Old != nil && c.Old.ID() == c.P.UserID {
			return apperr.Conflict("cannot_delete_self")
		}
		return nil
	}
	if l, ok := c.New["login"].(string); ok {
		c.New["login"] = strings.ToLower(l)
	}
	if m, ok := c.New["manager"].(int64); ok && m == c.New.ID() && m != 0 {
		return apperr.Fields(apperr.Field("manager", "invalid"))
	}
	return nil
}

func (o *Org) afterUser(ctx context.Context, c *records.Change) error {
	if c.Op == records.OpUpdate && slices.Contains(c.Changed, "active") {
		if a, _ := c.New["active"].(bool); !a {
			return o.auth.RevokeUserSessions(ctx, c.New.ID())
		}
	}
	if c.Op == records.OpDelete {
		return o.auth.RevokeUserSessions(ctx, c.Old.ID())
	}
	return nil
}

// beforeRole validates a role's permission list.
func (o *Org) beforeRole(ctx context.Context, c *records.Change) error {
	if c.New == nil {
		if c.Old["name"] == "admin" {
			return apperr.Conflict("builtin_role")
		}
		return nil
	}
	if c.Old != nil && c.Old["name"] == "admin" && c.New["name"] != "admin" {
		return apperr.Fields(apperr.Field("name", "read_only"))
	}
	raw, ok := c.New["permissions"].(json.RawMessage)
	if !ok {
		return nil
	}
	var gs []access.Grant
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&gs); err != nil {
		return apperr.Fields(apperr.Field("permissions", "invalid", "reason", err.Error()))
	}
	var errs []apperr.FieldError
	reg := o.recs.Registry()
	for i, g := range gs {
		path := fmt.Sprintf("permissions[%d]", i)
		e, ok := reg.Get(g.Entity)
		if !ok && g.Entity != "*" {
			errs = append(errs, apperr.Field(path+".entity", "unknown_entity", "entity", g.Entity))
			continue
		}
		for _, a := range g.Actions {
			if !slices.Contains(access.AllActions, a) {
				errs = append(errs, apperr.Field(path+".actions", "invalid_option", "value", a))
			}
		}
		switch g.Scope {
		case access.ScopeOwn, access.ScopeDepartment, access.ScopeDepartmentTree, access.ScopeRegions, access.ScopeAll:
		case access.ScopeFilter:
			if e == nil {
				errs = append(errs, apperr.Field(path+".filter", "not_supported"))
			} else if err := expr.Validate(g.Filter, fieldNames(e)); err != nil {
				errs = append(errs, apperr.Field(path+".filter", "bad_expression", "reason", err.Error()))
			}
		default:
			errs = append(errs, apperr.Field(path+".scope", "invalid_option", "value", g.Scope))
		}
		if e != nil {
			for _, n := range append(slices.Clone(g.HiddenFields), g.ReadonlyFields...) {
				base, sub, _ := strings.Cut(n, ".")
				f := e.Field(base)
				if f == nil || (sub != "" && f.SubField(sub) == nil) {
					if !subFieldOfAny(e, n) {
						errs = append(errs, apperr.Field(path+".hidden_fields", "unknown_field", "field", n))
					}
				}
			}
		}
	}
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	return nil
}

func subFieldOfAny(e *meta.Entity, n string) bool {
	for i := range e.Fields {
		if e.Fields[i].Type == "subtable" && e.Fields[i].SubField(n) != nil {
			return true
		}
	}
	return false
}

func fieldNames(e *meta.Entity) []string {
	out := []string{"id", "owner", "created_by", "created_at", "updated_at"}
	for _, f := range e.Fields {
		out = append(out, f.Name)
	}
	return out
}

// beforeDepartment refuses cycles in the tree.
func (o *Org) beforeDepartment(ctx context.Context, c *records.Change) error {
	if c.Op == records.OpDelete {
		return o.departmentEmpty(ctx, c.Old.ID())
	}
	if c.New == nil || c.Old == nil {
		return nil
	}
	parent, _ := c.New["parent"].(int64)
	seen := map[int64]bool{c.Old.ID(): true}
	for parent != 0 {
		if seen[parent] {
			return apperr.Fields(apperr.Field("parent", "cycle"))
		}
		seen[parent] = true
		var next sql.NullInt64
		if err := o.db.QueryRow(ctx, `SELECT parent FROM r_departments WHERE id = ?`, parent).Scan(&next); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			return err
		}
		parent = next.Int64
	}
	return nil
}

// departmentEmpty refuses to delete a department that still has live
// sub-departments or members: they would point at a department in the
// recycle bin, and scopes by department would silently change.
func (o *Org) departmentEmpty(ctx context.Context, id int64) error {
	var children, members int64
	if err := o.db.QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM r_departments WHERE parent = ? AND deleted_at IS NULL),
		(SELECT COUNT(*) FROM r_users WHERE department = ? AND deleted_at IS NULL)`, id, id).Scan(&children, &members); err != nil {
		return err
	}
	if children > 0 || members > 0 {
		return apperr.New(apperr.ErrConflict, "department_not_empty", "children", children, "members", members)
	}
	return nil
}

// setPassword: users set their own; admins set anyone's (which also ends
// that user's sessions).
func (o *Org) setPassword(ctx context.Context, p *access.Principal, rec records.Record, input map[string]any) (records.Record, error) {
	if !p.Admin && p.UserID != rec.ID() {
		return nil, apperr.Forbidden("admin_only")
	}
	self := p.UserID == rec.ID()
	for k := range input {
		if k != "password" && (k != "current_password" || !self) {
			return nil, apperr.Invalid("unknown_field", "field", k)
		}
	}
	pw, ok := input["password"].(string)
	if !ok {
		return nil, apperr.Fields(apperr.Field("password", "required"))
	}
	// One's own password is changed by proving the current one, so that a
	// borrowed session or a stolen token cannot take over the account.
	if self {
		cur, _ := input["current_password"].(string)
		if cur == "" {
			return nil, apperr.Fields(apperr.Field("current_password", "required"))
		}
		ok, err := o.auth.CheckPassword(ctx, rec.ID(), cur)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, apperr.Fields(apperr.Field("current_password", "wrong_password"))
		}
	}
	if err := o.auth.SetPassword(ctx, rec.ID(), pw); err != nil {
		return nil, err
	}
	if !self {
		if err := o.auth.RevokeUserSessions(ctx, rec.ID()); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// Grants are what every signed-in user may do in the organisation, whatever
// their roles: see the company directory (colleagues' names, departments,
// managers, contact details) and the regions, so that owners, assignees and
// approvers show by name on every record; and keep their own language and
// contact details. Roles stay with administrators.
func Grants() []access.Grant {
	return []access.Grant{
		{Entity: "users", Actions: []string{access.Read}, Scope: access.ScopeAll, HiddenFields: []string{"roles"}},
		// One's own profile: language and contact details, nothing that
		// grants access.
		{Entity: "users", Actions: []string{access.Update}, Scope: access.ScopeFilter, Filter: "id == me()",
			ReadonlyFields: []string{"login", "name", "active", "department", "manager", "regions", "roles"}},
		{Entity: "departments", Actions: []string{access.Read}, Scope: access.ScopeAll},
		{Entity: "regions", Actions: []string{access.Read}, Scope: access.ScopeAll},
	}
}
