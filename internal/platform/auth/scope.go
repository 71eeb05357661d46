package auth

import "strings"

// The scopes an API token may carry. A token never has more rights than its
// user: scopes only narrow what the user's roles allow.
const (
	ScopeRecordsRead  = "records:read"
	ScopeRecordsWrite = "records:write"
	ScopeMetaRead     = "meta:read"
	ScopeMetaWrite    = "meta:write"
	ScopeFilesRead    = "files:read"
	ScopeFilesWrite   = "files:write"
	// ScopeAdmin implies every other scope (and admin-only endpoints, for
	// users whose roles allow them).
	ScopeAdmin = "admin"
)

// AllScopes returns every valid scope, in display order.
func AllScopes() []string {
	return []string{
		ScopeRecordsRead, ScopeRecordsWrite,
		ScopeMetaRead, ScopeMetaWrite,
		ScopeFilesRead, ScopeFilesWrite,
		ScopeAdmin,
	}
}

// ValidScope reports whether s is one of AllScopes.
func ValidScope(s string) bool {
	switch s {
	case ScopeRecordsRead, ScopeRecordsWrite, ScopeMetaRead, ScopeMetaWrite,
		ScopeFilesRead, ScopeFilesWrite, ScopeAdmin:
		return true
	}
	return false
}

// ScopeAllows reports whether a token with scopes may do what need names.
// "admin" implies everything; "<area>:write" implies "<area>:read".
func ScopeAllows(scopes []string, need string) bool {
	if need == "" {
		return false
	}
	area, action, _ := strings.Cut(need, ":")
	for _, s := range scopes {
		switch {
		case s == ScopeAdmin, s == need:
			return true
		case action == "read" && s == area+":write":
			return true
		}
	}
	return false
}
