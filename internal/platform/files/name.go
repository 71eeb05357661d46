package files

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameLen is the longest stored file name, in characters (runes).
const MaxNameLen = 200

// SanitizeName turns a client-supplied file name into one safe to store and
// to send back: directories (either slash) are stripped, control and
// invisible formatting characters (including bidi overrides that disguise
// "exe.pdf") dropped, white space collapsed, leading and trailing dots and
// spaces trimmed, and the result cut to MaxNameLen characters, keeping the
// extension. Chinese and other letters are kept as they are. An empty
// result becomes "file".
func SanitizeName(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = strings.ReplaceAll(name, `\`, "/")
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	b.Grow(len(name))
	space := false
	for _, r := range name {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == utf8.RuneError:
			continue // tabs and line breaks too: a name is one line
		case unicode.IsSpace(r):
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	name = strings.Trim(b.String(), ". ")
	if utf8.RuneCountInString(name) > MaxNameLen {
		name = truncateName(name)
	}
	if name == "" {
		return "file"
	}
	return name
}

// truncateName cuts name to MaxNameLen runes, keeping a short extension.
func truncateName(name string) string {
	ext := path.Ext(name)
	if ext == name || utf8.RuneCountInString(ext) > 16 {
		ext = ""
	}
	base := []rune(strings.TrimSuffix(name, ext))
	keep := MaxNameLen - utf8.RuneCountInString(ext)
	if keep < len(base) {
		base = base[:keep]
	}
	return strings.TrimRight(string(base), ". ") + ext
}

// IsImage reports whether a stored content type may be shown inline: PNG,
// JPEG, GIF and WebP only (never SVG, which can carry script).
func IsImage(ct string) bool {
	switch baseType(ct) {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return true
	}
	return false
}

// ContentDisposition builds a Content-Disposition header value (RFC 6266)
// for name: "attachment", or "inline" when inline is set, with an ASCII
// filename fallback and, when the name is not plain ASCII, the exact name
// as a filename* parameter in UTF-8 (RFC 8187), which browsers prefer. The
// value never contains CR, LF or an unescaped quote whatever name holds.
func ContentDisposition(name string, inline bool) string {
	disp := "attachment"
	if inline {
		disp = "inline"
	}
	name = SanitizeName(name)
	fallback := asciiFallback(name)
	v := disp + `; filename="` + fallback + `"`
	if fallback != name {
		v += "; filename*=UTF-8''" + encodeRFC8187(name)
	}
	return v
}

// asciiFallback replaces each run of characters that cannot go in a quoted
// string portably (non-ASCII, quote, backslash, '%') with one '_'. A name
// left with no letter or digit before its extension becomes "file" + ext.
func asciiFallback(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	bad := false
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' {
			if !bad {
				b.WriteByte('_')
			}
			bad = true
			continue
		}
		bad = false
		b.WriteRune(r)
	}
	s := b.String()
	ext := path.Ext(s)
	if ext == s {
		ext = ""
	}
	base := strings.TrimSuffix(s, ext)
	if strings.IndexFunc(base, func(r rune) bool {
		return r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r))
	}) < 0 {
		return "file" + ext
	}
	return s
}

// encodeRFC8187 percent-encodes s as UTF-8, leaving only attr-char.
func encodeRFC8187(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 3)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAttrChar(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0x0f])
	}
	return b.String()
}

func isAttrChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
