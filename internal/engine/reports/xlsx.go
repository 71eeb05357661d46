package reports

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/tenon-crm/tenon/internal/engine/exporter"
)

// Workbook writes results as an XLSX workbook, one sheet per result: a
// header row, the rows (dimension values by their labels, figures as
// numbers), and a totals row. Text is neutralised against formulas, as
// in every export.
func Workbook(results []*Result, totalLabel string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	used := map[string]bool{}
	for i, r := range results {
		name := sheetName(r.Name, used)
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return nil, err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return nil, err
		}
		if err := writeSheet(f, name, r, totalLabel); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// sheetName is a unique sheet name of at most 31 characters without the
// characters Excel refuses.
func sheetName(name string, used map[string]bool) string {
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return '_'
		}
		return r
	}, strings.TrimSpace(name))
	if name == "" {
		name = "Report"
	}
	for utf8.RuneCountInString(name) > 28 {
		_, n := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-n]
	}
	base := name
	for n := 2; used[strings.ToLower(name)]; n++ {
		name = base + " " + strconv.Itoa(n)
	}
	used[strings.ToLower(name)] = true
	return name
}

// visible lists the columns a reader sees (helper measures are left out).
func visible(r *Result) []int {
	var out []int
	for i, c := range r.Columns {
		if !c.Hidden {
			out = append(out, i)
		}
	}
	return out
}

func writeSheet(f *excelize.File, sheet string, r *Result, totalLabel string) error {
	cols := visible(r)
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	head := make([]any, len(cols))
	for j, c := range cols {
		head[j] = exporter.Neutralise(r.Columns[c].Label)
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	rowNo := 2
	write := func(vals []any) error {
		cell, _ := excelize.CoordinatesToCellName(1, rowNo)
		rowNo++
		return sw.SetRow(cell, vals)
	}
	for _, row := range r.Rows {
		out := make([]any, len(cols))
		for j, c := range cols {
			out[j] = cellValue(r, c, row[c])
		}
		if err := write(out); err != nil {
			return err
		}
	}
	if len(r.Rows) > 1 || len(r.Columns) > 0 && r.Columns[0].Role == "dimension" {
		out := make([]any, len(cols))
		for j, c := range cols {
			if r.Columns[c].Role == "dimension" {
				if j == 0 {
					out[j] = totalLabel
				}
				continue
			}
			out[j] = cellValue(r, c, r.Totals[c])
		}
		if err := write(out); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// cellValue is one value as a cell: a figure as a number, a key by its
// label.
func cellValue(r *Result, col int, v any) any {
	c := r.Columns[col]
	if v == nil {
		return nil
	}
	if c.Role == "measure" {
		if s, ok := v.(string); ok {
			if n, err := strconv.ParseFloat(s, 64); err == nil {
				return n
			}
			return exporter.Neutralise(s)
		}
		return v
	}
	return exporter.Neutralise(KeyLabel(r, col, v))
}

// KeyLabel is a dimension value as a reader sees it: its label (an
// option's name, a linked record's title) or its text.
func KeyLabel(r *Result, col int, v any) string {
	var s string
	switch t := v.(type) {
	case nil:
		return "—"
	case string:
		s = t
	case bool:
		s = strconv.FormatBool(t)
	default:
		return ""
	}
	if l, ok := r.Labels[r.Columns[col].Key][s]; ok {
		return l
	}
	return s
}
