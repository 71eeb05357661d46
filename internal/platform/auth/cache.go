package auth

import (
	"context"
	"sync"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db"
)

// authCacheTTL is how long a checked session or token is trusted without
// reading the database again. Every request is authenticated, and the two
// reads it took (the credential, the user's active flag) were a tenth of
// the CPU of a create. Logout, revocation and deactivation in this process
// drop the cache at once, so they take effect on the next request; another
// process sharing a PostgreSQL database sees them within authCacheTTL.
const authCacheTTL = time.Second

type authCache struct {
	mu sync.Mutex
	m  map[string]cachedAuth
}

type cachedAuth struct {
	at      time.Time
	session Session
	token   Token
}

func (c *authCache) get(key string, now time.Time) (cachedAuth, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || now.Sub(e.at) >= authCacheTTL || now.Before(e.at) {
		return cachedAuth{}, false
	}
	return e, true
}

func (c *authCache) put(key string, e cachedAuth) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]cachedAuth{}
	}
	c.m[key] = e
}

func (c *authCache) clear() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

// forget drops every cached credential now and again when the transaction
// in ctx commits (a request checked in between must not keep the old state).
func (s *Service) forget(ctx context.Context) {
	s.cache.clear()
	db.AfterCommit(ctx, s.cache.clear)
}

// ForgetCredentials drops every cached session and token check, when ctx's
// transaction commits (at once outside one): for changes to users made
// elsewhere (a user deleted, for instance).
func (s *Service) ForgetCredentials(ctx context.Context) { s.forget(ctx) }
