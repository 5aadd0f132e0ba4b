package circuit_test

import (
	"bytes"
	"errors"
	"testing"
	"testing/synctest"

	"onion/onion"
	"onion/onion/circuit"
)

// openCC opens a stream on c with congestion control on: the client's
// first message is CC_OFFER, which the fake exit accepts, then BEGIN.
func (fr *fakeRelay) openCC(cl *circuit.ClientLink, c *circuit.Circuit) *circuit.Stream {
	fr.t.Helper()
	cl.SetCongestionControl(true)
	ch := make(chan *circuit.Stream, 1)
	go func() {
		s, _ := circuit.NewClientStream("example.com:80")
		if err := c.Attach(s); err != nil {
			fr.t.Error(err)
		}
		s.Begin()
		ch <- s
	}()
	m := fr.msg(c.ID())
	if m.Cmd != onion.RelayCCOffer || m.Stream != 0 || !bytes.Equal(m.Body, onion.CCBody(circuit.DefaultVegas.SendmeInc)) {
		fr.t.Fatalf("client's first message %v %x on stream %d, want CC_OFFER", m.Cmd, m.Body, m.Stream)
	}
	fr.send(c.ID(), onion.RelayMsg{Cmd: onion.RelayCCAccept, Body: m.Body})
	s := <-ch
	if m := fr.msg(c.ID()); m.Cmd != onion.RelayBegin {
		fr.t.Fatalf("client sent %v, want BEGIN", m.Cmd)
	}
	fr.send(c.ID(), onion.RelayMsg{Cmd: onion.RelayConnected, Stream: s.ID()})
	return s
}

// TestCCUploadLimitedByWindow: an upload sends CwndInit DATA cells and
// then waits (though the stream window has room) until CIRCUIT_SENDME
// acknowledges SendmeInc of them, which lets exactly that many more go.
func TestCCUploadLimitedByWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl, fr, _ := startClient(t)
		c := fr.create(cl)
		s := fr.openCC(cl, c)
		go s.Write(make([]byte, 64*onion.MaxData))
		p := circuit.DefaultVegas
		for range p.CwndInit {
			if m := fr.msg(c.ID()); m.Cmd != onion.RelayData {
				t.Fatalf("client sent %v, want DATA", m.Cmd)
			}
		}
		fr.idle() // window full
		fr.send(c.ID(), circuit.CircuitSendme())
		for range p.SendmeInc {
			if m := fr.msg(c.ID()); m.Cmd != onion.RelayData {
				t.Fatalf("client sent %v, want DATA", m.Cmd)
			}
		}
		fr.idle()
		s.Close()
	})
}

// TestCCDownloadAcknowledged: the client acknowledges every SendmeInc-th
// DATA cell of the circuit with CIRCUIT_SENDME on stream 0.
func TestCCDownloadAcknowledged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl, fr, _ := startClient(t)
		c := fr.create(cl)
		s := fr.openCC(cl, c)
		inc := circuit.DefaultVegas.SendmeInc
		for round := range 3 {
			for range inc - 1 {
				fr.send(c.ID(), onion.RelayMsg{Cmd: onion.RelayData, Stream: s.ID(), Body: []byte("x")})
			}
			fr.idle()
			fr.send(c.ID(), onion.RelayMsg{Cmd: onion.RelayData, Stream: s.ID(), Body: []byte("x")})
			if m := fr.msg(c.ID()); m.Cmd != onion.RelayCircuitSendme || m.Stream != 0 || len(m.Body) != 0 {
				t.Fatalf("round %d: client sent %v on stream %d, want CIRCUIT_SENDME", round, m.Cmd, m.Stream)
			}
		}
	})
}

// TestCCBadAcks: a CIRCUIT_SENDME for cells never sent, or a second
// CC_ACCEPT, is a protocol violation: DESTROY 1.
func TestCCBadAcks(t *testing.T) {
	for name, m := range map[string]onion.RelayMsg{
		"sendme before any data": circuit.CircuitSendme(),
		"second accept":          {Cmd: onion.RelayCCAccept, Body: onion.CCBody(circuit.DefaultVegas.SendmeInc)},
		"sendme with a body":     {Cmd: onion.RelayCircuitSendme, Body: []byte{1}},
		"sendme on a stream":     {Cmd: onion.RelayCircuitSendme, Stream: 1},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cl, fr, _ := startClient(t)
				c := fr.create(cl)
				fr.openCC(cl, c)
				fr.send(c.ID(), m)
				fr.expectDestroy(c.ID(), onion.DestroyProtocol)
				<-c.Done()
				if !errors.Is(c.Err(), circuit.ErrProtocol) {
					t.Fatalf("circuit error %v, want ErrProtocol", c.Err())
				}
			})
		})
	}
}
