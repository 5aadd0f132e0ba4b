package relay_test

import (
	"crypto/ed25519"
	"io"
	"strings"
	"testing"
	"testing/synctest"

	"onion/linktls"
	"onion/onion"
	"onion/onion/oniontest"
	"onion/relay"
)

// startTLSRelay is startPipeRelay with TLS links, as a real relay has.
func startTLSRelay(t *testing.T, n *oniontest.MemNet, name, addr string, list *relayList) *pipeRelay {
	t.Helper()
	pr := &pipeRelay{addr: addr, net: n}
	pr.keys, pr.logs, _ = serveRelay(t, name, n.Listen(addr), func(cfg *relay.Config) {
		cfg.DialLink = n.Dial
		cfg.PlainLinks = false
		if list != nil {
			cfg.Relays = list
		}
	})
	return pr
}

// tlsLink opens a link to pr as a client does: TLS pinned to pr's key.
func (pr *pipeRelay) tlsLink(t *testing.T) *oniontest.Peer {
	t.Helper()
	conn, err := pr.net.Dial(t.Context(), "tcp", pr.addr)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := linktls.Client(t.Context(), conn, ed25519.PublicKey(pr.keys.ID()))
	if err != nil {
		t.Fatalf("TLS to %s: %v", pr.addr, err)
	}
	p := oniontest.NewPeer(t, tc)
	p.Preface()
	return p
}

// TestExtendPinsNextHop: a relay extends over TLS that pins the identity
// key of the relay the EXTEND names (the one listed at that address). An
// impostor at the listed address, with another key, is refused during the
// handshake: the EXTEND fails, naming the relay expected, and the impostor
// never gets past TLS (no link, no cell). The circuit then extends to
// another listed relay that holds its key.
func TestExtendPinsNextHop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := oniontest.NewMemNet()
		const otherAddr = "192.0.2.3:9001"
		next := oniontest.RelayKeys("next") // listed at nextAddr, where the impostor listens
		impostor := startTLSRelay(t, n, "impostor", nextAddr, nil)
		other := startTLSRelay(t, n, "other", otherAddr, nil)
		list := &relayList{}
		list.add(next.ID(), nextAddr)
		list.add(other.keys.ID(), otherAddr)
		guard := startTLSRelay(t, n, "guard", guardAddr, list)
		p := guard.tlsLink(t)
		c := guard.create(p, 1)

		m := extendTo(p, c, next, nextAddr)
		if m.Cmd != onion.RelayExtendFailed {
			t.Fatalf("EXTEND to the impostor's address answered %v, want EXTEND_FAILED", m.Cmd)
		}
		want := "peer is not relay " + onion.Fingerprint(next.ID())
		if len(guard.logs.Find("extend failed", map[string]string{"peer": onion.Fingerprint(next.ID())})) != 1 {
			t.Error("guard did not log the failed extend")
		}
		found := false
		for _, r := range guard.logs.Find("extend failed", nil) {
			found = found || strings.Contains(r.String(), want)
		}
		if !found {
			t.Errorf("no extend failure says %q", want)
		}
		synctest.Wait() // the impostor's side of the handshake ends after the guard's
		if len(impostor.logs.Find("link opened", nil)) != 0 {
			t.Error("the impostor got a link")
		}
		if len(impostor.logs.Find("refused connection", nil)) == 0 {
			t.Error("the impostor did not see its TLS handshake fail")
		}

		wantNoAddrAboveDebug(t, guard.logs, nextAddr)

		p.Extend(c, other.keys.ID(), other.keys.OnionPub(), otherAddr)
		if len(other.logs.Find("link opened", nil)) != 1 {
			t.Error("the other relay has no link from the guard")
		}
	})
}

// TestPlainPeerRefused: a relay with TLS links refuses a peer that starts
// with the plain preface, and logs why without the peer's address.
func TestPlainPeerRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := oniontest.NewMemNet()
		r := startTLSRelay(t, n, "relay", guardAddr, nil)
		conn, err := n.Dial(t.Context(), "tcp", guardAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		go conn.Write([]byte(onion.LinkPreface))
		got, _ := io.ReadAll(conn)
		if strings.Contains(string(got), onion.LinkPreface) {
			t.Error("the relay answered a plain preface with its own")
		}
		synctest.Wait() // the relay closes the conn before it logs
		recs := r.logs.Find("refused connection", nil)
		if len(recs) == 0 || !strings.Contains(recs[0].String(), "TLS handshake failed") {
			t.Errorf("refusal logged as %v, want a TLS handshake failure", recs)
		}
	})
}
