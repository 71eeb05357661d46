package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// TestOpenAPIRefsResolve checks that every $ref in the generated document
// names a schema it defines, and that every route documented has responses.
func TestOpenAPIRefsResolve(t *testing.T) {
	e := &meta.Entity{Name: "deals", Fields: []meta.Field{{Name: "name", Type: "text"}, {Name: "lines", Type: "subtable",
		Fields: []meta.Field{{Name: "qty", Type: "decimal"}}}}}
	b, err := json.Marshal(BuildOpenAPI([]*meta.Entity{e}, "test"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	var walk func(path string, x any)
	walk = func(path string, x any) {
		switch t2 := x.(type) {
		case map[string]any:
			if r, ok := t2["$ref"].(string); ok {
				name := strings.TrimPrefix(r, "#/components/schemas/")
				if _, ok := schemas[name]; !ok {
					t.Errorf("%s: $ref %s is not defined", path, r)
				}
			}
			for k, v := range t2 {
				walk(path+"/"+k, v)
			}
		case []any:
			for _, v := range t2 {
				walk(path, v)
			}
		}
	}
	walk("", doc)
	for p, ops := range doc["paths"].(map[string]any) {
		for m, op := range ops.(map[string]any) {
			if m == "parameters" {
				continue
			}
			if _, ok := op.(map[string]any)["responses"]; !ok {
				t.Errorf("%s %s has no responses", m, p)
			}
		}
	}
}
