package records

import (
	"slices"
	"strings"
	"testing"
)

func TestQueryTermsAreIndexTerms(t *testing.T) {
	text := strings.ToLower("苏州精密机械有限公司 AB-1234 x")
	idx := grams(text)
	for _, q := range []string{"苏", "苏州", "苏州精", "精密机械", "州精密机械有", "ab", "1234", "b-12", "x", "密机械有限公司"} {
		for _, term := range queryGrams(q) {
			if !slices.Contains(idx, term) {
				t.Errorf("query %q needs %q, which the index lacks", q, term)
			}
		}
	}
	if got := queryGrams("苏州精密机械"); !slices.Equal(got, []string{"苏州精", "密机械"}) {
		t.Errorf("covering trigrams: %v", got)
	}
	if got := queryGrams("精密机械"); !slices.Equal(got, []string{"精密机", "密机械"}) {
		t.Errorf("covering trigrams: %v", got)
	}
}

func TestGrams(t *testing.T) {
	for text, want := range map[string][]string{
		"苏州精密 ab-1": {"苏", "苏州", "苏州精", "州", "州精", "州精密", "精", "精密", "密", "a", "ab", "b", "1"},
		"aaaa a":    {"a", "aa", "aaa"},
		"é\u0001x":  {"é", "x"},
		"":          {},
	} {
		if got := grams(text); !slices.Equal(got, want) {
			t.Errorf("%q: %q, want %q", text, got, want)
		}
	}
}
