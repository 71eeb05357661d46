package apitest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"
)

// TestImportLimits: files over the size, row and column limits, and zip
// bombs — an XLSX whose sheet expands far more than spreadsheets do, and
// one whose parts expand beyond the limit in total — are refused with 413
// and a message naming the limit; nothing is stored.
func TestImportLimits(t *testing.T) {
	skipVolumeUnderRace(t)
	ie := newImpEnv(t)
	refuse := func(name string, data []byte, code string) {
		t.Helper()
		p := ie.admin.uploadImport("imp_leads", name, data).want(413).json()
		if p["code"] != code || p["detail"] == "" {
			t.Fatalf("%s: %v", name, p)
		}
	}
	big := bytes.Repeat([]byte("公司名称\r\n"), (50<<20)/14+1)
	refuse("big.csv", big, "import_file_too_large")
	rows := "公司名称\r\n" + strings.Repeat("x\r\n", 200001)
	refuse("rows.csv", []byte(rows), "import_too_many_rows")
	cols := make([]string, 201)
	for i := range cols {
		cols[i] = fmt.Sprintf("列%d", i)
	}
	refuse("cols.csv", impCSV(strings.Join(cols, ","), "x"), "import_too_many_columns")
	// 60 MB of spaces in the sheet: about 1,000 times smaller zipped.
	refuse("bomb.xlsx", impBomb(t, func(w io.Writer) {
		chunk := bytes.Repeat([]byte(" "), 1<<20)
		for range 60 {
			w.Write(chunk)
		}
	}), "import_xlsx_ratio")
	// 520 MB that zips only 68 times smaller: over the 512 MB the parts
	// of a workbook may expand to.
	refuse("huge.xlsx", impBomb(t, func(w io.Writer) {
		block := make([]byte, 1024)
		r := rand.New(rand.NewSource(1))
		for i := range block {
			block[i] = byte('a' + r.Intn(26))
		}
		chunk := bytes.Repeat(block, 1024)
		for range 520 {
			w.Write(chunk)
		}
	}), "import_xlsx_unzipped_too_large")
	// A damaged workbook is refused as such.
	p := ie.admin.uploadImport("imp_leads", "broken.xlsx", []byte("PK\x03\x04 not really")).want(422).json()
	if p["errors"].([]any)[0].(map[string]any)["code"] != "import_xlsx_invalid" {
		t.Fatalf("broken: %v", p)
	}
	if n := len(ie.admin.do("GET", "/api/v1/imports", nil, nil).want(200).items()); n != 0 {
		t.Fatalf("%d imports stored", n)
	}
}

// impBomb is a real workbook whose first sheet's XML holds, inside a
// comment, whatever fill writes.
func impBomb(t testing.TB, fill func(w io.Writer)) []byte {
	t.Helper()
	src := impXLSX(t, [][]any{{"公司名称"}, {"x"}}, nil)
	zr, err := zip.NewReader(bytes.NewReader(src), int64(len(src)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	for _, f := range zr.File {
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == "xl/worksheets/sheet1.xml" {
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><!--`)
			fill(w)
			io.WriteString(w, `--><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>公司名称</t></is></c></row></sheetData></worksheet>`)
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(w, rc)
		rc.Close()
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
