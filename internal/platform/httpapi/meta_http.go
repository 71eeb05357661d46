package httpapi

import (
	"net/http"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// entityJSON is an entity as the caller may see it: fields hidden from the
// caller are left out.
func (s *Server) entityJSON(r *http.Request, e *meta.Entity) map[string]any {
	p := principal(r)
	rights := p.RightsOn(e.Name)
	fields := make([]meta.Field, 0, len(e.Fields))
	for _, f := range e.Fields {
		if rights.Hidden(f.Name) {
			continue
		}
		if f.Type == "subtable" {
			subs := make([]meta.Field, 0, len(f.Fields))
			for _, sf := range f.Fields {
				if !rights.Hidden(sf.Name) && !rights.Hidden(f.Name+"."+sf.Name) {
					subs = append(subs, sf)
				}
			}
			f.Fields = subs
		}
		fields = append(fields, f)
	}
	actions := []string{}
	for _, a := range []string{"read", "create", "update", "delete", "import", "export", "print", "approve"} {
		if rights.Can(a) {
			actions = append(actions, a)
		}
	}
	ro := []string{}
	for _, f := range e.Fields {
		if !rights.Hidden(f.Name) && rights.ReadOnly(f.Name) {
			ro = append(ro, f.Name)
		}
	}
	out := map[string]any{
		"name": e.Name, "label": e.Label, "module": e.Module, "title_field": e.TitleField, "numbering": e.Numbering,
		"indexes": e.Indexes, "fields": fields, "layouts": e.Layouts, "views": e.Views, "actions": e.Actions,
		"system": e.System, "custom": e.Custom, "permissions": actions, "readonly_fields": ro,
	}
	return out
}

func (s *Server) listEntities(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	items := []map[string]any{}
	for _, e := range s.Meta.All() {
		if !p.RightsOn(e.Name).Can("read") {
			continue
		}
		items = append(items, s.entityJSON(r, e))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (s *Server) getEntity(w http.ResponseWriter, r *http.Request) error {
	e, ok := s.Meta.Get(r.PathValue("entity"))
	if !ok || !principal(r).RightsOn(e.Name).Can("read") {
		return apperr.NotFound()
	}
	writeJSON(w, http.StatusOK, s.entityJSON(r, e))
	return nil
}

func (s *Server) requireAdmin(r *http.Request) error {
	if !principal(r).Admin {
		return errAdminOnly
	}
	return nil
}

func (s *Server) createEntity(w http.ResponseWriter, r *http.Request) error {
	if err := s.requireAdmin(r); err != nil {
		return err
	}
	b, err := readBody(r, 1<<20)
	if err != nil {
		return err
	}
	if err := checkKeys(b); err != nil {
		return err
	}
	e, err := meta.ParseEntity(b)
	if err != nil {
		return apperr.Invalid("bad_json", "reason", err.Error())
	}
	if err := s.Meta.CreateEntity(r.Context(), e); err != nil {
		return err
	}
	got, _ := s.Meta.Get(e.Name)
	w.Header().Set("Location", "/api/v1/meta/entities/"+e.Name)
	writeJSON(w, http.StatusCreated, s.entityJSON(r, got))
	return nil
}

func (s *Server) decodeField(r *http.Request) (*meta.Field, error) {
	b, err := readBody(r, 256<<10)
	if err != nil {
		return nil, err
	}
	if err := checkKeys(b); err != nil {
		return nil, err
	}
	f, err := meta.ParseField(b)
	if err != nil {
		return nil, apperr.Invalid("bad_json", "reason", err.Error())
	}
	return f, nil
}

func (s *Server) addField(w http.ResponseWriter, r *http.Request) error {
	if err := s.requireAdmin(r); err != nil {
		return err
	}
	f, err := s.decodeField(r)
	if err != nil {
		return err
	}
	entity := r.PathValue("entity")
	if err := s.Meta.AddField(r.Context(), entity, f); err != nil {
		return err
	}
	e, _ := s.Meta.Get(entity)
	writeJSON(w, http.StatusCreated, e.Field(f.Name))
	return nil
}

func (s *Server) patchField(w http.ResponseWriter, r *http.Request) error {
	if err := s.requireAdmin(r); err != nil {
		return err
	}
	f, err := s.decodeField(r)
	if err != nil {
		return err
	}
	entity, name := r.PathValue("entity"), r.PathValue("field")
	if f.Name == "" {
		f.Name = name
	}
	if err := s.Meta.UpdateField(r.Context(), entity, name, f); err != nil {
		return err
	}
	e, _ := s.Meta.Get(entity)
	writeJSON(w, http.StatusOK, e.Field(name))
	return nil
}

func (s *Server) deleteField(w http.ResponseWriter, r *http.Request) error {
	if err := s.requireAdmin(r); err != nil {
		return err
	}
	if err := s.Meta.DeleteField(r.Context(), r.PathValue("entity"), r.PathValue("field")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
