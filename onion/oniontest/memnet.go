package oniontest

import (
	"context"
	"net"
	"sync"
	"syscall"
)

// MemNet is an in-memory network of net.Pipe connections, for relays and
// clients in one test (inside a testing/synctest bubble too, where a real
// socket would stall the fake clock). Listen takes an address; Dial
// connects to it, or fails as a refused TCP connect when nothing listens
// there, and counts every attempt. Its methods are safe for concurrent use.
type MemNet struct {
	mu    sync.Mutex
	lns   map[string]*MemListener
	fail  map[string]error
	dials map[string]int
}

// NewMemNet returns an empty network.
func NewMemNet() *MemNet {
	return &MemNet{lns: map[string]*MemListener{}, fail: map[string]error{}, dials: map[string]int{}}
}

// Listen listens on addr until the listener is closed.
func (n *MemNet) Listen(addr string) *MemListener {
	ln := &MemListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
	n.mu.Lock()
	n.lns[addr] = ln
	n.mu.Unlock()
	return ln
}

// FailDials makes dials to addr fail with err.
func (n *MemNet) FailDials(addr string, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.fail[addr] = err
}

// DialCount is how many times addr was dialled.
func (n *MemNet) DialCount(addr string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dials[addr]
}

// Dial connects to the listener on addr; it has the shape of
// net.Dialer.DialContext.
func (n *MemNet) Dial(ctx context.Context, _, addr string) (net.Conn, error) {
	n.mu.Lock()
	n.dials[addr]++
	ln, err := n.lns[addr], n.fail[addr]
	n.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if ln == nil {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	ours, theirs := net.Pipe()
	select {
	case ln.conns <- theirs:
		return ours, nil
	case <-ln.done:
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// MemListener is a listener of a MemNet.
type MemListener struct {
	addr  string
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *MemListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *MemListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *MemListener) Addr() net.Addr { return memAddr(l.addr) }

type memAddr string

func (a memAddr) Network() string { return "mem" }
func (a memAddr) String() string  { return string(a) }
