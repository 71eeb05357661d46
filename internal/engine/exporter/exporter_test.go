package exporter

import (
	"bytes"
	"testing"
	"time"
)

func TestNeutralise(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+86 138": "'+86 138", "-2+3": "'-2+3", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"": "", "苏州精密": "苏州精密", "'=already": "'=already", "a=b": "a=b", " =x": " =x", "12.5": "12.5",
	} {
		if got := Neutralise(in); got != want {
			t.Errorf("Neutralise(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCSVRows: RFC 4180 quoting, CRLF rows, values kept exactly, text
// neutralised and numbers, dates and datetimes as they are.
func TestCSVRows(t *testing.T) {
	var b bytes.Buffer
	flushed := 0
	s := newCSVSheet(&b, func() { flushed++ })
	if err := s.header([]string{"名称", "=HEADER", "a,b"}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 1, 30, 0, 0, time.UTC)
	rows := [][]cell{
		{{text: `say "hi"`}, {kind: cNumber, text: "-12.50"}, {text: "line1\nline2\r\nline3\rend"}},
		{{text: " lead"}, {kind: cDate, text: "2026-12-31"}, {kind: cDateTime, at: at}},
		{{text: "-1"}, {text: ""}, {text: "\tx"}},
	}
	for _, r := range rows {
		if err := s.row(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.finish(); err != nil {
		t.Fatal(err)
	}
	want := "\uFEFF名称,'=HEADER,\"a,b\"\r\n" +
		"\"say \"\"hi\"\"\",-12.50,\"line1\nline2\r\nline3\rend\"\r\n" +
		"\" lead\",2026-12-31,2026-11-20 09:30:00\r\n" +
		"'-1,,'\tx\r\n"
	if b.String() != want {
		t.Errorf("csv\n got %q\nwant %q", b.String(), want)
	}
	if flushed != 1 {
		t.Errorf("flushed %d times", flushed)
	}
}

func TestSheetName(t *testing.T) {
	for in, want := range map[string]string{
		"线索": "线索", "a/b:c?d*e[f]g\\h": "a_b_c_d_e_f_g_h", "'quoted'": "quoted", "": "Sheet1", "  ": "Sheet1",
	} {
		if got := sheetName(in); got != want {
			t.Errorf("sheetName(%q) = %q, want %q", in, got, want)
		}
	}
	long := "这是一个非常非常非常非常非常非常非常非常长的对象名称超过三十一个字符"
	if got := sheetName(long); got != string([]rune(long)[:31]) {
		t.Errorf("a long name is cut to 31 characters: %q", got)
	}
}
