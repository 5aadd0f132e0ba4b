package netscope

import (
	"net/netip"
	"testing"
)

// policyCase is one address and what reject-private must do with it. in
// names the table entry the address is in (its most specific one); near
// names an entry the address lies just outside of.
type policyCase struct {
	in, near string
	addr     string
	allowed  bool
}

var rejectPrivateCases = []policyCase{
	// IPv4 special-purpose registry, plus multicast.
	{in: "0.0.0.0/8", addr: "0.1.2.3"},
	{near: "0.0.0.0/8", addr: "1.0.0.0", allowed: true},
	{in: "0.0.0.0/32", addr: "0.0.0.0"},
	{in: "10.0.0.0/8", addr: "10.20.30.40"},
	{near: "10.0.0.0/8", addr: "9.255.255.255", allowed: true},
	{near: "10.0.0.0/8", addr: "11.0.0.0", allowed: true},
	{in: "100.64.0.0/10", addr: "100.127.255.254"},
	{near: "100.64.0.0/10", addr: "100.63.255.255", allowed: true},
	{near: "100.64.0.0/10", addr: "100.128.0.0", allowed: true},
	{in: "127.0.0.0/8", addr: "127.0.0.1"},
	{in: "127.0.0.0/8", addr: "127.255.255.255"},
	{near: "127.0.0.0/8", addr: "126.255.255.255", allowed: true},
	{near: "127.0.0.0/8", addr: "128.0.0.0", allowed: true},
	{in: "169.254.0.0/16", addr: "169.254.169.254"},
	{near: "169.254.0.0/16", addr: "169.253.255.255", allowed: true},
	{near: "169.254.0.0/16", addr: "169.255.0.0", allowed: true},
	{in: "172.16.0.0/12", addr: "172.31.255.255"},
	{near: "172.16.0.0/12", addr: "172.15.255.255", allowed: true},
	{near: "172.16.0.0/12", addr: "172.32.0.0", allowed: true},
	{in: "192.0.0.0/24", addr: "192.0.0.200"},
	{near: "192.0.0.0/24", addr: "191.255.255.255", allowed: true},
	{near: "192.0.0.0/24", addr: "192.0.1.0", allowed: true},
	{in: "192.0.0.0/29", addr: "192.0.0.1"},
	{in: "192.0.0.8/32", addr: "192.0.0.8"},
	{in: "192.0.0.9/32", addr: "192.0.0.9", allowed: true},
	{in: "192.0.0.10/32", addr: "192.0.0.10", allowed: true},
	{near: "192.0.0.10/32", addr: "192.0.0.11"}, // back in 192.0.0.0/24
	{in: "192.0.0.170/32", addr: "192.0.0.170"},
	{in: "192.0.0.171/32", addr: "192.0.0.171"},
	{in: "192.0.2.0/24", addr: "192.0.2.1"},
	{near: "192.0.2.0/24", addr: "192.0.3.0", allowed: true},
	{in: "192.31.196.0/24", addr: "192.31.196.1", allowed: true},
	{in: "192.52.193.0/24", addr: "192.52.193.1", allowed: true},
	{in: "192.88.99.0/24", addr: "192.88.99.1"},
	{near: "192.88.99.0/24", addr: "192.88.98.255", allowed: true},
	{near: "192.88.99.0/24", addr: "192.88.100.0", allowed: true},
	{in: "192.88.99.2/32", addr: "192.88.99.2"},
	{in: "192.168.0.0/16", addr: "192.168.1.1"},
	{near: "192.168.0.0/16", addr: "192.167.255.255", allowed: true},
	{near: "192.168.0.0/16", addr: "192.169.0.0", allowed: true},
	{in: "192.175.48.0/24", addr: "192.175.48.6", allowed: true},
	{in: "198.18.0.0/15", addr: "198.18.0.1"},
	{in: "198.18.0.0/15", addr: "198.19.255.255"},
	{near: "198.18.0.0/15", addr: "198.17.255.255", allowed: true},
	{near: "198.18.0.0/15", addr: "198.20.0.0", allowed: true},
	{in: "198.51.100.0/24", addr: "198.51.100.7"},
	{near: "198.51.100.0/24", addr: "198.51.101.0", allowed: true},
	{in: "203.0.113.0/24", addr: "203.0.113.9"},
	{near: "203.0.113.0/24", addr: "203.0.112.255", allowed: true},
	{near: "203.0.113.0/24", addr: "203.0.114.0", allowed: true},
	{in: "224.0.0.0/4", addr: "224.0.0.1"},
	{in: "224.0.0.0/4", addr: "239.255.255.250"},
	{near: "224.0.0.0/4", addr: "223.255.255.255", allowed: true},
	{in: "240.0.0.0/4", addr: "240.0.0.1"},
	{in: "240.0.0.0/4", addr: "254.255.255.255"},
	{in: "255.255.255.255/32", addr: "255.255.255.255"},
	{addr: "8.8.8.8", allowed: true},

	// IPv6 special-purpose registry, plus multicast and site-local.
	{in: "::/128", addr: "::"},
	{in: "::1/128", addr: "::1"},
	{in: "::ffff:0:0/96", addr: "::ffff:10.0.0.1"},
	{in: "::ffff:0:0/96", addr: "::ffff:127.0.0.1"},
	{in: "::ffff:0:0/96", addr: "::ffff:198.18.0.1"},
	{in: "::ffff:0:0/96", addr: "::ffff:8.8.8.8", allowed: true},
	{in: "::ffff:0:0/96", addr: "::ffff:192.31.196.1", allowed: true},
	{in: "::/96", addr: "::10.0.0.1"},
	{in: "::/96", addr: "::8.8.8.8"}, // no network routes the wrapper
	{in: "::ffff:0:0:0/96", addr: "::ffff:0:10.0.0.1"},
	{in: "::ffff:0:0:0/96", addr: "::ffff:0:8.8.8.8"}, // no network routes the wrapper
	{in: "64:ff9b::/96", addr: "64:ff9b::10.0.0.1"},
	{in: "64:ff9b::/96", addr: "64:ff9b::127.0.0.1"},
	{in: "64:ff9b::/96", addr: "64:ff9b::0.1.2.3"},
	{in: "64:ff9b::/96", addr: "64:ff9b::8.8.8.8", allowed: true},
	{in: "64:ff9b::/96", addr: "64:ff9b::192.175.48.1", allowed: true},
	{near: "64:ff9b::/96", addr: "64:ff9b::1:808:808"}, // outside 2000::/3
	{in: "64:ff9b:1::/48", addr: "64:ff9b:1::a00:1"},
	{in: "64:ff9b:1::/48", addr: "64:ff9b:1::808:808"}, // local use only
	{in: "100::/64", addr: "100::1"},
	{in: "100:0:0:1::/64", addr: "100:0:0:1::1"},
	{in: "2001::/23", addr: "2001:100::1"},
	{in: "2001::/23", addr: "2001:4::1"},
	{near: "2001::/23", addr: "2001:200::1", allowed: true},
	// Teredo: server 8.8.8.8 (bits 32-63), client = last 32 bits ^ 0xffffffff.
	{in: "2001::/32", addr: "2001:0:808:808::fefd:fcfb", allowed: true}, // client 1.2.3.4
	{in: "2001::/32", addr: "2001:0:808:808::c0a8:101", allowed: true},  // client 63.87.254.254
	{in: "2001::/32", addr: "2001:0:808:808::f5ff:fffe"},                // client 10.0.0.1
	{in: "2001::/32", addr: "2001:0:808:808::80ff:fffe"},                // client 127.0.0.1
	{in: "2001::/32", addr: "2001:0:808:808::ffff:ffff"},                // client 0.0.0.0
	{in: "2001::/32", addr: "2001:0:c0a8:101::fefd:fcfb"},               // server 192.168.1.1
	{in: "2001::/32", addr: "2001:0:a9fe:a9fe::fefd:fcfb"},              // server 169.254.169.254
	{in: "2001:1::1/128", addr: "2001:1::1", allowed: true},
	{in: "2001:1::2/128", addr: "2001:1::2", allowed: true},
	{in: "2001:1::3/128", addr: "2001:1::3", allowed: true},
	{near: "2001:1::3/128", addr: "2001:1::4"}, // back in 2001::/23
	{in: "2001:2::/48", addr: "2001:2::1"},
	{in: "2001:3::/32", addr: "2001:3::1", allowed: true},
	{in: "2001:4:112::/48", addr: "2001:4:112::1", allowed: true},
	{near: "2001:4:112::/48", addr: "2001:4:113::1"}, // back in 2001::/23
	{in: "2001:10::/28", addr: "2001:10::1"},
	{in: "2001:20::/28", addr: "2001:20::1", allowed: true},
	{in: "2001:30::/28", addr: "2001:30::1", allowed: true},
	{in: "2001:db8::/32", addr: "2001:db8::1"},
	{near: "2001:db8::/32", addr: "2001:db7:ffff::1", allowed: true},
	{near: "2001:db8::/32", addr: "2001:db9::1", allowed: true},
	{in: "2002::/16", addr: "2002:a00:1::1"},    // 10.0.0.1
	{in: "2002::/16", addr: "2002:7f00:1::1"},   // 127.0.0.1
	{in: "2002::/16", addr: "2002:c0a8:101::1"}, // 192.168.1.1
	{in: "2002::/16", addr: "2002:c612:1::1"},   // 198.18.0.1
	{in: "2002::/16", addr: "2002:808:808::1", allowed: true},
	{near: "2002::/16", addr: "2003::1", allowed: true},
	{in: "2620:4f:8000::/48", addr: "2620:4f:8000::1", allowed: true},
	{in: "3fff::/20", addr: "3fff::1"},
	{in: "3fff::/20", addr: "3fff:fff:ffff::1"},
	{near: "3fff::/20", addr: "3ffe:ffff::1", allowed: true},
	{near: "3fff::/20", addr: "3fff:1000::1", allowed: true},
	{in: "5f00::/16", addr: "5f00::1"},
	{in: "fc00::/7", addr: "fc00::1"},
	{in: "fc00::/7", addr: "fd12:3456::1"},
	{in: "fe80::/10", addr: "fe80::1"},
	{in: "fe80::/10", addr: "fe80::1%eth0"}, // a zone must not hide the prefix
	{in: "fec0::/10", addr: "fec0::1"},
	{in: "ff00::/8", addr: "ff02::1"},
	{in: "ff00::/8", addr: "ff0e::1"},
	// Outside 2000::/3 nothing is global unicast; inside, the rest is.
	{addr: "4000::1"},
	{addr: "1fff:ffff::1"},
	{addr: "e000::1"},
	{addr: "2000::1", allowed: true},
	{addr: "2606:4700::1111", allowed: true},
}

// TestGloballyReachableTable: every address of the table above gets the
// verdict it should, and each lies in (or just outside) the entry it names.
func TestGloballyReachableTable(t *testing.T) {
	for _, c := range rejectPrivateCases {
		t.Run(c.addr, func(t *testing.T) {
			a := netip.MustParseAddr(c.addr)
			if got := GloballyReachable(a); got != c.allowed {
				t.Errorf("Allow(%s) = %v, want %v", c.addr, got, c.allowed)
			}
			bare := a.WithZone("")
			if c.in != "" {
				if s, ok := lookup(tableFor(bare), bare); !ok || s.prefix != netip.MustParsePrefix(c.in) {
					t.Errorf("%s: most specific entry %v, want %s", c.addr, s.prefix, c.in)
				}
			}
			if c.near != "" && netip.MustParsePrefix(c.near).Contains(bare) {
				t.Errorf("%s is inside %s, not next to it", c.addr, c.near)
			}
		})
	}
	if GloballyReachable(netip.Addr{}) {
		t.Error("the zero address is allowed")
	}
}

// TestTableCovered: every entry of the code's table has a case
// above with the entry's verdict; an entry that carries IPv4 has one case
// allowed and one refused.
func TestTableCovered(t *testing.T) {
	for _, s := range append(append([]special(nil), specialIPv4...), specialIPv6...) {
		var allowed, refused bool
		for _, c := range rejectPrivateCases {
			if c.in != "" && netip.MustParsePrefix(c.in) == s.prefix {
				allowed = allowed || c.allowed
				refused = refused || !c.allowed
			}
		}
		want := map[reach]struct{ allowed, refused bool }{
			refuse: {false, true}, allow: {true, false}, viaIPv4: {true, true},
		}[s.reach]
		if allowed != want.allowed || refused != want.refused {
			t.Errorf("%s (%s): cases allow %v, refuse %v; want %v, %v",
				s.prefix, s.name, allowed, refused, want.allowed, want.refused)
		}
	}
}

func tableFor(a netip.Addr) []special {
	if a.Is4() {
		return specialIPv4
	}
	return specialIPv6
}
