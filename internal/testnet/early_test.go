package testnet

// Early SOCKS replies (proxy/early.go, PROTOCOL.md §5.2): a destination
// that the circuit reached before gets its stream back at once, and the
// bytes written before CONNECTED are delivered, resent on a fresh circuit
// if the first one dies, or the stream fails with the exit's reason.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"onion/client"

	xproxy "golang.org/x/net/proxy"

	"onion/onion"
	"onion/onion/circuit"
	"onion/onion/oniontest"
	"onion/relay"
)

// exitGate is the exits' dialler: it can make the next exit connect wait
// until the test releases it.
type exitGate struct{ oniontest.Gate }

func (g *exitGate) install(_ int, cfg *relay.Config) { cfg.DialExit = g.dial }

func (g *exitGate) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := g.Pass(ctx); err != nil {
		return nil, err
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// heldEarly starts a network whose exits' dials the test controls, has its
// circuit reach an echo server once, makes the next exit connect wait, and
// opens an early stream to the echo server. held is closed once the exit's
// connect waits; release lets it go.
func heldEarly(t *testing.T) (n *Net, conn net.Conn, held <-chan struct{}, release func()) {
	t.Helper()
	g := &exitGate{}
	n = Start(t, Options{Relay: g.install})
	echo := echoServer(t)
	dialEcho(t, n, echoRequest(t, echo)).Close() // the circuit has reached it
	held, release = g.HoldNext(t)
	conn, err := n.Manager.DialStream(Deadline(t, 30*time.Second), echoRequest(t, echo))
	if err != nil {
		t.Fatalf("DialStream with the exit's connect held: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return n, conn, held, release
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(promptly):
		t.Fatalf("no %s after %v", what, promptly)
	}
}

// TestEarlyReplyBeforeExitConnects: the second stream to a destination is
// handed back while the exit's connect is still held, so DialStream did
// not wait for CONNECTED; what was written meanwhile arrives once it
// connects.
func TestEarlyReplyBeforeExitConnects(t *testing.T) {
	oniontest.CheckLeaks(t)
	_, conn, held, release := heldEarly(t)
	if _, err := conn.Write([]byte("written before CONNECTED")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, held, "held exit connect")
	release()
	got := make([]byte, len("written before CONNECTED"))
	conn.SetReadDeadline(time.Now().Add(promptly))
	if _, err := io.ReadFull(conn, got); err != nil || string(got) != "written before CONNECTED" {
		t.Fatalf("echo = %q, %v", got, err)
	}
	roundTrip(t, conn, "and after")
}

// TestEarlyReplyResentOnFreshCircuit: the circuit dies after the early
// reply and before CONNECTED; the stream opens again on a fresh circuit
// and the bytes written before are sent there.
func TestEarlyReplyResentOnFreshCircuit(t *testing.T) {
	oniontest.CheckLeaks(t)
	n, conn, held, _ := heldEarly(t) // released at cleanup: that circuit is gone by then
	old := onlyCircuit(t, n)
	if _, err := conn.Write([]byte("sent twice")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, held, "held exit connect")
	for _, rp := range n.Relays {
		if rp.Addr == old.Path[1].Address {
			rp.Stop() // the middle relay: the circuit dies, the exit lives on
		}
	}
	got := make([]byte, len("sent twice"))
	conn.SetReadDeadline(time.Now().Add(promptly))
	if _, err := io.ReadFull(conn, got); err != nil || string(got) != "sent twice" {
		t.Fatalf("echo after the circuit died = %q, %v", got, err)
	}
	for _, c := range n.Manager.Circuits() {
		if c.ID == old.ID && c.Streams > 0 {
			t.Fatalf("the stream is still on the dead circuit %d", old.ID)
		}
	}
}

// refusingLater is an echo listener that the test can close, so that the
// exit's next connect is refused.
func refusingLater(t *testing.T) (addr string, refuse func()) {
	ln := listen(t)
	t.Cleanup(func() { ln.Close() })
	go serveEcho(ln)
	return ln.Addr().String(), func() { ln.Close() }
}

// TestEarlyReplyRefusedThenWaits: the destination now refuses. The early
// stream fails with the exit's reason, and the next DialStream waits for
// the answer and returns it, as for a destination never reached.
func TestEarlyReplyRefusedThenWaits(t *testing.T) {
	oniontest.CheckLeaks(t)
	n := Start(t, Options{})
	addr, refuse := refusingLater(t)
	dialEcho(t, n, echoRequest(t, addr)).Close()
	refuse()

	conn, err := n.Manager.DialStream(Deadline(t, 30*time.Second), echoRequest(t, addr))
	if err != nil {
		t.Fatalf("DialStream to a reached destination = %v, want an early stream", err)
	}
	defer conn.Close()
	err = readFails(t, conn)
	if se, ok := errors.AsType[*circuit.StreamError](err); !ok || se.Reason != onion.EndRefused || !se.Remote {
		t.Fatalf("read after a refused connect = %v, want the exit's END(refused)", err)
	}
	_, err = n.Manager.DialStream(Deadline(t, 30*time.Second), echoRequest(t, addr))
	if oe, ok := errors.AsType[*client.OpenError](err); !ok || oe.Reason != onion.EndRefused {
		t.Fatalf("next DialStream = %v, want OpenError(refused) without an early stream", err)
	}
}

// TestWaitConnectedNeverEarly: with WaitConnected, a reached destination
// that now refuses gets its error from DialStream itself.
func TestWaitConnectedNeverEarly(t *testing.T) {
	oniontest.CheckLeaks(t)
	n := Start(t, Options{Proxy: func(c *client.Config) { c.WaitConnected = true }})
	addr, refuse := refusingLater(t)
	dialEcho(t, n, echoRequest(t, addr)).Close()
	refuse()
	_, err := n.Manager.DialStream(Deadline(t, 30*time.Second), echoRequest(t, addr))
	if oe, ok := errors.AsType[*client.OpenError](err); !ok || oe.Reason != onion.EndRefused {
		t.Fatalf("DialStream = %v, want OpenError(refused)", err)
	}
}

// TestEarlyReplyFailureResetsSOCKSClient: through SOCKS, the early reply
// is a success; when the exit is then refused, the application's
// connection is reset (never a clean end), and its next CONNECT gets the
// SOCKS error code.
func TestEarlyReplyFailureResetsSOCKSClient(t *testing.T) {
	oniontest.CheckLeaks(t)
	n := Start(t, Options{})
	addr, refuse := refusingLater(t)
	d, err := xproxy.SOCKS5("tcp", n.SOCKSAddr, nil, xproxy.Direct)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, "reached")
	c.Close()
	refuse()

	c, err = d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("CONNECT to a reached destination = %v, want an early success reply", err)
	}
	defer c.Close()
	// The reset may arrive before the request is written: the write then
	// reports it (and takes the socket's error), and the read sees the end.
	_, werr := c.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(promptly))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) && !errors.Is(werr, syscall.ECONNRESET) {
		t.Fatalf("write, read after the exit was refused = %v, %v, want a reset", werr, err)
	}
	if _, err := d.Dial("tcp", addr); err == nil {
		t.Fatal("the next CONNECT succeeded; want the SOCKS error reply")
	}
}

// TestEarlyStreamClosedUnused: a stream closed before its first use (so
// before its BEGIN went out) is closed for good, and its circuit carries
// the next stream.
func TestEarlyStreamClosedUnused(t *testing.T) {
	oniontest.CheckLeaks(t)
	n := Start(t, Options{})
	echo := echoServer(t)
	dialEcho(t, n, echoRequest(t, echo)).Close()
	before := onlyCircuit(t, n)
	conn, err := n.Manager.DialStream(Deadline(t, 30*time.Second), echoRequest(t, echo))
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if _, err := conn.Write([]byte("x")); err == nil {
		t.Fatal("write after Close succeeded")
	}
	dialEcho(t, n, echoRequest(t, echo))
	if after := onlyCircuit(t, n); after.ID != before.ID {
		t.Fatalf("circuit %d replaced by %d", before.ID, after.ID)
	}
}

// TestEarlyWriteBeyondKeep: an application that writes more before
// CONNECTED than the stream keeps for a resend (earlyKeep) waits for
// CONNECTED for the rest; every byte arrives, in order.
func TestEarlyWriteBeyondKeep(t *testing.T) {
	oniontest.CheckLeaks(t)
	_, conn, held, release := heldEarly(t)
	payload := make([]byte, 200<<10) // past earlyKeep, within the stream window
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	wrote := make(chan error, 1)
	go func() {
		_, err := conn.Write(payload)
		wrote <- err
	}()
	waitFor(t, held, "held exit connect")
	release()
	conn.SetReadDeadline(time.Now().Add(promptly))
	got := make([]byte, len(payload))
	if _, err := io.ReadFull(conn, got); err != nil {
		t.Fatalf("echo: %v", err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatal("echo differs from what was written")
	}
	if err := <-wrote; err != nil {
		t.Fatalf("write: %v", err)
	}
}

// TestEarlyTimeoutReleasesExit: a stream whose CONNECTED does not come
// before its deadline fails with a timeout, and the exit is told: once its
// connect goes through, it lets the destination go instead of holding it
// for a stream the client has given up.
func TestEarlyTimeoutReleasesExit(t *testing.T) {
	oniontest.CheckLeaks(t)
	g := &exitGate{}
	n := Start(t, Options{Relay: g.install})
	ln := listen(t)
	t.Cleanup(func() { ln.Close() })
	ended := make(chan struct{}, 2)
	go serveEach(ln, func(c net.Conn) {
		io.Copy(io.Discard, c) // until the exit lets go
		ended <- struct{}{}
	})
	req := echoRequest(t, ln.Addr().String())
	dialEcho(t, n, echoRequest(t, echoServer(t))).Close() // a warm circuit
	c, err := n.Manager.DialStream(Deadline(t, 30*time.Second), req)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	waitFor(t, ended, "end of the first connection")

	held, release := g.HoldNext(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	conn, err := n.Manager.DialStream(ctx, req)
	if err != nil {
		t.Fatalf("DialStream: %v", err)
	}
	defer conn.Close()
	conn.Write([]byte("x"))
	waitFor(t, held, "held exit connect")
	_, err = conn.Read(make([]byte, 1)) // returns once the deadline has passed
	if oe, ok := errors.AsType[*client.OpenError](err); !ok || oe.Reason != onion.EndTimeout {
		t.Fatalf("read = %v, want OpenError(timeout)", err)
	}
	release()
	waitFor(t, ended, "release of the destination by the exit")
}

// TestEarlyWriteDeadline: a write before CONNECTED whose deadline has
// passed fails and sends nothing; it is not sent later either.
func TestEarlyWriteDeadline(t *testing.T) {
	oniontest.CheckLeaks(t)
	_, conn, _, release := heldEarly(t)
	conn.SetWriteDeadline(time.Now().Add(-time.Second))
	if n, err := conn.Write([]byte("late")); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write past its deadline = %d, %v; want 0, deadline exceeded", n, err)
	}
	conn.SetWriteDeadline(time.Time{})
	if _, err := conn.Write([]byte("on time")); err != nil {
		t.Fatal(err)
	}
	release()
	got := make([]byte, len("on time"))
	conn.SetReadDeadline(time.Now().Add(promptly))
	if _, err := io.ReadFull(conn, got); err != nil || string(got) != "on time" {
		t.Fatalf("echo = %q, %v; want only what was written in time", got, err)
	}
	roundTrip(t, conn, "!") // and nothing of "late" after it
}

// TestManagerCloseEndsUnusedEarlyStream: closing the manager does not wait
// for the deadline of an early stream nobody used.
func TestManagerCloseEndsUnusedEarlyStream(t *testing.T) {
	oniontest.CheckLeaks(t)
	n := Start(t, Options{})
	echo := echoServer(t)
	dialEcho(t, n, echoRequest(t, echo)).Close()
	conn, err := n.Manager.DialStream(Deadline(t, time.Minute), echoRequest(t, echo))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := make(chan struct{})
	go func() { n.Manager.Close(); close(closed) }()
	waitFor(t, closed, "Manager.Close")
}

// TestEarlyReadDeadlineWhileWaiting: a read deadline set while a Read
// waits for CONNECTED ends that Read, as on a TCP conn.
func TestEarlyReadDeadlineWhileWaiting(t *testing.T) {
	oniontest.CheckLeaks(t)
	_, conn, held, _ := heldEarly(t) // never released before cleanup
	conn.Write([]byte("x"))
	waitFor(t, held, "held exit connect")
	read, reading := make(chan error, 1), make(chan struct{})
	go func() {
		close(reading)
		_, err := conn.Read(make([]byte, 1))
		read <- err
	}()
	<-reading // most often the Read is waiting by the time this returns
	conn.SetReadDeadline(time.Now())
	select {
	case err := <-read:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read = %v, want deadline exceeded", err)
		}
	case <-time.After(promptly):
		t.Fatal("a read waiting for CONNECTED ignored the deadline set meanwhile")
	}
}
