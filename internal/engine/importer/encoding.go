package importer

import (
	"bytes"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
)

// CSV encodings as the API names them (Import.Encoding).
const (
	EncUTF8    = "utf-8"
	EncUTF8BOM = "utf-8-bom"
	EncGB18030 = "gb18030" // also GBK and GB2312, which it contains
)

var bomUTF8 = []byte{0xEF, 0xBB, 0xBF}

// scoreSample bounds how many non-ASCII characters the plausibility score
// looks at.
const scoreSample = 8192

// detectEncoding decides how the bytes of a CSV file are encoded: UTF-8
// with a BOM, UTF-8, or GB18030 (a superset of GBK and GB2312, what Excel
// writes on a Chinese Windows). It never guesses: bytes valid in none of
// them, UTF-16 and other binary content are refused (422), and so is text
// valid in both UTF-8 and GB18030 when neither reading is clearly Chinese
// or Latin text while the other is not.
//
// UTF-8 Chinese text is often also a structurally valid GB18030 byte
// sequence, and short GBK text can be valid UTF-8, so validity alone does
// not decide. Both readings are then scored: the share of their non-ASCII
// characters that are common ones — the 3,755 first-level hanzi of GB2312,
// CJK and full-width punctuation, Latin letters with accents. Real text
// scores high in its own encoding; the other reading is mojibake made of
// rare hanzi and stray symbols, which scores low.
func detectEncoding(b []byte) (string, error) {
	switch {
	case bytes.HasPrefix(b, bomUTF8):
		if !utf8.Valid(b[3:]) {
			return "", refuseEncoding("import_encoding_invalid")
		}
		if err := checkText(b[3:]); err != nil {
			return "", err
		}
		return EncUTF8BOM, nil
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return "", refuseEncoding("import_encoding_utf16")
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return "", refuseEncoding("import_not_text")
	}
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return EncUTF8, checkText(b)
	}
	isUTF8, isGB := utf8.Valid(b), validGB18030(b)
	switch {
	case isUTF8 && !isGB:
		return EncUTF8, checkText(b)
	case isGB && !isUTF8:
		dec, err := decodeGB18030(b)
		if err != nil {
			return "", err
		}
		return EncGB18030, checkText(dec)
	case !isUTF8 && !isGB:
		return "", refuseEncoding("import_encoding_unknown")
	}
	dec, err := decodeGB18030(b)
	if err != nil {
		return "", err
	}
	su, sg := plausibility(string(b)), plausibility(string(dec))
	switch {
	case su >= 0.6 && su >= sg+0.25:
		return EncUTF8, checkText(b)
	case sg >= 0.6 && sg >= su+0.25:
		return EncGB18030, checkText(dec)
	}
	return "", refuseEncoding("import_encoding_ambiguous")
}

func refuseEncoding(code string) error {
	return apperr.Fields(apperr.Field("file", code))
}

// checkText refuses decoded text holding control characters other than
// tab, CR and LF: a binary file renamed to .csv.
func checkText(b []byte) error {
	bad := 0
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\r' && c != '\n' {
			bad++
		}
	}
	if bad > 0 {
		return refuseEncoding("import_not_text")
	}
	return nil
}

// validGB18030 reports whether b is a well-formed GB18030 byte sequence:
// ASCII bytes, two-byte characters (lead 0x81–0xFE, trail 0x40–0x7E or
// 0x80–0xFE) and four-byte ones (0x81–0xFE, 0x30–0x39, 0x81–0xFE, 0x30–0x39).
func validGB18030(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			i++
			continue
		}
		if c == 0x80 || c == 0xFF || i+1 >= len(b) {
			return false
		}
		c2 := b[i+1]
		switch {
		case c2 >= 0x40 && c2 <= 0x7E, c2 >= 0x80 && c2 <= 0xFE:
			i += 2
		case c2 >= 0x30 && c2 <= 0x39:
			if i+3 >= len(b) || b[i+2] < 0x81 || b[i+2] > 0xFE || b[i+3] < 0x30 || b[i+3] > 0x39 {
				return false
			}
			i += 4
		default:
			return false
		}
	}
	return true
}

func decodeGB18030(b []byte) ([]byte, error) {
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
	if err != nil {
		return nil, refuseEncoding("import_encoding_invalid")
	}
	return out, nil
}

// plausibility is the share of the non-ASCII characters of s (the first
// scoreSample of them) that are common in the text a CRM imports.
func plausibility(s string) float64 {
	enc := simplifiedchinese.GBK.NewEncoder()
	total, good := 0, 0
	var buf [utf8.UTFMax]byte
	rs := []rune(s)
	letter := func(i int) bool {
		return i >= 0 && i < len(rs) && (rs[i] >= 'a' && rs[i] <= 'z' || rs[i] >= 'A' && rs[i] <= 'Z')
	}
	for i, r := range rs {
		if r < 0x80 {
			continue
		}
		total++
		hanzi := r >= 0x4E00 && r <= 0x9FFF
		switch {
		case commonRune(r):
			good++
		case hanzi && letter(i-1) && letter(i+1):
			// One hanzi inside a Latin word (M眉ller): mojibake of an
			// accented letter.
		case hanzi:
			n := utf8.EncodeRune(buf[:], r)
			if g, err := enc.Bytes(buf[:n]); err == nil && len(g) == 2 && g[0] >= 0xB0 && g[0] <= 0xD7 && g[1] >= 0xA1 {
				good++ // GB2312 level 1: the common hanzi
			}
		}
		if total >= scoreSample {
			break
		}
	}
	if total == 0 {
		return 1
	}
	return float64(good) / float64(total)
}

// commonRune reports punctuation and letters that real text uses: CJK and
// full-width punctuation, typographic quotes and dashes, the middle dot,
// degree, plus-minus and multiplication signs, currency signs, and Latin
// letters with accents.
func commonRune(r rune) bool {
	switch {
	case r >= 0x3000 && r <= 0x303F, // CJK symbols and punctuation
		r >= 0xFF01 && r <= 0xFF5E,                               // full-width ASCII forms
		r >= 0x2010 && r <= 0x2027,                               // dashes, quotes, ellipsis
		r >= 0x00C0 && r <= 0x017F && r != 0x00D7 && r != 0x00F7: // accented Latin letters
		return true
	}
	switch r {
	case 0x00B7, 0x00B0, 0x00B1, 0x00D7, 0x00F7, 0x00A5, 0xFFE5, 0x00A9, 0x00AE, 0x2122, 0x20AC, 0x00A3, 0x2103, 0x2116:
		return true
	}
	return false
}
