package netguard

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
	"github.com/tenon-crm/tenon/internal/platform/schema"
)

// fakeResolver answers from a table and counts lookups.
type fakeResolver struct {
	names   map[string][]string
	lookups atomic.Int64
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.lookups.Add(1)
	var out []netip.Addr
	for _, s := range r.names[host] {
		out = append(out, netip.MustParseAddr(s))
	}
	if out == nil {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return out, nil
}

// testServer is a test server that counts its requests.
type testServer struct {
	srv  *httptest.Server
	hits atomic.Int64
	port string
}

func newTestServer(t *testing.T, h http.HandlerFunc) *testServer {
	tg := &testServer{}
	tg.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(tg.srv.Close)
	_, tg.port, _ = net.SplitHostPort(tg.srv.Listener.Addr().String())
	return tg
}

func openGuard(t *testing.T, dsn string, res Resolver) *Guard {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, dsn, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Migrate(ctx, schema.Migrations()); err != nil {
		t.Fatal(err)
	}
	return New(Config{DB: d, Resolver: res})
}

func admin() *access.Principal { return &access.Principal{UserID: 1, Login: "admin", Admin: true} }

func refused(err error) bool {
	var re *RefusedError
	return errors.As(err, &re)
}

// TestClientChecksAtDial: the client refuses, when it connects, every
// address the policy refuses: literals in any spelling, names whose DNS
// answer holds a refused address (even beside a public one), local names
// without a lookup; allowed targets are reached, by address or by name,
// without a second lookup; narrowing the list takes effect at once, pooled
// connections included; redirects to refused targets, from https to
// http, and beyond five hops are refused; response bodies are bounded.
func TestClientChecksAtDial(t *testing.T) {
	dbtest.ForEach(t, "tenon_netguard", func(t *testing.T, dsn string) {
		ctx := context.Background()
		res := &fakeResolver{names: map[string][]string{}}
		g := openGuard(t, dsn, res)
		ok := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/big":
				_, _ = w.Write([]byte(strings.Repeat("x", 1<<20)))
			case strings.HasPrefix(r.URL.Path, "/to/"):
				http.Redirect(w, r, "http://"+strings.TrimPrefix(r.URL.Path, "/to/"), http.StatusTemporaryRedirect)
			case strings.HasPrefix(r.URL.Path, "/loop/"):
				http.Redirect(w, r, "/loop/x"+strings.TrimPrefix(r.URL.Path, "/loop/"), http.StatusFound)
			default:
				_, _ = io.WriteString(w, "ok")
			}
		})
		other := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "other") })
		res.names["evil.test"] = []string{"127.0.0.1"}
		res.names["mixed.test"] = []string{"93.184.216.34", "127.0.0.1"}
		res.names["v6.test"] = []string{"::ffff:127.0.0.1"}
		res.names["meta.test"] = []string{"169.254.169.254"}
		res.names["good.test"] = []string{"127.0.0.1"}
		res.names["localhost"] = []string{"127.0.0.1", "::1"}
		c := g.Client(ClientOptions{})
		get := func(u string) (string, error) {
			resp, err := c.Get(u)
			if err != nil {
				return "", err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			return string(b), err
		}

		// Nothing allowed: every way to the test servers is refused, and
		// they see no request.
		for _, u := range []string{
			"http://127.0.0.1:" + ok.port + "/", "http://2130706433:" + ok.port + "/", "http://0x7f.1:" + ok.port + "/",
			"http://0177.0.0.1:" + ok.port + "/", "http://[::ffff:127.0.0.1]:" + ok.port + "/",
			"http://evil.test:" + ok.port + "/", "http://mixed.test:" + ok.port + "/", "http://v6.test:" + ok.port + "/",
			"http://meta.test:" + ok.port + "/", "http://localhost:" + ok.port + "/", "http://EVIL.test.:" + ok.port + "/",
		} {
			if _, err := get(u); !refused(err) {
				t.Errorf("%s: %v, want a refusal", u, err)
			}
		}
		if n := ok.hits.Load(); n != 0 {
			t.Fatalf("the testServer got %d requests", n)
		}

		// Allow the first server (address and port) and a name.
		if _, err := g.SetSettings(ctx, admin(), SettingsInput{Allow: []string{"127.0.0.1:" + ok.port, "good.test"}}); err != nil {
			t.Fatal(err)
		}
		if body, err := get("http://127.0.0.1:" + ok.port + "/"); err != nil || body != "ok" {
			t.Fatalf("allowed address: %q %v", body, err)
		}
		before := res.lookups.Load()
		if body, err := get("http://good.test:" + other.port + "/"); err != nil || body != "other" {
			t.Fatalf("allowed name: %q %v", body, err)
		}
		if n := res.lookups.Load() - before; n != 1 {
			t.Fatalf("%d lookups for one call", n)
		}
		if _, err := get("http://127.0.0.1:" + other.port + "/"); !refused(err) {
			t.Fatalf("another port: %v", err)
		}
		if _, err := get("http://evil.test:" + ok.port + "/"); err != nil {
			// evil.test resolves to an allowed address and port.
			t.Fatalf("a name resolving to an allowed address: %v", err)
		}

		// Redirects from the allowed server to refused targets.
		for _, to := range []string{"127.0.0.1:" + other.port + "/", "[::ffff:127.0.0.1]:" + other.port + "/",
			"localhost:" + other.port + "/", "169.254.169.254/latest/meta-data/", "meta.test:" + other.port + "/",
			"2130706433:" + other.port + "/"} {
			if _, err := get("http://127.0.0.1:" + ok.port + "/to/" + to); !refused(err) {
				t.Errorf("redirect to %s: %v, want a refusal", to, err)
			}
		}
		if n := other.hits.Load(); n != 1 {
			t.Fatalf("the refused server got %d requests (1 was allowed by name)", n)
		}
		if body, err := get("http://127.0.0.1:" + ok.port + "/to/good.test:" + other.port + "/"); err != nil || body != "other" {
			t.Fatalf("redirect to an allowed testServer: %q %v", body, err)
		}
		if _, err := get("http://127.0.0.1:" + ok.port + "/loop/"); !errors.Is(err, errTooManyHops) {
			t.Fatalf("redirect loop: %v", err)
		}
		https, _ := http.NewRequest("GET", "https://example.com/", nil)
		plain, _ := http.NewRequest("GET", "http://example.com/", nil)
		if err := c.CheckRedirect(plain, []*http.Request{https}); !errors.Is(err, errDowngrade) {
			t.Fatalf("https to http: %v", err)
		}

		// Bodies end at the limit.
		if body, err := get("http://127.0.0.1:" + ok.port + "/big"); err != nil || len(body) != 64<<10 {
			t.Fatalf("bounded body: %d bytes, %v", len(body), err)
		}

		// Narrowing the list: the pooled connection to the server is not reused.
		if _, err := g.SetSettings(ctx, admin(), SettingsInput{Allow: []string{}}); err != nil {
			t.Fatal(err)
		}
		hits := ok.hits.Load()
		if _, err := get("http://127.0.0.1:" + ok.port + "/"); !refused(err) || ok.hits.Load() != hits {
			t.Fatalf("after narrowing: %v", err)
		}

		// AllowPrivate (group robots with robots_allow_private).
		rc := g.Client(ClientOptions{AllowPrivate: true, NoRedirects: true, NoKeepAlive: true})
		resp, err := rc.Get("http://127.0.0.1:" + ok.port + "/to/127.0.0.1:" + other.port + "/")
		if err != nil || resp.StatusCode != http.StatusTemporaryRedirect {
			t.Fatalf("robot client: %v %v", resp, err)
		}
		resp.Body.Close()
	})
}

// TestSettings: only administrators change the list; entries are checked
// (422 naming each bad one), stored canonically without duplicates, read
// back, and audited.
func TestSettings(t *testing.T) {
	dbtest.ForEach(t, "tenon_netguard", func(t *testing.T, dsn string) {
		ctx := context.Background()
		g := openGuard(t, dsn, nil)
		if _, err := g.SetSettings(ctx, &access.Principal{UserID: 2, Login: "rep"}, SettingsInput{Allow: []string{"10.0.0.1"}}); !errors.Is(err, apperr.ErrForbidden) {
			t.Fatalf("a non-admin: %v", err)
		}
		_, err := g.SetSettings(ctx, admin(), SettingsInput{Allow: []string{"10.0.0.1", "http://x", "erp.internal", "a b"}})
		ae, isApp := apperr.As(err)
		if !isApp || len(ae.Fields) != 2 || ae.Fields[0].Field != "allow[1]" || ae.Fields[1].Field != "allow[3]" ||
			ae.Fields[0].Code != CodeAllowInvalid {
			t.Fatalf("bad entries: %v", err)
		}
		if st, err := g.Settings(ctx); err != nil || len(st.Allow) != 0 {
			t.Fatalf("a refused change was stored: %v %v", st, err)
		}
		if _, err := g.SetSettings(ctx, admin(), SettingsInput{Allow: []string{"ERP.internal", "erp.internal", "0xa.1", "10.20.0.0/16"}}); err != nil {
			t.Fatal(err)
		}
		st, err := g.Settings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(st.View().Allow, ","); got != "erp.internal,10.0.0.1,10.20.0.0/16" || st.UpdatedBy != 1 {
			t.Fatalf("stored %q by %d", got, st.UpdatedBy)
		}
		if err := g.CheckURL(ctx, "http://10.20.1.1/"); err != nil {
			t.Fatalf("allowed range: %v", err)
		}
		if err := g.CheckURL(ctx, "http://10.21.1.1/"); !refused(err) {
			t.Fatalf("refused range: %v", err)
		}
		fe, _ := apperr.As(FieldError("url", g.CheckURL(ctx, "http://[::ffff:10.21.1.1]/")))
		if fe == nil || len(fe.Fields) != 1 || fe.Fields[0].Field != "url" || fe.Fields[0].Code != CodeAddressRefused {
			t.Fatalf("field error: %v", fe)
		}
		var n int
		if err := g.db.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE entity = 'outbound_settings' AND record_id = 1`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d audit entries, %v", n, err)
		}
		u, _ := url.Parse("http://erp.internal/")
		if err := (Policy{}).checkURL(u); err != nil {
			t.Fatalf("a name passes at save: %v", err)
		}
	})
}
