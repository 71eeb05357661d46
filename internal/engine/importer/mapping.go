package importer

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// ownerField is the system field an import may fill besides the entity's
// own: who owns the record (a user, by login or name).
const ownerField = "owner"

// target is a field an import column can fill.
type target struct {
	name     string
	typ      string      // the field's type ("user" for owner)
	f        *meta.Field // nil for owner
	required bool
	label    meta.Label
}

// notImportable are the field types an import never writes: computed
// ones, sub-tables, and files (their values are ids of uploads).
var notImportable = map[string]bool{"subtable": true, "formula": true, "rollup": true, "autonumber": true,
	"file": true, "image": true, "signature": true}

// targets lists, in definition order, the fields p may fill on entity e by
// an import (owner last): stored, not computed, neither hidden from nor
// read-only for p. A required field with a default (a lead's status) is
// not required of a file: a row without it gets the default.
func targets(p *access.Principal, e *meta.Entity) []target {
	r := p.RightsOn(e.Name)
	var out []target
	for i := range e.Fields {
		f := &e.Fields[i]
		if notImportable[f.Type] || f.IsComputed() || r.ReadOnly(f.Name) {
			continue
		}
		out = append(out, target{name: f.Name, typ: f.Type, f: f, required: f.Required && len(f.Default) == 0, label: f.Label})
	}
	out = append(out, target{name: ownerField, typ: "user", label: meta.Label{
		"zh-CN": i18n.Message(i18n.ZH, "import_label_owner", nil), "en": i18n.Message(i18n.EN, "import_label_owner", nil)}})
	return out
}

func findTarget(ts []target, name string) *target {
	for i := range ts {
		if ts[i].name == name {
			return &ts[i]
		}
	}
	return nil
}

// normalizeHeader is how column headers and field names are compared:
// compatibility forms folded (full-width letters and digits to
// half-width), lower case, and only letters and digits kept (spaces,
// punctuation and the "*" marking a required column dropped).
func normalizeHeader(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// suggest maps each column to the first field whose name or zh-CN or
// English label it matches (normalised), each field at most once; other
// columns map to "".
func suggest(columns []string, ts []target) map[string]string {
	out := make(map[string]string, len(columns))
	used := map[string]bool{}
	for _, col := range columns {
		out[col] = ""
		key := normalizeHeader(col)
		if key == "" {
			continue
		}
		for _, t := range ts {
			if used[t.name] {
				continue
			}
			if key == normalizeHeader(t.name) || key == normalizeHeader(t.label["zh-CN"]) || key == normalizeHeader(t.label["en"]) {
				out[col] = t.name
				used[t.name] = true
				break
			}
		}
	}
	return out
}

// dedupeTypes are the field types an exact match may use; a company match
// needs a text field.
var dedupeTypes = map[string]bool{"text": true, "email": true, "phone": true, "url": true, "barcode": true,
	"select": true, "integer": true}

// checkSettings validates a mapping and a de-duplication setting for p on
// entity e: every column named exists, every field is one p may import,
// no field is filled twice, the de-duplication field is mapped and of a
// usable type, "create" is not chosen for a unique field, and "update"
// needs the right to update. Problems are one 422 naming each.
func checkSettings(p *access.Principal, e *meta.Entity, columns []string, mapping map[string]string, d Dedupe) error {
	ts := targets(p, e)
	known := map[string]bool{}
	for _, c := range columns {
		known[c] = true
	}
	var errs []apperr.FieldError
	by := map[string]string{}
	for _, col := range columns {
		name := mapping[col]
		if name == "" {
			continue
		}
		if findTarget(ts, name) == nil {
			errs = append(errs, apperr.Field("mapping."+col, "import_field_not_importable", "field", name))
			continue
		}
		if prev, dup := by[name]; dup {
			errs = append(errs, apperr.Field("mapping."+col, "import_field_mapped_twice", "field", name, "column", prev))
			continue
		}
		by[name] = col
	}
	for col := range mapping {
		if !known[col] {
			errs = append(errs, apperr.Field("mapping."+col, "import_unknown_column", "column", col))
		}
	}
	if d.Match != MatchExact && d.Match != MatchCompany {
		errs = append(errs, apperr.Field("dedupe.match", "import_dedupe_match_invalid"))
	}
	if d.Mode != ModeSkip && d.Mode != ModeUpdate && d.Mode != ModeCreate {
		errs = append(errs, apperr.Field("dedupe.mode", "import_dedupe_mode_invalid"))
	}
	if d.Field != "" {
		t := findTarget(ts, d.Field)
		switch {
		case t == nil || t.f == nil:
			errs = append(errs, apperr.Field("dedupe.field", "import_field_not_importable", "field", d.Field))
		case by[d.Field] == "":
			errs = append(errs, apperr.Field("dedupe.field", "import_dedupe_not_mapped", "field", d.Field))
		case d.Match == MatchCompany && t.typ != "text",
			d.Match == MatchExact && (!dedupeTypes[t.typ] || t.f.OptionsFrom != ""):
			errs = append(errs, apperr.Field("dedupe.field", "import_dedupe_field_type", "field", d.Field))
		case d.Mode == ModeCreate && t.f.Unique:
			errs = append(errs, apperr.Field("dedupe.mode", "import_dedupe_create_unique", "field", d.Field))
		}
	}
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	if d.Field != "" && d.Mode == ModeUpdate && !p.RightsOn(e.Name).Can(access.Update) {
		return apperr.Forbidden("action_not_allowed", "action", access.Update, "entity", e.Name)
	}
	return nil
}

// checkCreate refuses (403) a caller who may not create records of e.
func checkCreate(p *access.Principal, e *meta.Entity) error {
	r := p.RightsOn(e.Name)
	if !r.Can(access.Create) || !r.Can(access.Read) {
		return apperr.Forbidden("action_not_allowed", "action", access.Create, "entity", e.Name)
	}
	return nil
}
