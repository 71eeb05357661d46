package pdf

import (
	"strings"
	"unicode/utf8"

	"github.com/tenon-crm/tenon/internal/engine/printing/lang"
)

// placedCell is a cell measured for its row.
type placedCell struct {
	c     lang.Cell
	x, w  float64
	align lang.Align
	lines []string
}

type placedRow struct {
	r     lang.Row
	cells []placedCell
	h     float64
}

const (
	cellPadX = 3.0
	cellPadY = 2.5
)

func (l *layout) table(t lang.Table) error {
	ncol := 0
	for _, r := range t.Rows {
		n := 0
		for _, c := range r.Cells {
			n += c.Colspan
		}
		ncol = max(ncol, n)
	}
	if ncol == 0 {
		return nil
	}
	size := t.Size
	if size == 0 {
		size = tableSize
	}
	size = min(max(size, 5), 24)
	lh := size * 1.4
	xs := l.columns(t, ncol)
	aligns := make([]lang.Align, ncol)
	for _, r := range t.Rows {
		if !r.Header {
			continue
		}
		col := 0
		for _, c := range r.Cells {
			if c.AlignSet && c.Colspan == 1 && col < ncol {
				aligns[col] = c.Align
			}
			col += c.Colspan
		}
	}
	measure := func(r lang.Row) placedRow {
		pr := placedRow{r: r}
		col, lines := 0, 1
		for _, c := range r.Cells {
			if col >= ncol {
				break
			}
			end := min(col+c.Colspan, ncol)
			pc := placedCell{c: c, x: xs[col], w: xs[end] - xs[col], align: aligns[col]}
			if c.AlignSet {
				pc.align = c.Align
			} else if r.Header {
				pc.align = lang.Center
			}
			pc.lines = l.wrap(c.Text, pc.w-2*cellPadX, size)
			lines = max(lines, len(pc.lines))
			pr.cells = append(pr.cells, pc)
			col = end
		}
		pr.h = float64(lines)*lh + 2*cellPadY
		return pr
	}
	var head []placedRow
	i := 0
	for ; i < len(t.Rows) && t.Rows[i].Header; i++ {
		head = append(head, measure(t.Rows[i]))
	}
	headH := 0.0
	for _, r := range head {
		headH += r.h
	}
	border := t.Border
	if border == "" {
		border = "all"
	}
	segStart := 0.0
	startSegment := func() {
		segStart = l.y
		for _, r := range head {
			l.row(r, lh, size, border)
		}
		if len(head) > 0 && border != "all" {
			l.line(l.left, l.y, l.left+l.width, l.y)
		}
	}
	endSegment := func() {
		if border == "outer" {
			l.rect(l.left, segStart, l.width, l.y-segStart, false)
		}
	}
	first := headH
	if i < len(t.Rows) {
		first += measure(t.Rows[i]).h
	}
	if err := l.room(min(first, l.bottom-l.top)); err != nil {
		return err
	}
	startSegment()
	for ; i < len(t.Rows); i++ {
		if err := l.ctx.Err(); err != nil {
			return err
		}
		pr := measure(t.Rows[i])
		if l.y+pr.h > l.bottom {
			endSegment()
			if err := l.newPage(); err != nil {
				return err
			}
			l.started = true
			startSegment()
			if avail := l.bottom - l.y; pr.h > avail {
				pr = truncate(pr, avail, lh)
			}
		}
		l.row(pr, lh, size, border)
	}
	endSegment()
	l.y += 6
	return nil
}

// columns gives the x of each column edge (ncol+1 values).
func (l *layout) columns(t lang.Table, ncol int) []float64 {
	ws := t.Widths
	if len(ws) != ncol {
		ws = nil
		for _, r := range t.Rows {
			if len(r.Cells) != ncol {
				continue
			}
			any := false
			row := make([]float64, ncol)
			for i, c := range r.Cells {
				row[i] = c.Width
				any = any || c.Width > 0
			}
			if any {
				ws = row
				break
			}
		}
	}
	if len(ws) != ncol {
		ws = make([]float64, ncol)
	}
	sum, set := 0.0, 0
	for _, w := range ws {
		if w > 0 {
			sum += w
			set++
		}
	}
	fill := 1.0
	if set > 0 {
		fill = sum / float64(set)
	}
	total := 0.0
	for i, w := range ws {
		if w <= 0 {
			ws[i] = fill
		}
		total += ws[i]
	}
	xs := make([]float64, ncol+1)
	xs[0] = l.left
	for i, w := range ws {
		xs[i+1] = xs[i] + w/total*l.width
	}
	return xs
}

// truncate cuts a row taller than a page to what fits.
func truncate(pr placedRow, avail, lh float64) placedRow {
	keep := max(1, int((avail-2*cellPadY)/lh))
	for i := range pr.cells {
		if len(pr.cells[i].lines) > keep {
			pr.cells[i].lines = append(pr.cells[i].lines[:keep-1:keep-1], "…")
		}
	}
	pr.h = float64(keep)*lh + 2*cellPadY
	return pr
}

// row draws a measured row at y.
func (l *layout) row(pr placedRow, lh, size float64, border string) {
	for _, c := range pr.cells {
		if pr.r.Header {
			l.rect(c.x, l.y, c.w, pr.h, true)
		}
		bold := c.c.Bold || pr.r.Header || c.c.Head
		for i, s := range c.lines {
			x := aligned(c.align, c.x+cellPadX, c.w-2*cellPadX, l.f.width(s, size))
			l.text(x, l.y+cellPadY+float64(i)*lh, s, size, bold)
		}
		if border == "all" {
			l.rect(c.x, l.y, c.w, pr.h, false)
		}
	}
	l.y += pr.h
}

// closing punctuation may hang at the end of a line rather than start the
// next one.
const closing = "，。、；：！？）》」』】〕…,.;:!?)]}%"

// wrap splits text into lines no wider than width: at line breaks, between
// wide (CJK) characters, and at spaces between words; a word longer than
// a line is cut.
func (l *layout) wrap(s string, width, size float64) []string {
	s = strings.TrimRight(l.f.clean(s), "\n ")
	if s == "" {
		return nil
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		out = append(out, l.wrapLine(para, width, size)...)
	}
	return out
}

func (l *layout) wrapLine(s string, width, size float64) []string {
	var out []string
	var cur strings.Builder
	w := 0.0
	emit := func() {
		out = append(out, strings.TrimRight(cur.String(), " "))
		cur.Reset()
		w = 0
	}
	for len(s) > 0 {
		unit := nextUnit(s)
		s = s[len(unit):]
		uw := l.f.width(unit, size)
		switch {
		case w+uw <= width:
		case unit == " ":
			emit()
			continue
		case utf8.RuneCountInString(unit) == 1 && strings.Contains(closing, unit) && w > 0:
			// hangs
		case uw > width:
			for _, r := range unit {
				rw := l.f.advance(r, size)
				if w+rw > width && w > 0 {
					emit()
				}
				cur.WriteRune(r)
				w += rw
			}
			continue
		default:
			if w > 0 {
				emit()
			}
		}
		if w == 0 && unit == " " {
			continue
		}
		cur.WriteString(unit)
		w += uw
	}
	if cur.Len() > 0 || len(out) == 0 {
		emit()
	}
	return out
}

// nextUnit is the next unbreakable piece of s: a space, a run of
// narrow non-space characters (a word or number), or one wide character.
func nextUnit(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if r == ' ' || r >= 0x2E80 {
		return s[:size]
	}
	i := size
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == ' ' || r >= 0x2E80 {
			break
		}
		i += n
	}
	return s[:i]
}
