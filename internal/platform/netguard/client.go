package netguard

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Resolver looks up a name's addresses (net.Resolver implements it).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ClientOptions shape a guarded client. Zero values pick the defaults.
type ClientOptions struct {
	// Timeout bounds a whole call, redirects and body included (default 30 s).
	Timeout time.Duration
	// MaxRedirects is how many redirect hops are followed (default 5);
	// NoRedirects returns the first response whatever it is.
	MaxRedirects int
	NoRedirects  bool
	// MaxResponseBytes bounds what a caller can read of a response body
	// (default 64 KB); past it the body ends.
	MaxResponseBytes int64
	// AllowPrivate allows every address (group robots with
	// robots_allow_private); the allow-list is then moot.
	AllowPrivate bool
	// NoKeepAlive closes each connection after its request (for clients
	// made per call, whose idle connections nobody would reuse).
	NoKeepAlive bool
}

func (o ClientOptions) withDefaults() ClientOptions {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = 5
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = 64 << 10
	}
	return o
}

// Client returns an HTTP client whose every connection and every redirect
// is checked against the current policy (the allow-list as stored now):
//
//   - the dialer reads the host of each connection with ParseHost (so an
//     address in any spelling is never sent to DNS), resolves a name,
//     refuses the connection unless every address it resolves to is
//     allowed, and then dials those checked addresses itself: no second
//     lookup can answer differently;
//   - each redirect hop's URL is checked as CheckURL checks a saved one,
//     a hop from https to http is refused, and at most MaxRedirects are
//     followed (each hop's connection passes the dialer again);
//   - no proxy is taken from the environment, timeouts bound the dial,
//     the TLS handshake, the response header and the whole call, and the
//     response body can be read up to MaxResponseBytes.
//
// A refusal is a *RefusedError (errors.As sees it through *url.Error).
// Connections are pooled per policy: when the allow-list changes, the
// next call gets a fresh pool, so an idle connection the new list would
// refuse is never reused.
func (g *Guard) Client(o ClientOptions) *http.Client {
	o = o.withDefaults()
	rt := &roundTripper{g: g, o: o}
	c := &http.Client{Transport: rt, Timeout: o.Timeout}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if o.NoRedirects {
			return http.ErrUseLastResponse
		}
		if len(via) >= o.MaxRedirects {
			return errTooManyHops
		}
		for _, prev := range via {
			if prev.URL.Scheme == "https" && req.URL.Scheme == "http" {
				return errDowngrade
			}
		}
		pol, err := g.policy(req.Context(), o)
		if err != nil {
			return err
		}
		return pol.checkURL(req.URL)
	}
	return c
}

// roundTripper finds the transport of the current policy for each request
// and bounds the response body.
type roundTripper struct {
	g *Guard
	o ClientOptions

	mu  sync.Mutex
	key string
	tr  *http.Transport
}

func (rt *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	pol, err := rt.g.policy(req.Context(), rt.o)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	res, err := rt.transport(pol).RoundTrip(req)
	if err != nil {
		return nil, err
	}
	res.Body = &boundedBody{r: io.LimitReader(res.Body, rt.o.MaxResponseBytes), c: res.Body}
	return res, nil
}

// transport returns the pool of pol, replacing (and draining) the pool of
// a previous policy.
func (rt *roundTripper) transport(pol Policy) *http.Transport {
	k := pol.key()
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.tr != nil && rt.key == k {
		return rt.tr
	}
	if rt.tr != nil {
		rt.tr.CloseIdleConnections()
	}
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	rt.key = k
	rt.tr = &http.Transport{
		Proxy:                  nil, // never a proxy from the environment: the proxy would make the connection
		DialContext:            rt.g.dialer(pol, d),
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  15 * time.Second,
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        30 * time.Second,
		MaxIdleConnsPerHost:    16,
		MaxResponseHeaderBytes: 64 << 10,
		DisableKeepAlives:      rt.o.NoKeepAlive,
	}
	return rt.tr
}

// boundedBody ends a response body after the client's limit.
type boundedBody struct {
	r io.Reader
	c io.Closer
}

func (b *boundedBody) Read(p []byte) (int, error) { return b.r.Read(p) }
func (b *boundedBody) Close() error               { return b.c.Close() }

// dialer checks and dials one connection under pol.
func (g *Guard) dialer(pol Policy, d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		hostStr, portStr, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, &URLError{Reason: "bad address " + addr}
		}
		p, err := strconv.ParseUint(portStr, 10, 16)
		if err != nil || p == 0 {
			return nil, &URLError{Reason: "bad port " + portStr}
		}
		port := uint16(p)
		h, err := ParseHost(hostStr)
		if err != nil {
			return nil, &URLError{Reason: "the host is not valid"}
		}
		var addrs []netip.Addr
		name := ""
		if h.IsIP() {
			addrs = []netip.Addr{h.Addr}
		} else {
			name = h.Name
			addrs, err = g.resolver.LookupNetIP(ctx, "ip", name)
			if err != nil {
				return nil, err
			}
			if len(addrs) == 0 {
				return nil, &net.DNSError{Err: "no addresses", Name: name, IsNotFound: true}
			}
		}
		// Every address first: a name that resolves to a public and a
		// private address is refused, whichever would be dialled.
		for _, a := range addrs {
			if err := pol.checkAddr(hostStr, name, a, port); err != nil {
				return nil, err
			}
		}
		var errs []error
		for _, a := range addrs {
			c, err := d.DialContext(ctx, network, netip.AddrPortFrom(a, port).String())
			if err == nil {
				return c, nil
			}
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
		return nil, errors.Join(errs...)
	}
}
