package importer

import (
	"archive/zip"
	"bytes"
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
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
)

// xlsxSource reads the first sheet of a workbook row by row with excelize's
// streaming reader, after the checks of checkZip. Cells come out as text:
// date and time formats as YYYY-MM-DD, YYYY-MM-DD HH:MM:SS and HH:MM:SS,
// percentages as shown (12.50%), other numbers plain (never 1.2E+07),
// strings as they are. Formulas are never evaluated: a formula cell gives
// the value stored with it (what Excel showed when the file was saved) and
// one without a stored value gives its formula text.
type xlsxSource struct {
	f        *excelize.File
	rows     *excelize.Rows
	formulas *formulaScanner // nil when the sheet holds no formula
	row      int64
	date1904 bool
}

func openXLSX(ra io.ReaderAt, size int64, lim Limits) (*xlsxSource, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, xlsxInvalid()
	}
	if err := checkZip(zr, lim); err != nil {
		return nil, err
	}
	sheetName, sheetPath, err := firstSheet(zr)
	if err != nil {
		return nil, err
	}
	var sheet *zip.File
	for _, zf := range zr.File {
		if zf.Name == sheetPath {
			sheet = zf
		}
	}
	if sheet == nil {
		return nil, xlsxInvalid()
	}
	hasFormulas, err := sheetHasFormulas(sheet)
	if err != nil {
		return nil, err
	}
	f, err := excelize.OpenReader(io.NewSectionReader(ra, 0, size), excelize.Options{UnzipSizeLimit: lim.MaxUnzipped})
	if err != nil {
		return nil, xlsxInvalid()
	}
	s := &xlsxSource{f: f}
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		s.date1904 = *props.Date1904
	}
	if err := normaliseStyles(f); err != nil {
		f.Close()
		return nil, xlsxInvalid()
	}
	if s.rows, err = f.Rows(sheetName); err != nil {
		f.Close()
		return nil, xlsxInvalid()
	}
	if hasFormulas {
		rc, err := sheet.Open()
		if err != nil {
			s.Close()
			return nil, xlsxInvalid()
		}
		s.formulas = &formulaScanner{rc: rc, d: xml.NewDecoder(rc)}
	}
	return s, nil
}

func xlsxInvalid() error { return apperr.Fields(apperr.Field("file", "import_xlsx_invalid")) }

// next returns the next row of the sheet (empty rows included) with its
// spreadsheet row number.
func (s *xlsxSource) next() (int64, []string, error) {
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return 0, nil, xlsxInvalid()
		}
		return 0, nil, io.EOF
	}
	s.row++
	cells, err := s.rows.Columns()
	if err != nil {
		return 0, nil, xlsxInvalid()
	}
	if s.formulas != nil {
		for col, text := range s.formulas.row(s.row) {
			for len(cells) <= col {
				cells = append(cells, "")
			}
			if cells[col] == "" {
				cells[col] = "=" + strings.TrimPrefix(text, "=")
			}
		}
	}
	for i, c := range cells {
		cells[i] = s.plain(c)
	}
	return s.row, cells, nil
}

func (s *xlsxSource) Close() error {
	if s.formulas != nil {
		s.formulas.rc.Close()
	}
	if s.rows != nil {
		s.rows.Close()
	}
	return s.f.Close()
}

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

// firstSheet finds the first sheet of the workbook (tab order): its name
// and the path of its part, following the package relationships.
func firstSheet(zr *zip.Reader) (name, part string, err error) {
	var root xmlRels
	wbPath := "xl/workbook.xml"
	if err := readXMLPart(zr, "_rels/.rels", &root); err == nil {
		for _, r := range root.Rels {
			if strings.HasSuffix(r.Type, "/officeDocument") {
				wbPath = strings.TrimPrefix(r.Target, "/")
			}
		}
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := readXMLPart(zr, wbPath, &wb); err != nil || len(wb.Sheets) == 0 {
		return "", "", xlsxInvalid()
	}
	dir := path.Dir(wbPath)
	var rels xmlRels
	if err := readXMLPart(zr, dir+"/_rels/"+path.Base(wbPath)+".rels", &rels); err != nil {
		return "", "", xlsxInvalid()
	}
	for _, r := range rels.Rels {
		if r.ID == wb.Sheets[0].RID {
			target := r.Target
			if strings.HasPrefix(target, "/") {
				target = strings.TrimPrefix(target, "/")
			} else {
				target = path.Join(dir, target)
			}
			return wb.Sheets[0].Name, target, nil
		}
	}
	return "", "", xlsxInvalid()
}

// xmlRels is a relationships part of the package.
type xmlRels struct {
	Rels []struct {
		Type   string `xml:"Type,attr"`
		Target string `xml:"Target,attr"`
		ID     string `xml:"Id,attr"`
	} `xml:"Relationship"`
}

// readXMLPart decodes a small part of the package (at most 16 MB).
func readXMLPart(zr *zip.Reader, name string, v any) error {
	for _, zf := range zr.File {
		if zf.Name != name {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return err
		}
		defer rc.Close()
		return xml.NewDecoder(io.LimitReader(rc, 16<<20)).Decode(v)
	}
	return errors.New("no part " + name)
}

// sheetHasFormulas reports whether the sheet's XML holds a formula element.
// It inflates the part once (fast, and the part's declared size was
// checked) so that the slower formula scan runs only when it can matter.
func sheetHasFormulas(zf *zip.File) (bool, error) {
	rc, err := zf.Open()
	if err != nil {
		return false, xlsxInvalid()
	}
	defer rc.Close()
	buf := make([]byte, 64<<10)
	carry := 0
	for {
		n, err := rc.Read(buf[carry:])
		chunk := buf[:carry+n]
		if bytes.Contains(chunk, []byte("<f>")) || bytes.Contains(chunk, []byte("<f ")) {
			return true, nil
		}
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, xlsxInvalid()
		}
		// Keep the last two bytes: a marker may straddle two reads.
		carry = copy(buf, chunk[max(len(chunk)-2, 0):])
	}
}

// formulaScanner walks the sheet's XML alongside excelize's reader and
// yields, per row, the formula text of cells that have a formula but no
// stored value (files written by programs that do not calculate).
type formulaScanner struct {
	rc      io.Closer
	d       *xml.Decoder
	done    bool
	nextRow int64          // row of pending, 0 when none
	pending map[int]string // column index → formula text
	lastRow int64
}

// row returns the formula cells of row n (rows are asked in order).
func (s *formulaScanner) row(n int64) map[int]string {
	for !s.done && (s.nextRow == 0 || s.nextRow < n) {
		s.advance()
	}
	if s.nextRow == n {
		m := s.pending
		s.nextRow, s.pending = 0, nil
		return m
	}
	return nil
}

// advance reads the next <row> element.
func (s *formulaScanner) advance() {
	s.nextRow, s.pending = 0, nil
	var (
		inRow          bool
		col            = -1
		cellCol        int
		hasF, hasV     bool
		ftext          strings.Builder
		inF, inV, inIS bool
	)
	for {
		tok, err := s.d.Token()
		if err != nil {
			s.done = true
			return
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "row":
				inRow = true
				s.lastRow++
				if r, err := strconv.ParseInt(attr(el, "r"), 10, 64); err == nil && r > 0 {
					s.lastRow = r
				}
				s.nextRow = s.lastRow
			case "c":
				col++
				if ref := attr(el, "r"); ref != "" {
					if c, _, err := excelize.CellNameToCoordinates(ref); err == nil {
						col = c - 1
					}
				}
				cellCol, hasF, hasV = col, false, false
				ftext.Reset()
			case "f":
				hasF, inF = true, true
			case "v":
				inV = true
			case "is":
				inIS, hasV = true, true
			}
		case xml.CharData:
			if inF {
				ftext.Write(el)
			} else if inV && len(bytes.TrimSpace(el)) > 0 {
				hasV = true
			}
		case xml.EndElement:
			switch el.Name.Local {
			case "f":
				inF = false
			case "v":
				inV = false
			case "is":
				inIS = false
			case "c":
				if hasF && !hasV && !inIS && ftext.Len() > 0 {
					if s.pending == nil {
						s.pending = map[int]string{}
					}
					s.pending[cellCol] = ftext.String()
				}
			case "row":
				if inRow {
					return
				}
			case "sheetData":
				s.done = true
				return
			}
		}
	}
}

func attr(el xml.StartElement, name string) string {
	for _, a := range el.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// numFmt kinds: how a cell style's number format is read.
type fmtKind int

const (
	fmtKeep     fmtKind = iota // general, text and percentages: as excelize formats them
	fmtNumber                  // other number formats: plain (General)
	fmtDate                    // YYYY-MM-DD
	fmtDateTime                // YYYY-MM-DD HH:MM:SS
	fmtTime                    // HH:MM:SS
)

// Marks of date and time cells: normaliseStyles gives their styles a
// number format that writes the marker and the date's serial number, which
// xlsxSource.plain turns into text. (excelize's own date formatting costs
// several times more than reading the cell.)
const (
	markDate     = '\uE000'
	markDateTime = '\uE001'
	markTime     = '\uE002'
)

// normaliseStyles rewrites, in memory, the number format of every cell
// style, so that excelize's formatted values are what an import needs:
// dates and times marked, whatever their display format (m/d/yy would be
// ambiguous to read back), numbers without grouping, currency signs or
// rounding. The file itself is never written.
func normaliseStyles(f *excelize.File) error {
	if _, err := f.GetStyle(0); err != nil || f.Styles == nil || f.Styles.CellXfs == nil {
		return nil // no styles: every cell is General
	}
	custom := map[int]string{}
	if f.Styles.NumFmts != nil {
		for _, nf := range f.Styles.NumFmts.NumFmt {
			code := nf.FormatCode
			if nf.FormatCode16 != "" {
				code = nf.FormatCode16
			}
			custom[nf.NumFmtID] = code
		}
	}
	n := len(f.Styles.CellXfs.Xf)
	kinds := make([]fmtKind, n)
	need := map[fmtKind]bool{}
	for i := range n {
		id := 0
		if p := f.Styles.CellXfs.Xf[i].NumFmtID; p != nil {
			id = *p
		}
		kinds[i] = classifyNumFmt(id, custom)
		need[kinds[i]] = true
	}
	ids := map[fmtKind]*int{fmtNumber: new(int)}
	for k, mark := range map[fmtKind]rune{fmtDate: markDate, fmtDateTime: markDateTime, fmtTime: markTime} {
		code := `"` + string(mark) + `"0.000000000000`
		if !need[k] {
			continue
		}
		style, err := f.NewStyle(&excelize.Style{CustomNumFmt: &code})
		if err != nil {
			return err
		}
		ids[k] = f.Styles.CellXfs.Xf[style].NumFmtID
	}
	for i, k := range kinds {
		if id, ok := ids[k]; ok {
			f.Styles.CellXfs.Xf[i].NumFmtID = id
		}
	}
	return nil
}

// classifyNumFmt tells what a number format shows: built-in formats by id
// (0 General, 1–8 and 37–44 numbers and currency, 9–10 percentages,
// 11–13 scientific and fractions, 14–17 and 27–31, 36, 50–58 dates, 18–21,
// 32–35 and 45–47 times, 22 date and time, 49 text), custom ones by their
// code.
func classifyNumFmt(id int, custom map[int]string) fmtKind {
	if code, ok := custom[id]; ok {
		return classifyCode(code)
	}
	switch {
	case id == 0 || id == 9 || id == 10 || id == 49:
		return fmtKeep
	case id >= 14 && id <= 17, id >= 27 && id <= 31, id == 36, id >= 50 && id <= 58:
		return fmtDate
	case id >= 18 && id <= 21, id >= 32 && id <= 35, id >= 45 && id <= 47:
		return fmtTime
	case id == 22:
		return fmtDateTime
	}
	return fmtNumber
}

var (
	fmtQuoted   = regexp.MustCompile(`"[^"]*"|\\.|_.|\*.`)
	fmtBrackets = regexp.MustCompile(`\[[^\]]*\]`)
)

// classifyCode reads a custom format code's first section: date and time
// tokens (y, d, m, h, s outside quoted text, escapes and [..] modifiers),
// a percent sign, a text placeholder.
func classifyCode(code string) fmtKind {
	section := code
	if i := strings.IndexByte(code, ';'); i >= 0 {
		section = code[:i]
	}
	s := strings.ToLower(fmtQuoted.ReplaceAllString(section, ""))
	elapsed := strings.Contains(s, "[h") || strings.Contains(s, "[m") || strings.Contains(s, "[s")
	s = fmtBrackets.ReplaceAllString(s, "")
	s = strings.NewReplacer("am/pm", "", "a/p", "", "上午/下午", "").Replace(s)
	switch {
	case s == "general" || s == "":
		return fmtKeep
	case strings.Contains(s, "@"):
		return fmtKeep
	}
	hasY, hasD := strings.ContainsRune(s, 'y'), strings.ContainsRune(s, 'd')
	hasH, hasS, hasM := strings.ContainsRune(s, 'h'), strings.ContainsRune(s, 's'), strings.ContainsRune(s, 'm')
	switch {
	case hasY || hasD:
		if hasH || hasS {
			return fmtDateTime
		}
		return fmtDate
	case hasH || hasS || elapsed:
		return fmtTime
	case hasM:
		return fmtDate
	case strings.Contains(s, "%"):
		return fmtKeep
	}
	return fmtNumber
}

// plain turns a cell's formatted value into the text an import reads:
// dates and times marked by normaliseStyles written out, numbers in
// exponent notation in plain digits.
func (s *xlsxSource) plain(c string) string {
	r, n := utf8.DecodeRuneInString(c)
	if r < markDate || r > markTime {
		return plainNumber(c)
	}
	serial, err := strconv.ParseFloat(c[n:], 64)
	if err != nil {
		return c[n:]
	}
	if r == markTime {
		// A time of day is the fraction of the serial (24:00 is midnight).
		return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration((serial-math.Floor(serial))*86400+0.5) * time.Second).Format(time.TimeOnly)
	}
	t, err := excelize.ExcelDateToTime(serial, s.date1904)
	if err != nil {
		return c[n:] // out of the calendar: the number, refused as a date later
	}
	if r == markDateTime {
		return t.Round(time.Second).Format(time.DateTime)
	}
	// A date shows its day, time of day dropped (rounding only away the
	// float's noise at midnight).
	return t.Round(time.Millisecond).Format(time.DateOnly)
}

var expNumber = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+$`)

// plainNumber writes a number in exponent notation (how excelize shows
// values beyond 15 significant digits) in plain digits.
func plainNumber(s string) string {
	if !expNumber.MatchString(s) {
		return s
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return s
	}
	return d.String()
}

// columnName is a column's letter name (0 → "A").
func columnName(i int) string {
	name, err := excelize.ColumnNumberToName(i + 1)
	if err != nil {
		return fmt.Sprint(i + 1)
	}
	return name
}
