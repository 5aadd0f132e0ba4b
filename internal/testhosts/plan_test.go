package testhosts

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
)

func TestAddressPlan(t *testing.T) {
	seen := map[string]bool{}
	for n := 1; n <= MaxHosts; n++ {
		v4, v6 := IPv4(n), IPv6(n)
		if !lan4.Contains(v4) || !lan6.Contains(v6) {
			t.Fatalf("host %d: %v %v outside the LAN", n, v4, v6)
		}
		if b := v4.As4(); b[1] != byte(n) || b[2] != 0 || b[3] != 1 {
			t.Fatalf("host %d: IPv4 %v, want 10.%d.0.1 (one /16 per host)", n, v4, n)
		}
		for _, a := range []string{v4.String(), v6.String()} {
			if seen[a] {
				t.Fatalf("address %s given twice", a)
			}
			seen[a] = true
		}
	}
	if got := IPv6(10).String(); got != "fd00::a" {
		t.Errorf("IPv6(10) = %s, want fd00::a", got)
	}
	if got := ifaceAddr(IPv4(3)); got != "10.3.0.1/8" {
		t.Errorf("ifaceAddr(IPv4(3)) = %s", got)
	}
	if got := ifaceAddr(IPv6(3)); got != "fd00::3/64" {
		t.Errorf("ifaceAddr(IPv6(3)) = %s", got)
	}
}

func TestHostAddr(t *testing.T) {
	dual := &Host{N: 2, IPv4: IPv4(2), IPv6: IPv6(2)}
	v6 := &Host{N: 3, IPv6: IPv6(3)}
	if got := dual.AddrPort(9001); got != "10.2.0.1:9001" {
		t.Errorf("dual-stack AddrPort = %s", got)
	}
	if got := v6.AddrPort(9001); got != "[fd00::3]:9001" {
		t.Errorf("IPv6-only AddrPort = %s", got)
	}
}

func TestNames(t *testing.T) {
	p1, p2 := newPrefix(), newPrefix()
	if p1 == p2 || !strings.HasPrefix(p1, namePrefix) {
		t.Fatalf("prefixes %q %q: want distinct, starting %q", p1, p2, namePrefix)
	}
	if pid, ok := ownerPID(p1 + "relay1"); !ok || pid != os.Getpid() {
		t.Errorf("ownerPID(%q) = %d %v, want %d", p1+"relay1", pid, ok, os.Getpid())
	}
	for _, name := range []string{"", "other-12-1-x", "onth-", "onth-x-1-a", "onth-0-1-a", "onth-12"} {
		if pid, ok := ownerPID(name); ok {
			t.Errorf("ownerPID(%q) = %d: not one of ours", name, pid)
		}
	}
	for _, name := range []string{"relay1", "dir", "hidden-server"} {
		if err := validHostName(name); err != nil {
			t.Errorf("validHostName(%q): %v", name, err)
		}
	}
	for _, name := range []string{"", "Relay", "a/b", "a b", "../x", strings.Repeat("a", 33)} {
		if validHostName(name) == nil {
			t.Errorf("validHostName(%q) accepted", name)
		}
	}
	if got := vethName(254); len(got) > 15 {
		t.Errorf("veth name %q longer than IFNAMSIZ-1", got)
	}
}

func TestCommand(t *testing.T) {
	h := &Host{NS: "onth-1-1-a"}
	got := fmt.Sprint(h.Command("curl", "-s").Args)
	if got != "[ip netns exec onth-1-1-a curl -s]" {
		t.Errorf("Command args %s", got)
	}
}

func TestSetupCommands(t *testing.T) {
	h := &Host{NS: "ns", N: 4, IPv6: IPv6(4)}
	cmds := fmt.Sprint(h.setup("br"))
	if strings.Contains(cmds, "10.4.0.1") || !strings.Contains(cmds, "fd00::4/64") {
		t.Errorf("IPv6-only host setup: %s", cmds)
	}
	h.IPv4 = IPv4(4)
	if cmds := fmt.Sprint(h.setup("br")); !strings.Contains(cmds, "10.4.0.1/8") {
		t.Errorf("dual-stack host setup lacks 10.4.0.1/8: %s", cmds)
	}
}

func TestBlockCommands(t *testing.T) {
	h := &Host{NS: "ns", N: 7, IPv4: IPv4(7), IPv6: IPv6(7)}
	got := fmt.Sprint(h.blockCmds("other", 9001))
	want := "[[-n other -6 rule add to fd00::7/128 ipproto tcp dport 9001 prohibit] [-n other -4 rule add to 10.7.0.1/32 ipproto tcp dport 9001 prohibit]]"
	if got != want {
		t.Errorf("blockCmds = %s\nwant %s", got, want)
	}
	h.IPv4 = netip.Addr{}
	if got := fmt.Sprint(h.blockCmds("other", 9001)); strings.Contains(got, "10.7.0.1") {
		t.Errorf("IPv6-only host: %s", got)
	}
}
