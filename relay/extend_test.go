package relay_test

import (
	"testing"

	"onion/onion"
	"onion/onion/oniontest"
)

// TestTamperedInnerLayer: the first relay cannot check the second hop's
// layer and forwards it; the second relay finds the flipped bit and destroys
// the circuit (logged, DESTROY(layer)), the first passes the DESTROY back,
// and another circuit over the same two links keeps working.
func TestTamperedInnerLayer(t *testing.T) {
	oniontest.CheckLeaks(t)
	echoAddr := echoServer(t)
	r2 := startRelay(t, "exit", exitConfig)
	list := &relayList{}
	list.add(r2.keys.ID(), r2.addr)
	r1 := startRelay(t, "guard", list.use)
	p := r1.link()
	victim := r1.create(p, 1)
	p.Extend(victim, r2.keys.ID(), r2.keys.OnionPub(), r2.addr)
	witness := r1.create(p, 2)
	p.Extend(witness, r2.keys.ID(), r2.keys.OnionPub(), r2.addr)

	tok := victim.SealTampered(onion.RelayMsg{Cmd: onion.RelaySendme, Stream: 9, Body: onion.Uint32Body(1)}, func(inner []byte) {
		inner[len(inner)/2] ^= 0x04
	})
	p.Send(onion.Cell{CircID: victim.ID, Cmd: onion.CmdRelay, Payload: tok})
	// The guard passes the exit's DESTROY back with the exit's reason, so
	// the client learns that a layer failed.
	p.ExpectDestroy(victim.ID, onion.DestroyLayer)
	r2.destroyLogged(1<<31|1, onion.DestroyLayer) // the guard sets the top bit of the ids it picks

	echo(t, p, witness, 1, echoAddr, []byte("two hops, still fine"))
}

// TestExtendFailures: EXTEND to a listed relay where nobody listens, or to
// a relay listed at an address where another relay answers (so it does not
// hold the keys named), is answered EXTEND_FAILED; the circuit stays usable
// and can extend elsewhere; a second EXTEND on a circuit that already has a
// next hop is a protocol violation.
func TestExtendFailures(t *testing.T) {
	oniontest.CheckLeaks(t)
	echoAddr := echoServer(t)
	r2 := startRelay(t, "exit", exitConfig)
	ghost, stranger := oniontest.RelayKeys("ghost"), oniontest.RelayKeys("stranger")
	ghostAddr := closedPort(t)
	list := &relayList{}
	list.add(r2.keys.ID(), r2.addr)
	list.add(ghost.ID(), ghostAddr)
	list.add(stranger.ID(), r2.addr)
	r1 := startRelay(t, "guard", list.use)
	p := r1.link()
	c := r1.create(p, 1)

	for _, tc := range []struct {
		name     string
		id, onio []byte
		addr     string
	}{
		{"nobody listening", ghost.ID(), ghost.OnionPub(), ghostAddr},
		{"wrong keys", stranger.ID(), stranger.OnionPub(), r2.addr},
	} {
		_, create, _ := onion.NewClientHandshake(nil, tc.id, tc.onio)
		body, _ := onion.Extend{Create: create, Address: tc.addr}.MarshalBinary()
		p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayExtend, Body: body}))
		m := p.Msg(c)
		if m.Cmd != onion.RelayExtendFailed || len(m.Body) != 1 || onion.DestroyReason(m.Body[0]) != onion.DestroyConnectFail {
			t.Fatalf("%s: EXTEND answered %v %x, want EXTEND_FAILED(connect)", tc.name, m.Cmd, m.Body)
		}
	}
	p.Extend(c, r2.keys.ID(), r2.keys.OnionPub(), r2.addr)
	echo(t, p, c, 1, echoAddr, []byte("extended after failures"))

	_, create, _ := onion.NewClientHandshake(nil, r2.keys.ID(), r2.keys.OnionPub())
	body, _ := onion.Extend{Create: create, Address: r2.addr}.MarshalBinary()
	sealed := c.SealFor(0, onion.RelayMsg{Cmd: onion.RelayExtend, Body: body})
	p.Send(onion.Cell{CircID: c.ID, Cmd: onion.CmdRelay, Payload: sealed})
	p.ExpectDestroy(c.ID, onion.DestroyProtocol)
	r1.destroyLogged(1, onion.DestroyProtocol)
}

// TestRogueNextHop: a next relay that answers a circuit with an unknown
// command loses that circuit (DESTROY(protocol) both ways, logged); cells it
// sends for circuits it was never given are dropped; the link from the
// client is untouched.
func TestRogueNextHop(t *testing.T) {
	oniontest.CheckLeaks(t)
	list := &relayList{}
	hop := listenTestHop(t, list, oniontest.RelayKeys("rogue"))
	r1 := startRelay(t, "guard", list.use)
	p := r1.link()
	c := r1.create(p, 1)
	rogue, createCell := hop.extendTo(t, p, c)

	// Cells for circuits the guard never opened on this link: dropped.
	rogue.Send(onion.Cell{CircID: createCell.CircID + 100, Cmd: onion.CmdRelay, Payload: []byte("junk")})
	rogue.Send(onion.Cell{CircID: createCell.CircID + 101, Cmd: onion.CmdCreated, Payload: []byte("junk")})
	// An unknown command on the real one: the guard destroys the circuit.
	rogue.Send(onion.Cell{CircID: createCell.CircID, Cmd: 99})
	p.ExpectDestroy(c.ID, onion.DestroyProtocol)
	rogue.ExpectDestroy(createCell.CircID, onion.DestroyProtocol)
	r1.destroyLogged(c.ID, onion.DestroyProtocol)

	// The client's link to the guard is fine.
	c2 := r1.create(p, 2)
	p.Send(c2.Cell(onion.RelayMsg{Cmd: onion.RelayBegin, Stream: 1, Body: []byte("example.com:80")}))
	wantEnd(t, p.Msg(c2), onion.EndExitPolicy)
}
