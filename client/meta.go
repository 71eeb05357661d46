package client

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
)

// Label is a text in several languages, keyed "zh-CN" and "en".
type Label map[string]string

// Entity is an entity definition (API.md "Metadata"). To create one, set
// the definition's fields; the server fills the read-only ones in its
// answers.
type Entity struct {
	Name       string          `json:"name"`
	Label      Label           `json:"label,omitempty"`
	TitleField string          `json:"title_field,omitempty"`
	Numbering  *Numbering      `json:"numbering,omitempty"`
	Indexes    []Index         `json:"indexes,omitempty"`
	Fields     []Field         `json:"fields"`
	Layouts    json.RawMessage `json:"layouts,omitempty"`
	Views      json.RawMessage `json:"views,omitempty"`
	Actions    []Action        `json:"actions,omitempty"`

	// Read-only, in the server's answers.
	Module string `json:"module,omitempty"`
	System bool   `json:"system,omitempty"`
	Custom bool   `json:"custom,omitempty"`
	// Permissions are the actions the caller may take (read, create,
	// update, delete, import, export, print, approve).
	Permissions []string `json:"permissions,omitempty"`
	// ReadonlyFields are the fields the caller may read but not write.
	ReadonlyFields []string `json:"readonly_fields,omitempty"`
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

// Numbering is an entity's numbering rule.
type Numbering struct {
	Field   string `json:"field"`
	Pattern string `json:"pattern"`
	Reset   string `json:"reset,omitempty"`
}

// Index is a composite index of an entity.
type Index struct {
	Fields []string `json:"fields"`
	Unique bool     `json:"unique,omitempty"`
}

// Action is a domain action an entity offers.
type Action struct {
	Name  string `json:"name"`
	Label Label  `json:"label,omitempty"`
}

// Field is a field definition. Min, Max and Default keep the exact JSON
// the server uses ("0", "\"new\"").
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
	Min         string          `json:"min,omitempty"`
	Max         string          `json:"max,omitempty"`
	MaxLength   int             `json:"max_length,omitempty"`
	Pattern     string          `json:"pattern,omitempty"`
	Options     []Choice        `json:"options,omitempty"`
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
}

// Choice is one option of a select field: a value, with labels and a
// colour when wanted. In JSON it is a plain string or an object.
type Choice struct {
	Value string `json:"value"`
	Label Label  `json:"label,omitempty"`
	Color string `json:"color,omitempty"`
}

// UnmarshalJSON accepts "value" or {"value": …}.
func (o *Choice) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		*o = Choice{}
		return json.Unmarshal(b, &o.Value)
	}
	type plain Choice
	return json.Unmarshal(b, (*plain)(o))
}

// Choices makes plain options from values.
func Choices(values ...string) []Choice {
	out := make([]Choice, len(values))
	for i, v := range values {
		out[i] = Choice{Value: v}
	}
	return out
}

// Entities lists the entities the caller may read.
func (c *Client) Entities(ctx context.Context) ([]Entity, error) {
	var out struct {
		Items []Entity `json:"items"`
	}
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/meta/entities"}, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// Entity reads one entity's definition (404 when the caller may not read it).
func (c *Client) Entity(ctx context.Context, name string) (*Entity, error) {
	var e Entity
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/meta/entities/" + seg(name)}, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// CreateEntity creates a custom entity (administrators) and returns it as
// defined; its table exists when the call returns.
func (c *Client) CreateEntity(ctx context.Context, def Entity) (*Entity, error) {
	var e Entity
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/meta/entities", body: def}, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// AddField adds a field to an entity, built-in or custom (administrators),
// and returns it as defined.
func (c *Client) AddField(ctx context.Context, entity string, f Field) (*Field, error) {
	var out Field
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/meta/entities/" + seg(entity) + "/fields", body: f}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
