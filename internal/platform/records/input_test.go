package records

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// TestInputValue: computed values become the input form of their field,
// which the field type's own normalisation then accepts.
func TestInputValue(t *testing.T) {
	f := func(typ string) *meta.Field { return &meta.Field{Name: "x", Type: typ} }
	cst := time.FixedZone("CST", 8*3600)
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, cst)
	moment := time.Date(2026, 11, 19, 17, 30, 0, 0, time.UTC) // 01:30 on the 20th in Shanghai
	dec := decimal.RequireFromString
	sub := &meta.Field{Name: "lines", Type: "subtable", Fields: []meta.Field{{Name: "qty", Type: "decimal"}, {Name: "code", Type: "text"}}}
	sel := &meta.Field{Name: "x", Type: "select", Options: []meta.Option{{Value: "完工"}}}
	cases := []struct {
		f    *meta.Field
		in   any
		want string // JSON of the input value
		ok   bool   // the field type accepts it
	}{
		{f("integer"), int64(5), `5`, true},
		{f("integer"), dec("7"), `7`, true},
		{f("rating"), int64(3), `3`, true},
		{f("decimal"), dec("12.50"), `12.5`, true},
		{f("money"), dec("1.50"), `1.5`, true},
		{f("money"), int64(3), `3`, true},
		{f("percent"), 0.25, `0.25`, true},
		{f("decimal"), "12.5", `"12.5"`, true},
		{f("integer"), true, `true`, false},
		{f("text"), int64(42), `"42"`, true},
		{f("text"), dec("1.25"), `"1.25"`, true},
		{f("text"), 2.5, `"2.5"`, true},
		{f("text"), true, `"true"`, true},
		{f("text"), day, `"2026-11-20"`, true},
		{f("text"), moment, `"2026-11-20T01:30:00+08:00"`, true},
		{f("text"), []any{"重点", "华东"}, `"重点、华东"`, true},
		{f("text"), []string{"a", "b"}, `"a、b"`, true},
		{f("text"), []any{int64(1), true}, `"1、true"`, true},
		{f("text"), map[string]any{"a": int64(1)}, `{"a":1}`, false},
		{f("text"), []any{map[string]any{}}, `[{}]`, false},
		{f("long_text"), "多行\n文本", `"多行\n文本"`, true},
		{sel, "完工", `"完工"`, true},
		{f("date"), day, `"2026-11-20"`, true},
		{f("date"), moment, `"2026-11-20"`, true},
		{f("date"), "2026-11-20", `"2026-11-20"`, true},
		{f("datetime"), day.Add(90 * time.Minute), `"2026-11-20T01:30:00+08:00"`, true},
		{f("datetime"), "2026-12-01", `"2026-12-01T00:00:00+08:00"`, true},
		{f("datetime"), "2026-12-01T08:00:00Z", `"2026-12-01T08:00:00Z"`, true},
		{f("datetime"), "tomorrow", `"tomorrow"`, false},
		{f("time"), moment, `"01:30:00"`, true},
		{f("link"), int64(7), `"7"`, true},
		{f("user"), dec("12"), `"12"`, true},
		{f("department"), "3", `"3"`, true},
		{f("link"), dec("1.5"), `1.5`, false},
		{nil, int64(3), `"3"`, true}, // owner
		{f("multi_link"), []int64{4, 2}, `["4","2"]`, true},
		{f("multi_link"), []any{int64(4), "5", dec("6")}, `["4","5","6"]`, true},
		{f("tags"), "urgent", `["urgent"]`, true},
		{f("tags"), []string{"a", "b"}, `["a","b"]`, true},
		{f("tags"), []any{"a"}, `["a"]`, true},
		{f("boolean"), false, `false`, true},
		{f("boolean"), "yes", `"yes"`, false},
		{f("json"), map[string]any{"a": dec("0.1"), "b": []any{int64(1)}, "c": day}, `{"a":0.1,"b":[1],"c":"2026-11-20T00:00:00+08:00"}`, true},
		{f("geo"), map[string]any{"lat": dec("31.23"), "lng": dec("121.47")}, `{"lat":31.23,"lng":121.47}`, true},
		{f("address"), map[string]any{"province": "江苏", "city": "苏州"}, `{"city":"苏州","province":"江苏"}`, true},
		{sub, []any{map[string]any{"qty": dec("2.5"), "code": int64(9)}}, `[{"code":"9","qty":2.5}]`, true},
		{sub, []Record{{"qty": int64(1), "extra": dec("0.5")}}, `[{"extra":0.5,"qty":1}]`, true},
		{sub, "not rows", `"not rows"`, false},
	}
	types := meta.DefaultTypes()
	for _, c := range cases {
		got := InputValue(c.f, c.in)
		b, err := json.Marshal(got)
		name := "owner"
		fd := &meta.Field{Name: "owner", Type: "user"}
		if c.f != nil {
			name, fd = c.f.Type, c.f
		}
		if err != nil || string(b) != c.want {
			t.Errorf("%s %#v: %s %v, want %s", name, c.in, b, err, c.want)
			continue
		}
		if fd.Type == "subtable" {
			continue // rows are normalised field by field by the service
		}
		if _, err := types[fd.Type].Normalize(fd, got); (err == nil) != c.ok {
			t.Errorf("%s %#v: %s normalised: %v, want accepted %v", name, c.in, b, err, c.ok)
		}
	}
	if InputValue(f("text"), nil) != nil || InputValue(sub, nil) != nil {
		t.Error("nil stays nil")
	}
}
