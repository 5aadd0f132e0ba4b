package relay

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"

	"onion/internal/netscope"
)

// Policy decides which destinations an exit may connect to. It is applied
// to the resolved address, so a hostname cannot smuggle a forbidden IP past it.
type Policy interface {
	Allow(addr netip.AddrPort) bool
	String() string
}

type policyFunc struct {
	name  string
	allow func(netip.AddrPort) bool
}

func (p policyFunc) Allow(a netip.AddrPort) bool { return p.allow(a) }
func (p policyFunc) String() string              { return p.name }

// AcceptAll allows every destination. It suits a network on one machine.
var AcceptAll Policy = policyFunc{"accept-all", func(netip.AddrPort) bool { return true }}

// RejectPrivate refuses every address that is not globally reachable, as
// the IANA special-purpose registries mark them (loopback, private,
// link-local, CGNAT, documentation, benchmarking, reserved...), multicast,
// and IPv6 outside 2000::/3; addresses that carry an IPv4 address
// (IPv4-mapped, NAT64, 6to4, Teredo) are judged by that address. The table
// is internal/netscope, which the proxy's URL check shares.
var RejectPrivate Policy = policyFunc{"reject-private", func(a netip.AddrPort) bool {
	return netscope.GloballyReachable(a.Addr())
}}

// ParsePolicy reads a policy as given on the command line: a name,
// accept-all or reject-private, or a comma-separated list of rules in a
// subset of Tor's syntax, "accept|reject ADDR[/BITS]:PORT[-PORT]" (see
// parseRules).
func ParsePolicy(s string) (Policy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "accept-all":
		return AcceptAll, nil
	case "reject-private", "":
		return RejectPrivate, nil
	}
	return parseRules(s)
}

// errPolicy marks a dial refused by the exit policy.
var errPolicy = errors.New("relay: destination refused by exit policy")

// policyDialer checks every address the dialer is about to connect to,
// after name resolution.
func policyDialer(p Policy) *net.Dialer {
	return &net.Dialer{
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %v", errPolicy, err)
			}
			if !p.Allow(ap) {
				return errPolicy
			}
			return nil
		},
	}
}
