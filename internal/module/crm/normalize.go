package crm

import (
	"strings"
	"unicode"
)

// companySuffixes are the legal-form words removed from company names
// before comparing them, longest first so that 股份有限公司 is removed whole.
var companySuffixes = []string{"股份有限公司", "有限责任公司", "有限公司", "集团"}

// englishSuffixes are the legal-form words of Latin-script names removed
// at the end of the name (after punctuation became spaces).
var englishSuffixes = []string{"co ltd", "company limited", "limited", "ltd", "inc", "corporation", "corp", "gmbh", "group"}

// halfWidth maps full-width ASCII forms (！ to ～) and the ideographic space
// to their ASCII counterparts.
func halfWidth(r rune) rune {
	switch {
	case r == '\u3000':
		return ' '
	case r >= '\uFF01' && r <= '\uFF5E':
		return r - 0xFEE0
	}
	return r
}

// NormCompany is the de-duplication key of a company name (S1): full-width
// characters made half-width, lower-cased, the legal-form words 股份有限公司,
// 有限责任公司, 有限公司 and 集团 (and co., ltd. and the like at the end of a
// Latin-script name) removed, and every space, bracket and punctuation mark
// dropped. "上海 精密机械（集团）股份有限公司" and "上海精密机械(集团)有限公司"
// both give "上海精密机械".
func NormCompany(s string) string {
	s = strings.ToLower(strings.Map(halfWidth, s))
	for _, w := range companySuffixes {
		s = strings.ReplaceAll(s, w, " ")
	}
	// Punctuation and symbols become spaces first, so that the Latin
	// legal-form words can be recognised as words.
	s = strings.Map(func(r rune) rune {
		if unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	for trimmed := true; trimmed; {
		trimmed = false
		for _, w := range englishSuffixes {
			if s != w && strings.HasSuffix(s, " "+w) {
				s, trimmed = strings.TrimSuffix(s, " "+w), true
			}
		}
	}
	return strings.ReplaceAll(s, " ", "")
}

// NormPhone is the de-duplication key of a phone number: its digits, without
// an extension and without the country code of +86 / 0086 (also written
// 86 before an 11-digit mobile number), a landline in its national form
// with the leading 0.
func NormPhone(s string) string {
	s = strings.Map(halfWidth, strings.TrimSpace(s))
	for _, sep := range []string{"ext", "EXT", "Ext", "转", "#"} {
		if i := strings.Index(s, sep); i > 0 {
			s = s[:i]
		}
	}
	plus := strings.HasPrefix(s, "+")
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	national := d
	switch {
	case strings.HasPrefix(d, "0086"):
		national = d[4:]
	case plus && strings.HasPrefix(d, "86"):
		national = d[2:]
	case len(d) == 13 && strings.HasPrefix(d, "861"):
		national = d[2:]
	}
	// A landline after the country code loses its trunk prefix 0
	// (+86 21 … is 021 …); mobiles start with 1 and have none.
	if national != d && national != "" && national[0] != '1' && national[0] != '0' {
		national = "0" + national
	}
	return national
}

// NormEmail is the de-duplication key of an e-mail address: trimmed and
// lower-cased.
func NormEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
