// Package pdftest extracts the text of PDFs in tests. With pdftotext
// (poppler-utils, which CI installs) it is pdftotext's reading; without it,
// the package's own reading of the PDFs Tenon writes (extract.go), so the
// tests that read PDFs run on a machine with nothing but Go. With
// TENON_REQUIRE_PDFTOTEXT=1 (CI) a missing pdftotext is a failure.
package pdftest

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Text is the text of pdf in reading order, with the spaces between
// Chinese and Latin text (which pdftotext puts or leaves out) removed.
func Text(t testing.TB, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil || os.Getenv("TENON_PDFTEST_BUILTIN") == "1" {
		if os.Getenv("TENON_REQUIRE_PDFTOTEXT") == "1" {
			t.Fatal("pdftotext (poppler-utils) is required (TENON_REQUIRE_PDFTOTEXT=1)")
		}
		text, err := Extract(pdf)
		if err != nil {
			t.Fatalf("reading the PDF: %v", err)
		}
		return strings.ReplaceAll(text, " ", "")
	}
	cmd := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.ReplaceAll(string(out), " ", "")
}
