package httpapi

import (
	"encoding/json"
	"testing"
)

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "苏州精密机械有限公司", "quote\" back\\slash", "ctl\x00\x01\x1f\n\r\t", "bad\xffutf8", "ls\u2028ps\u2029", "<html>&"} {
		var got any
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
			t.Fatalf("%q: invalid JSON %s: %v", s, appendString(nil, s), err)
		}
		var want any
		b, _ := json.Marshal(s)
		_ = json.Unmarshal(b, &want)
		if got != want {
			t.Fatalf("%q: got %q want %q", s, got, want)
		}
	}
}
