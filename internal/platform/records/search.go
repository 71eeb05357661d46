package records

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// Full-text search finds substrings in any script. A record's searchable
// text is cut into runs of letters and digits; each run contributes its
// single characters, bigrams and trigrams ("苏州精密" → 苏 州 精 密 苏州 州精 精密
// 苏州精 州精密). A query is cut the same way and needs, per run, its character
// (one-character runs), its bigram (two characters) or trigrams covering
// the run (longer runs: trigrams are far more selective than bigrams on
// common words such as 精密 or 机械). An inverted index answers that fast on
// both databases (SQLite FTS5, PostgreSQL GIN over text[]); a LIKE on the
// stored text then removes false positives, so results are exact substring
// matches.

// SearchVersion identifies how index terms are made and stored; an index of an
// older version is rebuilt on migrate (RebuildSearch).
const SearchVersion = 3

// maxSearchText bounds the indexed text per record.
const maxSearchText = 4000

// searchText is the lowercase text of a record's searchable fields.
func (s *Service) searchText(e *meta.Entity, rec Record) string {
	var b strings.Builder
	for i := range e.Fields {
		f := &e.Fields[i]
		if !f.IsSearchable() {
			continue
		}
		v, ok := rec[f.Name]
		if !ok || v == nil {
			continue
		}
		t := s.types.ResultOf(f).Text(f, v)
		if t == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(" \u0001 ")
		}
		b.WriteString(strings.ToLower(t))
		if b.Len() > maxSearchText {
			break
		}
	}
	out := b.String()
	if len(out) > maxSearchText {
		out = strings.ToValidUTF8(out[:maxSearchText], "")
	}
	return out
}

// gramSets holds the sets grams dedupes terms with (one per record
// written would be most of what a create allocates).
var gramSets = sync.Pool{New: func() any { return map[string]struct{}{} }}

// grams returns the distinct index terms of text, in order of first
// occurrence. The terms are substrings of text (no copies): a record's
// terms are made for every write.
func grams(text string) []string {
	n := utf8.RuneCountInString(text)
	out := make([]string, 0, 3*n)
	seen := gramSets.Get().(map[string]struct{})
	defer func() {
		clear(seen)
		gramSets.Put(seen)
	}()
	add := func(g string) {
		if _, ok := seen[g]; !ok {
			seen[g] = struct{}{}
			out = append(out, g)
		}
	}
	var bounds []int // byte offsets of a run's characters, then its end
	emit := func() {
		for i := 0; i+1 < len(bounds); i++ {
			for k := 1; k <= 3 && i+k < len(bounds); k++ {
				add(text[bounds[i]:bounds[i+k]])
			}
		}
		bounds = bounds[:0]
	}
	for i, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if len(bounds) == 0 {
				bounds = append(bounds, i)
			}
			bounds = append(bounds, i+utf8.RuneLen(r))
			continue
		}
		emit()
	}
	emit()
	return out
}

// queryGrams returns the terms a query needs: per run, the character, the
// bigram, or trigrams at every third position plus the last one, which
// together cover the run.
func queryGrams(q string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(g string) {
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	for _, run := range runs(strings.ToLower(q)) {
		switch n := len(run); {
		case n <= 2:
			add(string(run))
		default:
			for i := 0; i+3 <= n; i += 3 {
				add(string(run[i : i+3]))
			}
			add(string(run[n-3:]))
		}
	}
	return out
}

func runs(text string) [][]rune {
	var out [][]rune
	var cur []rune
	for _, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			cur = append(cur, r)
			continue
		}
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// ftsQuery renders terms as an FTS5 query: every term as a quoted string.
func ftsQuery(terms []string) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
	}
	return strings.Join(parts, " AND ")
}
