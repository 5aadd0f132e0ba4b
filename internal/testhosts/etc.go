package testhosts

import (
	"fmt"
	"os"
	"path/filepath"
)

// etcDir is where `ip netns exec` finds a namespace's own configuration:
// each file in /etc/netns/NS is bind-mounted over its namesake in /etc for
// the command it runs in namespace NS.
const etcDir = "/etc/netns"

// SetHosts gives host h an /etc/hosts of its own holding text: commands
// that Command starts from now on see it in place of the machine's, which
// is left untouched (Go code run with Do, Listen or Dial does not). Close
// removes it, as does RemoveLeftovers after a crash.
func (h *Host) SetHosts(text string) error {
	dir := filepath.Join(etcDir, h.NS)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "hosts"), []byte(text), 0o644)
}

// removeEtc deletes namespace name's files under etcDir, then etcDir
// itself if that left it empty (best effort: other runs may use it).
func removeEtc(name string) error {
	err := os.RemoveAll(filepath.Join(etcDir, name))
	_ = os.Remove(etcDir)
	return err
}

// RouteIPv4To lets an IPv6-only host h reach host to's IPv4 address and no
// other: h takes its plan's IPv4 address as a /32, with a route to that
// one address. Addr and IPv4 still say h is IPv6-only. (A program that
// resolves names to IPv4 only, as torsocks does, can then reach to through
// an IPv6-only exit without that exit reaching any other IPv4 host.)
func (h *Host) RouteIPv4To(to *Host) error {
	if h.IPv4.IsValid() || !to.IPv4.IsValid() {
		return fmt.Errorf("testhosts: a route from IPv6-only %s to dual-stack %s only", h.Name, to.Name)
	}
	src := IPv4(h.N).String()
	return runAll([][]string{
		{"-n", h.NS, "addr", "add", src + "/32", "dev", "eth0"},
		{"-n", h.NS, "route", "add", to.IPv4.String() + "/32", "dev", "eth0", "src", src},
	})
}
