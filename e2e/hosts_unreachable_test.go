package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"onion/internal/launch"
	"onion/internal/testhosts"
)

// notReachableMsg is what a relay logs when its reachability self-test
// fails before its first publication (relay/reach_run.go).
const notReachableMsg = `msg="relay is not reachable at its address: not publishing until it is"`

// unreachableRelay is relay7 of TestHosts: every other host but the
// directory's is refused at its relay port (testhosts BlockInbound), so
// its self-test fails, and it must neither publish nor carry a circuit.
type unreachableRelay struct {
	host *testhosts.Host
	p    *proc
	seen chan struct{} // closed at its first "not reachable" line
}

// startUnreachable adds relay7 and starts it without waiting: its first
// self-test round fails within a second or two of its start, and the
// UnreachableRelay subtest awaits that line at the end. Call it after
// startRelays, so that it finds listed relays to test through.
func (n *hostsNet) startUnreachable(t *testing.T) *unreachableRelay {
	h := n.net.MustAdd(t, "relay7", false)
	var others []*testhosts.Host
	for _, o := range n.net.Hosts() {
		if o != h && o != n.dir {
			others = append(others, o)
		}
	}
	if err := h.BlockInbound(relayPort, others...); err != nil {
		t.Fatal(err)
	}
	addr := h.AddrPort(relayPort)
	args := []string{"relay", "--listen", addr, "--address", addr, "--directory", n.dirURL4,
		"--directory-key", n.key, "--nickname", h.Name, "--data-dir", filepath.Join(t.TempDir(), h.Name),
		"--exit-policy", "accept-all", "--publish-interval", hostsPublish.String()}
	u := &unreachableRelay{host: h, seen: make(chan struct{})}
	u.p = startUnready(t, h, h.Name, notReachableMsg, u.seen, args...)
	return u
}

// startUnready runs `onion args...` in host h like startIn, but returns at
// once: the process never prints its ready line. seen is closed at the
// first line of output that holds line. A ready line, or an exit before
// the test ends, fails the test.
func startUnready(t *testing.T, h *testhosts.Host, name, line string, seen chan struct{}, args ...string) *proc {
	t.Helper()
	c := launch.New(name, "ip")
	c.Cmd = h.Command(onionBinary(t), args...)
	p := &proc{Child: c, out: &logWriter{t: t}}
	p.Output = &lineSignal{w: p.out, line: line, seen: seen}
	p.Prefix = fmt.Sprintf("%-10s| ", name)
	p.ReadyTimeout = time.Hour // never: the test stops it first
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if ready, err := p.Start(ctx); err == nil {
			t.Errorf("%s printed a ready line: %v", name, ready)
		} else if ctx.Err() == nil {
			t.Errorf("%s: %v", name, err)
		}
	}()
	t.Cleanup(func() {
		cancel() // Start stops the process with SIGTERM
		<-done
	})
	return p
}

// lineSignal passes output on to w and closes seen at the first line
// holding line.
type lineSignal struct {
	w    *logWriter
	line string
	seen chan struct{}
	once sync.Once
}

func (s *lineSignal) Write(p []byte) (int, error) {
	if strings.Contains(string(p), s.line) {
		s.once.Do(func() { close(s.seen) })
	}
	return s.w.Write(p)
}

// check runs after the other subtests' downloads: relay7 said it is not
// reachable, never published, is not listed, and no circuit of the
// proxy's, now or ever built (its log), went through it.
func (u *unreachableRelay) check(t *testing.T, n *hostsNet) {
	select {
	case <-u.seen:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s never logged that it is not reachable", u.host.Name)
	}
	if n.listed(t, u.host.AddrPort(relayPort)) {
		t.Errorf("the directory lists %s, which no relay can reach", u.host.Name)
	}
	// Its ready line would follow a publication; startUnready fails on it.
	for _, msg := range []string{"publishing untested", "self-test passed"} {
		if u.p.out.contains(msg) {
			t.Errorf("%s logged %q: its self-test did not fail", u.host.Name, msg)
		}
	}
	for _, c := range n.circuits(t) {
		for _, hop := range c.Path {
			if hop.Nickname == u.host.Name || hop.Address == u.host.AddrPort(relayPort) {
				t.Errorf("proxy circuit %d goes through %s", c.ID, u.host.Name)
			}
		}
	}
	n.prxOut.mu.Lock()
	defer n.prxOut.mu.Unlock()
	built := 0
	for _, l := range n.prxOut.lines {
		if m := builtPath.FindStringSubmatch(l); m != nil {
			built++
			if slices.Contains(strings.Fields(m[1]), u.host.Name) {
				t.Errorf("the proxy built a circuit through %s: %s", u.host.Name, l)
			}
		}
	}
	if built == 0 {
		t.Error("the proxy's log holds no \"circuit built\" line to check")
	}
	t.Logf("%d circuits built by the proxy, none through %s", built, u.host.Name)
}
