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

	socks5 "github.com/armon/go-socks5"

	"onion/onion"
)

// socksCloseWriter is a conn that can half-close, like *net.TCPConn.
type socksCloseWriter interface{ CloseWrite() error }

// socksClientConn is the accepted conn as go-socks5 sees it. It replays the
// greeting the session read (rewritten) and anything read past it, then
// reads the conn; and it can put a reply code of our choosing into the next
// reply go-socks5 writes.
//
// Until the CONNECT request has been read it hands go-socks5 no byte past
// the SOCKS handshake, so that bytes an optimistic client sends right
// behind its request (Tor's "optimistic data", as Tor Browser does) stay
// here for the session to send behind BEGIN, instead of in go-socks5's
// buffer until CONNECTED.
type socksClientConn struct {
	net.Conn
	br *bufio.Reader // the replayed prefix, then the conn
	hs handshake     // the handshake go-socks5 is reading; owned by its goroutine
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
	prefix := append(bytes.Clone(greeting), rest...)
	return &socksClientConn{
		Conn: c,
		br:   bufio.NewReaderSize(io.MultiReader(bytes.NewReader(prefix), c), optimisticMax),
		hs:   handshake{left: len(greeting), method: chosenMethod(greeting[greetingHeaderLen:])},
	}
}

func (c *socksClientConn) Read(b []byte) (int, error) {
	if c.hs.done {
		return c.br.Read(b)
	}
	if len(b) > c.hs.left {
		b = b[:c.hs.left]
	}
	n, err := c.br.Read(b)
	c.hs.consumed(b[:n])
	return n, err
}

// optimisticMax bounds the optimistic data sent behind BEGIN: one cell.
const optimisticMax = onion.MaxData

// early returns what the client sent beyond its CONNECT request that
// arrived with it (read into the buffer together with the request's last
// bytes), at most optimisticMax bytes, and consumes it. It never waits:
// bytes still on their way go through go-socks5 after the reply, as for
// any client. Only once the request is read.
func (c *socksClientConn) early() []byte {
	n := c.br.Buffered()
	if !c.hs.done || n == 0 {
		return nil
	}
	b := make([]byte, n)
	io.ReadFull(c.br, b) // buffered: cannot fail
	return b
}

// handshake follows the bytes of a SOCKS5 handshake after the greeting
// (RFC 1929 sub-negotiation if that method was chosen, then the request)
// and says how many more belong to it.
type handshake struct {
	method  byte   // the method go-socks5 will choose
	seen    []byte // handshake bytes after the greeting, so far
	left    int    // bytes of the current piece not yet read
	greeted bool   // the greeting is read: now the sub-negotiation or request
	done    bool   // the request is read, or the bytes are not SOCKS5 we follow
}

// consumed records b, read by go-socks5, and works out the next piece.
func (h *handshake) consumed(b []byte) {
	h.left -= len(b)
	if h.greeted {
		h.seen = append(h.seen, b...)
	}
	if h.left > 0 {
		return
	}
	h.greeted = true
	need, ok := handshakeNeed(h.method, h.seen)
	if !ok || need == 0 {
		h.done = true // read through: go-socks5 judges what it gets
		h.seen = nil
		return
	}
	h.left = need
}

// handshakeNeed says how many more bytes, after seen, complete the next
// piece of the handshake that follows the greeting (0 when the request is
// complete), or !ok for a method or address type it does not follow.
func handshakeNeed(method byte, seen []byte) (int, bool) {
	i := 0
	switch method {
	case socks5.NoAuth:
	case socks5.UserPassAuth:
		// VER ULEN UNAME PLEN PASSWD
		if len(seen) < 2 {
			return 2 - len(seen), true
		}
		end := 2 + int(seen[1]) + 1
		if len(seen) < end {
			return end - len(seen), true
		}
		i = end + int(seen[end-1])
		if len(seen) < i {
			return i - len(seen), true
		}
	default:
		return 0, false
	}
	// VER CMD RSV ATYP DST.ADDR DST.PORT
	if len(seen) < i+4 {
		return i + 4 - len(seen), true
	}
	var addr int
	switch seen[i+3] {
	case 1:
		addr = 4
	case 4:
		addr = 16
	case 3:
		if len(seen) < i+5 {
			return i + 5 - len(seen), true
		}
		addr = 1 + int(seen[i+4])
	default:
		return 0, false
	}
	end := i + 4 + addr + 2
	if len(seen) < end {
		return end - len(seen), true
	}
	return 0, true
}

// chosenMethod is the method go-socks5 picks from a greeting's methods: the
// first it supports (after preferUserPass, username/password if offered).
func chosenMethod(methods []byte) byte {
	for _, m := range methods {
		if m == socks5.NoAuth || m == socks5.UserPassAuth {
			return m
		}
	}
	return 0xff
}

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
		resetOnClose(c.Conn)
		return c.Conn.Close()
	}
	if cw, ok := c.Conn.(socksCloseWriter); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// resetOnClose makes c's Close send a TCP reset rather than a clean end.
func resetOnClose(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
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
