package importer

import (
	"archive/zip"
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
)

// xlsxSource reads the first sheet of a workbook row by row, after the
// checks of checkZip: the sheet's XML is streamed (xmlScanner, one row at
// a time) with the shared strings in memory and each cell style's number
// format classified (see classifyNumFmt), and every cell becomes text here.
// Date and time formats give YYYY-MM-DD, YYYY-MM-DD HH:MM:SS and HH:MM:SS,
// percentages are written as shown (12.50%), other numbers plain, to the 15
// significant digits a spreadsheet keeps (never 1.2E+07, no grouping,
// currency sign or rounding to the column's display), strings as they are,
// booleans TRUE and FALSE. Formulas are never evaluated: a formula cell
// gives the value stored with it (what Excel showed when the file was
// saved) and one without a stored value gives its formula text.
type xlsxSource struct {
	rc       io.ReadCloser
	x        *xmlScanner
	cell     xlsxCell // the cell being read (its buffers are reused)
	sst      []string
	styles   []numFmt // by cell style index
	date1904 bool
	row      int64 // the row last read
	done     bool
}

// numFmt is how a cell style's number format shows a number.
type numFmt struct {
	kind     fmtKind
	decimals int32 // percentages
}

// maxSheetRow and maxSheetCol are a spreadsheet's bounds (1,048,576 rows,
// 16,384 columns, XFD); a cell beyond them makes the file invalid.
const (
	maxSheetRow = 1 << 20
	maxSheetCol = 1 << 14
)

func openXLSX(ra io.ReaderAt, size int64, lim Limits) (*xlsxSource, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, xlsxInvalid()
	}
	if err := checkZip(zr, lim); err != nil {
		return nil, err
	}
	wb, err := readWorkbook(zr)
	if err != nil {
		return nil, err
	}
	s := &xlsxSource{date1904: wb.date1904}
	if wb.styles != "" {
		if s.styles, err = readStyles(zr, wb.styles); err != nil {
			return nil, xlsxInvalid()
		}
	}
	if wb.sst != "" {
		if s.sst, err = readSharedStrings(zr, wb.sst); err != nil {
			return nil, xlsxInvalid()
		}
	}
	sheet := zipPart(zr, wb.sheet)
	if sheet == nil {
		return nil, xlsxInvalid()
	}
	if s.rc, err = sheet.Open(); err != nil {
		return nil, xlsxInvalid()
	}
	s.x = newXMLScanner(s.rc)
	return s, nil
}

func xlsxInvalid() error { return apperr.Fields(apperr.Field("file", "import_xlsx_invalid")) }

// xlsxCell is a cell as the sheet's XML holds it.
type xlsxCell struct {
	col        int    // 0-based
	style      int    // s
	typ        string // t
	v, f, is   []byte // the value, the formula, an inline string's text
	hasF, inIS bool
}

// next returns the next row of the sheet that has an element in its XML
// (empty or not) with its spreadsheet row number.
func (s *xlsxSource) next() (int64, []string, error) {
	for !s.done {
		tok, err := s.x.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return 0, nil, xlsxInvalid()
		}
		switch {
		case tok == tokStart && string(s.x.name) == "row":
			s.row++
			if r := s.x.attr("r"); r != nil {
				n, err := strconv.ParseInt(string(r), 10, 64)
				if err != nil || n < 1 {
					return 0, nil, xlsxInvalid()
				}
				s.row = n
			}
			if s.row > maxSheetRow {
				return 0, nil, xlsxInvalid()
			}
			cells, err := s.readRow()
			if err != nil {
				return 0, nil, err
			}
			return s.row, cells, nil
		case tok == tokEnd && string(s.x.name) == "sheetData":
			s.done = true
		}
	}
	s.done = true
	return 0, nil, io.EOF
}

// readRow reads the cells of the row element just opened.
func (s *xlsxSource) readRow() ([]string, error) {
	var cells []string
	c := &s.cell
	in := "" // the element of the cell whose text is being read
	for {
		tok, err := s.x.next()
		if err != nil {
			return nil, xlsxInvalid()
		}
		switch tok {
		case tokStart:
			switch string(s.x.name) {
			case "c":
				*c = xlsxCell{col: len(cells), v: c.v[:0], f: c.f[:0], is: c.is[:0]}
				if r := s.x.attr("r"); r != nil {
					if c.col, err = refColumn(r); err != nil {
						return nil, err
					}
				}
				if st := s.x.attr("s"); st != nil {
					c.style, _ = strconv.Atoi(string(st))
				}
				c.typ = string(s.x.attr("t"))
			case "v":
				in = "v"
			case "f":
				in, c.hasF = "f", true
			case "is":
				c.inIS = true
			case "t":
				if c.inIS {
					in = "t"
				}
			case "rPh": // phonetic guide: not part of the text
				in = "rPh"
			}
		case tokText:
			switch in {
			case "v":
				c.v = append(c.v, s.x.text...)
			case "f":
				c.f = append(c.f, s.x.text...)
			case "t":
				c.is = append(c.is, s.x.text...)
			}
		case tokEnd:
			switch string(s.x.name) {
			case "v", "f", "t", "rPh":
				in = ""
			case "is":
				c.inIS = false
			case "c":
				text := s.text(c)
				if text == "" {
					continue
				}
				for len(cells) < c.col {
					cells = append(cells, "")
				}
				if c.col < len(cells) {
					cells[c.col] = text
				} else {
					cells = append(cells, text)
				}
			case "row":
				return cells, nil
			}
		}
	}
}

// refColumn is the 0-based column of a cell reference such as "AB12".
func refColumn(ref []byte) (int, error) {
	col := 0
	for i := 0; i < len(ref); i++ {
		ch := ref[i] | 0x20 // lower case
		if ch < 'a' || ch > 'z' {
			break
		}
		col = col*26 + int(ch-'a'+1)
		if col > maxSheetCol {
			return 0, xlsxInvalid()
		}
	}
	if col == 0 {
		return 0, xlsxInvalid()
	}
	return col - 1, nil
}

// text is a cell's text (see xlsxSource).
func (s *xlsxSource) text(c *xlsxCell) string {
	var out string
	switch c.typ {
	case "s":
		if i, err := strconv.Atoi(strings.TrimSpace(string(c.v))); err == nil && i >= 0 && i < len(s.sst) {
			out = s.sst[i]
		}
	case "inlineStr":
		return unescapeXString(string(c.is))
	case "str", "e":
		out = string(c.v)
	case "b":
		switch string(c.v) {
		case "1":
			out = "TRUE"
		case "0":
			out = "FALSE"
		default:
			out = string(c.v)
		}
	case "d":
		out = s.isoDate(string(c.v), s.format(c.style))
	default:
		out = s.number(string(c.v), s.format(c.style))
	}
	if out == "" && c.hasF && len(c.f) > 0 {
		out = "=" + strings.TrimPrefix(string(c.f), "=")
	}
	return out
}

// format is the number format of a cell style (General for a style the
// workbook does not have).
func (s *xlsxSource) format(style int) numFmt {
	if style >= 0 && style < len(s.styles) {
		return s.styles[style]
	}
	return numFmt{}
}

// number is a numeric cell's text in the format nf.
func (s *xlsxSource) number(v string, nf numFmt) string {
	x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		return v
	}
	switch nf.kind {
	case fmtDate, fmtDateTime, fmtTime:
		if t, ok := s.serialTime(x); ok {
			return timeText(t, nf.kind, x)
		}
	case fmtPercent:
		d := decimal.NewFromFloat(x).Shift(2).Round(nf.decimals)
		return d.StringFixed(nf.decimals) + "%"
	}
	return plainNumber(x)
}

// serialTime is the time of a date serial number (days since 1900, or
// 1904), when it falls within the calendar a spreadsheet shows.
func (s *xlsxSource) serialTime(x float64) (time.Time, bool) {
	if x < 0 || x > 2958465 { // 9999-12-31
		return time.Time{}, false
	}
	t, err := excelize.ExcelDateToTime(x, s.date1904)
	return t, err == nil
}

// timeText writes a date, date-time or time of day.
func timeText(t time.Time, kind fmtKind, serial float64) string {
	switch kind {
	case fmtTime:
		// A time of day is the fraction of the serial (24:00 is midnight).
		return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration((serial-math.Floor(serial))*86400+0.5) * time.Second).Format(time.TimeOnly)
	case fmtDateTime:
		return t.Round(time.Second).Format(time.DateTime)
	}
	// A date shows its day, time of day dropped (rounding only away the
	// float's noise at midnight).
	return t.Round(time.Millisecond).Format(time.DateOnly)
}

// isoDate is the text of a date cell (t="d", an ISO 8601 date-time): as
// its style shows it, or a date when it has no time of day and a date-time
// otherwise.
func (s *xlsxSource) isoDate(v string, nf numFmt) string {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", time.DateOnly, "15:04:05"} {
		t, err := time.Parse(layout, strings.TrimSpace(v))
		if err != nil {
			continue
		}
		switch nf.kind {
		case fmtDate, fmtDateTime, fmtTime:
			if nf.kind == fmtTime {
				return t.Format(time.TimeOnly)
			}
			return timeText(t, nf.kind, 0)
		}
		if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
			return t.Format(time.DateOnly)
		}
		return t.Round(time.Second).Format(time.DateTime)
	}
	return v
}

// plainNumber writes x rounded to 15 significant digits in plain digits.
func plainNumber(x float64) string {
	g := strconv.FormatFloat(x, 'g', 15, 64)
	if !strings.ContainsAny(g, "eE") {
		return g
	}
	d, err := decimal.NewFromString(g)
	if err != nil {
		return g
	}
	return d.String()
}

// unescapeXString decodes the _xHHHH_ escapes by which a workbook holds
// characters XML cannot (a carriage return is _x000D_, an underscore
// before such a sequence _x005F_).
func unescapeXString(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if i+7 <= len(s) && s[i] == '_' && s[i+1] == 'x' && s[i+6] == '_' {
			if n, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				b.WriteRune(rune(n))
				i += 7
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

func (s *xlsxSource) Close() error { return s.rc.Close() }

// checkZip refuses, before excelize sees the file, archives that would
// expand beyond Limits.MaxUnzipped in total, hold more than
// Limits.MaxParts parts, or hold a part larger than a megabyte that expands
// more than Limits.MaxRatio times (a zip bomb). The sizes are the declared
// ones; archive/zip refuses to inflate a part beyond its declared size, so
// a part cannot lie its way past them.
func checkZip(zr *zip.Reader, lim Limits) error {
	if len(zr.File) > lim.MaxParts {
		return apperr.New(apperr.ErrTooLarge, "import_xlsx_too_many_parts", "max", lim.MaxParts)
	}
	var total uint64
	for _, zf := range zr.File {
		total += zf.UncompressedSize64
		if total > uint64(lim.MaxUnzipped) {
			return apperr.New(apperr.ErrTooLarge, "import_xlsx_unzipped_too_large", "max", lim.MaxUnzipped)
		}
		if zf.UncompressedSize64 > 1<<20 && zf.UncompressedSize64/max(zf.CompressedSize64, 1) > uint64(lim.MaxRatio) {
			return apperr.New(apperr.ErrTooLarge, "import_xlsx_ratio", "max", lim.MaxRatio)
		}
	}
	return nil
}

// workbook is what the reader needs of a workbook part: where its first
// sheet (tab order), shared strings and styles are, and its date system.
type workbook struct {
	sheet, sst, styles string
	date1904           bool
}

// readWorkbook finds the workbook part (following the package
// relationships) and reads it.
func readWorkbook(zr *zip.Reader) (workbook, error) {
	var root xmlRels
	wbPath := "xl/workbook.xml"
	if err := readXMLPart(zr, "_rels/.rels", &root); err == nil {
		for _, r := range root.Rels {
			if strings.HasSuffix(r.Type, "/officeDocument") {
				wbPath = strings.TrimPrefix(r.Target, "/")
			}
		}
	}
	var doc struct {
		Pr struct {
			Date1904 string `xml:"date1904,attr"`
		} `xml:"workbookPr"`
		Sheets []struct {
			RID string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := readXMLPart(zr, wbPath, &doc); err != nil || len(doc.Sheets) == 0 {
		return workbook{}, xlsxInvalid()
	}
	dir := path.Dir(wbPath)
	var rels xmlRels
	if err := readXMLPart(zr, dir+"/_rels/"+path.Base(wbPath)+".rels", &rels); err != nil {
		return workbook{}, xlsxInvalid()
	}
	wb := workbook{date1904: doc.Pr.Date1904 == "1" || doc.Pr.Date1904 == "true"}
	for _, r := range rels.Rels {
		target := r.Target
		if strings.HasPrefix(target, "/") {
			target = strings.TrimPrefix(target, "/")
		} else {
			target = path.Join(dir, target)
		}
		switch {
		case r.ID == doc.Sheets[0].RID:
			wb.sheet = target
		case strings.HasSuffix(r.Type, "/sharedStrings"):
			wb.sst = target
		case strings.HasSuffix(r.Type, "/styles"):
			wb.styles = target
		}
	}
	if wb.sheet == "" {
		return workbook{}, xlsxInvalid()
	}
	return wb, nil
}

// xmlRels is a relationships part of the package.
type xmlRels struct {
	Rels []struct {
		Type   string `xml:"Type,attr"`
		Target string `xml:"Target,attr"`
		ID     string `xml:"Id,attr"`
	} `xml:"Relationship"`
}

func zipPart(zr *zip.Reader, name string) *zip.File {
	for _, zf := range zr.File {
		if zf.Name == name {
			return zf
		}
	}
	return nil
}

// readXMLPart decodes a small part of the package (at most 16 MB).
func readXMLPart(zr *zip.Reader, name string, v any) error {
	zf := zipPart(zr, name)
	if zf == nil {
		return errors.New("no part " + name)
	}
	rc, err := zf.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return xml.NewDecoder(io.LimitReader(rc, 16<<20)).Decode(v)
}

// readStyles classifies the number format of every cell style.
func readStyles(zr *zip.Reader, name string) ([]numFmt, error) {
	var doc struct {
		NumFmts []struct {
			ID     int    `xml:"numFmtId,attr"`
			Code   string `xml:"formatCode,attr"`
			Code16 string `xml:"formatCode16,attr"`
		} `xml:"numFmts>numFmt"`
		Xfs []struct {
			NumFmtID int `xml:"numFmtId,attr"`
		} `xml:"cellXfs>xf"`
	}
	if err := readXMLPart(zr, name, &doc); err != nil {
		return nil, err
	}
	custom := map[int]string{}
	for _, nf := range doc.NumFmts {
		custom[nf.ID] = cmp.Or(nf.Code16, nf.Code)
	}
	out := make([]numFmt, len(doc.Xfs))
	for i, xf := range doc.Xfs {
		out[i] = classifyNumFmt(xf.NumFmtID, custom)
	}
	return out, nil
}

// readSharedStrings reads the shared strings part: the text of each item,
// rich text runs joined, phonetic guides left out.
func readSharedStrings(zr *zip.Reader, name string) ([]string, error) {
	zf := zipPart(zr, name)
	if zf == nil {
		return nil, nil
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	x := newXMLScanner(rc)
	var out []string
	var b []byte
	inT, inPh := false, false
	for {
		tok, err := x.next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		switch tok {
		case tokStart:
			switch string(x.name) {
			case "si":
				b = b[:0]
			case "t":
				inT = !inPh
			case "rPh":
				inPh = true
			}
		case tokText:
			if inT {
				b = append(b, x.text...)
			}
		case tokEnd:
			switch string(x.name) {
			case "si":
				out = append(out, unescapeXString(string(b)))
			case "t":
				inT = false
			case "rPh":
				inPh = false
			}
		}
	}
}

// fmtKind is how a number format shows a number.
type fmtKind int

const (
	fmtNumber   fmtKind = iota // general, text and other number formats: plain
	fmtPercent                 // 12.50%
	fmtDate                    // YYYY-MM-DD
	fmtDateTime                // YYYY-MM-DD HH:MM:SS
	fmtTime                    // HH:MM:SS
)

// classifyNumFmt tells what a number format shows: built-in formats by id
// (1–8 and 37–44 numbers and currency, 9–10 percentages, 11–13 scientific
// and fractions, 14–17 and 27–31, 36, 50–58 dates, 18–21, 32–35 and 45–47
// times, 22 date and time, 0 General and 49 text), custom ones by their
// code.
func classifyNumFmt(id int, custom map[int]string) numFmt {
	if code, ok := custom[id]; ok {
		return classifyCode(code)
	}
	switch {
	case id == 9:
		return numFmt{kind: fmtPercent}
	case id == 10:
		return numFmt{kind: fmtPercent, decimals: 2}
	case id >= 14 && id <= 17, id >= 27 && id <= 31, id == 36, id >= 50 && id <= 58:
		return numFmt{kind: fmtDate}
	case id >= 18 && id <= 21, id >= 32 && id <= 35, id >= 45 && id <= 47:
		return numFmt{kind: fmtTime}
	case id == 22:
		return numFmt{kind: fmtDateTime}
	}
	return numFmt{kind: fmtNumber}
}

var (
	fmtQuoted   = regexp.MustCompile(`"[^"]*"|\\.|_.|\*.`)
	fmtBrackets = regexp.MustCompile(`\[[^\]]*\]`)
)

// classifyCode reads a custom format code's first section: date and time
// tokens (y, d, m, h, s outside quoted text, escapes and [..] modifiers),
// a percent sign (with the decimals shown), a text placeholder.
func classifyCode(code string) numFmt {
	section := code
	if i := strings.IndexByte(code, ';'); i >= 0 {
		section = code[:i]
	}
	s := strings.ToLower(fmtQuoted.ReplaceAllString(section, ""))
	elapsed := strings.Contains(s, "[h") || strings.Contains(s, "[m") || strings.Contains(s, "[s")
	s = fmtBrackets.ReplaceAllString(s, "")
	s = strings.NewReplacer("am/pm", "", "a/p", "", "上午/下午", "").Replace(s)
	if s == "general" || s == "" || strings.Contains(s, "@") {
		return numFmt{kind: fmtNumber}
	}
	hasY, hasD := strings.ContainsRune(s, 'y'), strings.ContainsRune(s, 'd')
	hasH, hasS, hasM := strings.ContainsRune(s, 'h'), strings.ContainsRune(s, 's'), strings.ContainsRune(s, 'm')
	switch {
	case hasY || hasD:
		if hasH || hasS {
			return numFmt{kind: fmtDateTime}
		}
		return numFmt{kind: fmtDate}
	case hasH || hasS || elapsed:
		return numFmt{kind: fmtTime}
	case hasM:
		return numFmt{kind: fmtDate}
	case strings.Contains(s, "%"):
		nf := numFmt{kind: fmtPercent}
		if i := strings.IndexByte(s, '.'); i >= 0 {
			for _, ch := range s[i+1:] {
				if ch != '0' && ch != '#' && ch != '?' {
					break
				}
				nf.decimals++
			}
		}
		return nf
	}
	return numFmt{kind: fmtNumber}
}

// columnName is a column's letter name (0 → "A").
func columnName(i int) string {
	name, err := excelize.ColumnNumberToName(i + 1)
	if err != nil {
		return fmt.Sprint(i + 1)
	}
	return name
}
