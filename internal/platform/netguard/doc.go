// Package netguard is Tenon's outbound-address guard: every call Tenon
// makes to an address an administrator typed (outbound webhooks, the
// call_webhook action of rules, group robots) goes through it, so that a
// URL cannot make Tenon reach its own host, the cloud metadata service or
// the company's private network (server-side request forgery).
//
// # What is refused
//
// Classify names the refused ranges: loopback, unspecified (0.0.0.0/8,
// ::), link-local (169.254.0.0/16 with the metadata address
// 169.254.169.254, fe80::/10), private (10/8, 172.16/12, 192.168/16,
// fc00::/7, fec0::/10, local-use NAT64), shared CGNAT 100.64/10,
// multicast, broadcast and reserved (240/4), a few special-purpose blocks,
// Teredo, and every IPv6 address that carries a refused IPv4 address:
// IPv4-mapped (::ffff:127.0.0.1, ::ffff:7f00:1), IPv4-translated,
// IPv4-compatible (::127.0.0.1), NAT64 (64:ff9b::/96) and 6to4
// (2002::/16).
//
// An address is an address however it is spelled. ParseHost reads a URL
// host as browsers, curl and libc do: dotted quads, one number
// (2130706433), octal (0177.0.0.1, 017700000001), hex (0x7f.0.0.1,
// 0x7f000001), short forms (127.1, 10.1.1) and mixtures, IPv6 literals
// with zones, a trailing dot, and full-width digits and dots (mapped as
// the HTTP client maps them). A host that ends in a number but is no
// valid address (1.2.3.256) is refused rather than looked up as a name.
// Names that mean this machine (localhost, *.localhost and the usual
// /etc/hosts aliases) are refused by name when a URL is saved; when a
// connection is made, what they resolve to is judged like any name.
//
// # The allow-list
//
// An administrator may allow targets: a name ("erp.internal"), an address
// ("10.0.0.5", any spelling) or a CIDR range ("10.20.0.0/16"), each with
// an optional port ("erp.internal:8443", "[fd00::5]:443"). An allowed name
// may resolve to any address; an allowed address or range may be reached
// under any name. The list is one row of outbound_settings (backed up
// with the rest), read and replaced with GET and PUT
// /api/v1/settings/outbound (administrators, audited as
// outbound_settings/1, at most MaxAllow entries, each checked: 422 naming
// allow[i]). Group robots also honour notify's robots_allow_private, which
// allows every address (ClientOptions.AllowPrivate).
//
// # Two checks
//
// When a URL is saved, CheckURL (Guard.CheckURL with the stored list)
// accepts only http and https, a valid host and port and no user info,
// and refuses an address in a refused range or a local name unless the
// list covers it; FieldError makes that a 422 on the caller's field. Other
// names pass: DNS can answer anything later.
//
// When a connection is made, the dialer of Guard.Client reads the host
// the same way, resolves a name (Config.Resolver; localhost too: what it
// resolves to is judged), refuses the connection
// unless every address it resolves to is allowed, and dials the checked
// addresses itself, so a second lookup (DNS rebinding) cannot change the
// answer. Redirects are followed (at most five hops) only when each hop's
// URL passes CheckURL under the current list and does not go from https
// to http; each hop's connection passes the dialer again. The client takes
// no proxy from the environment, bounds the dial, the TLS handshake, the
// response header and the whole call, and ends a response body after
// ClientOptions.MaxResponseBytes. It reads the list for every request, and
// keeps its connection pool per list, so narrowing the list takes effect
// at once, pooled connections included.
//
// A refusal is a *RefusedError (host, address, reason; the message says
// "loopback, link-local and private addresses need an entry in the
// outbound allow-list") and never contains anything the target sent.
package netguard
