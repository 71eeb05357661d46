package meta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Label is a text in several languages, keyed "zh-CN" and "en".
type Label map[string]string

// Get returns the label in lang, falling back to zh-CN, en, then fallback.
func (l Label) Get(lang, fallback string) string {
	if s := l[lang]; s != "" {
		return s
	}
	if s := l["zh-CN"]; s != "" {
		return s
	}
	if s := l["en"]; s != "" {
		return s
	}
	return fallback
}

// Num is a number in a definition (min, max, default of numeric fields). It
// accepts a JSON number or a string and keeps the exact text.
type Num string

// UnmarshalJSON accepts 12, 12.5 or "12.5".
func (n *Num) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*n = Num(s)
		return nil
	}
	if _, err := strconv.ParseFloat(string(b), 64); err != nil {
		return fmt.Errorf("not a number: %s", b)
	}
	*n = Num(b)
	return nil
}

// MarshalJSON writes the number as a string, like every decimal in the API.
func (n Num) MarshalJSON() ([]byte, error) { return json.Marshal(string(n)) }

// Option is one choice of a select field. In JSON it is either a plain
// string or {"value": "...", "label": {...}, "color": "..."}.
type Option struct {
	Value string `json:"value"`
	Label Label  `json:"label,omitempty"`
	Color string `json:"color,omitempty"`
}

// UnmarshalJSON accepts "value" or an object.
func (o *Option) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &o.Value)
	}
	type plain Option
	var p plain
	if err := strictUnmarshal(b, &p); err != nil {
		return err
	}
	*o = Option(p)
	return nil
}

// Field is one field of an entity or of a sub-table.
type Field struct {
	Name        string          `json:"name"`
	Type        string          `json:"type"`
	Label       Label           `json:"label,omitempty"`
	Help        Label           `json:"help,omitempty"`
	Required    bool            `json:"required,omitempty"`
	RequiredIf  string          `json:"required_if,omitempty"`
	VisibleIf   string          `json:"visible_if,omitempty"`
	Unique      bool            `json:"unique,omitempty"`
	Default     json.RawMessage `json:"default,omitempty"`
	Min         *Num            `json:"min,omitempty"`
	Max         *Num            `json:"max,omitempty"`
	MaxLength   int             `json:"max_length,omitempty"`
	Pattern     string          `json:"pattern,omitempty"`
	Options     []Option        `json:"options,omitempty"`
	OptionsFrom string          `json:"options_from,omitempty"`
	Target      string          `json:"target,omitempty"`
	Fields      []Field         `json:"fields,omitempty"`
	Expression  string          `json:"expression,omitempty"`
	ResultType  string          `json:"result_type,omitempty"`
	Source      string          `json:"source,omitempty"`
	Op          string          `json:"op,omitempty"`
	Of          string          `json:"of,omitempty"`
	Index       bool            `json:"index,omitempty"`
	Scale       *int            `json:"scale,omitempty"`
	Currency    string          `json:"currency,omitempty"`
	Searchable  *bool           `json:"searchable,omitempty"`
	ReadOnly    bool            `json:"readonly,omitempty"`
	Secret      bool            `json:"secret,omitempty"`
	Custom      bool            `json:"custom,omitempty"`

	pattern *regexp.Regexp
	// Compiled expressions, set by Prepare.
	Formula        Evaluator `json:"-"`
	RequiredIfProg Evaluator `json:"-"`
	VisibleIfProg  Evaluator `json:"-"`
}

// LinkTarget is the entity a link, user or department field names (""
// for other fields, multi_link included).
func (f *Field) LinkTarget() string {
	switch f.Type {
	case "link":
		return f.Target
	case "user":
		return "users"
	case "department":
		return "departments"
	}
	return ""
}

// Evaluator is a compiled expression (see package expr).
type Evaluator interface {
	Run(vars map[string]any) (any, error)
	RunBool(vars map[string]any) (bool, error)
	Refs() []string
}

// Numbering is an entity's numbering rule (P6).
type Numbering struct {
	Field   string `json:"field"`
	Pattern string `json:"pattern"`
	Reset   string `json:"reset,omitempty"` // never, yearly, monthly, daily
}

// Index is a composite index declared on an entity.
type Index struct {
	Fields []string `json:"fields"`
	Unique bool     `json:"unique,omitempty"`
}

// Action is a domain action an entity offers (convert, win, submit…).
type Action struct {
	Name  string `json:"name"`
	Label Label  `json:"label,omitempty"`
}

// Entity is the definition of one entity.
type Entity struct {
	Name       string          `json:"name"`
	Label      Label           `json:"label,omitempty"`
	Module     string          `json:"module,omitempty"`
	TitleField string          `json:"title_field,omitempty"`
	Numbering  *Numbering      `json:"numbering,omitempty"`
	Indexes    []Index         `json:"indexes,omitempty"`
	Fields     []Field         `json:"fields"`
	Layouts    json.RawMessage `json:"layouts,omitempty"`
	Views      json.RawMessage `json:"views,omitempty"`
	Actions    []Action        `json:"actions,omitempty"`
	// System entities (users, roles…) are managed by admins only and are not
	// shown in navigation for ordinary users.
	System bool `json:"system,omitempty"`
	// NoAudit switches the audit trail off (never for business entities).
	NoAudit bool `json:"no_audit,omitempty"`
	Custom  bool `json:"custom,omitempty"`
}

// Field returns the named field, or nil.
func (e *Entity) Field(name string) *Field {
	for i := range e.Fields {
		if e.Fields[i].Name == name {
			return &e.Fields[i]
		}
	}
	return nil
}

// SubField returns the named field of a sub-table field, or nil.
func (f *Field) SubField(name string) *Field {
	for i := range f.Fields {
		if f.Fields[i].Name == name {
			return &f.Fields[i]
		}
	}
	return nil
}

// Table is the record table of the entity.
func (e *Entity) Table() string { return "r_" + e.Name }

// ChildTable is the table of a sub-table field.
func (e *Entity) ChildTable(field string) string { return "r_" + e.Name + "__" + field }

// FTSTable is the SQLite full-text table of the entity.
func (e *Entity) FTSTable() string { return "r_" + e.Name + "__fts" }

// ScaleOf returns a decimal field's number of decimal places.
func (f *Field) ScaleOf() int {
	if f.Scale != nil {
		return *f.Scale
	}
	switch f.Type {
	case "money", "percent":
		return 2
	case "formula", "rollup":
		return 4
	}
	return 4
}

// IsSearchable reports whether the field feeds the q search.
func (f *Field) IsSearchable() bool {
	if f.Searchable != nil {
		return *f.Searchable
	}
	switch f.Type {
	case "text", "email", "phone", "barcode", "autonumber":
		return !f.Secret
	}
	return false
}

// LabelOf returns the field's label in lang, falling back to its name.
func (f *Field) LabelOf(lang string) string { return f.Label.Get(lang, f.Name) }

// Clone returns a deep copy (definitions are shared read-only; edits copy).
func (e *Entity) Clone() *Entity {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	var c Entity
	if err := json.Unmarshal(b, &c); err != nil {
		panic(err)
	}
	c.Custom = e.Custom
	return &c
}

// ParseEntity decodes a definition strictly: unknown keys are refused.
func ParseEntity(b []byte) (*Entity, error) {
	var e Entity
	if err := strictUnmarshal(b, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// ParseField decodes one field definition strictly.
func ParseField(b []byte) (*Field, error) {
	var f Field
	if err := strictUnmarshal(b, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("unexpected data after the JSON value")
	}
	return nil
}

// SystemColumns are present on every record table and cannot be field names.
var systemColumns = map[string]bool{
	"id": true, "version": true, "created_at": true, "updated_at": true,
	"created_by": true, "owner": true, "deleted_at": true, "deleted_by": true,
	"search": true, "search_grams": true, "parent_id": true, "position": true,
	"select": true, "from": true, "where": true, "order": true, "group": true,
	"table": true, "user": true, "limit": true, "offset": true, "and": true,
	"or": true, "not": true, "null": true, "true": true, "false": true, "nil": true,
	"in": true, "contains": true, "matches": true, "let": true, "if": true, "else": true,
}

// IsSystemColumn reports whether name is a built-in column of every record.
func IsSystemColumn(name string) bool {
	switch name {
	case "id", "version", "created_at", "updated_at", "created_by", "owner":
		return true
	}
	return false
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 48 || strings.Contains(s, "__") || strings.HasSuffix(s, "_") {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return true
}
