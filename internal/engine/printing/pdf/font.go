package pdf

import (
	"bytes"
	"sync"

	"github.com/signintech/gopdf"
	"github.com/signintech/gopdf/fontmaker/core"

	"github.com/tenon-crm/tenon/internal/engine/printing/fonts"
)

// family is the font family name inside the PDFs.
const family = "wqy"

// face is the parsed font: gopdf's container (shared by every document,
// which copies what it changes) and the advance widths for layout.
type face struct {
	fc     *gopdf.FontContainer
	glyphs map[int]uint // rune → glyph
	widths []uint       // glyph → advance, in font units
	upm    float64
}

// loadFace parses the embedded font once per process. The result is
// read-only after that, like the embedded bytes it comes from.
var loadFace = sync.OnceValues(func() (*face, error) {
	fc := &gopdf.FontContainer{}
	if err := fc.AddTTFFontByReaderWithOption(family, bytes.NewReader(fonts.WQYMicroHei), gopdf.TtfOption{
		OnGlyphNotFoundSubstitute: func(rune) rune { return '?' },
	}); err != nil {
		return nil, err
	}
	var p core.TTFParser
	if err := p.ParseFontData(fonts.WQYMicroHei); err != nil {
		return nil, err
	}
	return &face{fc: fc, glyphs: p.Chars(), widths: p.Widths(), upm: float64(p.UnitsPerEm())}, nil
})

// has reports whether the font draws r.
func (f *face) has(r rune) bool {
	_, ok := f.glyphs[int(r)]
	return ok
}

// advance is the width of r at size points.
func (f *face) advance(r rune, size float64) float64 {
	g, ok := f.glyphs[int(r)]
	if !ok {
		g = f.glyphs['?']
	}
	if int(g) >= len(f.widths) {
		return 0
	}
	return float64(f.widths[g]) * size / f.upm
}

// width is the width of s at size points.
func (f *face) width(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		w += f.advance(r, size)
	}
	return w
}

// clean replaces what the font cannot draw (and control characters) so
// that widths and output agree.
func (f *face) clean(s string) string {
	ok := true
	for _, r := range s {
		if !f.has(r) && r != '\n' {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b []rune
	for _, r := range s {
		switch {
		case r == '\n':
		case r == '\t':
			r = ' '
		case r < ' ' || !f.has(r):
			r = '?'
		}
		b = append(b, r)
	}
	return string(b)
}
