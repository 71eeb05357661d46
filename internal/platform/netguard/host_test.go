package netguard

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// TestParseHost: every spelling of an address reads as that address, names
// stay names, and a host that ends in a number but is no address is an
// error.
func TestParseHost(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"127.0.0.1", "127.0.0.1"},
		{"127.0.0.1.", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"017700000001", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"0X7F000001", "127.0.0.1"},
		{"0x7f.0.0.1", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"0177.0.0.01", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"10.1.1", "10.1.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"0177.1", "127.0.0.1"},
		{"0x7f.0.1", "127.0.0.1"},
		{"127.0x0.0x0.1", "127.0.0.1"},
		{"0xa9.0xfe.0xa9.0xfe", "169.254.169.254"},
		{"2852039166", "169.254.169.254"},
		{"0251.0376.0251.0376", "169.254.169.254"},
		{"169.254.43518", "169.254.169.254"},
		{"0", "0.0.0.0"},
		{"0x", "0.0.0.0"},
		{"0.0.0.0", "0.0.0.0"},
		{"4294967295", "255.255.255.255"},
		{"１２７。０。０。１", "127.0.0.1"},
		{"１２７．０．０．１", "127.0.0.1"},
		{"::1", "::1"},
		{"::ffff:127.0.0.1", "::ffff:127.0.0.1"},
		{"::ffff:7f00:1", "::ffff:127.0.0.1"},
		{"0:0:0:0:0:ffff:7f00:1", "::ffff:127.0.0.1"},
		{"::127.0.0.1", "::7f00:1"},
		{"fe80::1%eth0", "fe80::1%eth0"},
		{"Example.COM", "example.com"},
		{"example.com.", "example.com"},
		{"erp_hook.internal", "erp_hook.internal"},
		{"xn--fiqs8s.cn", "xn--fiqs8s.cn"},
		{"中国.cn", "xn--fiqs8s.cn"},
		{"1.2.3.example", "1.2.3.example"},
	} {
		h, err := ParseHost(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if h.String() != c.want {
			t.Errorf("%q read as %q, want %q", c.in, h.String(), c.want)
		}
	}
	for _, bad := range []string{"", ".", "1.2.3.256", "256.1.1.1", "1.2.3.4.5", "1.2.65536", "4294967296", "0x1ffffffff",
		"08.0.0.1", "0xg.1", "foo.0x10", "foo.123", "1..1", "a b", "a..b", "-", "exa$mple.com", "127.0.0.1%eth0",
		"[::1]", "::ffff:999.0.0.1", strings.Repeat("a", 64) + ".com"} {
		if h, err := ParseHost(bad); err == nil {
			t.Errorf("%q accepted as %q", bad, h.String())
		}
	}
}

// TestClassify: the refused ranges, also inside IPv6 addresses that carry
// an IPv4 address, and public addresses that pass.
func TestClassify(t *testing.T) {
	for _, c := range []struct{ addr, want string }{
		{"127.0.0.1", ReasonLoopback},
		{"127.255.255.254", ReasonLoopback},
		{"0.0.0.0", ReasonUnspecified},
		{"0.1.2.3", ReasonUnspecified},
		{"169.254.169.254", ReasonLinkLocal},
		{"169.254.0.1", ReasonLinkLocal},
		{"10.0.0.1", ReasonPrivate},
		{"10.255.255.255", ReasonPrivate},
		{"172.16.0.1", ReasonPrivate},
		{"172.31.255.255", ReasonPrivate},
		{"192.168.1.1", ReasonPrivate},
		{"100.64.0.1", ReasonSharedCGNAT},
		{"100.127.255.255", ReasonSharedCGNAT},
		{"224.0.0.1", ReasonMulticast},
		{"239.255.255.250", ReasonMulticast},
		{"255.255.255.255", ReasonBroadcast},
		{"240.0.0.1", ReasonBroadcast},
		{"192.0.0.8", ReasonSpecial},
		{"198.18.0.1", ReasonSpecial},
		{"::1", ReasonLoopback},
		{"::", ReasonUnspecified},
		{"fe80::1", ReasonLinkLocal},
		{"fe80::1%eth0", ReasonLinkLocal},
		{"fc00::1", ReasonPrivate},
		{"fd12:3456::1", ReasonPrivate},
		{"fec0::1", ReasonPrivate},
		{"ff02::1", ReasonMulticast},
		{"::ffff:127.0.0.1", ReasonLoopback},
		{"::ffff:7f00:1", ReasonLoopback},
		{"::ffff:10.0.0.1", ReasonPrivate},
		{"::ffff:169.254.169.254", ReasonLinkLocal},
		{"::ffff:0:a9fe:a9fe", ReasonLinkLocal}, // IPv4-translated
		{"::127.0.0.1", ReasonLoopback},         // IPv4-compatible
		{"::10.0.0.1", ReasonPrivate},
		{"64:ff9b::7f00:1", ReasonLoopback}, // NAT64
		{"64:ff9b::a9fe:a9fe", ReasonLinkLocal},
		{"64:ff9b:1::1", ReasonPrivate},
		{"2002:7f00:1::1", ReasonLoopback}, // 6to4 of 127.0.0.1
		{"2002:c0a8:101::1", ReasonPrivate},
		{"2002:a9fe:a9fe::", ReasonLinkLocal},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", ReasonSpecial}, // Teredo
		{"100::1", ReasonSpecial},
		{"8.8.8.8", ""},
		{"93.184.216.34", ""},
		{"172.32.0.1", ""},
		{"100.128.0.1", ""},
		{"2606:4700::6810:85e5", ""},
		{"::ffff:8.8.8.8", ""},
		{"64:ff9b::808:808", ""},
		{"2002:808:808::1", ""},
	} {
		if got := Classify(netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("%s: %q, want %q", c.addr, got, c.want)
		}
	}
}

// TestCheckURLRefusesEverySpelling: with an empty allow-list, every
// spelling of a refused address and every local name is refused when a URL
// is saved; public addresses and names pass; malformed URLs are URLErrors.
func TestCheckURLRefusesEverySpelling(t *testing.T) {
	var p Policy
	refused := []string{
		"http://127.0.0.1/hook", "http://127.0.0.1:8080/hook", "https://127.0.0.1./x",
		"http://2130706433/", "http://017700000001/", "http://0x7f000001/", "http://0x7f.0.0.1/",
		"http://0177.0.0.1/", "http://127.1/", "http://127.0.1/", "http://0x7f.1/", "http://0177.0.0.01/",
		"http://127.000.000.001/", "http://0/", "http://0.0.0.0/", "http://0x/",
		"http://10.1.1/", "http://10.0.0.1/", "http://012.0.0.1/", "http://167772161/", "http://0xa.1/",
		"http://172.16.0.1/", "http://172.31.1.1/", "http://192.168.1.1/", "http://3232235777/", "http://0300.0250.1.1/",
		"http://100.64.0.1/", "http://169.254.169.254/latest/meta-data/", "http://2852039166/", "http://0xa9fea9fe/",
		"http://0xa9.0xfe.0xa9.0xfe/", "http://169.254.43518/", "http://0251.0376.0251.0376/",
		"http://224.0.0.1/", "http://255.255.255.255/", "http://4294967295/",
		"http://[::1]/", "http://[::1]:9000/", "http://[0:0:0:0:0:0:0:1]/", "http://[::]/",
		"http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[0:0:0:0:0:ffff:7f00:1]/",
		"http://[::ffff:169.254.169.254]/", "http://[::ffff:a9fe:a9fe]/", "http://[::ffff:10.0.0.1]/",
		"http://[::127.0.0.1]/", "http://[::7f00:1]/", "http://[64:ff9b::7f00:1]/", "http://[64:ff9b::169.254.169.254]/",
		"http://[2002:7f00:1::1]/", "http://[2002:a9fe:a9fe::1]/", "http://[fe80::1]/", "http://[fe80::1%25eth0]/",
		"http://[fc00::1]/", "http://[fd00:ec2::254]/", "http://[ff02::1]/",
		"http://localhost/", "http://LOCALHOST:8080/", "http://localhost./", "http://api.localhost/",
		"http://a.b.localhost/", "http://localhost.localdomain/", "http://ip6-localhost/",
		"http://１２７。０。０。１/", "http://１２７．０．０．１/",
	}
	for _, u := range refused {
		err := p.CheckURL(u)
		var re *RefusedError
		if !errors.As(err, &re) {
			t.Errorf("%s: %v, want a refusal", u, err)
		}
	}
	for _, u := range []string{"http://example.com/hook", "https://erp.example.com:8443/in?x=1", "http://8.8.8.8/",
		"http://134744072/", "http://0x8080808/", "https://[2606:4700::6810:85e5]/", "http://[::ffff:8.8.8.8]/",
		"http://172.32.0.1/", "http://100.128.0.1/", "https://例子.测试/", "http://localhost.example.com/", "http://mylocalhost/"} {
		if err := p.CheckURL(u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, u := range []string{"ftp://example.com/", "file:///etc/passwd", "gopher://127.0.0.1/", "http:example.com",
		"http://", "http:///x", "http://user:pw@example.com/", "http://user@example.com/", "http://example.com:0/",
		"http://example.com:99999/", "http://1.2.3.256/", "http://foo.0x10/", "javascript:alert(1)", "//example.com/x",
		"http://exa mple.com/", "http://[::1/"} {
		err := p.CheckURL(u)
		var ue *URLError
		if !errors.As(err, &ue) {
			t.Errorf("%s: %v, want a URL error", u, err)
		}
	}
}

// TestAllowList: entries parse to their canonical form; an entry allows
// what it names (any spelling), with its port when it has one.
func TestAllowList(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"erp.internal", "erp.internal"},
		{"ERP.Internal.:8443", "erp.internal:8443"},
		{"10.0.0.5", "10.0.0.5"},
		{"0xa.5", "10.0.0.5"},
		{"10.0.0.5:8080", "10.0.0.5:8080"},
		{"10.20.3.4/16", "10.20.0.0/16"},
		{"fd00::1", "fd00::1"},
		{"[fd00::1]:443", "[fd00::1]:443"},
		{"[fd00::1]", "fd00::1"},
		{"fd00::/64", "fd00::/64"},
		{" localhost:9000 ", "localhost:9000"},
	} {
		e, err := ParseEntry(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if e.String() != c.want {
			t.Errorf("%q: %q, want %q", c.in, e.String(), c.want)
		}
	}
	for _, bad := range []string{"", "http://erp.internal", "erp.internal/hook", "*.internal", "erp.internal:0",
		"erp.internal:70000", "user@erp.internal", "10.0.0.0/33", "1.2.3.256", "a b", "erp.internal:http"} {
		if e, err := ParseEntry(bad); err == nil {
			t.Errorf("%q accepted as %q", bad, e.String())
		}
	}
	entries := func(ss ...string) []Entry {
		var out []Entry
		for _, s := range ss {
			e, err := ParseEntry(s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
		return out
	}
	p := Policy{Allow: entries("127.0.0.1:9000", "10.20.0.0/16", "localhost:7000", "fd00::5")}
	for _, u := range []string{"http://127.0.0.1:9000/", "http://2130706433:9000/", "http://[::ffff:127.0.0.1]:9000/",
		"http://10.20.30.40/", "https://0xa.20.1.1/", "http://localhost:7000/", "http://[fd00::5]:8080/"} {
		if err := p.CheckURL(u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:9001/", "http://127.0.0.1/", "http://10.21.0.1/", "http://localhost:7001/",
		"http://[fd00::6]/", "http://127.0.0.2:9000/"} {
		var re *RefusedError
		if err := p.CheckURL(u); !errors.As(err, &re) {
			t.Errorf("%s: %v, want a refusal", u, err)
		}
	}
	if err := (Policy{AllowPrivate: true}).CheckURL("http://169.254.169.254/"); err != nil {
		t.Errorf("AllowPrivate: %v", err)
	}
}
