package meta

import (
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// ExportKind is what kind of spreadsheet cell a value becomes.
type ExportKind int

const (
	// ExportText is free text; writers neutralise it against formulas.
	ExportText ExportKind = iota
	// ExportNumber is a number; Text holds its exact decimal form
	// ("-12.50") and Scale its decimal places.
	ExportNumber
	// ExportBool is a yes/no value in Bool, worded in the reader's language.
	ExportBool
	// ExportDate is a calendar date; Text holds YYYY-MM-DD.
	ExportDate
	// ExportDateTime is an instant in Time.
	ExportDateTime
	// ExportRefs are ids of records of Target, shown by their titles.
	ExportRefs
	// ExportFiles are stored files (ids in Texts), shown by their names.
	ExportFiles
)

// ExportSeparator joins the values of a multi-valued cell.
const ExportSeparator = "; "

// ExportValue is a field value prepared for a spreadsheet cell (CSV or
// XLSX): people's words rather than the API's, numbers as numbers.
type ExportValue struct {
	Kind   ExportKind
	Text   string
	Texts  []string // ExportFiles: file ids
	Scale  int      // ExportNumber: decimal places
	Bool   bool
	Time   time.Time
	IDs    []int64 // ExportRefs
	Target string  // ExportRefs: the entity of IDs
}

// Exporter is implemented by field types that know how their values go into
// a spreadsheet. Types without it export their Text as free text.
type Exporter interface {
	// Export prepares a canonical value of f for a reader of language lang
	// ("zh-CN" or "en"), for example a select option's label.
	Export(f *Field, v any, lang string) ExportValue
}

// Export prepares the canonical value v of f for a spreadsheet read in lang:
// through the field's type (a formula's result type) when it is an
// Exporter, as the type's Text otherwise.
func (ts Types) Export(f *Field, v any, lang string) ExportValue {
	t := ts.ResultOf(f)
	if t == nil {
		return ExportValue{}
	}
	if e, ok := t.(Exporter); ok {
		return e.Export(f, v, lang)
	}
	return ExportValue{Kind: ExportText, Text: t.Text(f, v)}
}

// optionLabel is the label of a select option in lang (the value itself
// when the option has no label or is not among the field's options).
func (f *Field) optionLabel(value, lang string) string {
	for _, o := range f.Options {
		if o.Value == value {
			return o.Label.Get(lang, value)
		}
	}
	return value
}

func (t textType) Export(f *Field, v any, lang string) ExportValue {
	s := asString(v)
	switch t.name {
	case "select":
		return ExportValue{Kind: ExportText, Text: f.optionLabel(s, lang)}
	case "file", "image", "signature":
		return ExportValue{Kind: ExportFiles, Texts: []string{s}}
	}
	return ExportValue{Kind: ExportText, Text: t.Text(f, v)}
}

func (t listType) Export(f *Field, v any, lang string) ExportValue {
	l, _ := v.([]string)
	out := make([]string, len(l))
	for i, s := range l {
		if t.name == "multi_select" {
			s = f.optionLabel(s, lang)
		}
		out[i] = s
	}
	return ExportValue{Kind: ExportText, Text: strings.Join(out, ExportSeparator)}
}

func (t intType) Export(_ *Field, v any, _ string) ExportValue {
	n, ok := v.(int64)
	if !ok {
		return ExportValue{Kind: ExportText, Text: asString(v)}
	}
	return ExportValue{Kind: ExportNumber, Text: strconv.FormatInt(n, 10)}
}

func (t decimalType) Export(f *Field, v any, _ string) ExportValue {
	d, ok := v.(decimal.Decimal)
	if !ok {
		return ExportValue{Kind: ExportText, Text: asString(v)}
	}
	return ExportValue{Kind: ExportNumber, Text: d.StringFixed(int32(f.ScaleOf())), Scale: f.ScaleOf()}
}

func (boolType) Export(_ *Field, v any, _ string) ExportValue {
	b, _ := v.(bool)
	return ExportValue{Kind: ExportBool, Bool: b}
}

func (dateType) Export(_ *Field, v any, _ string) ExportValue {
	return ExportValue{Kind: ExportDate, Text: asString(v)}
}

func (datetimeType) Export(_ *Field, v any, _ string) ExportValue {
	t, ok := v.(time.Time)
	if !ok {
		return ExportValue{Kind: ExportText, Text: asString(v)}
	}
	return ExportValue{Kind: ExportDateTime, Time: t}
}

func (t idType) Export(f *Field, v any, _ string) ExportValue {
	n, _ := v.(int64)
	return ExportValue{Kind: ExportRefs, IDs: []int64{n}, Target: refTarget(t.name, f)}
}

func (idListType) Export(f *Field, v any, _ string) ExportValue {
	ids, _ := v.([]int64)
	return ExportValue{Kind: ExportRefs, IDs: ids, Target: f.Target}
}

func (t jsonType) Export(f *Field, v any, _ string) ExportValue {
	if t.name == "geo" {
		if m, ok := v.(map[string]any); ok {
			lat, _ := m["lat"].(string)
			lng, _ := m["lng"].(string)
			return ExportValue{Kind: ExportText, Text: lat + ", " + lng}
		}
	}
	return ExportValue{Kind: ExportText, Text: t.Text(f, v)}
}

// refTarget is the entity an id field points to.
func refTarget(typ string, f *Field) string {
	switch typ {
	case "user":
		return "users"
	case "department":
		return "departments"
	}
	return f.Target
}
