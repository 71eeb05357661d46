package exporter

import (
	"archive/zip"
	"compress/flate"
	"io"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// xlsxSheet writes one worksheet with excelize's stream writer: rows go to
// a buffer that spills to a temporary file beyond 16 MB, and the workbook
// is compressed straight into the output when the rows are done.
type xlsxSheet struct {
	w     io.Writer
	f     *excelize.File
	sw    *excelize.StreamWriter
	n     int // rows written
	date  int // style ids
	dtime int
	bold  int
	nums  map[int]int // number style by decimal places
	vals  []any
}

// maxSheetName is Excel's limit on a worksheet's name.
const maxSheetName = 31

func newXLSXSheet(w io.Writer, tempDir, name string, cols []column) (*xlsxSheet, error) {
	f := excelize.NewFile(excelize.Options{TmpDir: tempDir})
	s := &xlsxSheet{w: w, f: f, nums: map[int]int{}}
	ok := false
	defer func() {
		if !ok {
			_ = f.Close()
		}
	}()
	name = sheetName(name)
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return nil, err
	}
	var err error
	if s.bold, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err != nil {
		return nil, err
	}
	dateFmt, dtFmt := "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"
	if s.date, err = f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt}); err != nil {
		return nil, err
	}
	if s.dtime, err = f.NewStyle(&excelize.Style{CustomNumFmt: &dtFmt}); err != nil {
		return nil, err
	}
	if s.sw, err = f.NewStreamWriter(name); err != nil {
		return nil, err
	}
	if len(cols) > 0 {
		if err := s.sw.SetColWidth(1, len(cols), 16); err != nil {
			return nil, err
		}
	}
	if err := s.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// sheetName makes an entity label a valid worksheet name.
func sheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) {
			return '_'
		}
		return r
	}, strings.Trim(s, "'"))
	if r := []rune(s); len(r) > maxSheetName {
		s = string(r[:maxSheetName])
	}
	if strings.TrimSpace(s) == "" {
		return "Sheet1"
	}
	return s
}

func (s *xlsxSheet) header(labels []string) error {
	vals := make([]any, len(labels))
	for i, l := range labels {
		vals[i] = excelize.Cell{StyleID: s.bold, Value: Neutralise(l)}
	}
	return s.setRow(vals)
}

func (s *xlsxSheet) setRow(vals []any) error {
	s.n++
	ref, err := excelize.CoordinatesToCellName(1, s.n)
	if err != nil {
		return err
	}
	return s.sw.SetRow(ref, vals)
}

func (s *xlsxSheet) row(cells []cell) error {
	if cap(s.vals) < len(cells) {
		s.vals = make([]any, len(cells))
	}
	vals := s.vals[:len(cells)]
	for i, c := range cells {
		v, err := s.value(c)
		if err != nil {
			return err
		}
		vals[i] = v
	}
	return s.setRow(vals)
}

// value is what the stream writer gets for a cell: numbers as numbers
// (integers exactly; decimals as the nearest double, shown with their
// scale), dates and datetimes as date cells, the rest as neutralised text.
func (s *xlsxSheet) value(c cell) (any, error) {
	switch c.kind {
	case cNumber:
		d, err := decimal.NewFromString(c.text)
		if err != nil {
			return nil, err
		}
		style, err := s.numStyle(c.scale)
		if err != nil {
			return nil, err
		}
		if c.scale == 0 && d.IsInteger() && d.Abs().LessThan(decimal.New(1, 15)) {
			return excelize.Cell{StyleID: style, Value: d.IntPart()}, nil
		}
		return excelize.Cell{StyleID: style, Value: d.InexactFloat64()}, nil
	case cDate:
		t, err := time.Parse(time.DateOnly, c.text)
		if err != nil {
			return Neutralise(c.text), nil
		}
		return excelize.Cell{StyleID: s.date, Value: t}, nil
	case cDateTime:
		return excelize.Cell{StyleID: s.dtime, Value: c.at.In(meta.Shanghai)}, nil
	}
	if c.text == "" {
		return nil, nil
	}
	return Neutralise(c.text), nil
}

// numStyle is the number format showing scale decimal places.
func (s *xlsxSheet) numStyle(scale int) (int, error) {
	if id, ok := s.nums[scale]; ok {
		return id, nil
	}
	format := "0"
	if scale > 0 {
		format += "." + strings.Repeat("0", scale)
	}
	id, err := s.f.NewStyle(&excelize.Style{CustomNumFmt: &format})
	if err != nil {
		return 0, err
	}
	s.nums[scale] = id
	return id, nil
}

func (s *xlsxSheet) batchDone() error { return nil }

// finish ends the sheet and writes the workbook: excelize assembles a
// workbook in a buffer, so the archive writer it is given writes to the
// output instead and the buffer stays empty.
func (s *xlsxSheet) finish() error {
	if err := s.sw.Flush(); err != nil {
		return err
	}
	s.f.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(s.w)
		zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(out, flate.BestSpeed)
		})
		return zw
	})
	return s.f.Write(io.Discard)
}

func (s *xlsxSheet) close() { _ = s.f.Close() }
