package relay_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"

	"onion/onion"
	"onion/onion/oniontest"
	"onion/relay"
)

// testRelay is a real relay.Relay serving on 127.0.0.1:0, with no directory.
type testRelay struct {
	t    *testing.T
	keys oniontest.Keys
	addr string
	logs *oniontest.Logs
	stop func()
}

// startRelay starts a relay called name on a loopback listener; mod may
// change its config. It stops, and Serve must return, when the test ends.
func startRelay(t *testing.T, name string, mod func(*relay.Config)) *testRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	keys, logs, stop := serveRelay(t, name, ln, mod)
	return &testRelay{t: t, keys: keys, addr: ln.Addr().String(), logs: logs, stop: stop}
}

// serveRelay runs a relay called name on ln, published at ln's address,
// until stop is called or the test ends (stop checks that Serve returned
// without error); mod may change its config. Its links are plain, so that
// a test can play a peer byte by byte; linklayer_test.go turns TLS on.
func serveRelay(t *testing.T, name string, ln net.Listener, mod func(*relay.Config)) (keys oniontest.Keys, logs *oniontest.Logs, stop func()) {
	t.Helper()
	keys, logs = oniontest.RelayKeys(name), oniontest.NewLogs(t)
	cfg := relay.Config{
		Identity: keys.Identity,
		OnionKey: keys.Onion,
		Nickname: name,
		Address:  ln.Addr().String(),
		Logger:   logs.Logger(),
		Rand:     oniontest.Rand(2),

		PlainLinks: true,
	}
	if mod != nil {
		mod(&cfg)
	}
	r, err := relay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx, ln) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return keys, logs, stop
}

// link opens a link to the relay.
func (tr *testRelay) link() *oniontest.Peer { return oniontest.Dial(tr.t, tr.addr) }

// create builds a one-hop circuit with id on p.
func (tr *testRelay) create(p *oniontest.Peer, id uint32) *oniontest.ClientCirc {
	tr.t.Helper()
	return p.Create(id, tr.keys.ID(), tr.keys.OnionPub())
}

// destroyLogged checks that the relay logged destroying a circuit for reason.
func (tr *testRelay) destroyLogged(id uint32, reason onion.DestroyReason) {
	tr.t.Helper()
	want := map[string]string{"circ": strconv.Itoa(int(id)), "reason": reason.String()}
	if len(tr.logs.Find("destroying circuit", want)) == 0 {
		tr.t.Errorf("relay did not log destroying circuit %d for %q", id, reason)
	}
}

// testHop is a next relay that the test plays: it listens on loopback,
// accepts the one link a relay opens to it, and answers CREATE as a relay
// with keys k would.
type testHop struct {
	k  oniontest.Keys
	ln net.Listener
}

// listenTestHop starts a test hop with keys k and lists it in list, so
// that relays given list extend to it.
func listenTestHop(tb testing.TB, list *relayList, k oniontest.Keys) *testHop {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	list.add(k.ID(), ln.Addr().String())
	return &testHop{k: k, ln: ln}
}

// extendTo extends c, a circuit on p through a real relay, to the hop and
// adds the hop to c. It returns the test's side of the relay's link and
// the CREATE cell it answered.
func (h *testHop) extendTo(tb testing.TB, p *oniontest.Peer, c *oniontest.ClientCirc) (*oniontest.Peer, onion.Cell) {
	tb.Helper()
	defer h.ln.Close() // one link is all it takes
	type acc struct {
		conn net.Conn
		err  error
	}
	accepted := make(chan acc, 1)
	go func() {
		conn, err := h.ln.Accept()
		accepted <- acc{conn, err}
	}()
	hs, create, err := onion.NewClientHandshake(nil, h.k.ID(), h.k.OnionPub())
	if err != nil {
		tb.Fatal(err)
	}
	body, _ := onion.Extend{Create: create, Address: h.ln.Addr().String()}.MarshalBinary()
	p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayExtend, Body: body}))
	a := <-accepted
	if a.err != nil {
		tb.Fatal(a.err)
	}
	next := oniontest.NewPeer(tb, a.conn)
	next.Preface()
	createCell := next.Recv()
	created, _, err := oniontest.AnswerCreate(h.k.RelayKeys(), createCell)
	if err != nil {
		tb.Fatal(err)
	}
	next.Send(created)
	m := p.Msg(c)
	if m.Cmd != onion.RelayExtended {
		tb.Fatalf("EXTEND answered %v", m.Cmd)
	}
	keys, err := hs.Finish(m.Body)
	if err != nil {
		tb.Fatal(err)
	}
	c.AddHop(keys)
	return next, createCell
}

// relayList is a relay list that the test edits: a relay given it
// (cfg.Relays) extends only to the relays it holds. Only identity keys
// and addresses matter to that check, so its descriptors hold no more.
type relayList struct {
	mu      sync.Mutex
	relays  []onion.RelayDescriptor
	fetches int
}

func (l *relayList) Relays(context.Context) (onion.RelayList, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fetches++
	return onion.RelayList{Relays: slices.Clone(l.relays)}, nil
}

// add lists the relay with identity key id at addr.
func (l *relayList) add(id []byte, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.relays = append(l.relays, onion.RelayDescriptor{IdentityKey: id, Address: addr})
}

// remove drops the relay with identity key id from the list.
func (l *relayList) remove(id []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.relays = slices.DeleteFunc(l.relays, func(d onion.RelayDescriptor) bool { return bytes.Equal(d.IdentityKey, id) })
}

// fetched is how many times relays have fetched the list.
func (l *relayList) fetched() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fetches
}

// use is a startRelay config change: the relay extends by l.
func (l *relayList) use(cfg *relay.Config) { cfg.Relays = l }

// begin opens stream sid to target and returns the exit's answer.
func begin(t *testing.T, p *oniontest.Peer, c *oniontest.ClientCirc, sid uint16, target string) onion.RelayMsg {
	t.Helper()
	p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayBegin, Stream: sid, Body: []byte(target)}))
	m := p.Msg(c)
	if m.Stream != sid {
		t.Fatalf("answer to BEGIN on stream %d came on stream %d", sid, m.Stream)
	}
	return m
}

// wantEnd checks that m is END with reason.
func wantEnd(t *testing.T, m onion.RelayMsg, reason onion.EndReason) {
	t.Helper()
	if m.Cmd != onion.RelayEnd || len(m.Body) != 1 || onion.EndReason(m.Body[0]) != reason {
		got := "?"
		if m.Cmd == onion.RelayEnd && len(m.Body) == 1 {
			got = onion.EndReason(m.Body[0]).String()
		}
		t.Fatalf("got %v %x (%s), want END %v", m.Cmd, m.Body, got, reason)
	}
}

// echo proves circuit c through an exit works: it opens stream sid to an
// echo server at target, sends msg, reads it back and half-closes.
func echo(t *testing.T, p *oniontest.Peer, c *oniontest.ClientCirc, sid uint16, target string, msg []byte) {
	t.Helper()
	if m := begin(t, p, c, sid, target); m.Cmd != onion.RelayConnected {
		t.Fatalf("BEGIN %s answered %v %x, want CONNECTED", target, m.Cmd, m.Body)
	}
	p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayData, Stream: sid, Body: msg}))
	p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayEnd, Stream: sid, Body: []byte{byte(onion.EndDone)}}))
	var got []byte
	for {
		m := p.Msg(c)
		if m.Stream != sid {
			t.Fatalf("message on stream %d, want %d", m.Stream, sid)
		}
		if m.Cmd == onion.RelayData {
			got = append(got, m.Body...)
			continue
		}
		wantEnd(t, m, onion.EndDone)
		break
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo returned %q, want %q", got, msg)
	}
}

// echoServer echoes on 127.0.0.1 until the test ends.
func echoServer(t *testing.T) string {
	return serveTCP(t, func(c net.Conn) { io.Copy(c, c) })
}

// serveTCP runs handle on every connection to a 127.0.0.1 listener, each
// closed when handle returns, until the test ends; it returns the address.
func serveTCP(t *testing.T, handle func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

// closedPort returns a 127.0.0.1 address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// exitConfig makes a relay an exit that may reach 127.0.0.1.
func exitConfig(cfg *relay.Config) {
	cfg.Exit = true
	cfg.Policy = relay.AcceptAll
}

// dialRecorder is an exit dialer that records what it is asked to dial and
// connects each request to one end of a net.Pipe, handing the test the other.
type dialRecorder struct {
	mu    sync.Mutex
	addrs []string
	conns chan net.Conn // the destination's ends
}

func newDialRecorder() *dialRecorder { return &dialRecorder{conns: make(chan net.Conn, 16)} }

func (d *dialRecorder) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.addrs = append(d.addrs, network+" "+addr)
	d.mu.Unlock()
	ours, theirs := net.Pipe()
	d.conns <- theirs
	return ours, nil
}

func (d *dialRecorder) dialed() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.addrs...)
}
