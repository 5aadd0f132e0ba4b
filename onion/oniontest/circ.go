package oniontest

import (
	"fmt"

	"onion/onion"
)

// ClientCirc is the client's half of a circuit's layers, for a test that
// plays the client toward a real relay over a Peer.
type ClientCirc struct {
	ID   uint32
	hops []clientHop
}

type clientHop struct {
	fwd  *onion.Sealer
	back *onion.Opener
}

// Create sends CREATE for circuit id to the relay with these public keys and
// waits for CREATED.
func (p *Peer) Create(id uint32, identity, onionKey []byte) *ClientCirc {
	p.tb.Helper()
	hs, create, err := onion.NewClientHandshake(nil, identity, onionKey)
	if err != nil {
		p.tb.Fatal(err)
	}
	p.Send(onion.Cell{CircID: id, Cmd: onion.CmdCreate, Payload: create})
	created := p.Expect(id, onion.CmdCreated)
	keys, err := hs.Finish(created.Payload)
	if err != nil {
		p.tb.Fatalf("peer: CREATED: %v", err)
	}
	c := &ClientCirc{ID: id}
	c.AddHop(keys)
	return c
}

// Extend sends EXTEND to the last hop and waits for EXTENDED.
func (p *Peer) Extend(c *ClientCirc, identity, onionKey []byte, addr string) {
	p.tb.Helper()
	hs, create, err := onion.NewClientHandshake(nil, identity, onionKey)
	if err != nil {
		p.tb.Fatal(err)
	}
	body, err := onion.Extend{Create: create, Address: addr}.MarshalBinary()
	if err != nil {
		p.tb.Fatal(err)
	}
	p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayExtend, Body: body}))
	m := p.Msg(c)
	if m.Cmd != onion.RelayExtended {
		p.tb.Fatalf("peer: EXTEND answered with %v %x", m.Cmd, m.Body)
	}
	keys, err := hs.Finish(m.Body)
	if err != nil {
		p.tb.Fatalf("peer: EXTENDED: %v", err)
	}
	c.AddHop(keys)
}

// AddHop appends a hop with these keys.
func (c *ClientCirc) AddHop(k onion.HopKeys) {
	c.hops = append(c.hops, clientHop{fwd: onion.NewSealer(k.Forward), back: onion.NewOpener(k.Backward)})
}

// Seal wraps m in one layer per hop, innermost for the last hop.
func (c *ClientCirc) Seal(m onion.RelayMsg) []byte { return c.SealFor(len(c.hops)-1, m) }

// SealFor wraps m for hop k (0 is the first), inside forward layers for
// hops k-1 down to 0.
func (c *ClientCirc) SealFor(k int, m onion.RelayMsg) []byte {
	return c.seal(k, m, func([]byte) {})
}

// SealTampered is Seal with tamper applied to the innermost token before
// the outer layers go on: a bit flipped where only the last hop can see it.
func (c *ClientCirc) SealTampered(m onion.RelayMsg, tamper func(inner []byte)) []byte {
	return c.seal(len(c.hops)-1, m, tamper)
}

func (c *ClientCirc) seal(k int, m onion.RelayMsg, tamper func([]byte)) []byte {
	b, err := m.MarshalBinary()
	if err != nil {
		panic(err)
	}
	tok, err := c.hops[k].fwd.Seal(onion.KindMessage, b)
	if err == nil {
		tamper(tok)
	}
	for i := k - 1; i >= 0 && err == nil; i-- {
		tok, err = c.hops[i].fwd.Seal(onion.KindForward, tok)
	}
	if err != nil {
		panic(err)
	}
	return tok
}

// Cell is m sealed for the last hop, as a RELAY cell on this circuit.
func (c *ClientCirc) Cell(m onion.RelayMsg) onion.Cell {
	return onion.Cell{CircID: c.ID, Cmd: onion.CmdRelay, Payload: c.Seal(m)}
}

// Open peels backward layers until it finds the message and the hop
// (counting from 0) that sent it.
func (c *ClientCirc) Open(tok []byte) (int, onion.RelayMsg, error) {
	for i, h := range c.hops {
		kind, body, err := h.back.Open(tok)
		if err != nil {
			return 0, onion.RelayMsg{}, fmt.Errorf("hop %d: %w", i, err)
		}
		if kind == onion.KindMessage {
			var m onion.RelayMsg
			err := m.UnmarshalBinary(body)
			return i, m, err
		}
		tok = body
	}
	return 0, onion.RelayMsg{}, fmt.Errorf("more layers than %d hops", len(c.hops))
}

// Msg reads the next cell, which must be a RELAY cell on c from its last
// hop, and returns its message.
func (p *Peer) Msg(c *ClientCirc) onion.RelayMsg {
	p.tb.Helper()
	cell := p.Recv()
	if cell.CircID != c.ID || cell.Cmd != onion.CmdRelay {
		p.tb.Fatalf("peer: got %v on circuit %d (payload %x), want RELAY on circuit %d",
			cell.Cmd, cell.CircID, short(cell.Payload), c.ID)
	}
	hop, m, err := c.Open(cell.Payload)
	if err != nil {
		p.tb.Fatalf("peer: open RELAY cell: %v", err)
	}
	if hop != len(c.hops)-1 {
		p.tb.Fatalf("peer: %v came from hop %d of %d", m.Cmd, hop, len(c.hops))
	}
	return m
}

// RelayHop is the relay's half of one hop, for a test that plays a relay
// toward a circuit.ClientLink.
type RelayHop struct {
	ID   uint32
	fwd  *onion.Opener
	back *onion.Sealer
}

// AnswerCreate answers a CREATE cell as the relay with keys k would. It
// returns the CREATED cell to send.
func AnswerCreate(k onion.RelayKeys, create onion.Cell) (onion.Cell, *RelayHop, error) {
	if create.Cmd != onion.CmdCreate {
		return onion.Cell{}, nil, fmt.Errorf("got %v, want CREATE", create.Cmd)
	}
	created, keys, err := onion.ServerHandshake(nil, k, create.Payload)
	if err != nil {
		return onion.Cell{}, nil, err
	}
	h := &RelayHop{ID: create.CircID, fwd: onion.NewOpener(keys.Forward), back: onion.NewSealer(keys.Backward)}
	return onion.Cell{CircID: create.CircID, Cmd: onion.CmdCreated, Payload: created}, h, nil
}

// Open removes this hop's forward layer, which must hold a message.
func (h *RelayHop) Open(tok []byte) (onion.RelayMsg, error) {
	kind, body, err := h.fwd.Open(tok)
	if err != nil {
		return onion.RelayMsg{}, err
	}
	if kind != onion.KindMessage {
		return onion.RelayMsg{}, fmt.Errorf("layer kind %v, want message", kind)
	}
	var m onion.RelayMsg
	err = m.UnmarshalBinary(body)
	return m, err
}

// Cell seals m with this hop's backward layer as a RELAY cell.
func (h *RelayHop) Cell(m onion.RelayMsg) onion.Cell {
	b, err := m.MarshalBinary()
	if err != nil {
		panic(err)
	}
	tok, err := h.back.Seal(onion.KindMessage, b)
	if err != nil {
		panic(err)
	}
	return onion.Cell{CircID: h.ID, Cmd: onion.CmdRelay, Payload: tok}
}

// RawCell seals arbitrary bytes as this hop's message layer, for messages
// that RelayMsg cannot express (too short, say).
func (h *RelayHop) RawCell(body []byte) onion.Cell {
	tok, err := h.back.Seal(onion.KindMessage, body)
	if err != nil {
		panic(err)
	}
	return onion.Cell{CircID: h.ID, Cmd: onion.CmdRelay, Payload: tok}
}
