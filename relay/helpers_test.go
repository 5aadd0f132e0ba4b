package relay_test

import (
	"bytes"
	"context"
	"io"
	"net"
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

// startRelay starts a relay called name; mod may change its config. It
// stops, and Serve must return, when the test ends.
func startRelay(t *testing.T, name string, mod func(*relay.Config)) *testRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := &testRelay{t: t, keys: oniontest.RelayKeys(name), addr: ln.Addr().String(), logs: oniontest.NewLogs(t)}
	cfg := relay.Config{
		Identity: tr.keys.Identity,
		OnionKey: tr.keys.Onion,
		Nickname: name,
		Address:  tr.addr,
		Logger:   tr.logs.Logger(),
		Rand:     oniontest.Rand(2),
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
	tr.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(tr.stop)
	return tr
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

// extendToTestHop extends c, a circuit on p through a real relay, to a
// next relay that the test plays: it listens on loopback, accepts the
// relay's link, answers its CREATE as a relay with keys k would, and adds
// the hop to c. It returns the test's side of that link and the CREATE
// cell it answered.
func extendToTestHop(tb testing.TB, p *oniontest.Peer, c *oniontest.ClientCirc, k oniontest.Keys) (*oniontest.Peer, onion.Cell) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close() // one link is all it takes
	type acc struct {
		conn net.Conn
		err  error
	}
	accepted := make(chan acc, 1)
	go func() {
		conn, err := ln.Accept()
		accepted <- acc{conn, err}
	}()
	hs, create, err := onion.NewClientHandshake(nil, k.ID(), k.OnionPub())
	if err != nil {
		tb.Fatal(err)
	}
	body, _ := onion.Extend{Create: create, Address: ln.Addr().String()}.MarshalBinary()
	p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayExtend, Body: body}))
	a := <-accepted
	if a.err != nil {
		tb.Fatal(a.err)
	}
	next := oniontest.NewPeer(tb, a.conn)
	next.Preface()
	createCell := next.Recv()
	created, _, err := oniontest.AnswerCreate(k.RelayKeys(), createCell)
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
				io.Copy(c, c)
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
