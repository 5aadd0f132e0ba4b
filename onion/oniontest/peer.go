package oniontest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"onion/onion"
)

// DefaultTimeout bounds every read and write a Peer makes, so that a missing
// answer fails the test instead of hanging it.
const DefaultTimeout = 10 * time.Second

// Peer plays one end of a link cell by cell: the test decides every byte it
// writes and checks every cell it reads (x/net/quic's testConn). Its methods
// that fail the test must be called from the test goroutine; the *Err
// variants are for other goroutines.
type Peer struct {
	tb      testing.TB
	Conn    net.Conn
	r       *bufio.Reader
	Timeout time.Duration
}

// NewPeer wraps conn. It does not exchange prefaces; call Preface for that.
// conn is closed when the test ends.
func NewPeer(tb testing.TB, conn net.Conn) *Peer {
	tb.Cleanup(func() { conn.Close() })
	return &Peer{tb: tb, Conn: conn, r: bufio.NewReader(conn), Timeout: DefaultTimeout}
}

// Dial opens a TCP connection to addr and exchanges prefaces.
func Dial(tb testing.TB, addr string) *Peer {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, DefaultTimeout)
	if err != nil {
		tb.Fatalf("dial %s: %v", addr, err)
	}
	p := NewPeer(tb, conn)
	p.Preface()
	return p
}

// Preface writes the link preface and reads the other side's. It does both
// at once because a write on a synchronous conn (net.Pipe) waits for the
// reader, and the other side writes first too.
func (p *Peer) Preface() {
	p.tb.Helper()
	errc := make(chan error, 1)
	go func() {
		p.Conn.SetWriteDeadline(time.Now().Add(p.Timeout))
		_, err := io.WriteString(p.Conn, onion.LinkPreface)
		errc <- err
	}()
	p.Conn.SetReadDeadline(time.Now().Add(p.Timeout))
	if err := onion.ReadPreface(p.r); err != nil {
		p.tb.Fatalf("peer: read preface: %v", err)
	}
	if err := <-errc; err != nil {
		p.tb.Fatalf("peer: write preface: %v", err)
	}
}

// WriteErr writes raw bytes.
func (p *Peer) WriteErr(b []byte) error {
	p.Conn.SetWriteDeadline(time.Now().Add(p.Timeout))
	_, err := p.Conn.Write(b)
	return err
}

// Write writes raw bytes: garbage, a truncated frame, anything.
func (p *Peer) Write(b []byte) {
	p.tb.Helper()
	if err := p.WriteErr(b); err != nil {
		p.tb.Fatalf("peer: write %d bytes: %v", len(b), err)
	}
}

// Send writes one cell.
func (p *Peer) Send(c onion.Cell) {
	p.tb.Helper()
	p.Write(onion.AppendCell(nil, c))
}

// RecvErr reads the next cell, waiting at most p.Timeout.
func (p *Peer) RecvErr() (onion.Cell, error) {
	p.Conn.SetReadDeadline(time.Now().Add(p.Timeout))
	return onion.ReadCell(p.r, nil)
}

// Recv reads the next cell.
func (p *Peer) Recv() onion.Cell {
	p.tb.Helper()
	c, err := p.RecvErr()
	if err != nil {
		p.tb.Fatalf("peer: read cell: %v", err)
	}
	return c
}

// Expect reads the next cell and checks its circuit and command.
func (p *Peer) Expect(id uint32, cmd onion.Command) onion.Cell {
	p.tb.Helper()
	c := p.Recv()
	if c.CircID != id || c.Cmd != cmd {
		p.tb.Fatalf("peer: got %v on circuit %d (payload %x), want %v on circuit %d",
			c.Cmd, c.CircID, short(c.Payload), cmd, id)
	}
	return c
}

// ExpectDestroy reads the next cell and checks that it destroys circuit id
// for reason.
func (p *Peer) ExpectDestroy(id uint32, reason onion.DestroyReason) {
	p.tb.Helper()
	c := p.Expect(id, onion.CmdDestroy)
	if len(c.Payload) != 1 || onion.DestroyReason(c.Payload[0]) != reason {
		p.tb.Fatalf("peer: DESTROY payload %x, want reason %v", c.Payload, reason)
	}
}

// ExpectClosed reads until the other side closes the connection. Cells that
// arrive first are returned; a connection still open after p.Timeout fails
// the test.
func (p *Peer) ExpectClosed() []onion.Cell {
	p.tb.Helper()
	var cells []onion.Cell
	for {
		c, err := p.RecvErr()
		if err == nil {
			cells = append(cells, c)
			continue
		}
		if IsClosed(err) {
			return cells
		}
		p.tb.Fatalf("peer: waiting for the other side to close: %v", err)
	}
}

// IsClosed reports whether err from a read means the other side closed the
// connection (cleanly, mid-cell, or with a reset), as opposed to a timeout.
func IsClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrClosedPipe)
}

func short(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}
