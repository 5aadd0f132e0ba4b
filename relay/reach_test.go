package relay_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"onion/onion"
	"onion/onion/oniontest"
	"onion/relay"
)

// The relays of these tests: the one under test at testedAddr, a listed
// one (the tester) at testerAddr.
const (
	testedAddr = "192.0.2.1:9001"
	testerAddr = "192.0.2.2:9001"
)

// TestReachableThenPublished: a relay with another one listed tests that
// it is reachable at its address (through the other, which dials it back)
// before it publishes; it then publishes, reports ready, and says so.
func TestReachableThenPublished(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, list := newIPNet(), &relayList{}
		startIPRelay(t, n, list, "tester", testerAddr)
		dir, logs := &flakyDirectory{}, oniontest.NewLogs(t)
		ready, stop := runRelay(t, testedConfig(n, list, dir, logs, testedAddr, testedAddr))
		if info := <-ready; !info.Reachable {
			t.Errorf("ready with %+v, want Reachable", info)
		}
		if len(logs.Find("reachability self-test passed: a listed relay reached this one at its address", map[string]string{"address": testedAddr})) != 1 {
			t.Error("no log line saying the self-test passed")
		}
		if got := dir.accepted(); len(got) != 1 || got[0].Address != testedAddr {
			t.Errorf("directory accepted %+v", got)
		}
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// TestUnreachableNotPublished: a relay whose address reaches nothing
// (nobody listens there) says so in a warning that names the address and
// what to check, and tests again after 5 s, then 10 s, without publishing
// or reporting ready. Once the address leads to it, the next test passes
// and it publishes.
func TestUnreachableNotPublished(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, list := newIPNet(), &relayList{}
		startIPRelay(t, n, list, "tester", testerAddr)
		dir, logs := &flakyDirectory{}, oniontest.NewLogs(t)
		// The address published is not where it listens.
		cfg := testedConfig(n, list, dir, logs, testedAddr, "192.0.2.1:9999")
		ln := cfg.Listener.(*memListener)
		cfg.PublishInterval = time.Second // re-publishing, too, waits for the test to pass
		start := time.Now()
		ready, stop := runRelay(t, cfg)
		time.Sleep(15*time.Second - time.Nanosecond)
		synctest.Wait()
		const warning = "relay is not reachable at its address: not publishing until it is"
		var waits []string
		for _, r := range logs.Find(warning, map[string]string{"address": testedAddr}) {
			if r.Level != slog.LevelWarn || r.Attrs["check"] == "" {
				t.Errorf("warning %v: want level WARN and what to check", r)
			}
			waits = append(waits, r.Attrs["retry_in"])
		}
		if len(waits) != 2 || waits[0] != "5s" || waits[1] != "10s" {
			t.Errorf("unreachable warnings waited %v, want [5s 10s]", waits)
		}
		if got := dir.accepted(); len(got) != 0 {
			t.Errorf("an unreachable relay published %+v", got)
		}
		select {
		case info := <-ready:
			t.Fatalf("an unreachable relay reported ready: %+v", info)
		default:
		}

		n.alias(testedAddr, ln) // now the address leads to the relay
		info := <-ready
		if took := time.Since(start); took != 15*time.Second || !info.Reachable {
			t.Errorf("ready after %v with %+v, want 15s and Reachable", took, info)
		}
		if got := dir.accepted(); len(got) != 1 {
			t.Errorf("directory accepted %+v once reachable", got)
		}
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// TestUntestedPublishedThenTested: the first relay of a network (no other
// relay listed) publishes untested at once, saying why; once another relay
// is listed, it tests itself (5 s later) and logs that it passed.
func TestUntestedPublishedThenTested(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, list := newIPNet(), &relayList{}
		dir, logs := &flakyDirectory{}, oniontest.NewLogs(t)
		start := time.Now()
		ready, stop := runRelay(t, testedConfig(n, list, dir, logs, testedAddr, testedAddr))
		if info := <-ready; info.Reachable || time.Since(start) != 0 {
			t.Errorf("ready after %v with %+v, want at once and untested", time.Since(start), info)
		}
		if len(logs.Find("no other relay is listed yet: publishing untested; the reachability self-test runs once one is", nil)) != 1 {
			t.Error("no log line saying the relay publishes untested")
		}
		startIPRelay(t, n, list, "tester", testerAddr)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if len(logs.Find("reachability self-test passed: a listed relay reached this one at its address", nil)) != 1 {
			t.Error("no log line saying the later self-test passed")
		}
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// testedConfig is the config of the relay under test on n, listening at
// listen and published at addr.
func testedConfig(n *ipNet, list *relayList, dir relay.Publisher, logs *oniontest.Logs, addr, listen string) relay.Config {
	keys := oniontest.RelayKeys("tested")
	host, _, _ := net.SplitHostPort(addr)
	return relay.Config{
		Identity: keys.Identity, OnionKey: keys.Onion, Address: addr,
		Listener: n.listen(listen), DialLink: n.dialFrom(host),
		Directory: dir, Relays: list, Logger: logs.Logger(),
	}
}

// startIPRelay serves a relay at addr on n and lists it, keys and all.
func startIPRelay(t *testing.T, n *ipNet, list *relayList, name, addr string) {
	host, _, _ := net.SplitHostPort(addr)
	keys, _, _ := serveRelay(t, name, n.listen(addr), func(cfg *relay.Config) {
		cfg.Address = addr
		cfg.DialLink = n.dialFrom(host)
		cfg.PlainLinks = false // the tested relay's links are TLS
	})
	list.mu.Lock()
	defer list.mu.Unlock()
	list.relays = append(list.relays, onion.RelayDescriptor{Address: addr, IdentityKey: keys.ID(), OnionKey: keys.OnionPub()})
}

// ipNet is an in-memory network whose connections carry the IP address
// of the side that dialled, as the relays' connect-back needs, and that
// runs in a synctest bubble.
type ipNet struct {
	mu  sync.Mutex
	lns map[string]*memListener
}

func newIPNet() *ipNet { return &ipNet{lns: make(map[string]*memListener)} }

// listen is a listener at addr.
func (n *ipNet) listen(addr string) *memListener {
	ln := newMemListener()
	n.alias(addr, ln)
	return ln
}

// alias makes dials to addr reach ln.
func (n *ipNet) alias(addr string, ln *memListener) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lns[addr] = ln
}

// dialFrom dials on n from ip; an address where nothing listens refuses.
func (n *ipNet) dialFrom(ip string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, _, addr string) (net.Conn, error) {
		n.mu.Lock()
		ln := n.lns[addr]
		n.mu.Unlock()
		if ln == nil {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
		}
		ours, theirs := net.Pipe()
		select {
		case ln.conns <- remoteConn{theirs, &net.TCPAddr{IP: net.ParseIP(ip), Port: 40000}}:
			return ours, nil
		case <-ln.done:
		case <-ctx.Done():
		}
		ours.Close()
		theirs.Close()
		return nil, errors.Join(syscall.ECONNREFUSED, ctx.Err())
	}
}

// TestNameAddressUntested: no relay connects back to a host name, so a
// relay published under one is not tested: it publishes at once, warns
// once why, and never tries.
func TestNameAddressUntested(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, list := newIPNet(), &relayList{}
		startIPRelay(t, n, list, "tester", testerAddr)
		dir, logs := &flakyDirectory{}, oniontest.NewLogs(t)
		const name = "relay.example.org:9001"
		ready, stop := runRelay(t, testedConfig(n, list, dir, logs, name, name))
		if info := <-ready; info.Reachable {
			t.Errorf("ready with %+v, want untested", info)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		const warning = "publishing untested: the reachability self-test needs an IP address in --address (relays connect back to IP addresses only)"
		if got := len(logs.Find(warning, map[string]string{"address": name})); got != 1 {
			t.Errorf("%d warnings about the host name in an hour, want 1", got)
		}
		if got := len(logs.Find("could not run the reachability self-test; testing again later", nil)); got != 0 {
			t.Errorf("%d later attempts, want none", got)
		}
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}
