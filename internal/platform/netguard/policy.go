package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
)

// Error codes (messages in internal/platform/i18n/webhooks.go).
const (
	CodeURLInvalid      = "outbound_url_invalid"      // not an http(s) URL Tenon may call
	CodeAddressRefused  = "outbound_address_refused"  // a loopback, link-local or private target
	CodeAllowInvalid    = "outbound_allow_invalid"    // an allow-list entry that does not parse
	CodeAllowTooMany    = "outbound_allow_too_many"   // more entries than MaxAllow
	CodeRedirectRefused = "outbound_redirect_refused" // too many hops, or https to http
)

// MaxAllow bounds the allow-list.
const MaxAllow = 200

// URLError is a URL no outbound call accepts (bad scheme, user info, no
// or bad host, bad port).
type URLError struct{ Reason string }

func (e *URLError) Error() string { return "netguard: invalid URL: " + e.Reason }

// RefusedError is a target refused by the policy: an address in a refused
// range (see Classify) or a local name, not on the allow-list. The message
// names the address and the reason and is safe to log; it never holds
// anything the target sent.
type RefusedError struct {
	Host   string // the host as the URL names it
	Addr   string // the address it resolved to ("" for a local name)
	Reason string // see the Reason constants
}

func (e *RefusedError) Error() string {
	what := e.Host
	if e.Addr != "" && e.Addr != e.Host {
		what = e.Host + " (" + e.Addr + ")"
	}
	const need = "; loopback, link-local and private addresses need an entry in the outbound allow-list"
	if e.Reason == ReasonLocalName {
		return "netguard: " + what + " names this machine" + need
	}
	return "netguard: " + what + " is a " + e.Reason + " address" + need
}

// ErrRedirectRefused is wrapped by the refusal of a redirect for what it
// is (from https to http, or one hop too many); a hop to a refused target
// is a *RefusedError like any other.
var ErrRedirectRefused = errors.New("netguard: redirect refused")

var (
	errDowngrade   = fmt.Errorf("%w: from https to http", ErrRedirectRefused)
	errTooManyHops = fmt.Errorf("%w: too many hops", ErrRedirectRefused)
)

// FieldError turns a refusal of CheckURL into the 422 field error of the
// field that holds the URL; other errors pass through.
func FieldError(field string, err error) error {
	var re *RefusedError
	var ue *URLError
	switch {
	case errors.As(err, &re):
		return apperr.Fields(apperr.Field(field, CodeAddressRefused, "host", re.Host, "reason", re.Reason))
	case errors.As(err, &ue):
		return apperr.Fields(apperr.Field(field, CodeURLInvalid, "reason", ue.Reason))
	}
	return err
}

// Entry is one line of the allow-list: a DNS name, an address or a CIDR
// range, with an optional port (0: any).
type Entry struct {
	Name   string
	Prefix netip.Prefix
	Port   uint16
}

// String is the entry's canonical spelling (how it is stored and shown).
func (e Entry) String() string {
	host := e.Name
	if host == "" {
		if e.Prefix.IsSingleIP() {
			host = e.Prefix.Addr().String()
		} else {
			host = e.Prefix.String()
		}
	}
	if e.Port == 0 {
		return host
	}
	if e.Name == "" && e.Prefix.Addr().Is6() {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(int(e.Port))
}

// ParseEntry reads an allow-list entry: "erp.example.com", "erp.internal:8443",
// "10.0.0.5", "10.0.0.5:8080", "10.20.0.0/16", "fd00::1", "[fd00::1]:443",
// "fd00::/64". Any spelling ParseHost accepts is read as ParseHost reads it
// (0x7f.1 is 127.0.0.1); no scheme, path, user or wildcard.
func ParseEntry(s string) (Entry, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("netguard: %q is not a host, host:port, address or CIDR range", s)
	if s == "" || len(s) > 300 || strings.ContainsAny(s, " \t\r\n@?#*\\") || strings.Contains(s, "://") {
		return Entry{}, bad
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return Entry{}, bad
		}
		return Entry{Prefix: p.Masked()}, nil
	}
	host, port := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		h, pt, err := net.SplitHostPort(s)
		if err != nil {
			if !strings.HasSuffix(s, "]") {
				return Entry{}, bad
			}
			h = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
		}
		host, port = h, pt
	case strings.Count(s, ":") == 1:
		h, pt, err := net.SplitHostPort(s)
		if err != nil {
			return Entry{}, bad
		}
		host, port = h, pt
	}
	var e Entry
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return Entry{}, bad
		}
		e.Port = uint16(n)
	}
	h, err := ParseHost(host)
	if err != nil {
		return Entry{}, bad
	}
	if h.IsIP() {
		a := h.Addr.WithZone("")
		e.Prefix = netip.PrefixFrom(a, a.BitLen())
	} else {
		e.Name = h.Name
	}
	return e, nil
}

// Policy decides which targets outbound calls may reach: every address
// outside the refused ranges, plus what the allow-list names. AllowPrivate
// allows every address (group robots whose administrator set
// robots_allow_private).
type Policy struct {
	Allow        []Entry
	AllowPrivate bool
}

// key identifies the policy (clients keep one connection pool per policy,
// so a narrowed allow-list never reuses a connection it no longer allows).
func (p Policy) key() string {
	var b strings.Builder
	if p.AllowPrivate {
		b.WriteString("*;")
	}
	for _, e := range p.Allow {
		b.WriteString(e.String())
		b.WriteByte(';')
	}
	return b.String()
}

func portMatches(e Entry, port uint16) bool { return e.Port == 0 || e.Port == port }

// allowsName reports whether the allow-list names this host and port.
func (p Policy) allowsName(name string, port uint16) bool {
	return slices.ContainsFunc(p.Allow, func(e Entry) bool { return e.Name != "" && e.Name == name && portMatches(e, port) })
}

// allowsAddr reports whether the allow-list covers this address and port.
func (p Policy) allowsAddr(a netip.Addr, port uint16) bool {
	a = a.WithZone("")
	if a.Is4In6() {
		a = a.Unmap()
	}
	return slices.ContainsFunc(p.Allow, func(e Entry) bool {
		return e.Name == "" && e.Prefix.Contains(a) && portMatches(e, port)
	})
}

// checkAddr decides one address reached under name ("" for a literal).
func (p Policy) checkAddr(host, name string, a netip.Addr, port uint16) error {
	reason := Classify(a)
	if reason == "" || p.AllowPrivate || (name != "" && p.allowsName(name, port)) || p.allowsAddr(a, port) {
		return nil
	}
	return &RefusedError{Host: host, Addr: a.WithZone("").String(), Reason: reason}
}

// target is a URL checked for syntax: its host as read by ParseHost and
// its port (explicit or the scheme's).
type target struct {
	host Host
	port uint16
}

// ValidURL checks what every outbound URL must be, whatever the policy:
// http or https, a host (ParseHost), no user info, a port from 1 to 65535.
func ValidURL(raw string) error {
	_, err := parseTarget(raw)
	return err
}

func parseTarget(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, &URLError{Reason: "it does not parse"}
	}
	if _, err := targetOf(u); err != nil {
		return nil, err
	}
	return u, nil
}

func targetOf(u *url.URL) (target, error) {
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return target{}, &URLError{Reason: "only http and https URLs are allowed"}
	case u.Opaque != "" || u.Host == "":
		return target{}, &URLError{Reason: "the URL has no host"}
	case u.User != nil:
		return target{}, &URLError{Reason: "user names and passwords in the URL are not allowed"}
	}
	h, err := ParseHost(u.Hostname())
	if err != nil {
		return target{}, &URLError{Reason: "the host is not valid"}
	}
	port := uint16(80)
	if u.Scheme == "https" {
		port = 443
	}
	if ps := u.Port(); ps != "" {
		n, err := strconv.ParseUint(ps, 10, 16)
		if err != nil || n == 0 {
			return target{}, &URLError{Reason: "the port is not valid"}
		}
		port = uint16(n)
	}
	return target{host: h, port: port}, nil
}

// CheckURL is the check made when a URL is saved (and at each redirect
// hop): ValidURL, then the host: an address in any spelling is judged by
// Classify, a local name (localhost, *.localhost) is refused, both unless
// the allow-list covers them. Other names pass here; their addresses are
// checked when the connection is made, after DNS.
func (p Policy) CheckURL(raw string) error {
	u, err := parseTarget(raw)
	if err != nil {
		return err
	}
	return p.checkURL(u)
}

func (p Policy) checkURL(u *url.URL) error {
	t, err := targetOf(u)
	if err != nil {
		return err
	}
	if t.host.IsIP() {
		return p.checkAddr(u.Hostname(), "", t.host.Addr, t.port)
	}
	if localName(t.host.Name) && !p.AllowPrivate && !p.allowsName(t.host.Name, t.port) {
		return &RefusedError{Host: u.Hostname(), Reason: ReasonLocalName}
	}
	return nil
}
