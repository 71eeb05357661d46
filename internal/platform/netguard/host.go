package netguard

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// errBadHost is a host no URL parser would accept, or one that looks like
// a number but is not a valid address (such hosts are refused rather than
// handed to DNS, where a resolver might read them another way).
var errBadHost = errors.New("not a valid host")

// Host is a URL host as Tenon reads it: either an IP address, however it
// was spelled, or a DNS name in lower-case ASCII without a trailing dot.
type Host struct {
	// Addr is set when the host is an address (IsIP).
	Addr netip.Addr
	// Name is set when the host is a DNS name.
	Name string
}

// IsIP reports whether the host is an address rather than a name.
func (h Host) IsIP() bool { return h.Addr.IsValid() }

// String is the canonical form: the address (zone kept) or the name.
func (h Host) String() string {
	if h.IsIP() {
		return h.Addr.String()
	}
	return h.Name
}

// ParseHost reads a URL host (without brackets or port, as url.URL.Hostname
// returns it) the way browsers, curl and libc do, so that no spelling of an
// address passes for a name:
//
//   - IPv6 literals, with IPv4 tails (::ffff:127.0.0.1) and zones (fe80::1%eth0);
//   - IPv4 in one to four parts, each decimal, octal (leading 0) or hex
//     (0x), the last part filling the remaining bytes: 127.1, 10.1.1,
//     2130706433, 017700000001, 0x7f000001, 0x7f.0.0.1, 0177.0.1 and their
//     mixtures, with or without a trailing dot;
//   - internationalised names mapped as the HTTP client maps them before it
//     dials (full-width digits and the ideographic full stop become ASCII),
//     so １２７。０。０。１ is 127.0.0.1.
//
// A host whose last label looks like a number but is not a valid IPv4
// address (1.2.3.256, foo.0x10) is refused, as the WHATWG URL parser
// refuses it, instead of being looked up as a name.
func ParseHost(s string) (Host, error) {
	if s == "" || len(s) > 253+1 {
		return Host{}, errBadHost
	}
	if strings.Contains(s, ":") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return Host{}, errBadHost
		}
		return Host{Addr: a}, nil
	}
	name := s
	if !isASCII(name) {
		m, err := idna.Lookup.ToASCII(name)
		if err != nil {
			return Host{}, errBadHost
		}
		name = m
		if strings.Contains(name, ":") {
			a, err := netip.ParseAddr(name)
			if err != nil {
				return Host{}, errBadHost
			}
			return Host{Addr: a}, nil
		}
	}
	name = strings.ToLower(name)
	if strings.HasSuffix(name, ".") && len(name) > 1 {
		name = name[:len(name)-1]
	}
	if name == "" || strings.Contains(name, "%") {
		return Host{}, errBadHost
	}
	labels := strings.Split(name, ".")
	if endsInNumber(labels) {
		a, ok := parseIPv4(labels)
		if !ok {
			return Host{}, errBadHost
		}
		return Host{Addr: a}, nil
	}
	for _, l := range labels {
		if !validLabel(l) {
			return Host{}, errBadHost
		}
	}
	return Host{Name: name}, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// endsInNumber is the WHATWG test: the last label is all digits, or is a
// hex number (0x…); then the host must be an IPv4 address.
func endsInNumber(labels []string) bool {
	last := labels[len(labels)-1]
	if last == "" {
		return false
	}
	if allDigits(last) {
		return true
	}
	if len(last) >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') {
		return allHex(last[2:])
	}
	return false
}

// parseIPv4 reads one to four numeric parts as inet_aton does: every part
// but the last is one byte, the last fills the remaining bytes.
func parseIPv4(labels []string) (netip.Addr, bool) {
	if len(labels) > 4 {
		return netip.Addr{}, false
	}
	var nums []uint64
	for _, l := range labels {
		n, ok := parseIPv4Number(l)
		if !ok {
			return netip.Addr{}, false
		}
		nums = append(nums, n)
	}
	last := nums[len(nums)-1]
	for _, n := range nums[:len(nums)-1] {
		if n > 255 {
			return netip.Addr{}, false
		}
	}
	if last >= 1<<(8*(5-len(nums))) {
		return netip.Addr{}, false
	}
	v := last
	for i, n := range nums[:len(nums)-1] {
		v |= n << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// parseIPv4Number reads one part: 0x… hex ("0x" alone is 0), 0… octal,
// otherwise decimal. Values beyond 32 bits are refused.
func parseIPv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := 10
	switch {
	case len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		s, base = s[2:], 16
		if s == "" {
			return 0, true
		}
	case len(s) >= 2 && s[0] == '0':
		s, base = s[1:], 8
	}
	n, err := strconv.ParseUint(s, base, 64)
	if err != nil || n > 0xffffffff {
		return 0, false
	}
	return n, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// validLabel accepts the labels resolvers look up: letters, digits,
// inner hyphens and underscores (service names), at most 63 bytes.
func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// localNames are names that mean this machine whatever DNS says: the
// special-use localhost domain (RFC 6761) and the aliases Linux
// distributions put in /etc/hosts.
func localName(name string) bool {
	switch name {
	case "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "localhost6", "localhost6.localdomain6":
		return true
	}
	return strings.HasSuffix(name, ".localhost")
}
