package directory

// Which relay addresses the directory lists (PROTOCOL.md §7.3). Relays
// extend circuits to listed addresses only, so a listed address is one
// every relay can be made to dial: it must not be one of their own
// loopback or LAN addresses.

import (
	"fmt"
	"net/netip"

	"onion/onion"
)

// sharedSpace is 100.64.0.0/10, carrier-grade NAT: private in all but name.
var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

// checkPublicAddress refuses a descriptor address whose host is not a
// public IP address. A host name is refused too: where it points is the
// name's owner's choice, and may change after the check.
func checkPublicAddress(addr string) error {
	host, _, err := onion.SplitHostPort(addr)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("host is a name, not an IP address: where a name points cannot be checked")
	}
	ip = ip.Unmap()
	var kind string
	switch {
	case ip.IsLoopback():
		kind = "loopback"
	case ip.IsUnspecified():
		kind = "unspecified"
	case ip.IsLinkLocalUnicast():
		kind = "link-local"
	case ip.IsPrivate() || sharedSpace.Contains(ip):
		kind = "private"
	case !ip.IsGlobalUnicast():
		kind = "not unicast"
	default:
		return nil
	}
	return fmt.Errorf("%s address", kind)
}
