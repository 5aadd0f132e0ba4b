package proxy

// socksConn's net.Conn side, as go-socks5 uses it, and socksStream, a stream
// as go-socks5 sees it.

import (
	"errors"
	"io"
	"net"
)

// Read hands go-socks5 at most one byte until dial. go-socks5 reads through
// a bufio.Reader of its own, which would otherwise take in the bytes an
// optimistic client (Tor Browser) sends right behind its request, to send
// them only after the reply: byte by byte, go-socks5 reads exactly the
// handshake, and what follows it stays in c.br for early.
func (c *socksConn) Read(b []byte) (int, error) {
	if !c.spliced && len(b) > 1 {
		b = b[:1]
	}
	return c.br.Read(b)
}

// early takes what the client sent behind its CONNECT request that arrived
// with it (read into c.br with the request's last bytes; at most
// optimisticMax). It never waits: bytes still on their way go through
// go-socks5 after the reply, as for any client.
func (c *socksConn) early() []byte {
	n := c.br.Buffered()
	if n == 0 {
		return nil
	}
	b := make([]byte, n)
	io.ReadFull(c.br, b) // buffered: cannot fail
	return b
}

// Close ends the client conn and its stream. It is the one place that
// decides a reset: if the stream failed (circuit torn down, reset by the far
// end), the client gets a TCP reset rather than a clean end, so that a
// download cut short is an error, never a shorter file. go-socks5, the
// serving goroutine and SOCKSServer.Close all call it; the conns it closes
// take the repeats.
func (c *socksConn) Close() error {
	s := c.stream.Load()
	if tc, ok := c.Conn.(*net.TCPConn); ok && s.failed() {
		tc.SetLinger(0)
	}
	if s != nil {
		s.Close()
	}
	return c.Conn.Close()
}

// CloseWrite half-closes toward the application: go-socks5 calls it when the
// stream ended its sending side, however it ended. If it failed, Close
// resets instead: a clean half-close would look like a complete answer.
func (c *socksConn) CloseWrite() error {
	if c.stream.Load().failed() {
		return c.Close()
	}
	return closeWrite(c.Conn)
}

func closeWrite(c net.Conn) error {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// socksStream is a stream as go-socks5 sees it. go-socks5 asserts that
// LocalAddr is a *net.TCPAddr (and panics otherwise) and sends it to the
// application as BND.ADDR: it gets 0.0.0.0:0, which leaks nothing.
type socksStream struct{ net.Conn }

func (*socksStream) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4zero} }

// failed reports whether the stream ended in error rather than cleanly from
// the far side. A conn that cannot tell, or none, counts as clean.
func (s *socksStream) failed() bool {
	if s == nil {
		return false
	}
	f, ok := s.Conn.(interface{ Failed() bool })
	return ok && f.Failed()
}

// CloseWrite half-closes toward the destination: go-socks5 calls it when the
// application ended its sending side.
func (s *socksStream) CloseWrite() error { return closeWrite(s.Conn) }
