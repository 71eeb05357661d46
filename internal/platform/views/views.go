// Package views stores the list and kanban views users save in the web app
// (P13): a filter in the expression language, a sort, columns, and for a
// kanban the single-select field it groups by. A view is personal unless an
// administrator shares it with everyone.
//
// Views are ordinary records of the system entity saved_views, so they get
// the API, audit and history of every record. Every signed-in user may read
// shared views and create, change and delete their own (baseline grants);
// roles need no line for them.
package views

import (
	"context"
	"embed"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Entities holds the definition of saved_views.
//
//go:embed entities/*.json
var Entities embed.FS

// Entity is the name of the saved views entity.
const Entity = "saved_views"

// Grants are what every signed-in user may do with saved views.
func Grants() []access.Grant {
	return []access.Grant{
		{Entity: Entity, Actions: []string{access.Read}, Scope: access.ScopeFilter, Filter: "shared == true"},
		{Entity: Entity, Actions: []string{access.Read, access.Create, access.Update, access.Delete}, Scope: access.ScopeOwn},
	}
}

// Install registers the checks on saved views.
func Install(rs *records.Service) {
	rs.Use(Entity, records.Hook{Before: func(ctx context.Context, c *records.Change) error {
		if c.Op != records.OpCreate && c.Op != records.OpUpdate {
			return nil
		}
		return check(rs, c)
	}})
}

// check refuses a view of an entity the user cannot read, one whose filter
// or sort does not compile for that user, and sharing by anyone but an
// administrator.
func check(rs *records.Service, c *records.Change) error {
	v := c.New
	if shared, _ := v["shared"].(bool); shared && !c.P.Admin {
		if old := c.Old; old == nil || old["shared"] != true {
			return apperr.New(apperr.ErrForbidden, "share_view_admin_only")
		}
	}
	entity, _ := v["entity"].(string)
	filter, _ := v["filter"].(string)
	sort, _ := v["sort"].(string)
	var errs []apperr.FieldError
	for _, part := range []struct{ field, filter, sort string }{{"filter", filter, ""}, {"sort", "", sort}} {
		err := rs.CheckQuery(c.P, entity, part.filter, part.sort)
		if err == nil {
			continue
		}
		ae, ok := apperr.As(err)
		if !ok {
			return err
		}
		if ae.Kind != apperr.ErrInvalid { // no such entity, or not readable by the owner
			errs = append(errs, apperr.Field("entity", "invalid_option", "value", entity))
			break
		}
		errs = append(errs, apperr.FieldError{Field: part.field, Code: ae.Code, Args: ae.Args})
	}
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	return nil
}
