package onion

// Which hosts a URL reply may name (PROTOCOL.md §12.3). A client opens a URL
// reply in the user's ordinary browser, outside the onion network, so a URL
// naming the user's own machine or network would let any hidden service send
// requests to local and LAN web interfaces (routers, printers, development
// servers) from inside them. Nothing is resolved here, so the host is judged
// as a browser will read it: IP literals in every spelling the WHATWG URL
// standard accepts, and names that only a local resolver can answer.
// Public names that happen to resolve to private addresses still pass.

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"onion/internal/netscope"
)

// ErrLocalURL is returned by CheckURL for a URL whose host is the user's
// machine or a private network.
var ErrLocalURL = errors.New("onion: URL names a local or private host")

// localNames are names (and the suffixes of names) that public DNS never
// answers: reserved for the local machine or for private networks, or in
// common private use. Refusing them cannot refuse a public site. A name of
// one label (no dot) is refused as well: a resolver completes it with the
// local search domain.
var localNames = []string{"localhost", "localdomain", "local", "internal", "home.arpa", "lan", "home", "corp", "intranet"}

// checkURLHost judges the host of a parsed URL: host is u.Host without its
// port (u.Hostname()), bracketed tells whether it was an IPv6 literal.
func checkURLHost(host string, bracketed bool) error {
	if bracketed {
		a, err := netip.ParseAddr(host)
		if err != nil || a.Zone() != "" {
			return fmt.Errorf("URL host [%s]: not a plain IPv6 address", host)
		}
		return checkAddr(a)
	}
	host = strings.ToLower(host)
	if !plainHost(host) {
		return fmt.Errorf("URL host %q: only letters, digits, '-', '_' and '.' between non-empty labels", host)
	}
	host = strings.TrimSuffix(host, ".") // "name." is the same host as "name"
	if a, ok, err := webIPv4(host); err != nil || ok {
		if err != nil {
			return fmt.Errorf("URL host %q: %w", host, err)
		}
		return checkAddr(a)
	}
	if !strings.Contains(host, ".") {
		return fmt.Errorf("%w: %s has no domain", ErrLocalURL, host)
	}
	for _, n := range localNames {
		if host == n || strings.HasSuffix(host, "."+n) {
			return fmt.Errorf("%w: %s", ErrLocalURL, host)
		}
	}
	return nil
}

// plainHost: only the characters of a DNS name or an IPv4 literal (which
// keeps out percent-encoded bytes that a browser would decode into other
// characters), and no empty label but a final one.
func plainHost(h string) bool {
	if h == "" || h[0] == '.' || strings.Contains(h, "..") {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func checkAddr(a netip.Addr) error {
	if localAddr(a) {
		return fmt.Errorf("%w: %s", ErrLocalURL, a)
	}
	return nil
}

// localAddr reports whether a is not a public address: the IANA
// special-purpose registries' ranges that are not globally reachable
// (loopback, private, link-local, CGNAT, ...), also as IPv4 carried inside
// IPv6 (internal/netscope, the exit policy's table).
func localAddr(a netip.Addr) bool { return !netscope.GloballyReachable(a.Unmap()) }

// webIPv4 reads host as the WHATWG URL standard's IPv4 parser does, so that
// every spelling a browser takes for an address is judged as that address:
// 1 to 4 dot-separated numbers, each decimal, octal (leading 0) or hex (0x),
// the last one filling the remaining bytes ("127.1", "2130706433",
// "0x7f.1", "0177.0.0.1"). ok is false when host is a name (its last label
// is not a number); err is set when it looks like an address but is not
// one, which a browser refuses as well.
func webIPv4(host string) (a netip.Addr, ok bool, err error) {
	parts := strings.Split(host, ".")
	if !endsInNumber(parts[len(parts)-1]) {
		return netip.Addr{}, false, nil
	}
	if len(parts) > 4 {
		return netip.Addr{}, false, errors.New("more than four numbers")
	}
	var v uint64
	for i, p := range parts {
		n, isNum := webIPv4Number(p)
		last := i == len(parts)-1
		if !isNum || !last && n > 255 || last && n >= 1<<(8*(5-len(parts))) {
			return netip.Addr{}, false, errors.New("not an IPv4 address")
		}
		if last {
			v = v<<(8*(5-len(parts))) | n
		} else {
			v = v<<8 | n
		}
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true, nil
}

// endsInNumber is the WHATWG test of a host's last label: all digits (even
// an invalid octal one such as "08") or any number webIPv4Number takes.
func endsInNumber(last string) bool {
	if last != "" && strings.Trim(last, "0123456789") == "" {
		return true
	}
	_, ok := webIPv4Number(last)
	return ok
}

// webIPv4Number parses one part of a WHATWG IPv4 address. A number too
// large for 64 bits is a number still (the standard has no size limit),
// returned as the largest value so that it fails every range check.
func webIPv4Number(s string) (uint64, bool) {
	base := 10
	switch {
	case strings.HasPrefix(s, "0x"):
		base, s = 16, s[2:]
		if s == "" {
			return 0, true // "0x" alone is zero
		}
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	n, err := strconv.ParseUint(s, base, 64)
	if errors.Is(err, strconv.ErrRange) {
		return math.MaxUint64, true
	}
	return n, err == nil
}
