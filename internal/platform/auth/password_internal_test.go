package auth

import (
	"regexp"
	"strings"
	"testing"
)

func TestHashAndVerify(t *testing.T) {
	t.Parallel()
	fast := New(nil, nil, Config{Argon: ArgonParams{Time: 1, MemoryKiB: 64, Threads: 1}})
	slow := New(nil, nil, Config{}) // the production defaults

	phcRe := regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	tests := []struct {
		name    string
		svc     *Service
		params  string
		pw      string
		wrong   []string
		rehashB bool // whether the other service would re-hash it
	}{
		{name: "defaults", svc: slow, params: "m=19456,t=2,p=1", pw: "correct horse battery", wrong: []string{"correct horse battery ", "Correct horse battery", ""}, rehashB: true},
		{name: "fast", svc: fast, params: "m=64,t=1,p=1", pw: "s3cret-pw", wrong: []string{"s3cret-pW", "s3cret-p"}, rehashB: true},
		{name: "unicode", svc: fast, params: "m=64,t=1,p=1", pw: "密码很安全的密码", wrong: []string{"密码很安全的密"}, rehashB: true},
		{name: "empty password still hashes", svc: fast, params: "m=64,t=1,p=1", pw: "", wrong: []string{" "}, rehashB: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := tc.svc.HashPassword(tc.pw)
			if err != nil {
				t.Fatal(err)
			}
			if !phcRe.MatchString(h) || !strings.Contains(h, "$"+tc.params+"$") {
				t.Fatalf("hash %q is not the PHC form with %s", h, tc.params)
			}
			if h2, _ := tc.svc.HashPassword(tc.pw); h2 == h {
				t.Fatal("two hashes of one password are equal: salt not random")
			}
			if !verifyPassword(h, tc.pw) {
				t.Fatal("right password refused")
			}
			for _, w := range tc.wrong {
				if verifyPassword(h, w) {
					t.Errorf("wrong password %q accepted", w)
				}
			}
			if tc.svc.needsRehash(h) {
				t.Error("fresh hash wants a rehash")
			}
			other := fast
			if tc.svc == fast {
				other = slow
			}
			if other.needsRehash(h) != tc.rehashB {
				t.Errorf("needsRehash by the other service = %v", !tc.rehashB)
			}
		})
	}
}

func TestVerifyMalformedHash(t *testing.T) {
	t.Parallel()
	svc := New(nil, nil, Config{Argon: ArgonParams{Time: 1, MemoryKiB: 64, Threads: 1}})
	good, _ := svc.HashPassword("password1")
	parts := strings.Split(good, "$") // "", alg, v, params, salt, key
	join := func(p ...string) string { return strings.Join(p, "$") }
	tests := map[string]string{
		"empty":          "",
		"plain text":     "password1",
		"argon2i":        join("", "argon2i", parts[2], parts[3], parts[4], parts[5]),
		"old version":    join("", "argon2id", "v=16", parts[3], parts[4], parts[5]),
		"missing param":  join("", "argon2id", parts[2], "m=64,t=1", parts[4], parts[5]),
		"unknown param":  join("", "argon2id", parts[2], "m=64,t=1,p=1,x=2", parts[4], parts[5]),
		"huge memory":    join("", "argon2id", parts[2], "m=4194304,t=1,p=1", parts[4], parts[5]),
		"zero time":      join("", "argon2id", parts[2], "m=64,t=0,p=1", parts[4], parts[5]),
		"memory < 8*p":   join("", "argon2id", parts[2], "m=8,t=1,p=2", parts[4], parts[5]),
		"bad salt":       join("", "argon2id", parts[2], parts[3], "!!!", parts[5]),
		"short key":      join("", "argon2id", parts[2], parts[3], parts[4], "AAAA"),
		"extra field":    good + "$x",
		"padded base64":  join("", "argon2id", parts[2], parts[3], parts[4]+"==", parts[5]),
		"other params":   join("", "argon2id", parts[2], "m=64,t=2,p=1", parts[4], parts[5]),
		"negative param": join("", "argon2id", parts[2], "m=-64,t=1,p=1", parts[4], parts[5]),
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			if verifyPassword(h, "password1") {
				t.Fatalf("%q verified", h)
			}
		})
	}
	if !verifyPassword(good, "password1") {
		t.Fatal("the unmodified hash must verify")
	}
}
