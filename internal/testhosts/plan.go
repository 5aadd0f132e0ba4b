package testhosts

import (
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// Address plan and names: pure functions, tested without root.

// MaxHosts is how many hosts one Net holds: host numbers are one byte.
const MaxHosts = 254

// namePrefix starts the name of every namespace this package creates.
const namePrefix = "onth-"

// IPv4 is host n's IPv4 address, 10.n.0.1: one /16 per host.
func IPv4(n int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(n), 0, 1}) }

// IPv6 is host n's IPv6 address, fd00::n (a unique local address).
func IPv6(n int) netip.Addr {
	var a [16]byte
	a[0] = 0xfd
	a[15] = byte(n)
	return netip.AddrFrom16(a)
}

// LAN prefixes: every host shares one link, so each address is
// configured with the prefix of the whole LAN.
var (
	lan4 = netip.MustParsePrefix("10.0.0.0/8")
	lan6 = netip.MustParsePrefix("fd00::/64")
)

// ifaceAddr is addr with the LAN's prefix length, as `ip addr add` wants.
func ifaceAddr(addr netip.Addr) string {
	if addr.Is4() {
		return netip.PrefixFrom(addr, lan4.Bits()).String()
	}
	return netip.PrefixFrom(addr, lan6.Bits()).String()
}

var netSeq atomic.Uint32

// newPrefix is the name prefix of one Net: the package prefix, this
// process's id (so leftovers of a dead process can be told apart from a
// live run's) and a sequence number within the process.
func newPrefix() string {
	return fmt.Sprintf("%s%d-%d-", namePrefix, os.Getpid(), netSeq.Add(1))
}

// ownerPID is the process id in a namespace name made by this package.
func ownerPID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, namePrefix)
	if !ok {
		return 0, false
	}
	pid, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(pid)
	return n, err == nil && n > 0
}

// validHostName: host names become part of namespace names (file names
// under /run/netns), so only a safe set of characters.
func validHostName(name string) error {
	if name == "" || len(name) > 32 {
		return fmt.Errorf("testhosts: host name %q: want 1 to 32 characters", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Errorf("testhosts: host name %q: only a-z, 0-9 and -", name)
		}
	}
	return nil
}

// vethName is the bridge end of host n's veth, inside the bridge's
// namespace (the host's end is eth0 in its own).
func vethName(n int) string { return "v" + strconv.Itoa(n) }
