package relay_test

import (
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"onion/onion"
	"onion/onion/oniontest"
)

// The relays of these tests live at documentation addresses on a MemNet;
// probeAddr is what an attacker would have a relay dial: its own loopback.
const (
	guardAddr = "192.0.2.1:9001"
	nextAddr  = "192.0.2.2:9001"
	probeAddr = "127.0.0.1:25"
)

// extendTo sends EXTEND on c to the relay with keys k at addr and returns
// the answer.
func extendTo(p *oniontest.Peer, c *oniontest.ClientCirc, k oniontest.Keys, addr string) onion.RelayMsg {
	_, create, _ := onion.NewClientHandshake(nil, k.ID(), k.OnionPub())
	body, _ := onion.Extend{Create: create, Address: addr}.MarshalBinary()
	p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayExtend, Body: body}))
	return p.Msg(c)
}

// wantNotListed checks that m is EXTEND_FAILED(not listed).
func wantNotListed(t *testing.T, what string, m onion.RelayMsg) {
	t.Helper()
	if m.Cmd != onion.RelayExtendFailed || len(m.Body) != 1 || onion.DestroyReason(m.Body[0]) != onion.DestroyNotListed {
		t.Errorf("%s: EXTEND answered %v %x, want EXTEND_FAILED(%v)", what, m.Cmd, m.Body, onion.DestroyNotListed)
	}
}

// TestExtendOnlyToListed: a relay extends only to relays of its list at
// their listed address, and to itself. An EXTEND naming a relay not listed,
// a listed relay at another address, or another relay at a listed address
// is answered EXTEND_FAILED(not listed) without any dial, logged at info
// without the address; each waited for one fresh fetch of the list (the
// relay might just have been listed): the first at once, the next ones 2 s
// after the fetch asked for before. The circuit then
// still extends to the listed relay.
func TestExtendOnlyToListed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := oniontest.NewMemNet()
		next := startPipeRelay(t, n, "next", nextAddr, nil)
		list := &relayList{}
		list.add(next.keys.ID(), nextAddr)
		guard := startPipeRelay(t, n, "guard", guardAddr, list)
		p := guard.link(t)
		c := guard.create(p, 1)
		stranger := oniontest.RelayKeys("stranger")

		start := time.Now()
		for _, tc := range []struct {
			name string
			k    oniontest.Keys
			addr string
		}{
			{"relay not listed", stranger, probeAddr},
			{"listed relay at another address", next.keys, probeAddr},
			{"relay not listed at a listed address", stranger, nextAddr},
		} {
			wantNotListed(t, tc.name, extendTo(p, c, tc.k, tc.addr))
		}
		if took := time.Since(start); took != 2*2*time.Second {
			t.Errorf("three refusals took %v, want 4s (each after one more fetch: at once, then 2s apart)", took)
		}
		if got := list.fetched(); got != 4 {
			t.Errorf("list fetched %d times, want 4 (at start, then once per refusal)", got)
		}
		if d := n.DialCount(probeAddr); d != 0 {
			t.Errorf("relay dialled the unlisted address %d times", d)
		}
		if d := n.DialCount(nextAddr); d != 0 {
			t.Errorf("relay dialled the listed relay for an unlisted one %d times", d)
		}
		refusals := guard.logs.Find("extend failed", map[string]string{"reason": onion.DestroyNotListed.String()})
		if len(refusals) != 3 {
			t.Errorf("%d refusals logged, want 3", len(refusals))
		}
		wantNoAddrAboveDebug(t, guard.logs, probeAddr, nextAddr)

		p.Extend(c, next.keys.ID(), next.keys.OnionPub(), nextAddr)
		self := guard.create(p, 2)
		p.Extend(self, guard.keys.ID(), guard.keys.OnionPub(), guardAddr)
	})
}

// TestExtendFloodFetchesOnce: many EXTENDs at once to relays not listed
// share the fetches of the list they ask for: the one started at once, and
// at most one more a gap later for those that asked while it ran.
func TestExtendFloodFetchesOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := oniontest.NewMemNet()
		list := &relayList{}
		guard := startPipeRelay(t, n, "guard", guardAddr, list)
		p := guard.link(t)
		circs := map[uint32]*oniontest.ClientCirc{}
		for id := uint32(1); id <= 20; id++ {
			circs[id] = guard.create(p, id)
		}
		synctest.Wait() // the first fetch is done
		stranger := oniontest.RelayKeys("stranger")
		for _, c := range circs {
			_, create, _ := onion.NewClientHandshake(nil, stranger.ID(), stranger.OnionPub())
			body, _ := onion.Extend{Create: create, Address: probeAddr}.MarshalBinary()
			p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayExtend, Body: body}))
		}
		for range circs {
			cell := p.Recv()
			c := circs[cell.CircID]
			if c == nil || cell.Cmd != onion.CmdRelay {
				t.Fatalf("got %v on circuit %d", cell.Cmd, cell.CircID)
			}
			_, m, err := c.Open(cell.Payload)
			if err != nil {
				t.Fatal(err)
			}
			wantNotListed(t, "flood", m)
			delete(circs, cell.CircID) // answered once
		}
		if got := list.fetched(); got < 2 || got > 3 {
			t.Errorf("list fetched %d times, want 2 or 3 (at start, then at most twice for the flood)", got)
		}
		if d := n.DialCount(probeAddr); d != 0 {
			t.Errorf("relay dialled the unlisted address %d times", d)
		}
	})
}

// TestExtendListChanges: a relay listed since the last fetch is found by
// one more fetch; a relay dropped from the list stays reachable for one
// refresh interval (a client's list may be that old), then is refused.
func TestExtendListChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := oniontest.NewMemNet()
		next := startPipeRelay(t, n, "next", nextAddr, nil)
		list := &relayList{}
		guard := startPipeRelay(t, n, "guard", guardAddr, list)
		p := guard.link(t)
		synctest.Wait() // the first fetch is done, without next

		list.add(next.keys.ID(), nextAddr)
		p.Extend(guard.create(p, 1), next.keys.ID(), next.keys.OnionPub(), nextAddr)
		fetched := time.Now() // at the fetch that found it (2 s after the first)

		list.remove(next.keys.ID())
		time.Sleep(time.Minute + time.Second) // past the next periodic fetch
		if got := list.fetched(); got != 3 {
			t.Fatalf("list fetched %d times, want 3", got)
		}
		p.Extend(guard.create(p, 2), next.keys.ID(), next.keys.OnionPub(), nextAddr)

		time.Sleep(time.Until(fetched.Add(2*time.Minute + time.Second))) // past one more
		wantNotListed(t, "dropped for over an interval", extendTo(p, guard.create(p, 3), next.keys, nextAddr))
	})
}

// TestExtendWithoutList: a relay with no list extends to itself only.
func TestExtendWithoutList(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := oniontest.NewMemNet()
		next := startPipeRelay(t, n, "next", nextAddr, nil)
		guard := startPipeRelay(t, n, "guard", guardAddr, nil)
		p := guard.link(t)
		wantNotListed(t, "no list", extendTo(p, guard.create(p, 1), next.keys, nextAddr))
		p.Extend(guard.create(p, 2), guard.keys.ID(), guard.keys.OnionPub(), guardAddr)
		if d := n.DialCount(nextAddr); d != 0 {
			t.Errorf("relay with no list dialled another relay %d times", d)
		}
	})
}

// wantNoAddrAboveDebug fails if a record above debug mentions any of addrs:
// a client chose them, so they are destinations.
func wantNoAddrAboveDebug(t *testing.T, logs *oniontest.Logs, addrs ...string) {
	t.Helper()
	for _, r := range logs.All() {
		if r.Level <= slog.LevelDebug {
			continue
		}
		for _, a := range addrs {
			if strings.Contains(r.String(), a) {
				t.Errorf("logged above debug with address %s: %v", a, r)
			}
		}
	}
}
