package i18n

import "testing"

// TestCatalogsDoNotOverlap: a code means one thing; an engine's catalog must
// not silently shadow or be shadowed by another's.
func TestCatalogsDoNotOverlap(t *testing.T) {
	seen := map[string]int{}
	for i, c := range catalogs {
		for code, m := range c {
			if j, ok := seen[code]; ok {
				t.Errorf("code %q is in catalogs %d and %d", code, j, i)
			}
			seen[code] = i
			if m.zh == "" || m.en == "" {
				t.Errorf("code %q lacks a zh-CN or en text", code)
			}
		}
	}
}

// TestTranslatedArgument: a Text argument renders in the message's
// language, with its own arguments.
func TestTranslatedArgument(t *testing.T) {
	args := map[string]any{"reason": T("too_long", "max", 5)}
	if got := Message(EN, "bad_json", args); got != "Malformed JSON: At most 5 characters" {
		t.Errorf("en: %q", got)
	}
	if got := Message(ZH, "bad_json", args); got != "JSON 格式错误：长度不能超过 5" {
		t.Errorf("zh: %q", got)
	}
}
