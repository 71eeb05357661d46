package importer

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
)

// Report formats.
const (
	ReportCSV  = "csv"
	ReportXLSX = "xlsx"
)

// ContentType is the media type of a report format.
func ContentType(format string) string {
	if format == ReportXLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// checkFormat accepts csv (the default) and xlsx.
func checkFormat(format string, def string) (string, error) {
	switch format {
	case "":
		return def, nil
	case ReportCSV, ReportXLSX:
		return format, nil
	}
	return "", apperr.Invalid("import_bad_format")
}

// message renders one row problem in lang.
func message(lang string, ce cellError) string {
	return i18n.Message(i18n.Lang(lang), ce.Code, ce.Args)
}

// sheetWriter writes rows of text cells as CSV (UTF-8 with a BOM, CRLF, so
// that Excel opens it) or as an XLSX sheet (every cell a string, never a
// formula).
type sheetWriter struct {
	csv  *csv.Writer
	buf  *bufio.Writer
	f    *excelize.File
	sw   *excelize.StreamWriter
	w    io.Writer
	row  int
	vals []any
}

func newSheetWriter(w io.Writer, format string) (*sheetWriter, error) {
	s := &sheetWriter{w: w}
	if format == ReportXLSX {
		s.f = excelize.NewFile()
		sw, err := s.f.NewStreamWriter("Sheet1")
		if err != nil {
			return nil, err
		}
		s.sw = sw
		return s, nil
	}
	s.buf = bufio.NewWriter(w)
	if _, err := s.buf.Write(bomUTF8); err != nil {
		return nil, err
	}
	s.csv = csv.NewWriter(s.buf)
	s.csv.UseCRLF = true
	return s, nil
}

func (s *sheetWriter) write(cells []string) error {
	s.row++
	if s.sw != nil {
		s.vals = s.vals[:0]
		for _, c := range cells {
			s.vals = append(s.vals, c)
		}
		cell, _ := excelize.CoordinatesToCellName(1, s.row)
		return s.sw.SetRow(cell, s.vals)
	}
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = neutralise(c)
	}
	return s.csv.Write(out)
}

func (s *sheetWriter) close() error {
	if s.sw != nil {
		if err := s.sw.Flush(); err != nil {
			return err
		}
		_, err := s.f.WriteTo(s.w)
		return err
	}
	s.csv.Flush()
	if err := s.csv.Error(); err != nil {
		return err
	}
	return s.buf.Flush()
}

// neutralise keeps a CSV cell that Excel would take for a formula (it
// starts with = + - @, a tab or a carriage return) as text by prefixing an
// apostrophe; numbers such as -12.5 stay numbers.
func neutralise(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}

// ErrorReport checks that p may see the import and returns the name of
// its error report and the function that writes it to w: the failing
// rows, their original cells, the row number and the errors, headers and
// messages in lang.
func (e *Engine) ErrorReport(ctx context.Context, p *access.Principal, id int64, format, lang string) (string, func(w io.Writer) error, error) {
	format, err := checkFormat(format, ReportCSV)
	if err != nil {
		return "", nil, err
	}
	imp, err := e.visible(ctx, p, id, false)
	if err != nil {
		return "", nil, err
	}
	l := i18n.Lang(lang)
	name := i18n.Message(l, "import_errors_file", map[string]any{"name": strings.TrimSuffix(imp.FileName, "."+imp.Format)}) + "." + format
	return name, func(w io.Writer) error { return e.writeErrors(ctx, imp, format, lang, w) }, nil
}

func (e *Engine) writeErrors(ctx context.Context, imp *Import, format, lang string, w io.Writer) error {
	l := i18n.Lang(lang)
	rows, err := e.db.Query(ctx, `SELECT row_no, cells, errors FROM import_errors WHERE import_id = ? ORDER BY row_no`, imp.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	sw, err := newSheetWriter(w, format)
	if err != nil {
		return err
	}
	header := append(append([]string(nil), imp.Columns...), i18n.Message(l, "import_label_row", nil), i18n.Message(l, "import_label_error", nil))
	if err := sw.write(header); err != nil {
		return err
	}
	var labels map[string]string
	if ent, ok := e.reg.Get(imp.Entity); ok {
		labels = map[string]string{ownerField: i18n.Message(l, "import_label_owner", nil)}
		for i := range ent.Fields {
			labels[ent.Fields[i].Name] = ent.Fields[i].Label.Get(lang, ent.Fields[i].Name)
		}
	}
	for rows.Next() {
		var num int64
		var rawCells, rawErrs []byte
		if err := rows.Scan(&num, &rawCells, &rawErrs); err != nil {
			return err
		}
		var cells []string
		var errs []cellError
		if err := json.Unmarshal(rawCells, &cells); err != nil {
			return err
		}
		if err := json.Unmarshal(rawErrs, &errs); err != nil {
			return err
		}
		msgs := make([]string, len(errs))
		for i, ce := range errs {
			where := ce.Column
			if where == "" && ce.Field != "" {
				where = labels[strings.FieldsFunc(ce.Field, func(r rune) bool { return r == '[' || r == '.' })[0]]
				if where == "" {
					where = ce.Field
				}
			}
			msgs[i] = message(lang, ce)
			if where != "" {
				msgs[i] = where + ": " + msgs[i]
			}
		}
		out := make([]string, 0, len(imp.Columns)+2)
		out = append(out, cells...)
		for len(out) < len(imp.Columns) {
			out = append(out, "")
		}
		out = append(out[:len(imp.Columns)], strconv.FormatInt(num, 10), strings.Join(msgs, "; "))
		if err := sw.write(out); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return sw.close()
}

// Template returns the name of an empty import file for entity and the
// function that writes it: one header row of the labels (in lang) of the
// fields p may import, required ones marked "*". An upload of it maps
// every column back to its field.
func (e *Engine) Template(ctx context.Context, p *access.Principal, entity, format, lang string) (string, func(w io.Writer) error, error) {
	format, err := checkFormat(format, ReportXLSX)
	if err != nil {
		return "", nil, err
	}
	ent, ok := e.reg.Get(entity)
	if !ok {
		return "", nil, apperr.NotFound()
	}
	if err := checkCreate(p, ent); err != nil {
		return "", nil, err
	}
	var header []string
	for _, t := range targets(p, ent) {
		label := t.label.Get(lang, t.name)
		if t.required {
			label += "*"
		}
		header = append(header, label)
	}
	name := i18n.Message(i18n.Lang(lang), "import_template_file", map[string]any{"entity": ent.Label.Get(lang, ent.Name)}) + "." + format
	return name, func(w io.Writer) error {
		sw, err := newSheetWriter(w, format)
		if err != nil {
			return err
		}
		if err := sw.write(header); err != nil {
			return err
		}
		return sw.close()
	}, nil
}
