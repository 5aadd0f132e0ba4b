package relay_test

import (
	"bytes"
	"io"
	"net"
	"testing"
	"testing/synctest"

	"onion/onion"
	"onion/onion/oniontest"
	"onion/relay"
)

// TestExitConnShares: an exit opens only so many connections for one peer
// and in all; past either, BEGIN gets END(resource), and a connection that
// closes gives its place back.
func TestExitConnShares(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dests := newDialRecorder()
		mr := startMemRelay(t, "exit", func(cfg *relay.Config) {
			exitConfig(cfg)
			cfg.DialExit = dests.dial
			cfg.Limits.MaxExitConns, cfg.Limits.MaxExitConnsPerPeer = 3, 2
		})
		a := mr.link(peerA)
		ac := mr.create(a, 1)
		wantConnected(t, a, ac, 1)
		wantConnected(t, a, ac, 2)
		wantEnd(t, begin(t, a, ac, 3, "example.com:80"), onion.EndResource)
		b := mr.link(peerB)
		bc := mr.create(b, 1)
		wantConnected(t, b, bc, 1)
		wantEnd(t, begin(t, b, bc, 2, "example.com:80"), onion.EndResource)

		// The client aborts stream 1: the exit closes its connection.
		a.Send(ac.Cell(onion.RelayMsg{Cmd: onion.RelayEnd, Stream: 1, Body: []byte{byte(onion.EndMisc)}}))
		synctest.Wait()
		wantConnected(t, b, bc, 3)
		w := warnings(mr.logs, "refused BEGIN")
		if len(w) != 2 || w[0].Attrs["err"] != "resource limit: 2 exit connections (one peer)" ||
			w[1].Attrs["err"] != "resource limit: 3 exit connections (all peers)" {
			t.Errorf("refusals logged as %v", w)
		}
	})
}

// TestExitBufferBudget: DATA for a destination that does not read is held
// at the exit only up to a bound per circuit and one for the exit as a
// whole; past either, the stream ends with END(resource) and its
// destination is closed. Past the whole, a circuit still gets its fair
// share, so a small request goes through while others hold everything;
// what a destination reads is given back.
func TestExitBufferBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const kib = 1 << 10
		dests := newDialRecorder()
		mr := startMemRelay(t, "exit", func(cfg *relay.Config) {
			exitConfig(cfg)
			cfg.DialExit = dests.dial
			cfg.Limits.MaxExitBuffered, cfg.Limits.MaxExitBufferedPerCircuit = 80*kib, 48*kib
		})
		full := bytes.Repeat([]byte{'x'}, onion.MaxData) // 16 KiB
		// open opens stream 1 on a fresh circuit from ip and sends n full
		// DATA messages. The first reaches the exit's copy to the
		// destination, which then waits for it to read: the rest are held.
		open := func(ip string, n int) (*oniontest.Peer, *oniontest.ClientCirc, net.Conn) {
			p := mr.link(ip)
			c := mr.create(p, 1)
			wantConnected(t, p, c, 1)
			dest := <-dests.conns
			for range n {
				p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayData, Stream: 1, Body: full}))
				synctest.Wait()
			}
			return p, c, dest
		}

		// One circuit: 48 KiB held, then one DATA more.
		x, xc, xDest := open(peerA, 4)
		x.Send(xc.Cell(onion.RelayMsg{Cmd: onion.RelayData, Stream: 1, Body: full}))
		wantEnd(t, x.Msg(xc), onion.EndResource)
		synctest.Wait()
		if got := connState(t, xDest); got != "closed" {
			t.Errorf("the destination's connection is %s, want closed", got)
		}

		// The whole: 48 + 32 KiB held by two circuits. A third circuit's
		// request is within its fair share (80/2 KiB); the second's next
		// DATA is not.
		y, yc, yDest := open(peerA, 4)
		z, zc, _ := open(peerB, 3)
		w, wc, wDest := open(peerC, 0)
		w.Send(wc.Cell(onion.RelayMsg{Cmd: onion.RelayData, Stream: 1, Body: []byte("GET / HTTP/1.0\r\n\r\n")}))
		if got := readN(t, wDest, 18); string(got) != "GET / HTTP/1.0\r\n\r\n" {
			t.Errorf("destination got %q", got)
		}
		z.Send(zc.Cell(onion.RelayMsg{Cmd: onion.RelayData, Stream: 1, Body: full}))
		wantEnd(t, z.Msg(zc), onion.EndResource)

		// A destination that reads frees its circuit's place.
		readN(t, yDest, 64*kib)
		for range 3 {
			y.Send(yc.Cell(onion.RelayMsg{Cmd: onion.RelayData, Stream: 1, Body: full}))
		}
		readN(t, yDest, 48*kib)
		warned := map[string]bool{}
		for _, r := range warnings(mr.logs, "ending exit stream") {
			warned[r.Attrs["err"]] = true
		}
		if !warned["resource limit: 49152 bytes held for destinations (one circuit)"] ||
			!warned["resource limit: 81920 bytes held for destinations (all circuits)"] || len(warned) != 2 {
			t.Errorf("refusals logged as %v", warned)
		}
	})
}

// wantConnected opens stream sid on c and expects CONNECTED.
func wantConnected(t *testing.T, p *oniontest.Peer, c *oniontest.ClientCirc, sid uint16) {
	t.Helper()
	if m := begin(t, p, c, sid, "example.com:80"); m.Cmd != onion.RelayConnected {
		t.Fatalf("BEGIN %d answered %v %x, want CONNECTED", sid, m.Cmd, m.Body)
	}
}

// readN reads n bytes from conn.
func readN(t *testing.T, conn net.Conn, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(conn, b); err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	return b
}
