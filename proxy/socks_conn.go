package proxy

// The two conns a session hands go-socks5: socksClientConn (the application's
// side) and socksStreamConn (the network's side).

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"sync/atomic"
)

// socksCloseWriter is a conn that can half-close, like *net.TCPConn.
type socksCloseWriter interface{ CloseWrite() error }

// socksClientConn is the accepted conn as go-socks5 sees it. It replays the
// greeting the session read (rewritten) and anything read past it, then
// reads the conn; and it can put a reply code of our choosing into the next
// reply go-socks5 writes.
type socksClientConn struct {
	net.Conn
	r io.Reader
	// reply is a socksReply + 1 to write into the next reply, 0 for none.
	// Set by the session goroutine just before go-socks5 writes its reply
	// on the same goroutine; atomic so the copy goroutines may read it.
	reply atomic.Uint32
	// stream is the dialled stream, once there is one (atomic: the copy
	// goroutines read it).
	stream atomic.Pointer[socksStreamConn]
}

// newSocksClientConn replays greeting, then what br buffered beyond it, then c.
func newSocksClientConn(c net.Conn, greeting []byte, br *bufio.Reader) *socksClientConn {
	rest, _ := br.Peek(br.Buffered()) // cannot fail: those bytes are buffered
	prefix := append(greeting, rest...)
	return &socksClientConn{Conn: c, r: io.MultiReader(bytes.NewReader(prefix), c)}
}

func (c *socksClientConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// setReply makes the next reply carry code instead of go-socks5's choice.
func (c *socksClientConn) setReply(code socksReply) { c.reply.Store(uint32(code) + 1) }

// Write rewrites REP (byte 1) of the reply that follows a setReply.
func (c *socksClientConn) Write(b []byte) (int, error) {
	if c.reply.Load() != 0 && len(b) >= 2 && b[0] == socks5Version {
		code := c.reply.Swap(0) - 1
		b = bytes.Clone(b)
		b[1] = byte(code)
	}
	return c.Conn.Write(b)
}

// CloseWrite half-closes toward the application (go-socks5 calls it when the
// stream ended its sending side, however it ended). A stream that failed
// (circuit torn down, reset by the far end) must not look complete: the
// application gets a TCP reset instead of a clean end, so a download cut
// short is an error, never a shorter file.
func (c *socksClientConn) CloseWrite() error {
	if s := c.stream.Load(); s != nil && s.failed() {
		if tc, ok := c.Conn.(*net.TCPConn); ok {
			tc.SetLinger(0) // close with RST
		}
		return c.Conn.Close()
	}
	if cw, ok := c.Conn.(socksCloseWriter); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// socksStreamConn is a stream as go-socks5 sees it. go-socks5 asserts that
// LocalAddr is a *net.TCPAddr (and panics otherwise) and sends it to the
// application as BND.ADDR: it gets 0.0.0.0:0, which leaks nothing.
type socksStreamConn struct {
	net.Conn
}

// failed reports whether the stream ended in error rather than a clean end
// from the far side. A conn that cannot tell is taken as clean.
func (c *socksStreamConn) failed() bool {
	f, ok := c.Conn.(interface{ Failed() bool })
	return ok && f.Failed()
}

func (*socksStreamConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4zero, Port: 0}
}

// CloseWrite half-closes toward the destination (go-socks5 calls it when the
// application ended its sending side).
func (c *socksStreamConn) CloseWrite() error {
	if cw, ok := c.Conn.(socksCloseWriter); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}
