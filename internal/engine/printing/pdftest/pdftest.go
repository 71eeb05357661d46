// Package pdftest extracts the text of PDFs in tests with pdftotext
// (poppler-utils). Without pdftotext a test is skipped, unless
// TENON_REQUIRE_PDFTOTEXT=1 (CI), which makes it fail.
package pdftest

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Text is the text of pdf in reading order, with the spaces pdftotext
// puts (or leaves out) between Chinese and Latin text removed.
func Text(t testing.TB, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("TENON_REQUIRE_PDFTOTEXT") == "1" {
			t.Fatal("pdftotext (poppler-utils) is required (TENON_REQUIRE_PDFTOTEXT=1)")
		}
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	cmd := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.ReplaceAll(string(out), " ", "")
}
