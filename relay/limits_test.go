package relay_test

import (
	"log/slog"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"onion/onion"
	"onion/onion/oniontest"
	"onion/relay"
)

// Peers the limit tests play, at documentation addresses.
const (
	peerA = "192.0.2.1"
	peerB = "198.51.100.1"
	peerC = "203.0.113.1"
)

// TestInboundConnectionShares: connections count against the link bounds
// from accept on, before their preface. Past its share of the preface
// exchanges, a peer's next connection is closed at once, as is anyone's
// past the relay's whole, while another peer still gets in; a connection
// that never finishes its preface is closed after the handshake timeout
// and gives its place back. Finished links count the same way.
func TestInboundConnectionShares(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mr := startMemRelay(t, "r1", func(cfg *relay.Config) {
			cfg.Limits = relay.Limits{MaxLinks: 4, MaxLinksPerPeer: 3,
				MaxHandshakes: 3, MaxHandshakesPerPeer: 2, HandshakeTimeout: 5 * time.Second}
		})
		silent := []net.Conn{
			mr.ln.dial(t, peerA), mr.ln.dial(t, peerA),
			mr.ln.dial(t, peerA), // a third preface exchange from one peer
			mr.ln.dial(t, peerB),
			mr.ln.dial(t, peerC), // a fourth in all
		}
		synctest.Wait()
		wantStates(t, silent, "preface", "preface", "closed", "preface", "closed")
		if w := warnings(mr.logs, "refusing link"); len(w) != 2 ||
			!strings.Contains(w[0].Attrs["err"], "2 links in the preface exchange (one peer)") ||
			!strings.Contains(w[1].Attrs["err"], "3 links in the preface exchange (all peers)") {
			t.Errorf("refusals logged as %v", w)
		}

		time.Sleep(5 * time.Second) // the handshake timeout, on the bubble's clock
		synctest.Wait()
		wantStates(t, silent, "closed", "closed", "closed", "closed", "closed")

		// Their places are free again; finished links count against the
		// bound on links. (Each waits for the relay to have finished its
		// side of the preface before the next one starts.)
		link := func(ip string) *oniontest.Peer {
			p := mr.link(ip)
			synctest.Wait()
			return p
		}
		a := []*oniontest.Peer{link(peerA), link(peerA), link(peerA)}
		fourth := mr.ln.dial(t, peerA)
		b := link(peerB)
		c := mr.ln.dial(t, peerC)
		synctest.Wait()
		wantStates(t, []net.Conn{fourth, c}, "closed", "closed")
		mr.create(b, 1) // the links that got in work

		a[0].Conn.Close()
		synctest.Wait()
		mr.create(mr.link(peerC), 1) // one place is free, for anyone
		for _, w := range warnings(mr.logs, "refusing link") {
			if _, ok := w.Attrs["peer"]; ok {
				t.Errorf("a warning names the peer's address: %v", w)
			}
		}
	})
}

// TestSilentLinkWithCircuitsCloses: an inbound link whose circuits carry no
// cell either way for the busy-link timeout is closed, with its circuits;
// a cell from the client, or one back from the exit, keeps it open.
func TestSilentLinkWithCircuitsCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dests := newDialRecorder()
		mr := startMemRelay(t, "r1", func(cfg *relay.Config) {
			exitConfig(cfg)
			cfg.DialExit = dests.dial
		})
		p := mr.link(peerA)
		c := mr.create(p, 1)
		if m := begin(t, p, c, 1, "example.com:80"); m.Cmd != onion.RelayConnected {
			t.Fatalf("BEGIN answered %v", m.Cmd)
		}
		dest := <-dests.conns

		// The client speaks at 50 min, the destination at 100: open at 150.
		time.Sleep(50 * time.Minute)
		p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelaySendme, Stream: 9, Body: onion.Uint32Body(1)})) // ignored
		time.Sleep(50 * time.Minute)
		go dest.Write([]byte("news"))
		if m := p.Msg(c); m.Cmd != onion.RelayData || string(m.Body) != "news" {
			t.Fatalf("got %v %q, want DATA news", m.Cmd, m.Body)
		}
		time.Sleep(50 * time.Minute)
		synctest.Wait()
		if got := connState(t, p.Conn); got != "silent" {
			t.Fatalf("link %s 50 min after its last cell", got)
		}

		// Then an hour and a quarter of nothing either way.
		time.Sleep(75 * time.Minute)
		synctest.Wait()
		if got := connState(t, p.Conn); got != "closed" {
			t.Fatalf("link %s 125 min after its last cell", got)
		}
		rec := mr.logs.Await(t, "closing silent link", map[string]string{"circuits": "1"})
		t.Logf("closed: %v", rec)
		if _, err := dest.Read(make([]byte, 1)); err == nil {
			t.Error("the exit connection outlived its circuit")
		}
	})
}

// wantStates checks connState of each conn.
func wantStates(t *testing.T, conns []net.Conn, want ...string) {
	t.Helper()
	for i, c := range conns {
		if got := connState(t, c); got != want[i] {
			t.Errorf("connection %d: %s, want %s", i, got, want[i])
		}
	}
}

// warnings returns the warning records with message msg.
func warnings(l *oniontest.Logs, msg string) []oniontest.Record {
	var out []oniontest.Record
	for _, r := range l.Find(msg, nil) {
		if r.Level == slog.LevelWarn {
			out = append(out, r)
		}
	}
	return out
}
