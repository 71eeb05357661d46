package notify

import (
	"slices"
	"testing"
)

// TestNotifyPayloads: user ids travel in payloads under PostgreSQL's limit
// and come back whole; malformed payloads are ignored.
func TestNotifyPayloads(t *testing.T) {
	var users []int64
	for i := int64(1); i <= 3000; i++ {
		users = append(users, i*1000003)
	}
	payloads := notifyPayloads("tok", users)
	if len(payloads) < 3 {
		t.Fatalf("%d payloads for 3000 users", len(payloads))
	}
	var back []int64
	for _, p := range payloads {
		if len(p) > maxNotifyPayload {
			t.Fatalf("payload of %d bytes", len(p))
		}
		tok, ids, ok := parseNotifyPayload(p)
		if !ok || tok != "tok" {
			t.Fatalf("payload %.40q", p)
		}
		back = append(back, ids...)
	}
	if !slices.Equal(back, users) {
		t.Fatal("ids lost or reordered")
	}
	for _, bad := range []string{"", "tok", ":1", "tok:", "tok:1,x", "tok:-1"} {
		if _, _, ok := parseNotifyPayload(bad); ok {
			t.Fatalf("accepted %q", bad)
		}
	}
}
