package relay

// The connect-back: the one exception to "extend only to listed relays"
// (PROTOCOL.md §3.3). A relay that is not listed yet checks that others
// can reach it at the address it publishes by extending a one-hop circuit
// through a listed relay back to itself (reach.go). The listed relay dials
// such an address only if its IP is the IP that the circuit's link comes
// from, and only when the far end of that link created the circuit itself
// (it has no previous relay). So a peer can make a relay dial nothing but
// the peer's own address: no third party, and never the relay's loopback
// or LAN on behalf of a client behind another relay.

import (
	"net"
	"net/netip"
)

// relayCircBit is set in the id of every circuit that a relay creates on
// a link it opened (for an EXTEND, extend.go register), and in no id a
// client picks (circuit.ClientLink counts up from 1). A relay that gets a
// circuit with it set knows that the circuit has a previous relay. A
// client that sets it only forgoes the connect-back; a relay that leaves
// it clear could make the next relay dial only the relay's own address,
// which it can reach itself anyway.
const relayCircBit = 1 << 31

// connectBack reports whether an EXTEND to addr on c is a connect-back: c
// was created by its link's far end (no previous relay) and addr's host is
// an IP address equal to that end's. A host name never is: where it
// points is not this relay's to check.
func (c *relayCirc) connectBack(addr string) bool {
	if c.prevID&relayCircBit != 0 {
		return false
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	target, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	from, err := netip.ParseAddrPort(c.prev.link.RemoteAddr().String())
	if err != nil {
		return false
	}
	if target.Unmap() != from.Addr().Unmap() {
		return false
	}
	c.r.logger.Debug("extending back to the circuit's own peer (reachability test)", "circ", c.prevID)
	return true
}
