package printing

import (
	"context"
	"fmt"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Choice is a template a user may print with (the print menu).
type Choice struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	IsDefault bool   `json:"is_default"`
	Paper     string `json:"paper"`
}

// ForEntity lists the active templates of entity for a user who may print
// it (none for one who may not): the print menu of record pages, which
// needs no right on print_templates.
func (s *Service) ForEntity(ctx context.Context, p *access.Principal, entity string) ([]Choice, error) {
	out := []Choice{}
	if s.mayPrint(p, entity) != nil {
		return out, nil
	}
	recs, err := s.active(ctx, entity, "")
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		t := templateOf(r)
		def, _ := r["is_default"].(bool)
		out = append(out, Choice{ID: strconv.FormatInt(t.ID, 10), Name: t.Name, IsDefault: def, Paper: t.Paper})
	}
	return out, nil
}

// active reads the active templates of an entity as the system, the
// default first, then by name (and extra filter, when given).
func (s *Service) active(ctx context.Context, entity, extra string) ([]records.Record, error) {
	filter := fmt.Sprintf("entity == %q && active == true", entity)
	if extra != "" {
		filter += " && " + extra
	}
	res, err := s.recs.List(ctx, access.System(), Entity, records.ListOptions{Filter: filter, Sort: "-is_default,name", PerPage: 200, Count: records.CountNone})
	if err != nil {
		return nil, err
	}
	return res.Items, nil
}

// template loads the template to print entity with: the given one (it
// must be active and for the entity), or the entity's default, or its
// first active template. 404 print_no_template when there is none.
func (s *Service) template(ctx context.Context, entity string, id int64) (*Template, error) {
	if id != 0 {
		r, err := s.recs.Get(ctx, access.System(), Entity, id, records.GetOptions{})
		if err != nil {
			return nil, apperr.New(apperr.ErrNotFound, "print_no_template", "entity", entity)
		}
		t := templateOf(r)
		if active, _ := r["active"].(bool); !active || t.Entity != entity {
			return nil, apperr.New(apperr.ErrNotFound, "print_no_template", "entity", entity)
		}
		return t, nil
	}
	recs, err := s.active(ctx, entity, "")
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, apperr.New(apperr.ErrNotFound, "print_no_template", "entity", entity)
	}
	return templateOf(recs[0]), nil
}

func templateOf(r records.Record) *Template {
	str := func(k string) string { s, _ := r[k].(string); return s }
	return &Template{ID: r.ID(), Name: str("name"), Entity: str("entity"), Paper: str("paper"), Lang: str("lang"),
		Logo: str("logo"), Header: str("header"), Body: str("body"), Footer: str("footer")}
}

// beforeTemplate checks a template when it is saved (the entity exists and
// is not print_templates; the sources parse and name only fields of the
// entity, with line and column otherwise) and keeps one default per
// entity: making a template the default unsets the previous default.
func (s *Service) beforeTemplate(ctx context.Context, c *records.Change) error {
	if c.New == nil {
		return nil
	}
	t := templateOf(c.New)
	e, ok := s.recs.Registry().Get(t.Entity)
	if !ok || t.Entity == Entity {
		return apperr.Fields(apperr.Field("entity", "print_unknown_entity", "entity", t.Entity))
	}
	if changed(c, "body", "header", "footer", "entity") {
		pt, err := t.parse()
		if err != nil {
			return err
		}
		sc := schemaOf(s.recs.Registry(), e, 0)
		for _, x := range []struct {
			part string
			err  error
		}{{"body", pt.body.Check(sc)}, {"header", pt.header.Check(sc)}, {"footer", pt.footer.Check(sc)}} {
			if x.err != nil {
				return templateError(x.part, x.err)
			}
		}
	}
	def, _ := c.New["is_default"].(bool)
	active, _ := c.New["active"].(bool)
	if !def || !active || !changed(c, "is_default", "active", "entity") {
		return nil
	}
	others, err := s.active(ctx, t.Entity, "is_default == true")
	if err != nil {
		return err
	}
	for _, o := range others {
		if c.Old != nil && o.ID() == c.Old.ID() {
			continue
		}
		if _, err := s.recs.Update(ctx, c.P, Entity, o.ID(), map[string]any{"is_default": false}, 0); err != nil {
			return err
		}
	}
	return nil
}

// changed reports whether a write sets any of the fields.
func changed(c *records.Change, names ...string) bool {
	if c.Old == nil {
		return true
	}
	for _, ch := range c.Changed {
		for _, n := range names {
			if ch == n {
				return true
			}
		}
	}
	return false
}
