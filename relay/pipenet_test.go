package relay_test

import (
	"context"
	"net"
	"sync"
	"syscall"
	"testing"

	"onion/onion/oniontest"
	"onion/relay"
)

// pipeNet is an in-memory network of net.Pipe links, for relays inside a
// synctest bubble (where time is fake and a real socket would stall it):
// listen takes an address, dial connects to it and records every attempt.
type pipeNet struct {
	mu     sync.Mutex
	lns    map[string]*pipeListener
	dialed map[string]int
}

func newPipeNet() *pipeNet {
	return &pipeNet{lns: make(map[string]*pipeListener), dialed: make(map[string]int)}
}

// listen listens on addr until the test ends.
func (n *pipeNet) listen(t *testing.T, addr string) *pipeListener {
	l := &pipeListener{addr: addr, conns: make(chan net.Conn), closed: make(chan struct{})}
	n.mu.Lock()
	n.lns[addr] = l
	n.mu.Unlock()
	t.Cleanup(func() { l.Close() })
	return l
}

// dial connects to the listener on addr; with none, the connection is refused.
func (n *pipeNet) dial(ctx context.Context, _, addr string) (net.Conn, error) {
	n.mu.Lock()
	n.dialed[addr]++
	l := n.lns[addr]
	n.mu.Unlock()
	if l == nil {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	ours, theirs := net.Pipe()
	select {
	case l.conns <- theirs:
		return ours, nil
	case <-l.closed:
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// dials is how many times addr was dialled.
func (n *pipeNet) dials(addr string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dialed[addr]
}

type pipeListener struct {
	addr   string
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr(l.addr) }

type pipeAddr string

func (a pipeAddr) Network() string { return "pipe" }
func (a pipeAddr) String() string  { return string(a) }

// pipeRelay is a real relay serving on a pipeNet at addr.
type pipeRelay struct {
	keys oniontest.Keys
	addr string
	net  *pipeNet
	logs *oniontest.Logs
}

// startPipeRelay runs a relay called name at addr on n, extending by list
// (nil: no list), until the test ends.
func startPipeRelay(t *testing.T, n *pipeNet, name, addr string, list *relayList) *pipeRelay {
	t.Helper()
	pr := &pipeRelay{keys: oniontest.RelayKeys(name), addr: addr, net: n, logs: oniontest.NewLogs(t)}
	cfg := relay.Config{
		Identity: pr.keys.Identity, OnionKey: pr.keys.Onion, Nickname: name, Address: addr,
		DialLink: n.dial, Logger: pr.logs.Logger(), Rand: oniontest.Rand(2),
	}
	if list != nil {
		cfg.Relays = list
	}
	r, err := relay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln := n.listen(t, addr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return pr
}

// link opens a link to the relay, as a client.
func (pr *pipeRelay) link(t *testing.T) *oniontest.Peer {
	t.Helper()
	conn, err := pr.net.dial(t.Context(), "tcp", pr.addr)
	if err != nil {
		t.Fatal(err)
	}
	p := oniontest.NewPeer(t, conn)
	p.Preface()
	return p
}

// create builds a one-hop circuit with id on p.
func (pr *pipeRelay) create(p *oniontest.Peer, id uint32) *oniontest.ClientCirc {
	return p.Create(id, pr.keys.ID(), pr.keys.OnionPub())
}
