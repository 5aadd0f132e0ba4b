package hiddenserver

// Forwards: a virtual port of the service relayed to a local TCP address or
// Unix socket, as Tor's HiddenServicePort (PROTOCOL.md §12.4). Targets are
// judged here, once, when the service starts: an IP literal on loopback (or
// inside a prefix the operator allowed explicitly), "localhost" (taken as
// 127.0.0.1, never looked up), or unix:/path. No name is ever resolved: a
// hidden server must not leak, through DNS, which names it serves.

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// MaxForwards bounds the forwards of one service.
const MaxForwards = 256

// Forward relays the streams to one virtual port to a local target.
type Forward struct {
	Port    uint16 // the virtual port clients name in BEGIN
	Network string // "tcp" or "unix"
	Addr    string // IP:PORT for tcp, a path for unix
}

func (f Forward) String() string {
	if f.Network == "unix" {
		return fmt.Sprintf("%d=unix:%s", f.Port, f.Addr)
	}
	return fmt.Sprintf("%d=%s", f.Port, f.Addr)
}

// ParseForward reads "VPORT=TARGET" (the --forward flag). allow lists the
// prefixes, besides loopback, that a TCP target may lie in.
func ParseForward(s string, allow []netip.Prefix) (Forward, error) {
	port, target, ok := strings.Cut(s, "=")
	if !ok {
		return Forward{}, fmt.Errorf("forward %q: want VPORT=HOST:PORT or VPORT=unix:/PATH", s)
	}
	return parseForward(port, target, allow)
}

func parseForward(port, target string, allow []netip.Prefix) (Forward, error) {
	p, err := strconv.ParseUint(strings.TrimSpace(port), 10, 16)
	if err != nil || p == 0 {
		return Forward{}, fmt.Errorf("forward: virtual port %q is not 1-65535", port)
	}
	f := Forward{Port: uint16(p)}
	target = strings.TrimSpace(target)
	if path, ok := strings.CutPrefix(target, "unix:"); ok {
		if !filepath.IsAbs(path) {
			return Forward{}, fmt.Errorf("forward %d: unix socket path %q must be absolute", p, path)
		}
		f.Network, f.Addr = "unix", filepath.Clean(path)
		return f, nil
	}
	addr, err := checkTarget(target, allow)
	if err != nil {
		return Forward{}, fmt.Errorf("forward %d: %w", p, err)
	}
	f.Network, f.Addr = "tcp", addr
	return f, nil
}

// checkTarget judges HOST:PORT and returns it with "localhost" replaced by
// 127.0.0.1.
func checkTarget(target string, allow []netip.Prefix) (string, error) {
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return "", fmt.Errorf("target %q: want HOST:PORT (IPv6 in brackets) or unix:/PATH", target)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return "", fmt.Errorf("target %q: port is not 1-65535", target)
	}
	if strings.EqualFold(host, "localhost") {
		host = "127.0.0.1"
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return "", fmt.Errorf("target %q: give an IP address or localhost (names are never looked up)", target)
	}
	a = a.Unmap()
	if !a.IsLoopback() && !allowed(a, allow) {
		return "", fmt.Errorf("target %q is not on loopback; allow its network with --forward-allow PREFIX", target)
	}
	return net.JoinHostPort(a.String(), port), nil
}

func allowed(a netip.Addr, allow []netip.Prefix) bool {
	for _, p := range allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParsePrefixes reads --forward-allow values: CIDR prefixes or single IPs.
func ParsePrefixes(ss []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range ss {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("--forward-allow %q: want an IP address or a PREFIX/BITS", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// LoadPorts reads a service directory's ports file: one "VPORT TARGET" per
// line (as Tor's HiddenServicePort), # comments.
func LoadPorts(path string, allow []netip.Prefix) ([]Forward, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Forward
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want VPORT TARGET", path, n)
		}
		fw, err := parseForward(fields[0], fields[1], allow)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, fw)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, CheckForwards(out)
}

// CheckForwards refuses a port forwarded twice and too many forwards.
func CheckForwards(fs []Forward) error {
	if len(fs) > MaxForwards {
		return fmt.Errorf("more than %d forwards", MaxForwards)
	}
	seen := map[uint16]bool{}
	for _, f := range fs {
		if seen[f.Port] {
			return fmt.Errorf("virtual port %d forwarded twice", f.Port)
		}
		seen[f.Port] = true
	}
	return nil
}
