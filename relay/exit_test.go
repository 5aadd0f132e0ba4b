package relay_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"onion/onion"
	"onion/onion/oniontest"
	"onion/relay"
)

// TestBeginOnNonExit: a relay that is not an exit answers BEGIN with END
// (exit policy) and keeps the circuit.
func TestBeginOnNonExit(t *testing.T) {
	oniontest.CheckLeaks(t)
	echoAddr := echoServer(t)
	tr := startRelay(t, "middle", nil)
	p := tr.link()
	c := tr.create(p, 1)
	wantEnd(t, begin(t, p, c, 1, echoAddr), onion.EndExitPolicy)
	wantEnd(t, begin(t, p, c, 2, "example.com:443"), onion.EndExitPolicy)
	if len(tr.logs.Find("refused BEGIN: not an exit", nil)) != 2 {
		t.Error("refusals were not logged")
	}
}

// TestExitPolicyRejectPrivate: the default policy refuses loopback, whether
// the BEGIN names an IP, an IPv6 address carrying it, or a hostname that
// resolves to one (the policy is applied after resolution), while the
// listener is really there. TestRejectPrivateTable checks every range.
func TestExitPolicyRejectPrivate(t *testing.T) {
	oniontest.CheckLeaks(t)
	echoAddr := echoServer(t)
	_, port, _ := net.SplitHostPort(echoAddr)
	tr := startRelay(t, "exit", func(cfg *relay.Config) {
		cfg.Exit = true
		cfg.Policy = relay.RejectPrivate
	})
	p := tr.link()
	c := tr.create(p, 1)
	wantEnd(t, begin(t, p, c, 1, echoAddr), onion.EndExitPolicy)
	if ln, err := net.Listen("tcp6", "[::1]:0"); err == nil { // IPv6 loopback exists here
		ln.Close()
		wantEnd(t, begin(t, p, c, 2, "[::1]:"+port), onion.EndExitPolicy)
	}
	if addrs, err := net.DefaultResolver.LookupHost(context.Background(), "localhost"); err == nil && len(addrs) > 0 {
		wantEnd(t, begin(t, p, c, 3, "localhost:"+port), onion.EndExitPolicy)
	}
	// The circuit is fine after refusals.
	wantEnd(t, begin(t, p, c, 4, "10.0.0.1:80"), onion.EndExitPolicy)
	// Loopback wrapped in IPv6 forms that carry IPv4 (mapped, NAT64, 6to4)
	// and "this network" are refused before any connect is tried.
	for i, target := range []string{"[::ffff:127.0.0.1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::1]", "0.1.2.3"} {
		wantEnd(t, begin(t, p, c, uint16(5+i), target+":"+port), onion.EndExitPolicy)
	}
}

// TestExitConnectFailures: the END reason tells a refused port from a name
// that does not resolve.
func TestExitConnectFailures(t *testing.T) {
	oniontest.CheckLeaks(t)
	tr := startRelay(t, "exit", func(cfg *relay.Config) {
		exitConfig(cfg)
		cfg.ConnectTimeout = 5 * time.Second
	})
	p := tr.link()
	c := tr.create(p, 1)
	wantEnd(t, begin(t, p, c, 1, closedPort(t)), onion.EndRefused)

	t.Run("unresolvable", func(t *testing.T) {
		// .invalid never resolves (RFC 6761), but some resolvers answer
		// anyway; only expect EndResolve where this machine's does not.
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		defer cancel()
		_, err := net.DefaultResolver.LookupHost(ctx, "nonexistent.invalid")
		var dnsErr *net.DNSError
		if !errors.As(err, &dnsErr) {
			t.Skipf("this machine's resolver answers nonexistent.invalid with %v", err)
		}
		wantEnd(t, begin(t, p, c, 2, "nonexistent.invalid:80"), onion.EndResolve)
	})
}

// TestExitDialsHostnamesUnresolved: the name in BEGIN reaches the exit's
// dialer exactly as the client sent it (the client never resolves), and the
// stream then carries bytes both ways through the dialed conn.
func TestExitDialsHostnamesUnresolved(t *testing.T) {
	oniontest.CheckLeaks(t)
	rec := newDialRecorder()
	tr := startRelay(t, "exit", func(cfg *relay.Config) {
		cfg.Exit = true
		cfg.DialExit = rec.dial
	})
	p := tr.link()
	c := tr.create(p, 1)
	for i, target := range []string{"hidden-service.example:8080", "[2001:db8::1]:443", "xn--nxasmq6b.example:80"} {
		sid := uint16(i + 1)
		if m := begin(t, p, c, sid, target); m.Cmd != onion.RelayConnected {
			t.Fatalf("BEGIN %s answered %v", target, m.Cmd)
		}
		dest := <-rec.conns
		p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayData, Stream: sid, Body: []byte("to " + target)}))
		buf := make([]byte, 100)
		dest.SetDeadline(time.Now().Add(oniontest.DefaultTimeout))
		n, err := dest.Read(buf)
		if err != nil || string(buf[:n]) != "to "+target {
			t.Fatalf("destination read %q, %v", buf[:n], err)
		}
		go func() {
			dest.Write([]byte("from " + target))
			dest.Close()
		}()
		if m := p.Msg(c); m.Cmd != onion.RelayData || string(m.Body) != "from "+target {
			t.Fatalf("got %v %q back", m.Cmd, m.Body)
		}
		wantEnd(t, p.Msg(c), onion.EndDone)
		p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayEnd, Stream: sid, Body: []byte{byte(onion.EndDone)}}))
	}
	want := []string{"tcp hidden-service.example:8080", "tcp [2001:db8::1]:443", "tcp xn--nxasmq6b.example:80"}
	if got := rec.dialed(); !slices.Equal(got, want) {
		t.Fatalf("exit dialed %q, want %q", got, want)
	}
}

// tarpit is a destination that accepts and then neither reads nor writes:
// both block until the exit closes the conn.
type tarpit struct {
	closed  chan struct{}
	writing chan struct{} // closed when the exit first writes
	once    sync.Once
	wonce   sync.Once
}

func (c *tarpit) Read([]byte) (int, error) { <-c.closed; return 0, net.ErrClosed }
func (c *tarpit) Close() error             { c.once.Do(func() { close(c.closed) }); return nil }

func (c *tarpit) Write([]byte) (int, error) {
	c.wonce.Do(func() { close(c.writing) })
	<-c.closed
	return 0, net.ErrClosed
}

func (c *tarpit) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *tarpit) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *tarpit) SetDeadline(time.Time) error      { return nil }
func (c *tarpit) SetReadDeadline(time.Time) error  { return nil }
func (c *tarpit) SetWriteDeadline(time.Time) error { return nil }

// stalledStream opens a stream on a one-hop exit circuit to a tarpit, and
// leaves the exit's copy toward it blocked in a write and its copy from it
// blocked in a read.
func stalledStream(t *testing.T) (*testRelay, *oniontest.Peer, *oniontest.ClientCirc, *tarpit) {
	t.Helper()
	dest := &tarpit{closed: make(chan struct{}), writing: make(chan struct{})}
	tr := startRelay(t, "exit", func(cfg *relay.Config) {
		cfg.Exit = true
		cfg.DialExit = func(context.Context, string, string) (net.Conn, error) { return dest, nil }
	})
	// Runs before the relay's own cleanup: a relay that never lets go of the
	// tarpit fails the test instead of hanging it.
	t.Cleanup(func() { dest.Close() })
	p := tr.link()
	c := tr.create(p, 1)
	if m := begin(t, p, c, 1, "tarpit.example:80"); m.Cmd != onion.RelayConnected {
		t.Fatalf("BEGIN answered %v", m.Cmd)
	}
	p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayData, Stream: 1, Body: []byte("nobody reads this")}))
	select {
	case <-dest.writing:
	case <-time.After(oniontest.DefaultTimeout):
		t.Fatal("exit did not write to the destination")
	}
	return tr, p, c, dest
}

// destClosed waits for the exit to close its conn to the tarpit.
func destClosed(t *testing.T, dest *tarpit) {
	t.Helper()
	select {
	case <-dest.closed:
	case <-time.After(oniontest.DefaultTimeout):
		t.Fatal("exit kept its conn to a stalled destination open")
	}
}

// TestExitStreamWindowOverrun: a client that ignores flow control and sends
// more than StreamWindow bytes the exit has not granted loses the circuit
// (DESTROY protocol), so a stalled destination cannot make the exit buffer
// without bound; the exit then drops its conn to the destination.
func TestExitStreamWindowOverrun(t *testing.T) {
	oniontest.CheckLeaks(t)
	tr, p, c, dest := stalledStream(t)
	chunk := make([]byte, onion.MaxData)
	sent := len("nobody reads this")
	for sent+len(chunk) <= onion.StreamWindow {
		p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayData, Stream: 1, Body: chunk}))
		sent += len(chunk)
	}
	p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayData, Stream: 1, Body: chunk[:onion.StreamWindow-sent+1]}))
	p.ExpectDestroy(c.ID, onion.DestroyProtocol)
	tr.destroyLogged(c.ID, onion.DestroyProtocol)
	destClosed(t, dest)
}

// TestExitDropsStalledDestination: when the stream or its circuit goes (END
// reset or DESTROY from the client, its link closing, the relay shutting
// down) the exit closes its conn to a destination that neither reads nor
// writes, instead of waiting on it forever (which would also hang Serve).
func TestExitDropsStalledDestination(t *testing.T) {
	t.Run("DESTROY", func(t *testing.T) {
		oniontest.CheckLeaks(t)
		_, p, c, dest := stalledStream(t)
		p.Send(onion.Cell{CircID: c.ID, Cmd: onion.CmdDestroy, Payload: []byte{byte(onion.DestroyRequested)}})
		destClosed(t, dest)
	})
	t.Run("link closed", func(t *testing.T) {
		oniontest.CheckLeaks(t)
		_, p, _, dest := stalledStream(t)
		p.Conn.Close()
		destClosed(t, dest)
	})
	t.Run("END reset", func(t *testing.T) {
		oniontest.CheckLeaks(t)
		_, p, c, dest := stalledStream(t)
		p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayEnd, Stream: 1, Body: []byte{byte(onion.EndReset)}}))
		destClosed(t, dest)
	})
	t.Run("relay shutdown", func(t *testing.T) {
		oniontest.CheckLeaks(t)
		tr, _, _, dest := stalledStream(t)
		stopped := make(chan struct{})
		go func() { tr.stop(); close(stopped) }()
		destClosed(t, dest)
		<-stopped
	})
}
