package relay

// The address a relay publishes (PROTOCOL.md §7.1): the one every other
// relay and client dials, so it must be one they can dial. A listener on
// every interface (0.0.0.0, ::) has no such address of its own.

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"onion/onion"
)

// maxNameLen is a DNS name's longest text form (RFC 1035 §2.3.4).
const maxNameLen = 253

// errNeedAddress refuses to publish a listener's unspecified address.
var errNeedAddress = errors.New("relay: listening on every interface gives no address that others can dial: " +
	"give the address to publish (onion relay --address HOST:PORT, Config.Address), " +
	"the public IP address or name and port that other relays and clients reach this one at")

// CheckAddress checks an address to publish: HOST:PORT where HOST is an IP
// address (IPv6 in brackets) or a host name, not the unspecified address,
// and PORT is 1–65535 written without leading zeros. Its errors say what
// is wrong and show the expected form.
func CheckAddress(addr string) error {
	const form = "want HOST:PORT, e.g. 203.0.113.5:9001, [2001:db8::5]:9001 or relay.example.org:9001"
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		if strings.Count(addr, ":") > 1 && !strings.HasPrefix(addr, "[") {
			return fmt.Errorf("address %q: an IPv6 address goes in brackets: [2001:db8::5]:9001", addr)
		}
		return fmt.Errorf("address %q: %s", addr, form)
	}
	if _, _, err := onion.SplitHostPort(addr); err != nil {
		return fmt.Errorf("address %q: port must be 1-65535 without leading zeros; %s", addr, form)
	}
	if strings.HasPrefix(addr, "[") != strings.Contains(host, ":") {
		return fmt.Errorf("address %q: brackets go around an IPv6 address and only around one; %s", addr, form)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		switch {
		case ip.Zone() != "":
			return fmt.Errorf("address %q: a zone (%%%s) means something only on this machine", addr, ip.Zone())
		case ip.Unmap().IsUnspecified():
			return fmt.Errorf("address %q: %s is no one's address; %s", addr, host, form)
		}
		return nil
	}
	if !isHostName(host) {
		return fmt.Errorf("address %q: %q is neither an IP address nor a host name; %s", addr, host, form)
	}
	return nil
}

// isHostName reports whether s is a DNS name: dot-separated labels of
// letters, digits and inner hyphens, each 1–63 characters, at most 253 in
// all, and not all digits (that would be a malformed IPv4 address).
func isHostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > maxNameLen {
		return false
	}
	digits := true
	for label := range strings.SplitSeq(s, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			switch {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-':
				digits = false
			default:
				return false
			}
		}
	}
	return !digits
}

// publishedAddress is the address Run publishes: cfg.Address, or else the
// listener's, which must then name one interface.
func publishedAddress(configured string, ln net.Addr) (string, error) {
	if configured != "" {
		return configured, CheckAddress(configured)
	}
	ap, err := netip.ParseAddrPort(ln.String())
	if err == nil && ap.Addr().Unmap().IsUnspecified() {
		return "", fmt.Errorf("%w (listening on %s)", errNeedAddress, ln)
	}
	return ln.String(), nil
}
