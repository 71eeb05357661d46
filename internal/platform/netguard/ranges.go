package netguard

import "net/netip"

// Why an address is refused (the reason of a RefusedError).
const (
	ReasonLoopback    = "loopback"
	ReasonUnspecified = "unspecified"
	ReasonLinkLocal   = "link-local"
	ReasonPrivate     = "private"
	ReasonSharedCGNAT = "shared (CGNAT)"
	ReasonMulticast   = "multicast"
	ReasonBroadcast   = "broadcast or reserved"
	ReasonSpecial     = "special-purpose"
	ReasonLocalName   = "local name"
)

type refusedRange struct {
	prefix netip.Prefix
	reason string
}

// v4Refused are the IPv4 ranges no outbound call may reach unless allowed.
var v4Refused = []refusedRange{
	{netip.MustParsePrefix("0.0.0.0/8"), ReasonUnspecified}, // "this network"; 0.0.0.0 dials the local host
	{netip.MustParsePrefix("127.0.0.0/8"), ReasonLoopback},
	{netip.MustParsePrefix("169.254.0.0/16"), ReasonLinkLocal}, // cloud metadata 169.254.169.254 lives here
	{netip.MustParsePrefix("10.0.0.0/8"), ReasonPrivate},
	{netip.MustParsePrefix("172.16.0.0/12"), ReasonPrivate},
	{netip.MustParsePrefix("192.168.0.0/16"), ReasonPrivate},
	{netip.MustParsePrefix("100.64.0.0/10"), ReasonSharedCGNAT},
	{netip.MustParsePrefix("192.0.0.0/24"), ReasonSpecial},  // IETF protocol assignments
	{netip.MustParsePrefix("198.18.0.0/15"), ReasonSpecial}, // benchmarking networks
	{netip.MustParsePrefix("224.0.0.0/4"), ReasonMulticast}, //
	{netip.MustParsePrefix("240.0.0.0/4"), ReasonBroadcast}, // reserved, and 255.255.255.255
}

// v6Refused are the IPv6 ranges refused outright (the ones that embed an
// IPv4 address are handled by embeddedV4).
var v6Refused = []refusedRange{
	{netip.MustParsePrefix("::1/128"), ReasonLoopback},
	{netip.MustParsePrefix("fe80::/10"), ReasonLinkLocal},
	{netip.MustParsePrefix("fec0::/10"), ReasonPrivate}, // deprecated site-local
	{netip.MustParsePrefix("fc00::/7"), ReasonPrivate},  // unique local
	{netip.MustParsePrefix("ff00::/8"), ReasonMulticast},
	{netip.MustParsePrefix("100::/64"), ReasonSpecial},       // discard-only
	{netip.MustParsePrefix("64:ff9b:1::/48"), ReasonPrivate}, // local-use NAT64
	{netip.MustParsePrefix("2001::/32"), ReasonSpecial},      // Teredo tunnels: reach any IPv4 behind them
}

var (
	v4Mapped     = netip.MustParsePrefix("::ffff:0:0/96")
	v4Translated = netip.MustParsePrefix("::ffff:0:0:0/96")
	v4Compatible = netip.MustParsePrefix("::/96")
	nat64        = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour    = netip.MustParsePrefix("2002::/16")
)

// Classify says why an address may not be reached ("" when it may): the
// loopback, unspecified, link-local, private, shared (CGNAT), multicast,
// broadcast and other special-purpose ranges of IPv4 and IPv6, and every
// IPv6 form that carries an IPv4 address inside (IPv4-mapped,
// IPv4-translated, IPv4-compatible, NAT64 64:ff9b::/96 and 6to4
// 2002::/16), which is judged by that IPv4 address. Zones are ignored.
func Classify(a netip.Addr) string {
	a = a.WithZone("")
	switch {
	case !a.IsValid(), a.IsUnspecified():
		return ReasonUnspecified
	case a.IsLoopback():
		return ReasonLoopback
	}
	if v4, ok := embeddedV4(a); ok {
		a = v4
	}
	if a.Is4() {
		for _, r := range v4Refused {
			if r.prefix.Contains(a) {
				return r.reason
			}
		}
		return ""
	}
	for _, r := range v6Refused {
		if r.prefix.Contains(a) {
			return r.reason
		}
	}
	return ""
}

// embeddedV4 returns the IPv4 address an IPv6 address stands for, if any.
func embeddedV4(a netip.Addr) (netip.Addr, bool) {
	if a.Is4() {
		return a, false
	}
	b := a.As16()
	switch {
	case v4Mapped.Contains(a), v4Translated.Contains(a), nat64.Contains(a):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case v4Compatible.Contains(a):
		// ::/96 holds :: and ::1 too: as IPv4 they are 0.0.0.0 and
		// 0.0.0.1, refused either way.
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}
