package exporter

import (
	"bufio"
	"io"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// bom makes Excel read a CSV file as UTF-8.
const bom = "\uFEFF"

// csvSheet writes RFC 4180 CSV: UTF-8 with a byte-order mark, CRLF after
// each row, a field quoted when it holds a comma, a quote, a CR or LF, or
// begins with a space or tab, quotes doubled inside. Values are written
// exactly (encoding/csv's CRLF mode would drop a lone CR inside a value).
type csvSheet struct {
	w     *bufio.Writer
	flush func()
}

func newCSVSheet(w io.Writer, flush func()) *csvSheet {
	return &csvSheet{w: bufio.NewWriterSize(w, 64<<10), flush: flush}
}

func (s *csvSheet) header(labels []string) error {
	s.w.WriteString(bom)
	for i, l := range labels {
		s.field(i, Neutralise(l))
	}
	_, err := s.w.WriteString("\r\n")
	return err
}

func (s *csvSheet) row(cells []cell) error {
	for i, c := range cells {
		switch c.kind {
		case cNumber, cDate:
			s.field(i, c.text)
		case cDateTime:
			s.field(i, c.at.In(meta.Shanghai).Format(dateTimeLayout))
		default:
			s.field(i, Neutralise(c.text))
		}
	}
	_, err := s.w.WriteString("\r\n")
	return err
}

// field writes the i-th field of a row (errors stay in the bufio.Writer
// and come back from the row's last write or the flush).
func (s *csvSheet) field(i int, v string) {
	if i > 0 {
		s.w.WriteByte(',')
	}
	if v == "" || !strings.ContainsAny(v, ",\"\r\n") && v[0] != ' ' && v[0] != '\t' {
		s.w.WriteString(v)
		return
	}
	s.w.WriteByte('"')
	s.w.WriteString(strings.ReplaceAll(v, `"`, `""`))
	s.w.WriteByte('"')
}

func (s *csvSheet) batchDone() error {
	if err := s.w.Flush(); err != nil {
		return err
	}
	if s.flush != nil {
		s.flush()
	}
	return nil
}

func (s *csvSheet) finish() error { return s.batchDone() }

func (s *csvSheet) close() {}

// dateTimeLayout is how datetimes read in a file: Asia/Shanghai wall
// clock time, which spreadsheet programs recognise.
const dateTimeLayout = "2006-01-02 15:04:05"
