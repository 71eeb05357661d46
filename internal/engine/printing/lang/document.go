package lang

// Align is a horizontal alignment.
type Align int

// The alignments.
const (
	Left Align = iota
	Center
	Right
)

// Document is an evaluated template: blocks of text with the record's
// values in place, ready for layout.
type Document struct {
	Blocks []Block
}

// Block is one block of a document.
type Block interface{ block() }

// Heading is <h1>–<h3>.
type Heading struct {
	Level int
	Align Align
	Text  string
}

// Paragraph is <p> (or inline content standing between blocks).
type Paragraph struct {
	Align Align
	Bold  bool
	Size  float64 // points; 0: the body size
	Text  string
}

// Grid is a key–value grid (<grid> of <kv>).
type Grid struct {
	Cols   int
	Border string
	Size   float64
	Items  []KV
}

// KV is a label and its value; Span is how many of the grid's columns it
// takes.
type KV struct {
	Label, Value string
	Span         int
}

// Table is a <table>.
type Table struct {
	Widths []float64 // relative widths from widths= or the first row's width=
	Border string
	Size   float64
	Rows   []Row
}

// Row is a <tr>; header rows repeat at the top of every page.
type Row struct {
	Header bool
	Bold   bool
	Cells  []Cell
}

// Cell is a <th> or <td>.
type Cell struct {
	Text     string
	Align    Align
	AlignSet bool
	Colspan  int
	Bold     bool
	Head     bool
	Width    float64
}

// Rule is <hr>.
type Rule struct{}

// Spacer is <spacer height="mm">.
type Spacer struct{ Height float64 }

// PageBreak is <pagebreak>.
type PageBreak struct{}

// Signature is a signature and seal area (<signature> of <party>).
type Signature struct{ Parties []Party }

// Party is one box of a signature area.
type Party struct{ Title, Text string }

func (Heading) block()   {}
func (Paragraph) block() {}
func (Grid) block()      {}
func (Table) block()     {}
func (Rule) block()      {}
func (Spacer) block()    {}
func (PageBreak) block() {}
func (Signature) block() {}

// The page-number markers that EvalInline leaves in header and footer
// text for the renderer: the page's number and the number of pages.
const (
	PageMarker  = "\uE000"
	PagesMarker = "\uE001"
)
