package importer

import (
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// companyRegion matches a parenthesised country qualifier, as in
// 西门子（中国）有限公司 or Bosch (China) Co., Ltd. (after width folding).
var companyRegion = regexp.MustCompile(`\(\s*(中国|china|中國|prc)\s*\)`)

// englishForms are legal-form words dropped from the end of a company
// name, compared as whole words.
var englishForms = map[string]bool{"co": true, "company": true, "ltd": true, "limited": true, "inc": true,
	"incorporated": true, "corp": true, "corporation": true, "llc": true, "plc": true, "gmbh": true, "ag": true,
	"group": true, "holdings": true, "lp": true, "llp": true, "sa": true, "bv": true, "pte": true, "kk": true}

// chineseForms are legal-form suffixes dropped from the end of a Chinese
// company name, longest first, repeatedly (…集团有限公司 loses both).
var chineseForms = []string{"股份有限公司", "有限责任公司", "有限公司", "股份公司", "集团公司", "集团", "公司"}

// normalizeCompany is the key under which company names match: width
// folded, lower case, a "(中国)"/"(China)" qualifier dropped, English legal
// forms (Co., Ltd., Inc., GmbH…) and Chinese ones (有限公司, 股份有限公司,
// 有限责任公司, 集团…) dropped from the end, and everything but letters and
// digits removed. A name that would lose everything keeps its forms
// (有限公司 alone stays 有限公司). "" means no key.
func normalizeCompany(s string) string {
	s = strings.ToLower(norm.NFKC.String(s))
	s = companyRegion.ReplaceAllString(s, " ")
	words := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	all := strings.Join(words, "")
	for len(words) > 1 && englishForms[words[len(words)-1]] {
		words = words[:len(words)-1]
	}
	key := strings.Join(words, "")
strip:
	for {
		for _, f := range chineseForms {
			if rest, ok := strings.CutSuffix(key, f); ok {
				if rest == "" {
					break strip // the name is nothing but a legal form: keep it
				}
				key = rest
				continue strip
			}
		}
		break
	}
	if key == "" {
		return all
	}
	return key
}
