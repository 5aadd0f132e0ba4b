package relay_test

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"onion/onion"
	"onion/onion/oniontest"
	"onion/relay"
)

// TestConnectBack: a relay extends to an address that is not listed only
// when it is a connect-back (PROTOCOL.md §3.3): the circuit's link comes
// from that address's IP, and the far end of the link created the circuit
// itself (its id lacks the bit relays set). It then dials the address
// and the circuit reaches the relay there, listed or not. Any other
// unlisted target is refused EXTEND_FAILED(not listed) with nothing
// dialled: another IP, a host name, or a circuit a relay created.
func TestConnectBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		back := startMemRelay(t, "untested", nil) // the relay dialled back: listed nowhere
		var mu sync.Mutex
		var dialled []string
		tester := startMemRelay(t, "tester", func(cfg *relay.Config) {
			cfg.Relays = &relayList{}
			cfg.DialLink = func(_ context.Context, _, addr string) (net.Conn, error) {
				mu.Lock()
				dialled = append(dialled, addr)
				mu.Unlock()
				return back.ln.dial(t, "192.0.2.10"), nil
			}
		})
		for _, tc := range []struct {
			name, from string
			id         uint32
			to         string
			allowed    bool
		}{
			{"one hop, same IP", "192.0.2.7", 1, "192.0.2.7:9001", true},
			{"one hop, same IPv6", "2001:db8::7", 1, "[2001:db8::7]:9001", true},
			{"one hop, IPv4-mapped", "192.0.2.7", 1, "[::ffff:192.0.2.7]:9001", true},
			{"one hop, another IP", "192.0.2.7", 1, "192.0.2.8:9001", false},
			{"one hop, a loopback IP", "192.0.2.7", 1, "127.0.0.1:9001", false},
			{"one hop, a host name", "192.0.2.7", 1, "localhost:9001", false},
			{"a relay's circuit, same IP", "192.0.2.7", 1<<31 | 1, "192.0.2.7:9001", false},
		} {
			mu.Lock()
			dialled = nil
			mu.Unlock()
			p := tester.link(tc.from)
			c := tester.create(p, tc.id)
			m := extendTo(p, c, back.keys, tc.to)
			mu.Lock()
			got := dialled
			mu.Unlock()
			if tc.allowed {
				if m.Cmd != onion.RelayExtended || len(got) != 1 || got[0] != tc.to {
					t.Errorf("%s: EXTEND answered %v %x after dialling %v, want EXTENDED after dialling %s", tc.name, m.Cmd, m.Body, got, tc.to)
				}
				continue
			}
			wantNotListed(t, tc.name, m)
			if len(got) != 0 {
				t.Errorf("%s: dialled %v", tc.name, got)
			}
		}
	})
}

// TestConnectBackNotOnTwoHops: through a real relay, the circuit reaches
// the next one with the relay's id bit set, and an EXTEND there back to
// the first relay's IP (127.0.0.1, like the client's) is refused with
// nothing dialled: a client cannot use one relay to make another dial the
// first one's host. The same EXTEND on a one-hop circuit from 127.0.0.1 is
// a connect-back, and the relay dials.
func TestConnectBackNotOnTwoHops(t *testing.T) {
	oniontest.CheckLeaks(t)
	var probed atomic.Int64
	probe := serveTCP(t, func(net.Conn) { probed.Add(1) })
	second := startRelay(t, "second", func(cfg *relay.Config) { cfg.Relays = &relayList{} })
	list := &relayList{}
	list.add(second.keys.ID(), second.addr)
	first := startRelay(t, "first", list.use)
	stranger := oniontest.RelayKeys("stranger")

	p := first.link()
	c := first.create(p, 1)
	p.Extend(c, second.keys.ID(), second.keys.OnionPub(), second.addr)
	wantNotListed(t, "two hops", extendTo(p, c, stranger, probe))
	if n := probed.Load(); n != 0 {
		t.Fatalf("the second relay dialled %s %d times for a two-hop circuit", probe, n)
	}

	direct := second.link()
	d := second.create(direct, 1)
	if m := extendTo(direct, d, stranger, probe); m.Cmd != onion.RelayExtendFailed || onion.DestroyReason(m.Body[0]) == onion.DestroyNotListed {
		t.Errorf("one hop: EXTEND answered %v %x, want EXTEND_FAILED after a dial", m.Cmd, m.Body)
	}
	if n := probed.Load(); n != 1 {
		t.Errorf("one hop: the relay dialled %s %d times, want once", probe, n)
	}
}
