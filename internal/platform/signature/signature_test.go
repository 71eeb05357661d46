package signature

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// known is a signature computed outside Go (openssl dgst -sha256 -hmac):
// the scheme, not just this package's agreement with itself.
const (
	knownSecret = "whsec_test-secret"
	knownBody   = `{"event":"ping"}`
	knownV1     = "03e6730776e11777ed3b178198aefe04141cbf635b562921b11e140f2de8b746"
)

var knownAt = time.Unix(1_800_000_000, 0)

func TestSignKnownAnswer(t *testing.T) {
	got := Sign(knownSecret, knownAt, []byte(knownBody))
	if want := "t=1800000000,v1=" + knownV1; got != want {
		t.Fatalf("Sign: %s, want %s", got, want)
	}
	// The zone and the sub-second part of t do not matter: Unix seconds.
	at := knownAt.Add(999 * time.Millisecond).In(time.FixedZone("X", -7*3600))
	if got2 := Sign(knownSecret, at, []byte(knownBody)); got2 != got {
		t.Fatalf("Sign in another zone: %s", got2)
	}
}

func TestParse(t *testing.T) {
	v1 := strings.Repeat("ab", 32)
	v1b := strings.Repeat("cd", 32)
	for _, c := range []struct {
		name, header string
		ok           bool
		v1s          int
	}{
		{"plain", "t=1800000000,v1=" + v1, true, 1},
		{"any order, spaces", " v1=" + v1 + " ,  t=1800000000 ", true, 1},
		{"two v1 (rotation)", "t=1800000000,v1=" + v1 + ",v1=" + v1b, true, 2},
		{"upper-case hex", "t=1800000000,v1=" + strings.ToUpper(v1), true, 1},
		{"unknown keys ignored", "t=1800000000,v2=zz,v1=" + v1 + ",junk", true, 1},
		{"bad v1 skipped, good one kept", "t=1800000000,v1=abcd,v1=" + v1, true, 1},
		{"leading zeros", "t=01800000000,v1=" + v1, true, 1},
		{"empty", "", false, 0},
		{"garbage", "nonsense", false, 0},
		{"no v1", "t=1800000000", false, 0},
		{"no t", "v1=" + v1, false, 0},
		{"empty t", "t=,v1=" + v1, false, 0},
		{"two t", "t=1800000000,t=1800000000,v1=" + v1, false, 0},
		{"t zero", "t=0,v1=" + v1, false, 0},
		{"t negative", "t=-5,v1=" + v1, false, 0},
		{"t with a sign", "t=+1800000000,v1=" + v1, false, 0},
		{"t not a number", "t=abc,v1=" + v1, false, 0},
		{"t too large", "t=99999999999999999999,v1=" + v1, false, 0},
		{"t with a space inside", "t=18 00,v1=" + v1, false, 0},
		{"v1 not hex", "t=1800000000,v1=zz", false, 0},
		{"v1 short", "t=1800000000,v1=abcd", false, 0},
		{"v1 long", "t=1800000000,v1=" + v1 + "00", false, 0},
		{"too long", "t=1800000000,v1=" + v1 + strings.Repeat(",x", MaxHeader), false, 0},
	} {
		p, err := Parse(c.header)
		if c.ok != (err == nil) {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s: error %v is not ErrMalformed", c.name, err)
			}
			continue
		}
		if len(p.V1) != c.v1s || !p.Time.Equal(knownAt) {
			t.Errorf("%s: %d v1 values at %v", c.name, len(p.V1), p.Time)
		}
	}
}

// TestParseKeepsAtMostMaxV1: the first MaxV1 valid values count.
func TestParseKeepsAtMostMaxV1(t *testing.T) {
	h := "t=1800000000"
	for i := range MaxV1 + 3 {
		h += ",v1=" + strings.Repeat(strconv.Itoa(i%10), 64)
	}
	p, err := Parse(h)
	if err != nil || len(p.V1) != MaxV1 || p.V1[0][0] != 0x00 || p.V1[MaxV1-1][0] != 0x77 {
		t.Fatalf("%d values, %v", len(p.V1), err)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(knownBody)
	good := Sign(knownSecret, knownAt, body)
	other := Sign("another-secret", knownAt, body)
	v1 := func(h string) string { return h[strings.Index(h, "v1=")+3:] }
	ts := func(at time.Time) string { return "t=" + strconv.FormatInt(at.Unix(), 10) }
	tol := 5 * time.Minute
	for _, c := range []struct {
		name, secret, header string
		body                 []byte
		now                  time.Time
		tolerance            time.Duration
		want                 error
	}{
		{"valid", knownSecret, good, body, knownAt, tol, nil},
		{"valid, at the tolerance", knownSecret, good, body, knownAt.Add(tol), tol, nil},
		{"valid, receiver's clock behind", knownSecret, good, body, knownAt.Add(-tol), tol, nil},
		{"stale", knownSecret, good, body, knownAt.Add(tol + time.Second), tol, ErrStale},
		{"from the future", knownSecret, good, body, knownAt.Add(-tol - time.Second), tol, ErrStale},
		{"no tolerance: any time", knownSecret, good, body, knownAt.Add(400 * 24 * time.Hour), 0, nil},
		{"negative tolerance: any time", knownSecret, good, body, knownAt.Add(-time.Hour), -1, nil},
		{"rotation: the second v1 matches", knownSecret, other + ",v1=" + v1(good), body, knownAt, tol, nil},
		{"rotation: the first v1 matches", knownSecret, good + ",v1=" + v1(other), body, knownAt, tol, nil},
		{"upper-case hex", knownSecret, ts(knownAt) + ",v1=" + strings.ToUpper(v1(good)), body, knownAt, tol, nil},
		{"wrong secret", "another-secret-x", good, body, knownAt, tol, ErrMismatch},
		{"empty secret", "", good, body, knownAt, tol, ErrMismatch},
		{"body changed", knownSecret, good, []byte(`{"event":"pong"}`), knownAt, tol, ErrMismatch},
		{"body with a trailing newline", knownSecret, good, []byte(knownBody + "\n"), knownAt, tol, ErrMismatch},
		{"timestamp changed", knownSecret, ts(knownAt.Add(time.Second)) + ",v1=" + v1(good), body, knownAt, tol, ErrMismatch},
		{"timestamp written otherwise", knownSecret, "t=0" + strconv.FormatInt(knownAt.Unix(), 10) + ",v1=" + v1(good), body, knownAt, tol, ErrMismatch},
		// A forged header is a mismatch, never stale: staleness is only
		// told of requests signed with the secret.
		{"stale and forged", "another-secret-x", good, body, knownAt.Add(time.Hour), tol, ErrMismatch},
		{"malformed", knownSecret, "t=1800000000", body, knownAt, tol, ErrMalformed},
		{"empty", knownSecret, "", body, knownAt, tol, ErrMalformed},
	} {
		got, err := Verify(c.secret, c.header, c.body, c.now, c.tolerance)
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
			continue
		}
		if err == nil && (got.V1 != knownV1 || !got.Time.Equal(knownAt)) {
			t.Errorf("%s: verified %+v", c.name, got)
		}
	}
}

// TestVerifyDistinctErrors: the three kinds are distinct errors.
func TestVerifyDistinctErrors(t *testing.T) {
	errs := []error{ErrMalformed, ErrMismatch, ErrStale}
	for i, a := range errs {
		for j, b := range errs {
			if (i == j) != errors.Is(a, b) {
				t.Errorf("%v is %v: %v", a, b, errors.Is(a, b))
			}
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	body := []byte(strings.Repeat(`{"field":"value"},`, 200))
	h := Sign(knownSecret, knownAt, body)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(knownSecret, h, body, knownAt, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}
