package importer

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"unicode/utf8"
)

// xmlScanner reads the parts of a workbook that are read in full — the
// sheet and the shared strings — token by token, several times faster than
// encoding/xml (whose tokens cost an allocation each; a sheet of 100,000
// rows has millions of them). It reads what those parts use: elements
// (names without their namespace prefix), attributes, text with entity and
// character references decoded and line ends normalised, CDATA sections;
// it skips the XML declaration, processing instructions, comments and a
// document type declaration. Names, attributes and text are only valid
// until the next call.
type xmlScanner struct {
	r         *byteReader
	name      []byte    // local name of a start or end tag
	attrs     []xmlAttr // attributes of a start tag
	text      []byte    // a text token (or CDATA section), decoded
	pendEnd   bool      // the start tag just returned closed itself
	nameBuf   []byte
	attrCount int
}

type xmlAttr struct{ name, value []byte }

type xmlTok int

const (
	tokStart xmlTok = iota + 1
	tokEnd
	tokText
)

var errXML = errors.New("import: malformed XML")

func newXMLScanner(r io.Reader) *xmlScanner {
	return &xmlScanner{r: &byteReader{src: r, buf: make([]byte, 64<<10)}}
}

// byteReader is a buffered reader whose callers may also take runs of
// bytes straight from its buffer (bufio.Reader's methods are calls per
// byte, the scanner's cost).
type byteReader struct {
	src      io.Reader
	buf      []byte
	pos, end int
	err      error
}

// fill reads more input; false at the end of it (or on an error).
func (b *byteReader) fill() bool {
	if b.err != nil {
		return false
	}
	b.pos, b.end = 0, 0
	for b.end == 0 && b.err == nil {
		var n int
		n, b.err = b.src.Read(b.buf)
		b.end = n
	}
	return b.end > 0
}

func (b *byteReader) ReadByte() (byte, error) {
	if b.pos < b.end {
		c := b.buf[b.pos]
		b.pos++
		return c, nil
	}
	return b.readSlow()
}

func (b *byteReader) readSlow() (byte, error) {
	if !b.fill() {
		if b.err == nil || errors.Is(b.err, io.EOF) {
			return 0, io.EOF
		}
		return 0, b.err
	}
	b.pos++
	return b.buf[0], nil
}

// UnreadByte steps back over the byte just read.
func (b *byteReader) UnreadByte() error {
	b.pos--
	return nil
}

// Peek returns the next n bytes without reading them (fewer at the end).
func (b *byteReader) Peek(n int) ([]byte, error) {
	if b.end-b.pos < n {
		rest := copy(b.buf, b.buf[b.pos:b.end])
		b.pos, b.end = 0, rest
		for b.end < n && b.err == nil {
			var k int
			k, b.err = b.src.Read(b.buf[b.end:])
			b.end += k
		}
		if b.end < n {
			return b.buf[:b.end], io.EOF
		}
	}
	return b.buf[b.pos : b.pos+n], nil
}

func (b *byteReader) Discard(n int) { b.pos += n }

// run returns the bytes before the first byte that stop reports (all the
// buffer has when none does) and moves past them.
func (b *byteReader) run(stop *[256]bool) []byte {
	if b.pos == b.end && !b.fill() {
		return nil
	}
	i := b.pos
	for i < b.end && !stop[b.buf[i]] {
		i++
	}
	out := b.buf[b.pos:i]
	b.pos = i
	return out
}

// next returns the next token, io.EOF at the end of the input. A
// self-closing element is a start token followed by an end token.
func (s *xmlScanner) next() (xmlTok, error) {
	if s.pendEnd {
		s.pendEnd = false
		return tokEnd, nil
	}
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return 0, err
		}
		if c != '<' {
			s.r.UnreadByte()
			if err := s.readText(); err != nil {
				return 0, err
			}
			return tokText, nil
		}
		c, err = s.r.ReadByte()
		if err != nil {
			return 0, errXML
		}
		switch c {
		case '/':
			if err := s.readName(); err != nil {
				return 0, err
			}
			if err := s.skipSpace(); err != nil {
				return 0, err
			}
			if c, err := s.r.ReadByte(); err != nil || c != '>' {
				return 0, errXML
			}
			return tokEnd, nil
		case '?':
			if err := s.skipPast("?>"); err != nil {
				return 0, err
			}
			continue
		case '!':
			if ok, err := s.skipSpecial(); err != nil {
				return 0, err
			} else if ok {
				return tokText, nil // a CDATA section
			}
			continue
		}
		s.r.UnreadByte()
		if err := s.readStart(); err != nil {
			return 0, err
		}
		return tokStart, nil
	}
}

// attr is the value of the start tag's attribute named local, nil when
// it has none.
func (s *xmlScanner) attr(local string) []byte {
	for i := range s.attrs[:s.attrCount] {
		if string(s.attrs[i].name) == local {
			return s.attrs[i].value
		}
	}
	return nil
}

// Bytes that end a run of plain bytes: of a name, of text, of an
// attribute value (quoted either way).
var nameEnd, textSpecial, attrSpecial [256]bool

func init() {
	for _, c := range []byte(" \t\n\r>/=") {
		nameEnd[c] = true
	}
	for _, c := range []byte("<&\r") {
		textSpecial[c], attrSpecial[c] = true, true
	}
	attrSpecial['"'], attrSpecial['\''] = true, true
}

func isNameEnd(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '>' || c == '/' || c == '='
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// readName reads a name into s.name, its namespace prefix dropped.
func (s *xmlScanner) readName() error {
	s.nameBuf = append(s.nameBuf[:0], s.r.run(&nameEnd)...)
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return errXML
		}
		if isNameEnd(c) {
			s.r.UnreadByte()
			break
		}
		s.nameBuf = append(s.nameBuf, c)
	}
	if len(s.nameBuf) == 0 {
		return errXML
	}
	s.name = s.nameBuf
	if i := bytes.LastIndexByte(s.name, ':'); i >= 0 {
		s.name = s.name[i+1:]
	}
	return nil
}

func (s *xmlScanner) skipSpace() error {
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return errXML
		}
		if !isSpace(c) {
			return s.r.UnreadByte()
		}
	}
}

// readStart reads a start tag after its "<".
func (s *xmlScanner) readStart() error {
	if err := s.readName(); err != nil {
		return err
	}
	s.attrCount = 0
	for {
		if err := s.skipSpace(); err != nil {
			return err
		}
		c, err := s.r.ReadByte()
		if err != nil {
			return errXML
		}
		switch c {
		case '>':
			return nil
		case '/':
			if c, err := s.r.ReadByte(); err != nil || c != '>' {
				return errXML
			}
			s.pendEnd = true
			return nil
		}
		s.r.UnreadByte()
		if s.attrCount == len(s.attrs) {
			s.attrs = append(s.attrs, xmlAttr{})
		}
		a := &s.attrs[s.attrCount]
		s.attrCount++
		a.name = a.name[:0]
		for {
			c, err := s.r.ReadByte()
			if err != nil {
				return errXML
			}
			if isNameEnd(c) {
				s.r.UnreadByte()
				break
			}
			a.name = append(a.name, c)
		}
		if i := bytes.LastIndexByte(a.name, ':'); i >= 0 {
			a.name = append(a.name[:0], a.name[i+1:]...)
		}
		if err := s.skipSpace(); err != nil {
			return err
		}
		if c, err := s.r.ReadByte(); err != nil || c != '=' {
			return errXML
		}
		if err := s.skipSpace(); err != nil {
			return err
		}
		q, err := s.r.ReadByte()
		if err != nil || q != '"' && q != '\'' {
			return errXML
		}
		if a.value, err = s.decodeUntil(a.value[:0], q); err != nil {
			return err
		}
		if _, err := s.r.ReadByte(); err != nil { // the closing quote
			return errXML
		}
	}
}

// readText reads text up to the next "<" (or the end).
func (s *xmlScanner) readText() error {
	var err error
	s.text, err = s.decodeUntil(s.text[:0], '<')
	if errors.Is(err, errXML) {
		return err
	}
	return nil
}

// decodeUntil appends to dst the decoded characters up to (not
// including) the byte stop, which stays unread; io.EOF ends text only.
func (s *xmlScanner) decodeUntil(dst []byte, stop byte) ([]byte, error) {
	special := &textSpecial
	if stop != '<' {
		special = &attrSpecial
	}
	for {
		dst = append(dst, s.r.run(special)...)
		c, err := s.r.ReadByte()
		if err != nil {
			if stop == '<' && errors.Is(err, io.EOF) {
				return dst, nil
			}
			return dst, errXML
		}
		switch c {
		case stop:
			s.r.UnreadByte()
			return dst, nil
		case '<':
			return dst, errXML // in an attribute value
		case '&':
			if dst, err = s.reference(dst); err != nil {
				return dst, err
			}
		case '\r':
			// Line ends are normalised to "\n".
			if n, err := s.r.ReadByte(); err == nil && n != '\n' {
				s.r.UnreadByte()
			}
			dst = append(dst, '\n')
		default:
			dst = append(dst, c)
		}
	}
}

// reference appends the character an entity or character reference (after
// its "&") stands for.
func (s *xmlScanner) reference(dst []byte) ([]byte, error) {
	var ref [12]byte
	n := 0
	for {
		c, err := s.r.ReadByte()
		if err != nil || n == len(ref) {
			return dst, errXML
		}
		if c == ';' {
			break
		}
		ref[n] = c
		n++
	}
	switch r := string(ref[:n]); r {
	case "lt":
		return append(dst, '<'), nil
	case "gt":
		return append(dst, '>'), nil
	case "amp":
		return append(dst, '&'), nil
	case "apos":
		return append(dst, '\''), nil
	case "quot":
		return append(dst, '"'), nil
	default:
		if len(r) < 2 || r[0] != '#' {
			return dst, errXML
		}
		var v uint64
		var err error
		if r[1] == 'x' {
			v, err = strconv.ParseUint(r[2:], 16, 32)
		} else {
			v, err = strconv.ParseUint(r[1:], 10, 32)
		}
		if err != nil || !utf8.ValidRune(rune(v)) {
			return dst, errXML
		}
		return utf8.AppendRune(dst, rune(v)), nil
	}
}

// skipPast reads up to and including end.
func (s *xmlScanner) skipPast(end string) error {
	matched := 0
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return errXML
		}
		switch {
		case c == end[matched]:
			matched++
			if matched == len(end) {
				return nil
			}
		case c == end[0]:
			matched = 1
		default:
			matched = 0
		}
	}
}

// skipSpecial reads what follows "<!": a comment or document type
// declaration is skipped; a CDATA section becomes s.text (ok).
func (s *xmlScanner) skipSpecial() (ok bool, err error) {
	head, err := s.r.Peek(7)
	switch {
	case len(head) >= 2 && string(head[:2]) == "--":
		return false, s.skipPast("-->")
	case err == nil && string(head) == "[CDATA[":
		s.r.Discard(7)
		s.text = s.text[:0]
		for {
			c, err := s.r.ReadByte()
			if err != nil {
				return false, errXML
			}
			s.text = append(s.text, c)
			if bytes.HasSuffix(s.text, []byte("]]>")) {
				s.text = s.text[:len(s.text)-3]
				return true, nil
			}
		}
	}
	// <!DOCTYPE ...>, with an internal subset in brackets.
	depth := 0
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return false, errXML
		}
		switch {
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == '>' && depth <= 0:
			return false, nil
		}
	}
}
