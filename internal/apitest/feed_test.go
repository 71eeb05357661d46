package apitest

import (
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestChangeFeedUnderConcurrentWriters follows /changes with its cursor
// while several writers commit at once, and checks that the follower sees
// every create exactly once: nothing is skipped by the cursor when a
// transaction that started earlier commits later.
func TestChangeFeedUnderConcurrentWriters(t *testing.T) {
	e := newEnv(t)
	admin := setupDeals(t, e)
	const writers, each = 8, 25
	var done atomic.Bool
	seen := map[string]int{}
	cursor := ""
	poll := func() {
		for {
			r := admin.do("GET", "/api/v1/changes?entity=deals&limit=50&since="+url.QueryEscape(cursor), nil, nil).want(200).json()
			for _, it := range r["items"].([]any) {
				c := it.(map[string]any)
				if c["event"] == "created" {
					seen[c["record_id"].(string)]++
				}
			}
			cursor = r["next"].(string)
			if r["has_more"] != true {
				return
			}
		}
	}
	follower := make(chan struct{})
	go func() {
		defer close(follower)
		for !done.Load() {
			poll()
		}
	}()
	var wg sync.WaitGroup
	created := make(chan string, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.as("admin")
			for i := 0; i < each; i++ {
				r := c.do("POST", "/api/v1/records/deals", map[string]any{"name": fmt.Sprintf("w%d-%d", w, i)}, nil)
				if r.status != 201 {
					t.Errorf("create: %d %s", r.status, r.body)
					return
				}
				created <- r.json()["id"].(string)
			}
		}()
	}
	wg.Wait()
	done.Store(true)
	<-follower
	close(created)
	// The tail committed after the follower's last look. On PostgreSQL the
	// feed also waits for every older transaction of the server (other
	// tests run beside this one), so look again until it has caught up.
	for i := 0; i < 400 && len(seen) < writers*each; i++ {
		poll()
		if len(seen) < writers*each {
			time.Sleep(50 * time.Millisecond)
		}
	}
	n := 0
	for id := range created {
		n++
		if seen[id] != 1 {
			t.Errorf("record %s seen %d times in the feed", id, seen[id])
		}
	}
	if n != writers*each || len(seen) != n {
		t.Fatalf("created %d, feed has %d", n, len(seen))
	}
}
