package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onion/internal/testhosts"
)

// exitHostsName gives the exit relay's host (the IPv6-only relay6) an
// /etc/hosts of its own mapping a name unique to this run to the
// destination's IPv4 address, and a route to that one IPv4 address, and
// returns the name. torsocks resolves names to IPv4 only (it refuses
// AF_INET6 lookups, and an IPv6 RESOLVED answer fails with "Resolve
// destination buffer too small"); the route reaches no relay, so relay6
// stays a last hop only. It must run before the exit starts: `ip netns
// exec` bind-mounts the file when it starts a command. The machine's
// /etc/hosts is never touched.
func (n *hostsNet) exitHostsName(t *testing.T) string {
	t.Helper()
	exit := n.relays[5]
	name := fmt.Sprintf("dest-%d.onion-test", os.Getpid())
	text := "127.0.0.1 localhost\n::1 localhost\n" + n.dest.IPv4.String() + " " + name + "\n"
	if err := exit.SetHosts(text); err != nil {
		t.Fatalf("exit host's /etc/hosts: %v", err)
	}
	if err := exit.RouteIPv4To(n.dest); err != nil {
		t.Fatal(err)
	}
	return name
}

// testTorsocksByName: torsocks curl on the client host fetches the blob by
// a name that only the exit's host resolves (exitHostsName), through the
// proxy host's SOCKS port (not loopback, which torsocks would reach
// directly), with SOCKS credentials from torsocks' config; the body is
// checked byte for byte. Budget: 10 s (about 1 s measured).
func (n *hostsNet) testTorsocksByName(t *testing.T, name string) {
	needTool(t, "torsocks")
	// Only the exit's host knows the name: not the client's, the proxy's
	// nor this machine's (files only: the machine's name server is not
	// reachable from the hosts, and a made-up name is in no DNS).
	if out, err := n.relays[5].Command("getent", "-s", "files", "hosts", name).Output(); err != nil || !strings.HasPrefix(string(out), n.dest.IPv4.String()+" ") {
		t.Fatalf("getent hosts %s on the exit's host: %q, %v", name, out, err)
	}
	for _, h := range []*testhosts.Host{n.client, n.prx} {
		if out, err := h.Command("getent", "-s", "files", "hosts", name).Output(); err == nil {
			t.Fatalf("%s resolves on host %s: %q", name, h.Name, out)
		}
	}
	if out, err := exec.Command("getent", "-s", "files", "hosts", name).Output(); err == nil {
		t.Fatalf("%s resolves on this machine: %q", name, out)
	}

	conf := filepath.Join(t.TempDir(), "torsocks.conf")
	text := fmt.Sprintf("TorAddress %s\nTorPort %d\nSOCKS5Username torsocks\nSOCKS5Password x\n", n.prx.Addr(), socksPort)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	const size = 1 << 20
	out := filepath.Join(t.TempDir(), "blob")
	url := fmt.Sprintf("http://%s:%d/blob", name, blobPort)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := time.Now()
	cmd := n.client.CommandContext(ctx, "torsocks", "curl", "-sS", "--fail", "-o", out, "-r", fmt.Sprintf("0-%d", size-1), url)
	cmd.Env = append(noProxyEnv(), "TORSOCKS_CONF_FILE="+conf)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("torsocks curl %s: %v\n%s", url, err, stderr.String())
	}
	n.blob.checkPrefix(t, out, size)
	t.Logf("torsocks curl %d bytes by a name only the exit resolves: %v", size, time.Since(start).Round(time.Millisecond))
}

// noProxyEnv is this process's environment without *_proxy variables,
// which curl would otherwise follow.
func noProxyEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasSuffix(strings.ToLower(k), "_proxy") {
			env = append(env, kv)
		}
	}
	return env
}
