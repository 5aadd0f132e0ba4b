package circuit_test

import (
	"bytes"
	"net"
	"testing"

	"golang.org/x/net/nettest"

	"onion/onion"
	"onion/onion/circuit"
	"onion/onion/oniontest"
)

// wire is a MsgSender that hands each message straight to the stream at the
// other end, as a circuit would after sealing and peeling. A protocol error
// there fails the test: two correct Streams never cause one.
type wire struct {
	t  testing.TB
	to *circuit.Stream
}

func (w *wire) SendMsg(m onion.RelayMsg) error {
	m.Body = bytes.Clone(m.Body) // the circuit seals a copy; the caller may reuse its buffer
	if err := w.to.Deliver(m); err != nil {
		w.t.Errorf("Deliver(%v) at the other end: %v", m.Cmd, err)
		return err
	}
	return nil
}

// streamPair returns two Streams connected back to back.
func streamPair(t testing.TB) (a, b *circuit.Stream) {
	wa, wb := &wire{t: t}, &wire{t: t}
	a = circuit.NewStream(1, wa, nil, circuit.StreamAddr("a:1"), circuit.StreamAddr("b:1"))
	b = circuit.NewStream(1, wb, nil, circuit.StreamAddr("b:1"), circuit.StreamAddr("a:1"))
	wa.to, wb.to = b, a
	return a, b
}

// TestStreamNetConn runs x/net's conformance tests for net.Conn on a pair of
// Streams.
func TestStreamNetConn(t *testing.T) {
	oniontest.CheckLeaks(t)
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		a, b := streamPair(t)
		return gracefulConn{a}, gracefulConn{b}, func() { a.Close(); b.Close() }, nil
	})
}

// gracefulConn closes the way nettest expects a TCP conn with nothing unread
// to close: the peer reads io.EOF. Stream.Close on its own is abortive by
// design (END reset, like TCP's RST: the peer learns we stopped reading and
// its writes fail at once, see TestCloseSendsEndReset), so a caller that
// wants the peer to see a clean EOF half-closes first, as this does.
type gracefulConn struct{ *circuit.Stream }

func (c gracefulConn) Close() error {
	c.Stream.CloseWrite() // fails harmlessly if already half-closed or closed
	return c.Stream.Close()
}
