// Package netscope says whether an IP address is globally reachable, by the
// IANA special-purpose address registries: the one judgement behind the
// exit's reject-private policy, the directory's refusal of relay addresses
// that are not public, and the URL replies a proxy never opens (a local or
// private host). IPv4 carried inside IPv6 (mapped, NAT64, 6to4, Teredo) is
// judged as that IPv4. It resolves nothing and imports nothing of the
// module.
package netscope

// The address table (PROTOCOL.md §5.2): the
// IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890, as
// updated by RFC 8190 and later assignments), plus multicast, which those
// registries leave to their own registries. An address is judged by the
// most specific entry that contains it, so a globally reachable entry (AS112,
// the PCP and TURN anycast addresses) wins over the refused block around it.

import "net/netip"

// reach is what the policy does with a range, from the registry's
// "Globally Reachable" column.
type reach uint8

const (
	refuse  reach = iota // not globally reachable: never a destination
	allow                // globally reachable, more specific than a refused block
	viaIPv4              // carries IPv4 addresses: each must be allowed as IPv4
)

// special is one range of the table, with the registry's name and RFC.
type special struct {
	prefix netip.Prefix
	reach  reach
	name   string
	// ipv4 returns the IPv4 addresses a viaIPv4 range carries, from the
	// address's 16 bytes.
	ipv4 func(a [16]byte) []netip.Addr
}

func entry(prefix string, r reach, name string) special {
	return special{prefix: netip.MustParsePrefix(prefix), reach: r, name: name}
}

func carrier(prefix, name string, ipv4 func([16]byte) []netip.Addr) special {
	return special{prefix: netip.MustParsePrefix(prefix), reach: viaIPv4, name: name, ipv4: ipv4}
}

var specialIPv4 = []special{
	entry("0.0.0.0/8", refuse, `"This network", RFC 791 §3.2`),
	entry("0.0.0.0/32", refuse, `"This host on this network", RFC 1122 §3.2.1.3`),
	entry("10.0.0.0/8", refuse, "Private-Use, RFC 1918"),
	entry("100.64.0.0/10", refuse, "Shared Address Space (CGNAT), RFC 6598"),
	entry("127.0.0.0/8", refuse, "Loopback, RFC 1122 §3.2.1.3"),
	entry("169.254.0.0/16", refuse, "Link Local, RFC 3927"),
	entry("172.16.0.0/12", refuse, "Private-Use, RFC 1918"),
	entry("192.0.0.0/24", refuse, "IETF Protocol Assignments, RFC 6890 §2.1"),
	entry("192.0.0.0/29", refuse, "IPv4 Service Continuity Prefix, RFC 7335"),
	entry("192.0.0.8/32", refuse, "IPv4 dummy address, RFC 7600"),
	entry("192.0.0.9/32", allow, "Port Control Protocol Anycast, RFC 7723"),
	entry("192.0.0.10/32", allow, "Traversal Using Relays around NAT Anycast, RFC 8155"),
	entry("192.0.0.170/32", refuse, "NAT64/DNS64 Discovery, RFC 8880, RFC 7050 §2.2"),
	entry("192.0.0.171/32", refuse, "NAT64/DNS64 Discovery, RFC 8880, RFC 7050 §2.2"),
	entry("192.0.2.0/24", refuse, "Documentation (TEST-NET-1), RFC 5737"),
	entry("192.31.196.0/24", allow, "AS112-v4, RFC 7535"),
	entry("192.52.193.0/24", allow, "AMT, RFC 7450"),
	// Deprecated: the registry leaves its columns empty; nothing may be
	// reached there any more.
	entry("192.88.99.0/24", refuse, "Deprecated (6to4 Relay Anycast), RFC 7526"),
	entry("192.88.99.2/32", refuse, "6a44-relay anycast address, RFC 6751"),
	entry("192.168.0.0/16", refuse, "Private-Use, RFC 1918"),
	entry("192.175.48.0/24", allow, "Direct Delegation AS112 Service, RFC 7534"),
	entry("198.18.0.0/15", refuse, "Benchmarking, RFC 2544"),
	entry("198.51.100.0/24", refuse, "Documentation (TEST-NET-2), RFC 5737"),
	entry("203.0.113.0/24", refuse, "Documentation (TEST-NET-3), RFC 5737"),
	entry("224.0.0.0/4", refuse, "Multicast, RFC 5771 (not unicast)"),
	entry("240.0.0.0/4", refuse, "Reserved, RFC 1112 §4"),
	entry("255.255.255.255/32", refuse, "Limited Broadcast, RFC 8190, RFC 919 §7"),
}

var specialIPv6 = []special{
	entry("::/128", refuse, "Unspecified Address, RFC 4291"),
	entry("::1/128", refuse, "Loopback Address, RFC 4291"),
	// The registry marks IPv4-mapped addresses not globally reachable because
	// they never appear in packets, but a socket connecting to one connects
	// over IPv4 to the address inside: judge that.
	carrier("::ffff:0:0/96", "IPv4-mapped Address, RFC 4291", last32),
	// Neither of these is in the registry; they lie in ::/8, reserved by the
	// IETF, and no network routes them, whatever IPv4 address they carry.
	entry("::/96", refuse, "IPv4-compatible Address (deprecated), RFC 4291 §2.5.5.1"),
	entry("::ffff:0:0:0/96", refuse, "IPv4-translated Address, RFC 2765 §2.1"),
	// A NAT64 gateway turns these into the IPv4 address they carry; the
	// well-known prefix must not carry non-global IPv4 (RFC 6052 §3.1).
	carrier("64:ff9b::/96", "IPv4-IPv6 Translation, RFC 6052", last32),
	entry("64:ff9b:1::/48", refuse, "IPv4-IPv6 Translation (local use), RFC 8215"),
	entry("100::/64", refuse, "Discard-Only Address Block, RFC 6666"),
	entry("100:0:0:1::/64", refuse, "Dummy IPv6 Prefix, RFC 9780"),
	entry("2001::/23", refuse, "IETF Protocol Assignments, RFC 2928"),
	carrier("2001::/32", "TEREDO, RFC 4380, RFC 8190", teredo),
	entry("2001:1::1/128", allow, "Port Control Protocol Anycast, RFC 7723"),
	entry("2001:1::2/128", allow, "Traversal Using Relays around NAT Anycast, RFC 8155"),
	entry("2001:1::3/128", allow, "DNS-SD Service Registration Protocol Anycast, RFC 9665"),
	entry("2001:2::/48", refuse, "Benchmarking, RFC 5180"),
	entry("2001:3::/32", allow, "AMT, RFC 7450"),
	entry("2001:4:112::/48", allow, "AS112-v6, RFC 7535"),
	// Deprecated, its columns empty: left to the refused 2001::/23 around it.
	entry("2001:10::/28", refuse, "Deprecated (previously ORCHID), RFC 4843"),
	entry("2001:20::/28", allow, "ORCHIDv2, RFC 7343"),
	entry("2001:30::/28", allow, "Drone Remote ID Protocol Entity Tags (DETs), RFC 9374"),
	entry("2001:db8::/32", refuse, "Documentation, RFC 3849"),
	carrier("2002::/16", "6to4, RFC 3056", sixToFour),
	entry("2620:4f:8000::/48", allow, "Direct Delegation AS112 Service, RFC 7534"),
	entry("3fff::/20", refuse, "Documentation, RFC 9637"),
	entry("5f00::/16", refuse, "Segment Routing (SRv6) SIDs, RFC 9602"),
	entry("fc00::/7", refuse, "Unique-Local, RFC 4193, RFC 8190"),
	entry("fe80::/10", refuse, "Link-Local Unicast, RFC 4291"),
	entry("fec0::/10", refuse, "Site-Local (deprecated), RFC 3879"),
	entry("ff00::/8", refuse, "Multicast, RFC 4291 (not unicast)"),
}

// globalUnicast is the only IPv6 space IANA allocates from for global
// unicast (RFC 4291 §2.4); outside it, only the table's carriers are
// allowed. This refuses reserved space the registry does not list.
var globalUnicast = netip.MustParsePrefix("2000::/3")

// GloballyReachable reports whether a may be reached as a public address:
// no entry of the table refuses it (nor, for IPv6, lies it outside global
// unicast), and every IPv4 address it carries is globally reachable too.
func GloballyReachable(a netip.Addr) bool {
	a = a.WithZone("") // a zoned address would match no prefix
	if a.Is4() {
		s, ok := lookup(specialIPv4, a)
		return !ok || s.reach == allow
	}
	if !a.Is6() {
		return false
	}
	s, ok := lookup(specialIPv6, a)
	switch {
	case !ok:
		return globalUnicast.Contains(a)
	case s.reach == viaIPv4:
		for _, v4 := range s.ipv4(a.As16()) {
			if !GloballyReachable(v4) {
				return false
			}
		}
		return true
	}
	return s.reach == allow
}

// lookup returns the most specific entry of table that contains a.
func lookup(table []special, a netip.Addr) (special, bool) {
	var best special
	found := false
	for _, s := range table {
		if s.prefix.Contains(a) && (!found || s.prefix.Bits() > best.prefix.Bits()) {
			best, found = s, true
		}
	}
	return best, found
}

// last32 is the IPv4 address in the last 32 bits (mapped, NAT64 /96).
func last32(a [16]byte) []netip.Addr {
	return []netip.Addr{netip.AddrFrom4([4]byte(a[12:16]))}
}

// sixToFour is the 6to4 router's IPv4 address, bits 16-47 (RFC 3056 §2).
func sixToFour(a [16]byte) []netip.Addr {
	return []netip.Addr{netip.AddrFrom4([4]byte(a[2:6]))}
}

// teredo is the Teredo server's IPv4 address (bits 32-63) and the client's
// (the last 32 bits, inverted) (RFC 4380 §4): traffic to the address goes
// to the client's IPv4 address, and to the server's while a path is set up.
func teredo(a [16]byte) []netip.Addr {
	var client [4]byte
	for i := range client {
		client[i] = a[12+i] ^ 0xff
	}
	return []netip.Addr{netip.AddrFrom4([4]byte(a[4:8])), netip.AddrFrom4(client)}
}
