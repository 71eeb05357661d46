package jsonx

import (
	"bytes"
	"encoding/json"
	"testing"
)

// AppendString writes what encoding/json writes, with and without HTML
// escaping.
func TestAppendStringAsEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "苏州精密机械", "a\"b\\c", "<b>&amp;</b>", "\x00\x01\b\f\n\r\t\x1f\x7f",
		"bad \xff utf-8 \xc3", "line\u2028sep\u2029", "emoji 😀", "mixed <\u2028\xfe>"} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendString(nil, s, true); !bytes.Equal(got, want) {
			t.Errorf("%q html: %s, want %s", s, got, want)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		want = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if got := AppendString([]byte("x"), s, false); !bytes.Equal(got[1:], want) || got[0] != 'x' {
			t.Errorf("%q: %s, want x%s", s, got, want)
		}
	}
}
