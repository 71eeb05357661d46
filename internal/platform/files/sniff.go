package files

import (
	"bytes"
	"encoding/binary"
	"mime"
	"net/http"
	"path"
	"strings"
)

// sniffLen is how much of the upload the type checks look at; it is what
// http.DetectContentType considers.
const sniffLen = 512

// deniedExt reports whether an extension is refused whatever the content:
// browsers render it as active content, or operating systems run it on a
// double click.
func deniedExt(ext string) bool {
	switch ext {
	// required by P12
	case "exe", "dll", "bat", "cmd", "com", "scr", "msi", "sh", "ps1", "js", "mjs",
		"html", "htm", "svg", "xhtml", "jar", "apk", "elf",
		// the same risks under other names
		"svgz", "xht", "shtml", "hta", "cjs", "jse", "vbs", "vbe", "wsf", "wsh",
		"pif", "cpl", "msc", "msp", "scf", "lnk", "reg", "psm1", "bash", "zsh",
		"csh", "ksh", "dex":
		return true
	}
	return false
}

// deniedType reports whether a media type is refused, whether sniffed from
// the content or implied by the extension.
func deniedType(ct string) bool {
	switch ct {
	case "text/html", "application/xhtml+xml", "image/svg+xml",
		"text/javascript", "application/javascript", "application/x-javascript",
		"text/ecmascript", "application/ecmascript", "application/hta",
		"application/x-msdownload", "application/x-msdos-program",
		"application/vnd.microsoft.portable-executable", "application/x-dosexec",
		"application/x-msi", "application/x-ms-installer",
		"application/x-executable", "application/x-elf", "application/x-sharedlib",
		"application/x-mach-binary", "application/x-sh", "application/x-shellscript",
		"text/x-shellscript", "application/x-csh", "application/java-archive",
		"application/x-java-archive", "application/vnd.android.package-archive":
		return true
	}
	return false
}

// classify decides the content type of an upload from its name and first
// bytes. refused is the offending type when the upload must be refused.
func classify(name string, head []byte, allowed []string) (ct, refused string) {
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
	extType := ""
	if ext != "" {
		extType = mime.TypeByExtension("." + ext)
	}
	extBase := baseType(extType)
	if deniedExt(ext) {
		return "", "." + ext
	}
	if deniedType(extBase) {
		return "", extBase
	}
	if t := executableMagic(head); t != "" {
		return "", t
	}
	sniffed := http.DetectContentType(head)
	sniffBase := baseType(sniffed)
	if deniedType(sniffBase) {
		return "", sniffBase
	}
	if isMarkup(head) {
		return "", "text/html"
	}

	ct = sniffed
	// The sniffer only names a few formats; for generic answers the
	// extension is more precise (CSV, DOCX, XLSX…). Image types are only
	// ever taken from the content, as they may be shown inline.
	switch sniffBase {
	case "application/octet-stream", "text/plain", "application/zip":
		if extType != "" && !strings.HasPrefix(extBase, "image/") {
			ct = extType
		}
	}
	if len(allowed) > 0 && !typeAllowed(baseType(ct), allowed) {
		return "", baseType(ct)
	}
	return ct, ""
}

// baseType is the lower-case media type without parameters.
func baseType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// typeAllowed matches a media type against an allow-list of exact types,
// "type/*" wildcards and "*/*".
func typeAllowed(ct string, allowed []string) bool {
	for _, a := range allowed {
		a = strings.ToLower(strings.TrimSpace(a))
		switch {
		case a == "*/*" || a == "*":
			return true
		case strings.HasSuffix(a, "/*"):
			if strings.HasPrefix(ct, strings.TrimSuffix(a, "*")) {
				return true
			}
		case a == ct:
			return true
		}
	}
	return false
}

// executableMagic recognises native executables and scripts by their first
// bytes and returns a type naming what was found.
func executableMagic(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x7fELF")):
		return "application/x-elf"
	case bytes.HasPrefix(b, []byte("MZ")) && bytes.IndexByte(b, 0) >= 0:
		// A DOS/PE header always holds NUL bytes; a text that happens to
		// start with "MZ" does not.
		return "application/x-msdownload"
	case bytes.HasPrefix(b, []byte("#!")):
		return "application/x-sh"
	case bytes.HasPrefix(b, []byte("dex\n")):
		return "application/vnd.android.package-archive"
	}
	if len(b) >= 4 {
		switch binary.BigEndian.Uint32(b) {
		case 0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, // Mach-O 32/64, both byte orders
			0xcafebabe: // universal Mach-O binary (and Java class files)
			return "application/x-mach-binary"
		}
	}
	// A JAR or APK is a zip whose first entry is its manifest or code.
	if len(b) >= 30 && bytes.HasPrefix(b, []byte("PK\x03\x04")) {
		n := int(binary.LittleEndian.Uint16(b[26:28]))
		if 30+n <= len(b) {
			first := string(b[30 : 30+n])
			switch {
			case first == "AndroidManifest.xml" || first == "classes.dex":
				return "application/vnd.android.package-archive"
			case strings.HasPrefix(first, "META-INF/"):
				return "application/java-archive"
			}
		}
	}
	return ""
}

// isMarkup reports whether b looks like HTML, XHTML or SVG: it starts (after
// a BOM and white space) with '<' and names an active-content element or
// namespace.
func isMarkup(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n\f")
	if len(b) == 0 || b[0] != '<' {
		return false
	}
	// http.DetectContentType only knows HTML that opens with one of a few
	// tags and has no notion of SVG at all.
	markers := []string{
		"<html", "<!doctype html", "<script", "<svg", "<iframe", "<body", "<head",
		"<object", "<embed", "<meta", "<?xml-stylesheet",
		"http://www.w3.org/1999/xhtml", "http://www.w3.org/2000/svg",
	}
	lower := bytes.ToLower(b)
	for _, m := range markers {
		if bytes.Contains(lower, []byte(m)) {
			return true
		}
	}
	return false
}
