package audit

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// TestMarshalChanges: the changes of an entry are encoded byte for byte
// as encoding/json encodes them.
func TestMarshalChanges(t *testing.T) {
	texts := []string{"", "plain", `quote " and \ back`, "<b>&amp;</b>", "tab\tnew\nline\rcr\bbs\ffeed\x00\x1f\x7f",
		"中文 ünïcödé 😀", "sep\u2028\u2029", "bad \xff\xfe utf-8 \xe4\xb8", "'single'"}
	for _, s := range texts {
		changes := map[string]Change{
			"text": {Old: s, New: nil}, "b": {Old: true, New: false}, "n": {Old: int64(-42), New: 7}, "list": {Old: []string{s, "x"}, New: []string(nil)},
			s: {Old: 1.5, New: decimal.RequireFromString("12.50")}, "z": {Old: map[string]any{"k": s}, New: []any{s, 1.0}},
			"time": {New: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)}, "empty": {New: []string{}},
		}
		want, err := json.Marshal(changes)
		if err != nil {
			t.Fatal(err)
		}
		got, err := MarshalChanges(changes)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%q:\n got %s\nwant %s", s, got, want)
		}
	}
	for _, m := range []map[string]Change{nil, {}} {
		want, _ := json.Marshal(m)
		if got, _ := MarshalChanges(m); string(got) != string(want) {
			t.Errorf("%#v: %s, want %s", m, got, want)
		}
	}
}
