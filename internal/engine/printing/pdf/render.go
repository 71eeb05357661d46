// Package pdf lays out an evaluated print template (lang.Document) on
// pages and writes it as a PDF with gopdf and the embedded CJK font,
// subset to the glyphs used.
package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // logos
	_ "image/png"  // logos
	"strconv"
	"strings"
	"time"

	"github.com/signintech/gopdf"

	"github.com/tenon-crm/tenon/internal/engine/printing/lang"
)

// Paper sizes in points.
var papers = map[string]gopdf.Rect{"A4": {W: 595.28, H: 841.89}, "A5": {W: 419.53, H: 595.28}}

// DefaultMaxPages bounds a document.
const DefaultMaxPages = 200

// mm is a millimetre in points.
const mm = 72 / 25.4

// Page says how the document is printed.
type Page struct {
	Paper     string // A4 (default) or A5
	Landscape bool
	// Logo is an image file (PNG or JPEG) shown at the left of the page
	// header; HeaderText the company header beside it (lines; the first
	// bold); FooterText the footer, where lang.PageMarker and
	// lang.PagesMarker stand for the page numbers (default "第 n 页 / 共 m
	// 页" when it has no marker).
	Logo       []byte
	HeaderText string
	FooterText string
	Title      string
	MaxPages   int
}

// LimitError is a document beyond a limit (Code is a message code).
type LimitError struct {
	Code string
	Max  int
}

func (e *LimitError) Error() string { return fmt.Sprintf("%s (max %d)", e.Code, e.Max) }

// ErrBadImage is a logo that is not a PNG or JPEG image.
var ErrBadImage = errors.New("the logo is not a PNG or JPEG image")

// op is one drawing operation on a page.
type op struct {
	kind       byte // 't' text, 'l' line, 'r' rectangle, 'f' filled rectangle, 'i' image
	x, y, w, h float64
	size       float64
	bold, gray bool
	s          string
}

type page struct{ ops []op }

// layout places blocks on pages.
type layout struct {
	ctx     context.Context
	f       *face
	cfg     Page
	w, h    float64 // page size
	left    float64
	width   float64 // content width
	top     float64 // where content starts below the header
	bottom  float64 // where content ends above the footer
	pages   []*page
	y       float64
	max     int
	logo    *logo
	started bool // the current page has content
}

type logo struct {
	holder gopdf.ImageHolder
	w, h   float64
}

// Render lays out doc and writes the PDF.
func Render(ctx context.Context, doc *lang.Document, cfg Page) ([]byte, error) {
	f, err := loadFace()
	if err != nil {
		return nil, err
	}
	size, ok := papers[cfg.Paper]
	if !ok {
		size = papers["A4"]
	}
	if cfg.Landscape {
		size.W, size.H = size.H, size.W
	}
	l := &layout{ctx: ctx, f: f, cfg: cfg, w: size.W, h: size.H, max: cfg.MaxPages}
	if l.max <= 0 {
		l.max = DefaultMaxPages
	}
	margin := 15 * mm
	if cfg.Paper == "A5" {
		margin = 10 * mm
	}
	l.left, l.width = margin, size.W-2*margin
	l.top, l.bottom = margin, size.H-margin-14
	if len(cfg.Logo) > 0 {
		lg, err := loadLogo(cfg.Logo)
		if err != nil {
			return nil, err
		}
		l.logo = lg
	}
	if hh := l.headerHeight(); hh > 0 {
		l.top += hh + 8
	}
	if err := l.newPage(); err != nil {
		return nil, err
	}
	for _, b := range doc.Blocks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := l.block(b); err != nil {
			return nil, err
		}
	}
	return l.write()
}

func loadLogo(b []byte) (*logo, error) {
	c, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil || (format != "png" && format != "jpeg") || c.Width == 0 || c.Height == 0 {
		return nil, ErrBadImage
	}
	h, err := gopdf.ImageHolderByBytes(b)
	if err != nil {
		return nil, ErrBadImage
	}
	height := 12 * mm
	width := height * float64(c.Width) / float64(c.Height)
	if width > 45*mm {
		width, height = 45*mm, 45*mm*float64(c.Height)/float64(c.Width)
	}
	return &logo{holder: h, w: width, h: height}, nil
}

const (
	headerSize = 9.0
	footerSize = 8.0
	bodySize   = 10.0
	tableSize  = 9.0
)

// headerLines is the header text split in lines.
func (l *layout) headerLines() []string {
	s := strings.TrimSpace(l.cfg.HeaderText)
	if s == "" {
		return nil
	}
	lines := strings.Split(l.f.clean(s), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return lines
}

func (l *layout) headerHeight() float64 {
	h := float64(len(l.headerLines())) * headerSize * 1.4
	if len(l.headerLines()) > 0 {
		h += 3 // the first line is larger
	}
	if l.logo != nil && l.logo.h > h {
		h = l.logo.h
	}
	return h
}

func (l *layout) cur() *page { return l.pages[len(l.pages)-1] }

func (l *layout) newPage() error {
	if len(l.pages) >= l.max {
		return &LimitError{Code: "print_too_many_pages", Max: l.max}
	}
	if err := l.ctx.Err(); err != nil {
		return err
	}
	l.pages = append(l.pages, &page{})
	l.y, l.started = l.top, false
	return nil
}

// room makes sure h points fit below y, starting a page when not.
func (l *layout) room(h float64) error {
	if l.y+h <= l.bottom || !l.started {
		l.started = true
		return nil
	}
	if err := l.newPage(); err != nil {
		return err
	}
	l.started = true
	return nil
}

func (l *layout) text(x, y float64, s string, size float64, bold bool) {
	if s == "" {
		return
	}
	l.cur().ops = append(l.cur().ops, op{kind: 't', x: x, y: y, s: s, size: size, bold: bold})
}

func (l *layout) line(x1, y1, x2, y2 float64) {
	l.cur().ops = append(l.cur().ops, op{kind: 'l', x: x1, y: y1, w: x2, h: y2})
}

func (l *layout) rect(x, y, w, h float64, fill bool) {
	k := byte('r')
	if fill {
		k = 'f'
	}
	l.cur().ops = append(l.cur().ops, op{kind: k, x: x, y: y, w: w, h: h})
}

// aligned is the x of a line of text of width w in a box.
func aligned(a lang.Align, x, boxW, w float64) float64 {
	switch a {
	case lang.Center:
		return x + (boxW-w)/2
	case lang.Right:
		return x + boxW - w
	}
	return x
}

// lines places wrapped text line by line, breaking pages between lines.
func (l *layout) lines(s string, size float64, bold bool, a lang.Align, lh float64) error {
	for _, ln := range l.wrap(s, l.width, size) {
		if err := l.room(lh); err != nil {
			return err
		}
		l.text(aligned(a, l.left, l.width, l.f.width(ln, size)), l.y, ln, size, bold)
		l.y += lh
	}
	return nil
}

func (l *layout) block(b lang.Block) error {
	switch x := b.(type) {
	case lang.Heading:
		size := map[int]float64{1: 18, 2: 14, 3: 12}[x.Level]
		if l.started {
			l.y += size * 0.4
		}
		if err := l.lines(x.Text, size, true, x.Align, size*1.4); err != nil {
			return err
		}
		l.y += size * 0.3
	case lang.Paragraph:
		size := x.Size
		if size == 0 {
			size = bodySize
		}
		size = min(max(size, 5), 36)
		if err := l.lines(x.Text, size, x.Bold, x.Align, size*1.5); err != nil {
			return err
		}
		l.y += 3
	case lang.Grid:
		return l.grid(x)
	case lang.Table:
		return l.table(x)
	case lang.Rule:
		if err := l.room(8); err != nil {
			return err
		}
		l.line(l.left, l.y+4, l.left+l.width, l.y+4)
		l.y += 8
	case lang.Spacer:
		l.y += x.Height * mm
		if l.y > l.bottom {
			return l.newPage()
		}
	case lang.PageBreak:
		if l.started {
			return l.newPage()
		}
	case lang.Signature:
		return l.signature(x)
	}
	return nil
}

func (l *layout) grid(g lang.Grid) error {
	size := g.Size
	if size == 0 {
		size = bodySize
	}
	lh, pad := size*1.45, 2.0
	cw := l.width / float64(g.Cols)
	labelW := 0.0
	for _, it := range g.Items {
		labelW = max(labelW, l.f.width(l.f.clean(label(it.Label)), size))
	}
	labelW = min(labelW+2, cw*0.45)
	col := 0
	var row []lang.KV
	flush := func() error {
		if len(row) == 0 {
			return nil
		}
		type placed struct {
			x, w     float64
			lab, val []string
		}
		var ps []placed
		h, x := 0.0, l.left
		for _, it := range row {
			w := cw * float64(min(it.Span, g.Cols))
			p := placed{x: x, w: w, lab: l.wrap(label(it.Label), labelW, size), val: l.wrap(it.Value, w-labelW-2*pad, size)}
			h = max(h, float64(max(len(p.lab), len(p.val)))*lh+2*pad)
			ps = append(ps, p)
			x += w
		}
		if err := l.room(h); err != nil {
			return err
		}
		for _, p := range ps {
			for i, s := range p.lab {
				l.text(p.x+pad, l.y+pad+float64(i)*lh, s, size, true)
			}
			for i, s := range p.val {
				l.text(p.x+pad+labelW, l.y+pad+float64(i)*lh, s, size, false)
			}
			if g.Border == "all" {
				l.rect(p.x, l.y, p.w, h, false)
			}
		}
		l.y += h
		row, col = nil, 0
		return nil
	}
	for _, it := range g.Items {
		span := min(it.Span, g.Cols)
		if col+span > g.Cols {
			if err := flush(); err != nil {
				return err
			}
		}
		row = append(row, it)
		col += span
	}
	if err := flush(); err != nil {
		return err
	}
	l.y += 4
	return nil
}

// label adds a colon to a grid label.
func label(s string) string {
	if s == "" || strings.HasSuffix(s, "：") || strings.HasSuffix(s, ":") {
		return s
	}
	return s + "："
}

func (l *layout) signature(s lang.Signature) error {
	n := len(s.Parties)
	if n == 0 {
		return nil
	}
	gap := 6 * mm
	w := (l.width - gap*float64(n-1)) / float64(n)
	size, lh, pad := bodySize, bodySize*1.5, 5.0
	h := 0.0
	wrapped := make([][]string, n)
	for i, p := range s.Parties {
		wrapped[i] = l.wrap(p.Text, w-2*pad, size)
		h = max(h, float64(len(wrapped[i])+1)*lh+2*pad+30*mm)
	}
	l.y += 6
	if err := l.room(h); err != nil {
		return err
	}
	for i, p := range s.Parties {
		x := l.left + float64(i)*(w+gap)
		l.rect(x, l.y, w, h, false)
		l.text(x+pad, l.y+pad, l.f.clean(p.Title), size, true)
		for j, ln := range wrapped[i] {
			l.text(x+pad, l.y+pad+float64(j+1)*lh, ln, size, false)
		}
	}
	l.y += h + 4
	return nil
}

// write draws the pages with gopdf.
func (l *layout) write() ([]byte, error) {
	gp := &gopdf.GoPdf{}
	gp.Start(gopdf.Config{PageSize: gopdf.Rect{W: l.w, H: l.h}, Unit: gopdf.UnitPT})
	gp.SetInfo(gopdf.PdfInfo{Title: l.cfg.Title, Creator: "Tenon", Producer: "Tenon", CreationDate: time.Now()})
	if err := gp.AddTTFFontFromFontContainer(family, l.f.fc); err != nil {
		return nil, err
	}
	total := strconv.Itoa(len(l.pages))
	footer := strings.TrimSpace(l.cfg.FooterText)
	if !strings.Contains(footer, lang.PageMarker) && !strings.Contains(footer, lang.PagesMarker) {
		if footer != "" {
			footer += "    "
		}
		footer += "第 " + lang.PageMarker + " 页 / 共 " + lang.PagesMarker + " 页"
	}
	for i, p := range l.pages {
		if err := l.ctx.Err(); err != nil {
			return nil, err
		}
		gp.AddPage()
		if err := l.drawHeader(gp, i+1, total); err != nil {
			return nil, err
		}
		ft := strings.NewReplacer(lang.PageMarker, strconv.Itoa(i+1), lang.PagesMarker, total).Replace(footer)
		ft = l.f.clean(strings.ReplaceAll(ft, "\n", " "))
		fy := l.h - 10*mm
		gp.SetGrayStroke(0.6)
		gp.SetLineWidth(0.4)
		gp.Line(l.left, fy-3, l.left+l.width, fy-3)
		if err := l.draw(gp, op{kind: 't', x: l.left + l.width/2 - l.f.width(ft, footerSize)/2, y: fy, s: ft, size: footerSize, gray: true}); err != nil {
			return nil, err
		}
		gp.SetGrayStroke(0)
		for _, o := range p.ops {
			if err := l.draw(gp, o); err != nil {
				return nil, err
			}
		}
	}
	var buf bytes.Buffer
	if _, err := gp.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (l *layout) drawHeader(gp *gopdf.GoPdf, pageNo int, total string) error {
	lines := l.headerLines()
	if len(lines) == 0 && l.logo == nil {
		return nil
	}
	top := 15 * mm
	if l.cfg.Paper == "A5" {
		top = 10 * mm
	}
	x := l.left
	if l.logo != nil {
		if err := gp.ImageByHolder(l.logo.holder, x, top, &gopdf.Rect{W: l.logo.w, H: l.logo.h}); err != nil {
			return err
		}
		x += l.logo.w + 4*mm
	}
	y := top
	for i, s := range lines {
		s = strings.NewReplacer(lang.PageMarker, strconv.Itoa(pageNo), lang.PagesMarker, total).Replace(s)
		size := headerSize
		if i == 0 {
			size = headerSize + 3
		}
		if err := l.draw(gp, op{kind: 't', x: x, y: y, s: s, size: size, bold: i == 0}); err != nil {
			return err
		}
		y += size * 1.4
	}
	bottom := top + l.headerHeight() + 3
	gp.SetLineWidth(0.8)
	gp.Line(l.left, bottom, l.left+l.width, bottom)
	return nil
}

func (l *layout) draw(gp *gopdf.GoPdf, o op) error {
	switch o.kind {
	case 't':
		if err := gp.SetFont(family, "", o.size); err != nil {
			return err
		}
		if o.gray {
			gp.SetTextColor(90, 90, 90)
		}
		gp.SetXY(o.x, o.y)
		if err := gp.Cell(nil, o.s); err != nil {
			return err
		}
		if o.bold {
			// The font has no bold face: a second pass a hair to the
			// right thickens the strokes.
			gp.SetXY(o.x+o.size*0.03, o.y)
			if err := gp.Cell(nil, o.s); err != nil {
				return err
			}
		}
		if o.gray {
			gp.SetTextColor(0, 0, 0)
		}
	case 'l':
		gp.SetLineWidth(0.5)
		gp.Line(o.x, o.y, o.w, o.h)
	case 'r', 'f':
		gp.SetLineWidth(0.5)
		style := "D"
		if o.kind == 'f' {
			gp.SetFillColor(238, 238, 238)
			style = "F"
		}
		gp.RectFromUpperLeftWithStyle(o.x, o.y, o.w, o.h, style)
	}
	return nil
}
