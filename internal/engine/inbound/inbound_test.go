package inbound

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/signature"
)

func TestVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"order_no":"SO-1"}`)
	secret := strings.Repeat("k", 40)
	good := signature.Sign(secret, now, body)
	other := signature.Sign("another-secret-another-secret-000", now, body)
	v1 := func(h string) string { return h[strings.Index(h, "v1=")+3:] }
	ts := func(t time.Time) string { return "t=" + itoa(t.Unix()) }
	cases := []struct {
		name, header string
		body         []byte
		at           time.Time
		reason       string
	}{
		{"valid", good, body, now, ""},
		{"valid, 4m59s late", good, body, now.Add(299 * time.Second), ""},
		{"valid, clock 5m behind", good, body, now.Add(-300 * time.Second), ""},
		{"stale", good, body, now.Add(301 * time.Second), reasonStale},
		{"from the future", good, body, now.Add(-301 * time.Second), reasonStale},
		{"second v1 matches", other + ",v1=" + v1(good), body, now, ""},
		{"keys in any order, spaces", "v1=" + v1(good) + ", " + ts(now), body, now, ""},
		{"wrong secret", other, body, now, reasonBadSignature},
		{"body changed", good, []byte(`{"order_no":"SO-2"}`), now, reasonBadSignature},
		{"timestamp changed", ts(now.Add(time.Second)) + ",v1=" + v1(good), body, now, reasonBadSignature},
		{"empty", "", body, now, reasonMalformed},
		{"no v1", ts(now), body, now, reasonMalformed},
		{"no t", "v1=" + v1(good), body, now, reasonMalformed},
		{"two t", ts(now) + "," + ts(now) + ",v1=" + v1(good), body, now, reasonMalformed},
		{"v1 not hex", ts(now) + ",v1=zz", body, now, reasonMalformed},
		{"v1 short", ts(now) + ",v1=abcd", body, now, reasonMalformed},
		{"t not a number", "t=abc,v1=" + v1(good), body, now, reasonMalformed},
		{"uppercase hex", ts(now) + ",v1=" + strings.ToUpper(v1(good)), body, now, ""},
	}
	for _, c := range cases {
		sig, reason := verify(secret, c.header, c.body, c.at, 5*time.Minute)
		if reason != c.reason {
			t.Errorf("%s: reason %q, want %q", c.name, reason, c.reason)
		}
		if reason == "" && (sig.V1 != strings.ToLower(v1(good)) || !sig.Time.Equal(now)) {
			t.Errorf("%s: matched %q", c.name, sig)
		}
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestDecodeBodyExact(t *testing.T) {
	v, ok := decodeBody([]byte(`{"a": 1, "b": 0.1, "c": "x", "d": [2, 3.50], "e": 1e400, "f": 12345678901234567890}`))
	if !ok {
		t.Fatal("not decoded")
	}
	m := v.(map[string]any)
	if m["a"] != int64(1) {
		t.Errorf("a: %#v", m["a"])
	}
	if d, ok := m["b"].(decimal.Decimal); !ok || d.String() != "0.1" {
		t.Errorf("b: %#v", m["b"])
	}
	if d, ok := m["d"].([]any)[1].(decimal.Decimal); !ok || !d.Equal(decimal.RequireFromString("3.5")) {
		t.Errorf("d: %#v", m["d"])
	}
	if m["e"] != "1e400" {
		t.Errorf("e: %#v", m["e"])
	}
	if d, ok := m["f"].(decimal.Decimal); !ok || d.String() != "12345678901234567890" {
		t.Errorf("f: %#v", m["f"])
	}
	for _, bad := range []string{``, `"text"`, `12`, `{"a":1} {"b":2}`, `{"a":`, `null`} {
		if _, ok := decodeBody([]byte(bad)); ok {
			t.Errorf("%q decoded", bad)
		}
	}
	if _, ok := decodeBody([]byte(`[{"a":1}]`)); !ok {
		t.Error("an array is a body")
	}
}

func TestPaths(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{{"order_no", true}, {"data.items", true}, {"订单.编号", true}, {"", false}, {"a..b", false}, {".a", false},
		{"a.", false}, {" a", false}, {strings.Repeat("a.", 10) + "a", false}, {strings.Repeat("x", 65), false}} {
		if _, ok := parsePath(c.in); ok != c.ok {
			t.Errorf("%q: %v", c.in, ok)
		}
	}
	v, _ := decodeBody([]byte(`{"data": {"items": [1], "no": "A-1"}, "n": 7}`))
	if got := lookup(v, []string{"data", "no"}); got != "A-1" {
		t.Errorf("data.no: %#v", got)
	}
	if got := lookup(v, []string{"n", "x"}); got != nil {
		t.Errorf("n.x: %#v", got)
	}
	if got := lookup(v, []string{"missing"}); got != nil {
		t.Errorf("missing: %#v", got)
	}
	for x, want := range map[any]string{"SO-1": "SO-1", int64(42): "42", decimal.RequireFromString("7"): "7"} {
		if got, ok := externalID(x); !ok || got != want {
			t.Errorf("external id %#v: %q %v", x, got, ok)
		}
	}
	for _, x := range []any{"", nil, true, decimal.RequireFromString("1.5"), strings.Repeat("x", 201), []any{"a"}} {
		if _, ok := externalID(x); ok {
			t.Errorf("external id %#v accepted", x)
		}
	}
}
