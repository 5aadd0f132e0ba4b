package pathsel

// The path rules: subnets and families (PROTOCOL.md §8.5).

import (
	"net/netip"
	"slices"
	"strings"

	"onion/onion"
)

// Subnet is the network a relay address counts in for the subnet rule:
// "4:a.b" for an IPv4 address (its /16; an IPv4-mapped IPv6 address counts
// as IPv4), "6:" and the /32 prefix for IPv6, else "name:" and the
// lower-cased host name.
func Subnet(address string) string {
	host, _, err := onion.SplitHostPort(address)
	if err != nil {
		host = address
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return "name:" + strings.ToLower(host)
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		p, _ := ip.Prefix(16)
		return "4:" + p.String()
	}
	p, _ := ip.Prefix(32)
	return "6:" + p.String()
}

// SameFamily reports whether a and b declare each other as family. One
// side's declaration does not count: anyone can name any relay.
func SameFamily(a, b *onion.RelayDescriptor) bool {
	return slices.Contains(a.Family, b.Fingerprint()) && slices.Contains(b.Family, a.Fingerprint())
}

// Compatible reports whether a and b may share a path: different relays,
// not of one family, and (unless lab) not of one subnet.
func Compatible(a, b *onion.RelayDescriptor, lab bool) bool {
	fa, fb := a.Fingerprint(), b.Fingerprint()
	if fa == fb {
		return false
	}
	if !lab && Subnet(a.Address) == Subnet(b.Address) {
		return false
	}
	return !(slices.Contains(a.Family, fb) && slices.Contains(b.Family, fa))
}

// node is a relay as indexed by a List.
type node struct {
	d      onion.RelayDescriptor
	fp     string
	subnet string
	family map[string]bool // declared, one-sided
}

func newNode(d onion.RelayDescriptor) node {
	n := node{d: d, fp: d.Fingerprint(), subnet: Subnet(d.Address)}
	if len(d.Family) > 0 {
		n.family = make(map[string]bool, len(d.Family))
		for _, fp := range d.Family {
			n.family[fp] = true
		}
	}
	return n
}

// compatible is Compatible on indexed relays.
func (n *node) compatible(o *node, lab bool) bool {
	if n.fp == o.fp || (!lab && n.subnet == o.subnet) {
		return false
	}
	return !(n.family[o.fp] && o.family[n.fp])
}
