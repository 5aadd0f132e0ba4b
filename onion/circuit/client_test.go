package circuit_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"onion/onion"
	"onion/onion/circuit"
	"onion/onion/oniontest"
)

// fakeRelay plays the first hop of a ClientLink over a net.Pipe, cell by
// cell. Everything the client sends is collected by one reader goroutine, so
// a test can also check that the client sent nothing (idle).
type fakeRelay struct {
	t     *testing.T
	keys  oniontest.Keys
	peer  *oniontest.Peer
	conn  net.Conn
	cells chan onion.Cell
	hops  map[uint32]*oniontest.RelayHop
}

// startClient returns a ClientLink whose far end is a fakeRelay. It must run
// inside a synctest bubble: timeouts below are fake time.
func startClient(t *testing.T) (*circuit.ClientLink, *fakeRelay, *oniontest.Logs) {
	ours, theirs := net.Pipe()
	logs := oniontest.NewLogs(t)
	fr := &fakeRelay{
		t:     t,
		keys:  oniontest.RelayKeys("guard"),
		peer:  oniontest.NewPeer(t, theirs),
		conn:  theirs,
		cells: make(chan onion.Cell, 1024),
		hops:  map[uint32]*oniontest.RelayHop{},
	}
	fr.peer.Timeout = 24 * time.Hour
	clc := make(chan *circuit.ClientLink, 1)
	go func() {
		cl, err := circuit.NewClientLink(ours, logs.Logger(), oniontest.Rand(1))
		if err != nil {
			t.Error(err)
		}
		// The scripts below play an exit of before congestion control;
		// cc_test.go turns it on and plays CC_OFFER / CC_ACCEPT too.
		cl.SetCongestionControl(false)
		clc <- cl
	}()
	fr.peer.Preface()
	cl := <-clc
	go func() {
		defer close(fr.cells)
		for {
			c, err := fr.peer.RecvErr()
			if err != nil {
				return
			}
			fr.cells <- c
		}
	}()
	t.Cleanup(func() {
		cl.Close()
		theirs.Close()
		for range fr.cells { // until the reader has gone
		}
	})
	return cl, fr, logs
}

// next returns the next cell the client sent.
func (fr *fakeRelay) next() onion.Cell {
	fr.t.Helper()
	select {
	case c, ok := <-fr.cells:
		if !ok {
			fr.t.Fatal("client closed the link")
		}
		return c
	case <-time.After(time.Minute):
		fr.t.Fatal("client sent nothing for a minute")
	}
	panic("unreachable")
}

// idle checks that the client has nothing more to send.
func (fr *fakeRelay) idle() {
	fr.t.Helper()
	synctest.Wait()
	select {
	case c, ok := <-fr.cells:
		if ok {
			fr.t.Fatalf("client sent %v on circuit %d (payload %x), want nothing", c.Cmd, c.CircID, c.Payload)
		}
	default:
	}
}

func (fr *fakeRelay) expect(id uint32, cmd onion.Command) onion.Cell {
	fr.t.Helper()
	c := fr.next()
	if c.CircID != id || c.Cmd != cmd {
		fr.t.Fatalf("client sent %v on circuit %d, want %v on circuit %d", c.Cmd, c.CircID, cmd, id)
	}
	return c
}

func (fr *fakeRelay) expectDestroy(id uint32, reason onion.DestroyReason) {
	fr.t.Helper()
	c := fr.expect(id, onion.CmdDestroy)
	if len(c.Payload) != 1 || onion.DestroyReason(c.Payload[0]) != reason {
		fr.t.Fatalf("DESTROY payload %x, want %v", c.Payload, reason)
	}
}

// msg returns the next message the client sent on circuit id.
func (fr *fakeRelay) msg(id uint32) onion.RelayMsg {
	fr.t.Helper()
	c := fr.expect(id, onion.CmdRelay)
	m, err := fr.hops[id].Open(c.Payload)
	if err != nil {
		fr.t.Fatalf("open client's layer: %v", err)
	}
	return m
}

func (fr *fakeRelay) send(id uint32, m onion.RelayMsg) {
	fr.t.Helper()
	fr.peer.Send(fr.hops[id].Cell(m))
}

func (fr *fakeRelay) hop() circuit.Hop {
	return circuit.Hop{Address: "guard:9001", IdentityKey: fr.keys.ID(), OnionKey: fr.keys.OnionPub()}
}

// create builds a one-hop circuit: the client's CREATE, our CREATED.
func (fr *fakeRelay) create(cl *circuit.ClientLink) *circuit.Circuit {
	fr.t.Helper()
	type res struct {
		c   *circuit.Circuit
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := cl.Create(context.Background(), fr.hop())
		ch <- res{c, err}
	}()
	created, h, err := oniontest.AnswerCreate(fr.keys.RelayKeys(), fr.next())
	if err != nil {
		fr.t.Fatalf("client's CREATE: %v", err)
	}
	fr.hops[h.ID] = h
	fr.peer.Send(created)
	r := <-ch
	if r.err != nil {
		fr.t.Fatalf("Create: %v", r.err)
	}
	return r.c
}

// open opens a stream on c, playing an exit that accepts it.
func (fr *fakeRelay) open(c *circuit.Circuit, target string) *circuit.Stream {
	fr.t.Helper()
	type res struct {
		s   *circuit.Stream
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := circuit.NewClientStream(target)
		if err == nil {
			err = c.Attach(s)
		}
		if err == nil {
			s.Begin()
			err = s.WaitConnected(context.Background())
		}
		ch <- res{s, err}
	}()
	m := fr.msg(c.ID())
	if m.Cmd != onion.RelayBegin || string(m.Body) != target || m.Stream == 0 {
		fr.t.Fatalf("client sent %v %q on stream %d, want BEGIN %q", m.Cmd, m.Body, m.Stream, target)
	}
	fr.send(c.ID(), onion.RelayMsg{Cmd: onion.RelayConnected, Stream: m.Stream})
	r := <-ch
	if r.err != nil {
		fr.t.Fatalf("OpenStream: %v", r.err)
	}
	return r.s
}

// roundTrip proves circuit c works end to end: a stream opens, carries
// bytes both ways and closes.
func (fr *fakeRelay) roundTrip(c *circuit.Circuit) {
	fr.t.Helper()
	s := fr.open(c, "example.com:80")
	if _, err := s.Write([]byte("ping")); err != nil {
		fr.t.Fatalf("Write: %v", err)
	}
	if m := fr.msg(c.ID()); m.Cmd != onion.RelayData || string(m.Body) != "ping" || m.Stream != s.ID() {
		fr.t.Fatalf("client sent %v %q, want DATA ping", m.Cmd, m.Body)
	}
	fr.send(c.ID(), onion.RelayMsg{Cmd: onion.RelayData, Stream: s.ID(), Body: []byte("pong")})
	fr.send(c.ID(), onion.RelayMsg{Cmd: onion.RelayEnd, Stream: s.ID(), Body: []byte{byte(onion.EndDone)}})
	if got, err := io.ReadAll(s); err != nil || string(got) != "pong" {
		fr.t.Fatalf("ReadAll = %q, %v", got, err)
	}
	s.Close()
	if m := fr.msg(c.ID()); m.Cmd != onion.RelayEnd || len(m.Body) != 1 || onion.EndReason(m.Body[0]) != onion.EndDone {
		fr.t.Fatalf("client closed with %v %x, want END done", m.Cmd, m.Body)
	}
}

// TestClientCircuitLifecycle: Create, a stream both ways, a hostname sent
// unresolved in BEGIN, and Close telling the relay DESTROY(requested).
func TestClientCircuitLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl, fr, _ := startClient(t)
		c := fr.create(cl)
		if len(c.Path()) != 1 || cl.NumCircuits() != 1 {
			t.Fatalf("path %v, %d circuits", c.Path(), cl.NumCircuits())
		}
		fr.roundTrip(c)
		synctest.Wait()
		if n := c.NumStreams(); n != 0 {
			t.Fatalf("%d streams after the stream closed", n)
		}
		c.Close()
		fr.expectDestroy(c.ID(), onion.DestroyRequested)
		<-c.Done()
		if !errors.Is(c.Err(), circuit.ErrCircuitClosed) || cl.NumCircuits() != 0 {
			t.Fatalf("after Close: Err %v, %d circuits", c.Err(), cl.NumCircuits())
		}
		s, _ := circuit.NewClientStream("example.com:80")
		if err := c.Attach(s); err == nil {
			t.Fatal("Attach on a closed circuit succeeded")
		}
		fr.idle()
	})
}

// TestRogueRelayCells: a first hop that sends a tampered, replayed or
// reordered layer, an unknown command, or a message it has no business
// sending loses that circuit, with DESTROY(protocol) and a logged reason,
// and a second circuit on the same link keeps working.
func TestRogueRelayCells(t *testing.T) {
	harmless := func(h *oniontest.RelayHop) onion.Cell {
		// DATA for a stream the client does not have: dropped, not an error.
		return h.Cell(onion.RelayMsg{Cmd: onion.RelayData, Stream: 99, Body: []byte("x")})
	}
	for _, tc := range []struct {
		name string
		send func(fr *fakeRelay, h *oniontest.RelayHop)
		want string // in the circuit's error
	}{
		{"tampered layer", func(fr *fakeRelay, h *oniontest.RelayHop) {
			c := harmless(h)
			c.Payload[len(c.Payload)/2] ^= 0x01
			fr.peer.Send(c)
		}, "authentication"},
		{"tampered MAC", func(fr *fakeRelay, h *oniontest.RelayHop) {
			c := harmless(h)
			c.Payload[len(c.Payload)-1] ^= 0x80
			fr.peer.Send(c)
		}, "authentication"},
		{"truncated layer", func(fr *fakeRelay, h *oniontest.RelayHop) {
			c := harmless(h)
			c.Payload = c.Payload[:len(c.Payload)-16]
			fr.peer.Send(c)
		}, "authentication"},
		{"empty RELAY", func(fr *fakeRelay, h *oniontest.RelayHop) {
			fr.peer.Send(onion.Cell{CircID: h.ID, Cmd: onion.CmdRelay})
		}, "authentication"},
		{"replayed layer", func(fr *fakeRelay, h *oniontest.RelayHop) {
			c := harmless(h)
			fr.peer.Send(c)
			fr.peer.Send(c)
		}, "sequence"},
		{"reordered layers", func(fr *fakeRelay, h *oniontest.RelayHop) {
			first, second := harmless(h), harmless(h)
			fr.peer.Send(second)
			fr.peer.Send(first)
		}, "sequence"},
		{"unknown command", func(fr *fakeRelay, h *oniontest.RelayHop) {
			fr.peer.Send(onion.Cell{CircID: h.ID, Cmd: onion.Command(42), Payload: []byte("?")})
		}, "unexpected Command(42)"},
		{"CREATE from relay", func(fr *fakeRelay, h *oniontest.RelayHop) {
			fr.peer.Send(onion.Cell{CircID: h.ID, Cmd: onion.CmdCreate, Payload: make([]byte, onion.CreateLen)})
		}, "unexpected CREATE"},
		{"CREATED on a built circuit", func(fr *fakeRelay, h *oniontest.RelayHop) {
			fr.peer.Send(onion.Cell{CircID: h.ID, Cmd: onion.CmdCreated, Payload: make([]byte, onion.CreatedLen)})
		}, "CREATED on a built circuit"},
		{"unsolicited EXTENDED", func(fr *fakeRelay, h *oniontest.RelayHop) {
			// The first one waits in the builder's one-slot channel; only
			// the second is caught (see the report on deliverCtrl).
			fr.peer.Send(h.Cell(onion.RelayMsg{Cmd: onion.RelayExtended, Body: make([]byte, onion.CreatedLen)}))
			fr.peer.Send(h.Cell(onion.RelayMsg{Cmd: onion.RelayExtended, Body: make([]byte, onion.CreatedLen)}))
		}, "unsolicited"},
		{"BEGIN from relay", func(fr *fakeRelay, h *oniontest.RelayHop) {
			fr.peer.Send(h.Cell(onion.RelayMsg{Cmd: onion.RelayBegin, Stream: 1, Body: []byte("a:1")}))
		}, "unexpected BEGIN"},
		{"DATA on stream 0", func(fr *fakeRelay, h *oniontest.RelayHop) {
			fr.peer.Send(h.Cell(onion.RelayMsg{Cmd: onion.RelayData, Body: []byte("x")}))
		}, "stream 0"},
		{"short relay message", func(fr *fakeRelay, h *oniontest.RelayHop) {
			fr.peer.Send(h.RawCell([]byte{byte(onion.RelayData)}))
		}, "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cl, fr, logs := startClient(t)
				victim := fr.create(cl)
				other := fr.create(cl)
				s := fr.open(victim, "victim.example:443")

				tc.send(fr, fr.hops[victim.ID()])
				fr.expectDestroy(victim.ID(), onion.DestroyProtocol)
				<-victim.Done()
				if err := victim.Err(); !errors.Is(err, circuit.ErrCircuitClosed) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("circuit error %v, want ErrCircuitClosed mentioning %q", err, tc.want)
				}
				if recs := logs.Find("tearing down circuit", map[string]string{"circ": itoa(victim.ID())}); len(recs) != 1 {
					t.Fatalf("logged %d teardown records for the circuit, want 1", len(recs))
				}
				// Its stream fails at once rather than hanging.
				if _, err := s.Read(make([]byte, 1)); !errors.Is(err, circuit.ErrCircuitClosed) {
					t.Fatalf("Read on the dead circuit's stream = %v", err)
				}
				if _, err := s.Write([]byte("x")); !errors.Is(err, circuit.ErrCircuitClosed) {
					t.Fatalf("Write on the dead circuit's stream = %v", err)
				}
				// Anything more the rogue sends on it is ignored.
				fr.peer.Send(harmless(fr.hops[victim.ID()]))
				fr.idle()

				fr.roundTrip(other)
				if cl.NumCircuits() != 1 {
					t.Fatalf("%d circuits on the link, want 1", cl.NumCircuits())
				}
				fr.idle()
			})
		})
	}
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

// TestRelayDestroyFailsStreams: DESTROY from the first hop ends the circuit
// and its streams at once with the reason, and the client does not answer.
func TestRelayDestroyFailsStreams(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl, fr, logs := startClient(t)
		c := fr.create(cl)
		s := fr.open(c, "example.com:80")
		readErr := make(chan error, 1)
		go func() { _, err := s.Read(make([]byte, 10)); readErr <- err }()
		synctest.Wait()
		fr.peer.Send(onion.Cell{CircID: c.ID(), Cmd: onion.CmdDestroy, Payload: []byte{byte(onion.DestroyLayer)}})
		if err := <-readErr; !errors.Is(err, circuit.ErrCircuitClosed) || !strings.Contains(err.Error(), onion.DestroyLayer.String()) {
			t.Fatalf("blocked Read = %v, want the DESTROY reason", err)
		}
		<-c.Done()
		if len(logs.Find("circuit destroyed by relay", map[string]string{"reason": onion.DestroyLayer.String()})) != 1 {
			t.Fatal("the DESTROY was not logged with its reason")
		}
		fr.idle()
	})
}

// TestUnknownCircuitIgnored: cells for a circuit id the client does not
// have are dropped; the link and its circuits carry on.
func TestUnknownCircuitIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl, fr, _ := startClient(t)
		c := fr.create(cl)
		for _, cmd := range []onion.Command{onion.CmdRelay, onion.CmdDestroy, onion.CmdCreated, 77} {
			fr.peer.Send(onion.Cell{CircID: 555, Cmd: cmd, Payload: []byte("junk")})
		}
		fr.idle()
		fr.roundTrip(c)
	})
}

// TestLinkLossFailsEveryCircuit: when the link to the first hop drops,
// every circuit on it closes and its streams fail promptly.
func TestLinkLossFailsEveryCircuit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl, fr, _ := startClient(t)
		c1, c2 := fr.create(cl), fr.create(cl)
		s := fr.open(c1, "example.com:80")
		readErr := make(chan error, 1)
		go func() { _, err := s.Read(make([]byte, 10)); readErr <- err }()
		synctest.Wait()
		fr.conn.Close()
		if err := <-readErr; !errors.Is(err, circuit.ErrCircuitClosed) {
			t.Fatalf("Read after link loss = %v", err)
		}
		<-c1.Done()
		<-c2.Done()
		<-cl.Done()
		if _, err := cl.Create(context.Background(), fr.hop()); err == nil {
			t.Fatal("Create on a closed link succeeded")
		}
	})
}

// TestCreateForgedAnswer: a CREATED that does not prove the onion key, or
// an EXTENDED that does not, fails the build with the handshake error.
func TestCreateForgedAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl, fr, _ := startClient(t)
		errc := make(chan error, 1)
		go func() {
			_, err := cl.Create(context.Background(), fr.hop())
			errc <- err
		}()
		create := fr.next()
		// Answer as a relay that holds a different onion key.
		imposter := oniontest.RelayKeys("imposter")
		create.Payload = append(append(append([]byte{}, imposter.ID()...), imposter.OnionPub()...), create.Payload[2*onion.KeyLen:]...)
		created, _, err := oniontest.AnswerCreate(imposter.RelayKeys(), create)
		if err != nil {
			t.Fatal(err)
		}
		fr.peer.Send(created)
		if err := <-errc; !errors.Is(err, onion.ErrHandshake) {
			t.Fatalf("Create with a forged CREATED = %v, want ErrHandshake", err)
		}
		fr.expect(create.CircID, onion.CmdDestroy)
		if cl.NumCircuits() != 0 {
			t.Fatalf("%d circuits after a failed Create", cl.NumCircuits())
		}

		// EXTEND answered by a forged EXTENDED.
		c := fr.create(cl)
		go func() {
			next := oniontest.RelayKeys("middle")
			errc <- c.Extend(context.Background(), circuit.Hop{Address: "middle:9001", IdentityKey: next.ID(), OnionKey: next.OnionPub()})
		}()
		if m := fr.msg(c.ID()); m.Cmd != onion.RelayExtend {
			t.Fatalf("client sent %v, want EXTEND", m.Cmd)
		}
		fr.send(c.ID(), onion.RelayMsg{Cmd: onion.RelayExtended, Body: make([]byte, onion.CreatedLen)})
		if err := <-errc; !errors.Is(err, onion.ErrHandshake) {
			t.Fatalf("Extend with a forged EXTENDED = %v, want ErrHandshake", err)
		}
		fr.expect(c.ID(), onion.CmdDestroy)
		<-c.Done()
	})
}

// TestExtendFailed: EXTEND_FAILED fails Extend with the relay's reason and
// leaves the circuit usable at its current length.
func TestExtendFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl, fr, _ := startClient(t)
		c := fr.create(cl)
		errc := make(chan error, 1)
		go func() {
			next := oniontest.RelayKeys("middle")
			errc <- c.Extend(context.Background(), circuit.Hop{Address: "middle:9001", IdentityKey: next.ID(), OnionKey: next.OnionPub()})
		}()
		fr.msg(c.ID())
		fr.send(c.ID(), onion.RelayMsg{Cmd: onion.RelayExtendFailed, Body: []byte{byte(onion.DestroyConnectFail)}})
		if err := <-errc; err == nil || !strings.Contains(err.Error(), onion.DestroyConnectFail.String()) {
			t.Fatalf("Extend = %v, want the relay's reason", err)
		}
		fr.roundTrip(c)
	})
}

// TestRelayOverrunsStreamWindow: an exit that ignores flow control and
// sends more than StreamWindow unacknowledged bytes loses the circuit; the
// client never buffers more than the window.
func TestRelayOverrunsStreamWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl, fr, _ := startClient(t)
		c := fr.create(cl)
		s := fr.open(c, "example.com:80")
		chunk := make([]byte, onion.MaxData)
		for sent := 0; sent < onion.StreamWindow; sent += len(chunk) {
			fr.send(c.ID(), onion.RelayMsg{Cmd: onion.RelayData, Stream: s.ID(), Body: chunk})
		}
		fr.idle() // within the window: fine, and nothing read yet, so no SENDME
		fr.send(c.ID(), onion.RelayMsg{Cmd: onion.RelayData, Stream: s.ID(), Body: []byte{1}})
		fr.expectDestroy(c.ID(), onion.DestroyProtocol)
		<-c.Done()
		if !errors.Is(c.Err(), circuit.ErrProtocol) {
			t.Fatalf("circuit error %v, want ErrProtocol", c.Err())
		}
	})
}
