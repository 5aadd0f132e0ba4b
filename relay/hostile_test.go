package relay_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"onion/onion"
	"onion/onion/oniontest"
	"onion/relay"
)

// TestGarbageConnectionsRefused: a connection that does not start with the
// link preface (HTTP, TLS, noise, another version) is closed, and the relay
// keeps serving the links it has and new ones.
func TestGarbageConnectionsRefused(t *testing.T) {
	oniontest.CheckLeaks(t)
	echoAddr := echoServer(t)
	tr := startRelay(t, "r1", exitConfig)
	good := tr.link()
	c := tr.create(good, 1)

	for _, tc := range []struct{ name, bytes string }{
		{"HTTP", "GET / HTTP/1.1\r\nHost: relay\r\n\r\n"},
		{"TLS ClientHello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + string(make([]byte, 64))},
		{"other version", "ONION/2\n\x00\x00\x00\x01\x01\x00\x00"},
		{"binary noise", string(bytes.Repeat([]byte{0xff, 0x00, 0x5a}, 400))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", tr.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write([]byte(tc.bytes)); err != nil {
				t.Fatal(err)
			}
			conn.SetReadDeadline(time.Now().Add(oniontest.DefaultTimeout))
			got, err := io.ReadAll(conn)
			if err != nil && !oniontest.IsClosed(err) {
				t.Fatalf("relay did not close the connection: %v", err)
			}
			// The relay speaks first, so it may have sent its preface; nothing more.
			if len(got) > len(onion.LinkPreface) || string(got) != onion.LinkPreface[:len(got)] {
				t.Fatalf("relay sent %q to a non-onion peer", got)
			}
		})
	}
	echo(t, good, c, 1, echoAddr, []byte("old link still works"))
	fresh := tr.link()
	echo(t, fresh, tr.create(fresh, 1), 1, echoAddr, []byte("new link works"))
	if len(tr.logs.Find("refused connection", nil)) < 4 {
		t.Errorf("refused connections were not logged")
	}
}

// TestCreateRefusals: a CREATE for keys the relay does not hold gets
// DESTROY(wrong keys), a malformed one DESTROY(protocol); either way the
// link stays up and the next CREATE works.
func TestCreateRefusals(t *testing.T) {
	oniontest.CheckLeaks(t)
	tr := startRelay(t, "r1", nil)
	p := tr.link()
	other := oniontest.RelayKeys("somebody else")
	_, create, err := onion.NewClientHandshake(nil, other.ID(), other.OnionPub())
	if err != nil {
		t.Fatal(err)
	}
	_, staleOnion, _ := onion.NewClientHandshake(nil, tr.keys.ID(), other.OnionPub())
	ours := func() []byte {
		_, b, _ := onion.NewClientHandshake(nil, tr.keys.ID(), tr.keys.OnionPub())
		return b
	}
	lowOrder := append(ours()[:2*onion.KeyLen], make([]byte, onion.KeyLen)...) // X = 0

	for i, tc := range []struct {
		name    string
		payload []byte
		want    onion.DestroyReason
	}{
		{"another relay's keys", create, onion.DestroyWrongKey},
		{"stale onion key", staleOnion, onion.DestroyWrongKey},
		{"empty", nil, onion.DestroyProtocol},
		{"short", ours()[:onion.CreateLen-1], onion.DestroyProtocol},
		{"long", append(ours(), 0), onion.DestroyProtocol},
		{"oversize", append(ours(), make([]byte, onion.MaxCellPayload-onion.CreateLen)...), onion.DestroyProtocol},
		{"low-order point", lowOrder, onion.DestroyProtocol},
	} {
		id := uint32(100 + i)
		p.Send(onion.Cell{CircID: id, Cmd: onion.CmdCreate, Payload: tc.payload})
		p.ExpectDestroy(id, tc.want)
		t.Logf("%s: DESTROY(%v)", tc.name, tc.want)
	}
	c := tr.create(p, 1)
	p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayBegin, Stream: 1, Body: []byte("example.com:80")}))
	wantEnd(t, p.Msg(c), onion.EndExitPolicy) // not an exit, but the circuit works
	if len(tr.logs.Find("refused CREATE", nil)) != 7 {
		t.Errorf("refused CREATEs were not each logged")
	}
}

// TestHostileLayers: a RELAY cell whose layer was tampered with (one bit
// anywhere), truncated, replayed or reordered destroys its circuit with
// DESTROY(layer) and a logged reason; a second circuit on the same link
// keeps working, and later cells for the dead circuit are ignored.
func TestHostileLayers(t *testing.T) {
	oniontest.CheckLeaks(t)
	echoAddr := echoServer(t)
	tr := startRelay(t, "r1", exitConfig)
	harmless := func(c *oniontest.ClientCirc) onion.Cell {
		// SENDME for a stream the exit does not have: dropped, not an error.
		return c.Cell(onion.RelayMsg{Cmd: onion.RelaySendme, Stream: 9, Body: onion.Uint32Body(1)})
	}
	flip := func(pos func(n int) int) func(p *oniontest.Peer, c *oniontest.ClientCirc) {
		return func(p *oniontest.Peer, c *oniontest.ClientCirc) {
			cell := harmless(c)
			cell.Payload[pos(len(cell.Payload))] ^= 0x01
			p.Send(cell)
		}
	}
	for _, tc := range []struct {
		name string
		send func(p *oniontest.Peer, c *oniontest.ClientCirc)
	}{
		{"flip version byte", flip(func(int) int { return 0 })},
		{"flip timestamp", flip(func(int) int { return 4 })},
		{"flip IV", flip(func(int) int { return 12 })},
		{"flip ciphertext", flip(func(n int) int { return 30 })},
		{"flip MAC", flip(func(n int) int { return n - 1 })},
		{"truncated", func(p *oniontest.Peer, c *oniontest.ClientCirc) {
			cell := harmless(c)
			cell.Payload = cell.Payload[:len(cell.Payload)-1]
			p.Send(cell)
		}},
		{"empty", func(p *oniontest.Peer, c *oniontest.ClientCirc) {
			p.Send(onion.Cell{CircID: c.ID, Cmd: onion.CmdRelay})
		}},
		{"max-size garbage", func(p *oniontest.Peer, c *oniontest.ClientCirc) {
			p.Send(onion.Cell{CircID: c.ID, Cmd: onion.CmdRelay, Payload: bytes.Repeat([]byte{0x80}, onion.MaxCellPayload)})
		}},
		{"replayed", func(p *oniontest.Peer, c *oniontest.ClientCirc) {
			cell := harmless(c)
			p.Send(cell)
			p.Send(cell)
		}},
		{"reordered", func(p *oniontest.Peer, c *oniontest.ClientCirc) {
			first, second := harmless(c), harmless(c)
			p.Send(second)
			p.Send(first)
		}},
		{"sealed with another key", func(p *oniontest.Peer, c *oniontest.ClientCirc) {
			// Valid fernet with a valid MAC, under a key this hop does not
			// hold: only authentication can reject it.
			p.Send(onion.Cell{CircID: c.ID, Cmd: onion.CmdRelay, Payload: foreignToken(t)})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tr.link()
			victim := tr.create(p, 1)
			witness := tr.create(p, 2)
			tc.send(p, victim)
			p.ExpectDestroy(victim.ID, onion.DestroyLayer)
			tr.destroyLogged(victim.ID, onion.DestroyLayer)
			// The dead circuit's id is now unknown: more cells on it are ignored.
			p.Send(harmless(victim))
			echo(t, p, witness, 1, echoAddr, []byte("witness after "+tc.name))
		})
	}
}

// foreignToken is a well-formed layer holding a harmless SENDME, sealed
// with a key no hop holds.
func foreignToken(t *testing.T) []byte {
	t.Helper()
	var k [32]byte
	copy(k[:], "not the forward key of any hop!!")
	tok, err := onion.NewSealer(k).Seal(onion.KindMessage, []byte{byte(onion.RelaySendme), 0, 9, 0, 0, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestUnexpectedCommands: a cell command the relay does not expect on a
// circuit destroys that circuit with DESTROY(protocol); the link and its
// other circuits carry on.
func TestUnexpectedCommands(t *testing.T) {
	oniontest.CheckLeaks(t)
	echoAddr := echoServer(t)
	tr := startRelay(t, "r1", exitConfig)
	for _, cmd := range []onion.Command{onion.CmdCreated, 0, 5, 99, 255} {
		t.Run(cmd.String(), func(t *testing.T) {
			p := tr.link()
			victim := tr.create(p, 1)
			witness := tr.create(p, 2)
			p.Send(onion.Cell{CircID: victim.ID, Cmd: cmd, Payload: []byte("what is this")})
			p.ExpectDestroy(victim.ID, onion.DestroyProtocol)
			tr.destroyLogged(victim.ID, onion.DestroyProtocol)
			echo(t, p, witness, 1, echoAddr, []byte("still here"))
		})
	}
	// A CREATE on a circuit id in use kills that circuit (never two circuits
	// with one id), not the link.
	p := tr.link()
	victim := tr.create(p, 1)
	witness := tr.create(p, 2)
	_, create, _ := onion.NewClientHandshake(nil, tr.keys.ID(), tr.keys.OnionPub())
	p.Send(onion.Cell{CircID: victim.ID, Cmd: onion.CmdCreate, Payload: create})
	p.ExpectDestroy(victim.ID, onion.DestroyProtocol)
	echo(t, p, witness, 1, echoAddr, []byte("still here"))

	// Messages an exit never takes from a client destroy the circuit too.
	for i, m := range []onion.RelayMsg{
		{Cmd: onion.RelayConnected, Stream: 1},
		{Cmd: onion.RelayExtended, Body: make([]byte, onion.CreatedLen)},
		{Cmd: 77, Stream: 1},
		{Cmd: onion.RelayData, Stream: 0, Body: []byte("x")},
		{Cmd: onion.RelayBegin, Stream: 0, Body: []byte("example.com:80")},
		{Cmd: onion.RelayBegin, Stream: 3, Body: []byte("no port")},
		{Cmd: onion.RelayExtend, Body: []byte("too short")},
	} {
		id := uint32(10 + i)
		c := tr.create(p, id)
		p.Send(c.Cell(m))
		p.ExpectDestroy(id, onion.DestroyProtocol)
	}
	echo(t, p, witness, 2, echoAddr, []byte("and still"))
}

// TestBrokenFramesCloseOnlyTheLink: a frame that claims more bytes than
// follow, a cut header, or a cell on circuit 0 closes that link (there is no
// circuit to blame), and other links are untouched.
func TestBrokenFramesCloseOnlyTheLink(t *testing.T) {
	oniontest.CheckLeaks(t)
	echoAddr := echoServer(t)
	tr := startRelay(t, "r1", exitConfig)
	other := tr.link()
	otherCirc := tr.create(other, 1)

	maxHeader := binary.BigEndian.AppendUint32(nil, 1)
	maxHeader = append(maxHeader, byte(onion.CmdRelay), 0xff, 0xff)
	for _, tc := range []struct {
		name  string
		bytes []byte
	}{
		{"length 65535, 100 bytes, then EOF", append(maxHeader, make([]byte, 100)...)},
		{"half a header, then EOF", maxHeader[:3]},
		{"cell on circuit 0", onion.AppendCell(nil, onion.Cell{CircID: 0, Cmd: onion.CmdRelay, Payload: []byte("x")})},
		{"unknown command on an unknown circuit", onion.AppendCell(nil, onion.Cell{CircID: 4242, Cmd: 99})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tr.link()
			tr.create(p, 1) // a live circuit, which dies with its link
			p.Write(tc.bytes)
			p.Conn.(*net.TCPConn).CloseWrite()
			if cells := p.ExpectClosed(); len(cells) != 0 {
				t.Fatalf("relay answered a broken frame with %d cells (first %v)", len(cells), cells[0].Cmd)
			}
		})
	}
	echo(t, other, otherCirc, 1, echoAddr, []byte("other link unaffected"))
}

// TestUnknownCircuitIgnored: RELAY and DESTROY for a circuit id the relay
// does not know are dropped; the link carries on, and the first answer on it
// afterwards is the answer to the next real request (so nothing was sent
// for the unknown id).
func TestUnknownCircuitIgnored(t *testing.T) {
	oniontest.CheckLeaks(t)
	echoAddr := echoServer(t)
	tr := startRelay(t, "r1", exitConfig)
	p := tr.link()
	c := tr.create(p, 1)
	p.Send(onion.Cell{CircID: 777, Cmd: onion.CmdRelay, Payload: bytes.Repeat([]byte{0x80}, 200)})
	p.Send(onion.Cell{CircID: 778, Cmd: onion.CmdDestroy, Payload: []byte{byte(onion.DestroyRequested)}})
	echo(t, p, c, 1, echoAddr, []byte("link fine"))
}

// TestClientDestroy: DESTROY from the client frees the circuit without an
// answer; its id can be used again.
func TestClientDestroy(t *testing.T) {
	oniontest.CheckLeaks(t)
	echoAddr := echoServer(t)
	tr := startRelay(t, "r1", exitConfig)
	p := tr.link()
	c := tr.create(p, 1)
	p.Send(onion.Cell{CircID: 1, Cmd: onion.CmdDestroy, Payload: []byte{byte(onion.DestroyRequested)}})
	c = tr.create(p, 1) // the first cell back is CREATED: no DESTROY was sent
	echo(t, p, c, 1, echoAddr, []byte("reused id"))
}

// TestSilentPeerLosesLink: a peer that completes the preface and then says
// nothing loses its link after the idle timeout, while a link that carries
// a circuit, older than that timeout, keeps working. (A peer that stalls
// mid-cell: TestLinkPeerTricklesCell in onion/circuit.)
func TestSilentPeerLosesLink(t *testing.T) {
	oniontest.CheckLeaks(t)
	echoAddr := echoServer(t)
	tr := startRelay(t, "r1", func(cfg *relay.Config) {
		exitConfig(cfg)
		cfg.IdleLinkTimeout = 200 * time.Millisecond
	})
	good := tr.link()
	c := tr.create(good, 1)

	silent, err := net.Dial("tcp", tr.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	silent.Write([]byte(onion.LinkPreface))
	silent.SetReadDeadline(time.Now().Add(oniontest.DefaultTimeout))
	start := time.Now()
	got, err := io.ReadAll(silent) // returns when the relay closes the link
	if err != nil && !oniontest.IsClosed(err) {
		t.Fatalf("silent peer's link not closed: %v", err)
	}
	if string(got) != onion.LinkPreface {
		t.Fatalf("relay sent %q", got)
	}
	t.Logf("silent link closed after %v", time.Since(start))

	// The good link is older than the idle timeout, but it has a circuit.
	echo(t, good, c, 1, echoAddr, []byte("a link with circuits is not idle"))
	rec := tr.logs.Await(t, "link closed", map[string]string{"circuits": "0"})
	if !strings.Contains(rec.Attrs["err"], "idle") {
		t.Errorf("link closed for %q, want the idle timeout", rec.Attrs["err"])
	}
}

// TestRelayCircuitCap: past the relay-wide bound, CREATE gets
// DESTROY(resource) on any link; a circuit that ends frees its place.
func TestRelayCircuitCap(t *testing.T) {
	oniontest.CheckLeaks(t)
	tr := startRelay(t, "r1", func(cfg *relay.Config) { cfg.MaxCircuits = 3 })
	a, b := tr.link(), tr.link()
	tr.create(a, 1)
	tr.create(a, 2)
	tr.create(b, 1)
	for _, p := range []*oniontest.Peer{a, b} {
		_, create, err := onion.NewClientHandshake(nil, tr.keys.ID(), tr.keys.OnionPub())
		if err != nil {
			t.Fatal(err)
		}
		p.Send(onion.Cell{CircID: 9, Cmd: onion.CmdCreate, Payload: create})
		p.ExpectDestroy(9, onion.DestroyResource)
	}
	tr.logs.Await(t, "refused CREATE", map[string]string{"err": "resource limit: 3 circuits (all peers)"})

	a.Send(onion.Cell{CircID: 2, Cmd: onion.CmdDestroy, Payload: []byte{byte(onion.DestroyRequested)}})
	// The relay frees the place as it handles the DESTROY; a CREATE behind
	// it on the same link is handled after it.
	tr.create(a, 3)
}
