package importer

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
)

// File formats (Import.Format).
const (
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"
)

// rowSource yields the rows of a file in order with their spreadsheet row
// numbers (1 for the first row), empty rows included or not; io.EOF ends.
type rowSource interface {
	next() (int64, []string, error)
	Close() error
}

// fileInfo is what an upload's analysis finds.
type fileInfo struct {
	Format    string
	Encoding  string
	Delimiter string
	Columns   []string
	Sample    [][]string
	Rows      int
}

// formatOf tells the format from the file name: .csv (or .txt) and .xlsx;
// the legacy .xls is refused with its own message.
func formatOf(name string) (string, error) {
	switch strings.ToLower(path.Ext(name)) {
	case ".csv", ".txt":
		return FormatCSV, nil
	case ".xlsx":
		return FormatXLSX, nil
	case ".xls":
		return "", apperr.Fields(apperr.Field("file", "import_xls_unsupported"))
	}
	return "", apperr.Fields(apperr.Field("file", "import_format_unsupported"))
}

// analyze checks an uploaded file and reads what the import needs before
// the mapping: the encoding and delimiter of a CSV, the columns, a sample
// and the number of data rows. It reads every row, so the limits on rows
// and columns hold before anything is stored.
func analyze(ra io.ReaderAt, size int64, format string, lim Limits) (fileInfo, error) {
	info := fileInfo{Format: format}
	if format == FormatCSV {
		raw := make([]byte, size)
		if _, err := ra.ReadAt(raw, 0); err != nil && !errors.Is(err, io.EOF) {
			return info, err
		}
		enc, err := detectEncoding(raw)
		if err != nil {
			return info, err
		}
		info.Encoding = enc
		info.Delimiter = detectDelimiter(raw, enc)
	}
	src, err := openSource(ra, size, info.Format, info.Encoding, info.Delimiter, lim)
	if err != nil {
		return info, err
	}
	defer src.Close()
	t, err := openTable(src, lim)
	if err != nil {
		return info, err
	}
	info.Columns = t.columns
	for {
		r, err := t.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return info, err
		}
		info.Rows++
		if info.Rows > lim.MaxRows {
			return info, apperr.New(apperr.ErrTooLarge, "import_too_many_rows", "max", lim.MaxRows)
		}
		if len(info.Sample) < lim.SampleRows {
			info.Sample = append(info.Sample, r.cells)
		}
	}
	if info.Rows == 0 {
		return info, apperr.Fields(apperr.Field("file", "import_no_rows"))
	}
	return info, nil
}

// openSource opens a file of the given format for reading its rows.
func openSource(ra io.ReaderAt, size int64, format, encoding, delimiter string, lim Limits) (rowSource, error) {
	if format == FormatXLSX {
		return openXLSX(ra, size, lim)
	}
	var r io.Reader = io.NewSectionReader(ra, 0, size)
	switch encoding {
	case EncUTF8BOM:
		r = io.NewSectionReader(ra, int64(len(bomUTF8)), size-int64(len(bomUTF8)))
	case EncGB18030:
		r = transform.NewReader(r, simplifiedchinese.GB18030.NewDecoder())
	}
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true // 5" pipe: a bare quote in a field is text
	cr.Comma, _ = utf8.DecodeRuneInString(delimiter)
	if delimiter == "" {
		cr.Comma = ','
	}
	return &csvSource{r: cr}, nil
}

// csvSource reads CSV records. Its row numbers are those a spreadsheet
// shows: blank lines count, and a quoted cell holding line breaks is one
// row.
type csvSource struct {
	r                         *csv.Reader
	prevRow, prevLine, prevNL int64
}

func (s *csvSource) next() (int64, []string, error) {
	rec, err := s.r.Read()
	if errors.Is(err, io.EOF) {
		return 0, nil, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return 0, nil, apperr.Fields(apperr.Field("file", "import_csv_invalid", "line", pe.StartLine))
		}
		return 0, nil, err
	}
	l, _ := s.r.FieldPos(0)
	line := int64(l)
	// The blank lines the reader skipped since the previous record's end.
	row := s.prevRow + 1 + (line - (s.prevLine + s.prevNL) - 1)
	var nl int64
	for _, c := range rec {
		nl += int64(strings.Count(c, "\n"))
	}
	s.prevRow, s.prevLine, s.prevNL = row, line, nl
	return row, rec, nil
}

func (s *csvSource) Close() error { return nil }

// detectDelimiter picks the separator of a CSV from its first line: the
// most frequent of comma, semicolon and tab outside quotes (comma when
// none occurs).
func detectDelimiter(raw []byte, enc string) string {
	head := raw[:min(len(raw), 64<<10)]
	switch enc {
	case EncUTF8BOM:
		head = head[len(bomUTF8):]
	case EncGB18030:
		if dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(head); err == nil {
			head = dec
		}
	}
	counts := map[byte]int{}
	quoted := false
	for _, c := range head {
		if c == '"' {
			quoted = !quoted
			continue
		}
		if quoted {
			continue
		}
		if c == '\n' {
			break
		}
		if c == ',' || c == ';' || c == '\t' {
			counts[c]++
		}
	}
	best, n := byte(','), 0
	for _, c := range []byte{',', ';', '\t'} {
		if counts[c] > n {
			best, n = c, counts[c]
		}
	}
	return string(best)
}

// table is an opened file seen as a header and data rows.
type table struct {
	src     rowSource
	columns []string
}

// dataRow is one non-empty row below the header: its spreadsheet row
// number and one cell per column.
type dataRow struct {
	num   int64
	cells []string
}

// openTable reads the header: the first non-empty row. Its cells name the
// columns (trailing empty ones dropped); an empty header cell is named by
// its column letter, "(C)", and a repeated name gets the letter added,
// "电话 (D)", so that every column has a distinct name.
func openTable(src rowSource, lim Limits) (*table, error) {
	for {
		_, cells, err := src.next()
		if errors.Is(err, io.EOF) {
			return nil, apperr.Fields(apperr.Field("file", "import_empty_file"))
		}
		if err != nil {
			return nil, err
		}
		if isEmptyRow(cells) {
			continue
		}
		n := len(cells)
		for n > 0 && strings.TrimSpace(cells[n-1]) == "" {
			n--
		}
		if n > lim.MaxColumns {
			return nil, apperr.New(apperr.ErrTooLarge, "import_too_many_columns", "max", lim.MaxColumns)
		}
		cols := make([]string, n)
		seen := map[string]bool{}
		for i := range n {
			name := strings.Join(strings.Fields(cells[i]), " ")
			if name == "" {
				name = "(" + columnName(i) + ")"
			}
			if seen[name] {
				name += " (" + columnName(i) + ")"
			}
			seen[name] = true
			cols[i] = name
		}
		return &table{src: src, columns: cols}, nil
	}
}

// next returns the next non-empty data row; cells beyond the header's
// columns are dropped.
func (t *table) next() (dataRow, error) {
	for {
		num, cells, err := t.src.next()
		if err != nil {
			return dataRow{}, err
		}
		if isEmptyRow(cells) {
			continue
		}
		out := make([]string, len(t.columns))
		copy(out, cells)
		if isEmptyRow(out) {
			continue
		}
		return dataRow{num: num, cells: out}, nil
	}
}

func isEmptyRow(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}
