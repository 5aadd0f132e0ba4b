package relay_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"onion/onion"
	"onion/onion/circuit"
	"onion/onion/oniontest"
)

// offerCC plays a client's CC_OFFER and checks the exit's CC_ACCEPT.
func offerCC(t *testing.T, p *oniontest.Peer, c *oniontest.ClientCirc) {
	t.Helper()
	body := onion.CCBody(circuit.DefaultVegas.SendmeInc)
	p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayCCOffer, Body: body}))
	if m := p.Msg(c); m.Cmd != onion.RelayCCAccept || m.Stream != 0 || !bytes.Equal(m.Body, body) {
		t.Fatalf("exit answered CC_OFFER with %v %x on stream %d, want CC_ACCEPT %x", m.Cmd, m.Body, m.Stream, body)
	}
}

// wantData reads n DATA messages on stream sid.
func wantData(t *testing.T, p *oniontest.Peer, c *oniontest.ClientCirc, sid uint16, n int) {
	t.Helper()
	for i := range n {
		if m := p.Msg(c); m.Cmd != onion.RelayData || m.Stream != sid {
			t.Fatalf("message %d: %v on stream %d, want DATA on %d", i, m.Cmd, m.Stream, sid)
		}
	}
}

// wantQuiet checks that the exit sends nothing for a while: its window is
// full. (Absence can only be waited for; 300 ms is ample on loopback.)
func wantQuiet(t *testing.T, p *oniontest.Peer) {
	t.Helper()
	p.Timeout = 300 * time.Millisecond
	defer func() { p.Timeout = oniontest.DefaultTimeout }()
	if c, err := p.RecvErr(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("exit sent %v (err %v) with its congestion window full", c.Cmd, err)
	}
}

// TestExitCongestionWindow: after CC_OFFER the exit sends a download's
// DATA only while its window (CwndInit cells at first) has room, and each
// CIRCUIT_SENDME lets SendmeInc more go; it acknowledges the client's
// DATA every SendmeInc cells. Runtime ~0.7 s.
func TestExitCongestionWindow(t *testing.T) {
	oniontest.CheckLeaks(t)
	dest := serveTCP(t, func(c net.Conn) {
		read := make(chan struct{})
		go func() { io.Copy(io.Discard, c); close(read) }()
		c.Write(make([]byte, 48*onion.MaxData)) // more than the window, less than the stream window
		// Until the exit closes: a close with the client's DATA unread
		// would reset the connection and lose what the exit has not read
		// (it then sent END instead of the CIRCUIT_SENDME under test).
		<-read
	})
	tr := startRelay(t, "exit", exitConfig)
	p := tr.link()
	c := tr.create(p, 1)
	offerCC(t, p, c)
	if m := begin(t, p, c, 1, dest); m.Cmd != onion.RelayConnected {
		t.Fatalf("BEGIN answered %v", m.Cmd)
	}
	vp := circuit.DefaultVegas
	// The destination's writes may be cut into smaller cells than MaxData,
	// but never fewer than the window allows: count cells, not bytes.
	wantData(t, p, c, 1, vp.CwndInit)
	wantQuiet(t, p)
	p.Send(c.Cell(circuit.CircuitSendme()))
	wantData(t, p, c, 1, vp.SendmeInc)
	wantQuiet(t, p)

	for range vp.SendmeInc {
		p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayData, Stream: 1, Body: []byte("up")}))
	}
	if m := p.Msg(c); m.Cmd != onion.RelayCircuitSendme || m.Stream != 0 || len(m.Body) != 0 {
		t.Fatalf("exit sent %v on stream %d after %d DATA cells, want CIRCUIT_SENDME", m.Cmd, m.Stream, vp.SendmeInc)
	}
}

// TestExitCongestionProtocol: CC_OFFER after a stream opened, twice, or
// with a bad body, and CIRCUIT_SENDME for cells never sent, each destroy
// the circuit (reason 1).
func TestExitCongestionProtocol(t *testing.T) {
	oniontest.CheckLeaks(t)
	echoAddr := echoServer(t)
	tr := startRelay(t, "exit", exitConfig)
	offer := onion.RelayMsg{Cmd: onion.RelayCCOffer, Body: onion.CCBody(circuit.DefaultVegas.SendmeInc)}
	for name, script := range map[string]func(p *oniontest.Peer, c *oniontest.ClientCirc){
		"offer after BEGIN": func(p *oniontest.Peer, c *oniontest.ClientCirc) {
			begin(t, p, c, 1, echoAddr)
			p.Send(c.Cell(offer))
		},
		"offer twice": func(p *oniontest.Peer, c *oniontest.ClientCirc) {
			offerCC(t, p, c)
			p.Send(c.Cell(offer))
		},
		"bad body": func(p *oniontest.Peer, c *oniontest.ClientCirc) {
			p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayCCOffer, Body: []byte{1, 0}}))
		},
		"sendme without offer": func(p *oniontest.Peer, c *oniontest.ClientCirc) {
			p.Send(c.Cell(circuit.CircuitSendme()))
		},
		"sendme for nothing sent": func(p *oniontest.Peer, c *oniontest.ClientCirc) {
			offerCC(t, p, c)
			p.Send(c.Cell(circuit.CircuitSendme()))
		},
	} {
		t.Run(name, func(t *testing.T) {
			p := tr.link()
			c := tr.create(p, 1)
			script(p, c)
			for {
				cell := p.Recv()
				if cell.Cmd == onion.CmdDestroy {
					if len(cell.Payload) != 1 || onion.DestroyReason(cell.Payload[0]) != onion.DestroyProtocol {
						t.Fatalf("DESTROY %x, want reason 1", cell.Payload)
					}
					break
				}
			}
			p.Conn.Close()
		})
	}
}
