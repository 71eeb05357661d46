package rules

import "github.com/tenon-crm/tenon/internal/platform/meta"

// dateFieldType is the type of a date trigger's field: "date" or
// "datetime" for a field of the entity, "datetime" for the system
// timestamps created_at and updated_at (so "3 days after a record was
// created" is {"type": "date", "field": "created_at", "offset_days": 3}),
// "" for anything else.
func dateFieldType(ent *meta.Entity, name string) string {
	switch name {
	case "created_at", "updated_at":
		return "datetime"
	}
	if f := ent.Field(name); f != nil && (f.Type == "date" || f.Type == "datetime") {
		return f.Type
	}
	return ""
}
