package auth_test

import (
	"testing"

	"github.com/tenon-crm/tenon/internal/platform/auth"
)

func TestScopeAllows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scopes []string
		need   string
		want   bool
	}{
		{[]string{"records:read"}, "records:read", true},
		{[]string{"records:read"}, "records:write", false},
		{[]string{"records:write"}, "records:read", true},
		{[]string{"records:write"}, "records:write", true},
		{[]string{"records:write"}, "meta:read", false},
		{[]string{"meta:write"}, "meta:read", true},
		{[]string{"files:write"}, "files:read", true},
		{[]string{"files:read"}, "records:read", false},
		{[]string{"admin"}, "records:write", true},
		{[]string{"admin"}, "meta:write", true},
		{[]string{"admin"}, "admin", true},
		{[]string{"records:write", "meta:write", "files:write"}, "admin", false},
		{[]string{"records:read", "files:write"}, "files:read", true},
		{nil, "records:read", false},
		{[]string{"records:write"}, "", false},
		{[]string{"records:write"}, "records", false},
		{[]string{"records:write"}, ":read", false},
	}
	for _, tc := range tests {
		if got := auth.ScopeAllows(tc.scopes, tc.need); got != tc.want {
			t.Errorf("ScopeAllows(%v, %q) = %v", tc.scopes, tc.need, got)
		}
	}
}

func TestAllScopes(t *testing.T) {
	t.Parallel()
	all := auth.AllScopes()
	if len(all) != 7 {
		t.Fatalf("%d scopes", len(all))
	}
	for _, s := range all {
		if !auth.ValidScope(s) {
			t.Errorf("%q not valid", s)
		}
	}
	all[0] = "hacked"
	if auth.AllScopes()[0] == "hacked" {
		t.Fatal("AllScopes shares its slice")
	}
	for _, s := range []string{"", "Admin", "records", "records:delete"} {
		if auth.ValidScope(s) {
			t.Errorf("%q valid", s)
		}
	}
}
