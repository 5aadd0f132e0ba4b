package testnet

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"onion/client"
	"onion/onion"
	"onion/onion/oniontest"
	"onion/relay"
)

// promptly bounds how long a failure may take to reach a stream. Every
// failure here is signalled (a closed link, a DESTROY), never timed out, so
// this is generous.
const promptly = 10 * time.Second

// dialEcho opens a stream to addr through the manager and checks one round trip.
func dialEcho(t *testing.T, n *Net, req client.DialRequest) net.Conn {
	t.Helper()
	conn, err := n.Manager.DialStream(Deadline(t, 30*time.Second), req)
	if err != nil {
		t.Fatalf("DialStream: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	roundTrip(t, conn, "hello")
	return conn
}

func echoRequest(t *testing.T, addr string) client.DialRequest {
	_, port, _ := net.SplitHostPort(addr)
	return client.DialRequest{Host: "127.0.0.1", Port: mustPort(t, port)}
}

func roundTrip(t *testing.T, conn net.Conn, msg string) {
	t.Helper()
	conn.SetDeadline(time.Now().Add(promptly))
	defer conn.SetDeadline(time.Time{})
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, got); err != nil || string(got) != msg {
		t.Fatalf("echo = %q, %v", got, err)
	}
}

// readFails waits for a read on conn to fail, as it must once its circuit
// is gone, and fails the test if it hangs instead (a deadline is only a
// backstop: hitting it is the failure).
func readFails(t *testing.T, conn net.Conn) error {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(promptly))
	start := time.Now()
	_, err := conn.Read(make([]byte, 100))
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read on a stream whose circuit died = %v after %v, want a prompt error", err, time.Since(start))
	}
	if _, werr := conn.Write([]byte("x")); werr == nil {
		t.Fatal("write on a stream whose circuit died succeeded")
	}
	return err
}

func onlyCircuit(t *testing.T, n *Net) client.CircuitInfo {
	t.Helper()
	circs := n.Manager.Circuits()
	if len(circs) != 1 || len(circs[0].Path) != 3 {
		t.Fatalf("circuits = %+v, want one of three hops", circs)
	}
	return circs[0]
}

// TestRelayDeathFailsStreamAndRebuilds: a relay of the circuit in use dies
// (each position in turn); the stream on it fails promptly with an error,
// and the next DialStream builds a new circuit that avoids the dead relay.
func TestRelayDeathFailsStreamAndRebuilds(t *testing.T) {
	for hop := range 3 {
		t.Run([]string{"first", "middle", "exit"}[hop], func(t *testing.T) {
			oniontest.CheckLeaks(t)
			logs := oniontest.NewLogs(t)
			n := Start(t, Options{Logger: logs.Logger()})
			echo := echoServer(t)
			conn := dialEcho(t, n, echoRequest(t, echo))
			old := onlyCircuit(t, n)
			victim := old.Path[hop]
			for _, rp := range n.Relays {
				if rp.Addr == victim.Address {
					rp.Stop()
				}
			}
			err := readFails(t, conn)
			t.Logf("stream error after %s relay died: %v", victim.Nickname, err)

			conn2 := dialEcho(t, n, echoRequest(t, echo))
			roundTrip(t, conn2, "after the relay died")
			var fresh []client.CircuitInfo
			for _, c := range n.Manager.Circuits() {
				if c.ID != old.ID { // the dead one may not be forgotten yet
					fresh = append(fresh, c)
				}
			}
			if len(fresh) != 1 || fresh[0].Streams != 1 {
				t.Fatalf("new circuits = %+v, want one carrying the new stream", fresh)
			}
			for _, h := range fresh[0].Path {
				if h.Fingerprint == victim.Fingerprint {
					t.Fatalf("new circuit %+v goes through the dead relay %s", fresh[0].Path, victim.Nickname)
				}
			}
		})
	}
}

// TestIsolationKeys: streams with different SOCKS credentials get different
// circuits; streams with the same credentials share one.
func TestIsolationKeys(t *testing.T) {
	oniontest.CheckLeaks(t)
	n := Start(t, Options{})
	echo := echoServer(t)
	req := func(user, pass string) client.DialRequest {
		r := echoRequest(t, echo)
		r.Username, r.Password = user, pass
		return r
	}
	streams := func() []int {
		var out []int
		for _, c := range n.Manager.Circuits() {
			out = append(out, c.Streams)
		}
		slices.Sort(out)
		return out
	}
	dialEcho(t, n, req("alice", "a"))
	dialEcho(t, n, req("bob", "b"))
	if got := streams(); !slices.Equal(got, []int{1, 1}) {
		t.Fatalf("after alice and bob: streams per circuit %v, want [1 1]", got)
	}
	dialEcho(t, n, req("alice", "a"))
	if got := streams(); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("after alice again: streams per circuit %v, want [1 2] (alice's circuit reused)", got)
	}
	// Same user, other password, and no credentials: two more circuits. The
	// key is user and password together, unambiguously ("ab"+"c" is not "a"+"bc").
	dialEcho(t, n, req("alice", "other"))
	dialEcho(t, n, req("", ""))
	dialEcho(t, n, req("ali", "cea"))
	if got := streams(); !slices.Equal(got, []int{1, 1, 1, 1, 2}) {
		t.Fatalf("streams per circuit %v, want [1 1 1 1 2]", got)
	}
	ids := map[int]bool{}
	for _, c := range n.Manager.Circuits() {
		ids[c.ID] = true
	}
	if len(ids) != 5 {
		t.Fatalf("circuit ids %v are not distinct", ids)
	}
}

// TestTamperInTheMiddle: a relay flips one bit in one cell it forwards, in
// either direction. The hop (or client) that owns the broken layer notices,
// the circuit is torn down with a logged reason, the client's stream fails
// promptly, and a new circuit then works.
func TestTamperInTheMiddle(t *testing.T) {
	for _, dir := range []direction{forward, backward} {
		t.Run(dir.String(), func(t *testing.T) {
			oniontest.CheckLeaks(t)
			logs := oniontest.NewLogs(t)
			tm := &tamperer{flipped: make(chan struct{})}
			n := Start(t, Options{Logger: logs.Logger(), Relay: func(_ int, cfg *relay.Config) {
				cfg.WrapLink = tm.wrap // links between relays only, above TLS; the proxy's are untouched
			}})
			echo := echoServer(t)
			conn := dialEcho(t, n, echoRequest(t, echo))

			tm.arm(dir)
			conn.Write([]byte("this crosses a tampering relay"))
			select {
			case <-tm.flipped:
			case <-time.After(promptly):
				t.Fatal("no cell crossed a link between relays")
			}
			err := readFails(t, conn)
			t.Logf("stream error: %v", err)

			switch dir {
			case forward:
				// The next relay cannot open its layer.
				recs := logs.Find("destroying circuit", map[string]string{"reason": onion.DestroyLayer.String()})
				if len(recs) != 1 {
					t.Fatalf("%d relays logged a layer failure, want 1", len(recs))
				}
				if len(logs.Find("circuit destroyed by relay", map[string]string{"role": "proxy"})) != 1 {
					t.Fatal("the proxy did not log the DESTROY it got")
				}
			case backward:
				// Relays add backward layers without checking the inner ones:
				// only the client can notice, and it tears the circuit down.
				var found bool
				for _, r := range logs.Find("tearing down circuit", map[string]string{"role": "proxy"}) {
					found = found || strings.Contains(r.Attrs["err"], "layer")
				}
				if !found {
					t.Fatal("the proxy did not log a layer failure")
				}
			}
			conn2 := dialEcho(t, n, echoRequest(t, echo))
			roundTrip(t, conn2, "a new circuit works")
		})
	}
}

// TestHostnameReachesExitUnresolved: a name the proxy is asked for crosses
// the proxy and three relays as text and reaches the exit's dialer as is.
func TestHostnameReachesExitUnresolved(t *testing.T) {
	oniontest.CheckLeaks(t)
	echo := echoServer(t)
	var mu sync.Mutex
	var dialed []string
	n := Start(t, Options{Relay: func(_ int, cfg *relay.Config) {
		cfg.DialExit = func(ctx context.Context, network, addr string) (net.Conn, error) {
			mu.Lock()
			dialed = append(dialed, addr)
			mu.Unlock()
			if addr != "service.internal.test:7" {
				return nil, errors.New("unexpected destination")
			}
			return (&net.Dialer{}).DialContext(ctx, network, echo)
		}
	}})
	dialEcho(t, n, client.DialRequest{Host: "service.internal.test", Port: 7})
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(dialed, []string{"service.internal.test:7"}) {
		t.Fatalf("exits dialed %q", dialed)
	}
}

// direction says which way through a relay-to-relay link a cell goes: forward
// is written by the relay that dialed the link, backward is read by it.
type direction int32

const (
	forward direction = iota + 1
	backward
)

func (d direction) String() string {
	return map[direction]string{forward: "forward", backward: "backward"}[d]
}

// tamperer wraps the plaintext side of the links relays dial to each other. Once armed it flips
// one bit in the next RELAY cell going the armed way, then disarms.
type tamperer struct {
	armed   atomic.Int32
	flipped chan struct{}
}

func (tm *tamperer) arm(d direction) { tm.armed.Store(int32(d)) }

func (tm *tamperer) wrap(c net.Conn, accepted bool) net.Conn {
	if accepted {
		return c
	}
	tc := &tamperConn{Conn: c}
	tc.out = cellScanner{tm: tm, dir: forward, skip: len(onion.LinkPreface)}
	tc.in = cellScanner{tm: tm, dir: backward, skip: len(onion.LinkPreface)}
	return tc
}

type tamperConn struct {
	net.Conn
	wmu, rmu sync.Mutex
	out, in  cellScanner
}

func (c *tamperConn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b = bytes.Clone(b) // the writer's buffer is its own
	c.out.scan(b)
	return c.Conn.Write(b)
}

func (c *tamperConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.rmu.Lock()
	c.in.scan(b[:n])
	c.rmu.Unlock()
	return n, err
}

// cellScanner follows cell boundaries in one direction of a link's byte
// stream, however the bytes are split into reads or writes.
type cellScanner struct {
	tm     *tamperer
	dir    direction
	skip   int // preface bytes still to pass
	hdr    [onion.CellHeaderLen]byte
	hn     int  // header bytes seen
	left   int  // payload bytes still to pass
	pos    int  // offset in the current payload
	target bool // flip a bit in this cell's payload
}

// flipAt is where in a RELAY cell's payload the bit flips: inside the
// outer token's IV, which its MAC covers.
const flipAt = 20

func (s *cellScanner) scan(b []byte) {
	for i := range b {
		switch {
		case s.skip > 0:
			s.skip--
		case s.left == 0:
			s.hdr[s.hn] = b[i]
			s.hn++
			if s.hn == len(s.hdr) {
				s.hn, s.pos = 0, 0
				s.left = int(s.hdr[5])<<8 | int(s.hdr[6])
				s.target = onion.Command(s.hdr[4]) == onion.CmdRelay && s.left > flipAt &&
					s.tm.armed.CompareAndSwap(int32(s.dir), 0)
			}
		default:
			if s.target && s.pos == flipAt {
				b[i] ^= 0x01
				close(s.tm.flipped)
			}
			s.pos++
			s.left--
		}
	}
}
