package files

import (
	"mime"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitizeName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"../../etc/passwd", "passwd"},
		{"/abs/path/a.txt", "a.txt"},
		{`C:\Users\李四\报价单.xlsx`, "报价单.xlsx"},
		{"a\x00b\r\nc\t.txt", "abc.txt"},
		{"a \x00 b.txt", "a b.txt"},
		{"  多个   空格\u3000文件.docx ", "多个 空格 文件.docx"},
		{"invoice\u202Efdp.exe", "invoicefdp.exe"},
		{"zero\u200bwidth.txt", "zerowidth.txt"},
		{"bad\xffutf8.txt", "badutf8.txt"},
		{".hidden", "hidden"},
		{"trailing.exe...  ", "trailing.exe"},
		{"", "file"},
		{"..", "file"},
		{"/", "file"},
		{"\x01\x02", "file"},
		{"😀.png", "😀.png"},
	} {
		if got := SanitizeName(tc.in); got != tc.want {
			t.Errorf("SanitizeName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}

	long := strings.Repeat("长", 300) + ".pdf"
	got := SanitizeName(long)
	if utf8.RuneCountInString(got) != MaxNameLen || !strings.HasSuffix(got, ".pdf") || !strings.HasPrefix(got, "长长") {
		t.Errorf("long name -> %q (%d runes)", got, utf8.RuneCountInString(got))
	}
	noExt := SanitizeName(strings.Repeat("a", 500))
	if len(noExt) != MaxNameLen {
		t.Errorf("long name without extension -> %d chars", len(noExt))
	}
	oddExt := SanitizeName(strings.Repeat("b", 300) + "." + strings.Repeat("c", 30))
	if utf8.RuneCountInString(oddExt) != MaxNameLen {
		t.Errorf("long extension -> %d chars", utf8.RuneCountInString(oddExt))
	}
}

func TestContentDisposition(t *testing.T) {
	for _, tc := range []struct {
		name     string
		inline   bool
		want     string
		wantName string // as a browser decodes it
	}{
		{"report.pdf", false, `attachment; filename="report.pdf"`, "report.pdf"},
		{"photo.png", true, `inline; filename="photo.png"`, "photo.png"},
		{"报价单.pdf", false,
			`attachment; filename="file.pdf"; filename*=UTF-8''%E6%8A%A5%E4%BB%B7%E5%8D%95.pdf`, "报价单.pdf"},
		{"Q3 报价 v2.xlsx", false,
			`attachment; filename="Q3 _ v2.xlsx"; filename*=UTF-8''Q3%20%E6%8A%A5%E4%BB%B7%20v2.xlsx`, "Q3 报价 v2.xlsx"},
		{`say "hi".txt`, false, `attachment; filename="say _hi_.txt"; filename*=UTF-8''say%20%22hi%22.txt`, `say "hi".txt`},
		{`dir\sub\x.txt`, false, `attachment; filename="x.txt"`, "x.txt"},
		{"100%.txt", false, `attachment; filename="100_.txt"; filename*=UTF-8''100%25.txt`, "100%.txt"},
		{"a\r\nSet-Cookie: x=1.txt", false, `attachment; filename="aSet-Cookie: x=1.txt"`, "aSet-Cookie: x=1.txt"},
		{"", false, `attachment; filename="file"`, "file"},
	} {
		got := ContentDisposition(tc.name, tc.inline)
		if got != tc.want {
			t.Errorf("ContentDisposition(%q)\n got %s\nwant %s", tc.name, got, tc.want)
		}
		if strings.ContainsAny(got, "\r\n") {
			t.Errorf("header value with CR/LF: %q", got)
		}
		disp, params, err := mime.ParseMediaType(got)
		if err != nil {
			t.Errorf("%q does not parse: %v", got, err)
			continue
		}
		wantDisp := "attachment"
		if tc.inline {
			wantDisp = "inline"
		}
		if disp != wantDisp || params["filename"] != tc.wantName {
			t.Errorf("%q parses as %s %q, want %s %q", got, disp, params["filename"], wantDisp, tc.wantName)
		}
	}
}

func TestIsImage(t *testing.T) {
	for ct, want := range map[string]bool{
		"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
		"IMAGE/PNG": true, "image/png; charset=binary": true,
		"image/svg+xml": false, "image/bmp": false, "image/tiff": false,
		"text/html": false, "application/pdf": false, "": false,
	} {
		if got := IsImage(ct); got != want {
			t.Errorf("IsImage(%q) = %v, want %v", ct, got, want)
		}
	}
}
