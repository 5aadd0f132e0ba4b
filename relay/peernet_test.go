package relay_test

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"onion/onion/oniontest"
	"onion/relay"
)

// memListener is a relay's listener in memory: each dial is a net.Pipe
// whose relay end reports the remote IP the test chose, so that a test can
// play peers at different addresses, and run inside a synctest bubble
// (where its deadlines follow the bubble's clock).
type memListener struct {
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

func newMemListener() *memListener {
	return &memListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *memListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9001} }

// dial connects from ip; it returns once the relay has accepted.
func (l *memListener) dial(t *testing.T, ip string) net.Conn {
	t.Helper()
	ours, theirs := net.Pipe()
	t.Cleanup(func() { ours.Close() })
	select {
	case l.conns <- remoteConn{theirs, &net.TCPAddr{IP: net.ParseIP(ip), Port: 40000}}:
	case <-l.done:
		t.Fatal("dial: relay stopped")
	}
	return ours
}

// remoteConn is a conn with the remote address a test chose.
type remoteConn struct {
	net.Conn
	remote net.Addr
}

func (c remoteConn) RemoteAddr() net.Addr { return c.remote }

// memRelay is a real relay.Relay serving on a memListener, with no directory.
type memRelay struct {
	t    *testing.T
	keys oniontest.Keys
	ln   *memListener
	logs *oniontest.Logs
}

// startMemRelay starts a relay called name on a memListener; mod may
// change its config. It stops, and Serve must return, when the test ends.
func startMemRelay(t *testing.T, name string, mod func(*relay.Config)) *memRelay {
	t.Helper()
	mr := &memRelay{t: t, ln: newMemListener()}
	mr.keys, mr.logs, _ = serveRelay(t, name, mr.ln, mod)
	return mr
}

// link opens a link from ip and exchanges prefaces.
func (mr *memRelay) link(ip string) *oniontest.Peer {
	mr.t.Helper()
	p := oniontest.NewPeer(mr.t, mr.ln.dial(mr.t, ip))
	p.Preface()
	return p
}

// create builds a one-hop circuit with id on p.
func (mr *memRelay) create(p *oniontest.Peer, id uint32) *oniontest.ClientCirc {
	mr.t.Helper()
	return p.Create(id, mr.keys.ID(), mr.keys.OnionPub())
}

// connState tells, without waiting, how the relay left a connection that
// the test has not written on: "closed" (nothing came but the end),
// "preface" (the relay's preface is waiting, so it is in the exchange), or
// "silent". In a synctest bubble, call it after synctest.Wait.
func connState(t *testing.T, conn net.Conn) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	defer conn.SetReadDeadline(time.Time{})
	var b [1]byte
	_, err := conn.Read(b[:])
	switch {
	case err == nil:
		return "preface"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrClosedPipe):
		return "closed"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "silent"
	}
	t.Fatalf("read: %v", err)
	return ""
}
