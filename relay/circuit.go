package relay

// One circuit as a relay sees it: a previous hop, maybe a next hop, one
// layer each way (PROTOCOL.md §4.2), and streams when it is the exit.

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"onion/onion"
	"onion/onion/circuit"
)

type origin int

const (
	fromSelf origin = iota // we decided; tell both sides
	fromPrev               // the previous hop is gone or asked; tell only the next
	fromNext               // the next hop is gone or asked; tell only the previous
)

type relayCirc struct {
	r      *Relay
	prev   *inLink
	prevID uint32
	fwd    *onion.Opener // owned by prev's reader goroutine

	backMu sync.Mutex // orders sealing with queueing on prev
	back   *onion.Sealer

	mu        sync.Mutex
	next      *outLink
	nextID    uint32
	extending bool
	streams   map[uint16]*circuit.Stream
	exits     map[*circuit.Stream]net.Conn // exit conns being spliced (exit.go)
	held      map[*circuit.Stream]int64    // DATA bytes each exit stream holds for its destination (exitbuf.go)
	heldSum   int64
	dead      bool

	// Congestion control with the client (§6.1), once it offered it: flow
	// limits our DATA, recv counts the client's.
	flow atomic.Pointer[circuit.Flow]
	recv atomic.Pointer[circuit.FlowRecv]

	// Meeting point state (meeting.go).
	serviceKey string           // set on a service's circuit after ESTABLISH
	joins      map[uint16]*join // on a service's circuit: joined clients by join id
	joinShares share            // on a service's circuit: its joins by the client's peer
	nextJoin   uint16
	joined     *join // on a client's circuit: the service it is joined to
}

func newRelayCirc(r *Relay, in *inLink, id uint32, keys onion.HopKeys) *relayCirc {
	return &relayCirc{
		r:       r,
		prev:    in,
		prevID:  id,
		fwd:     onion.NewOpener(keys.Forward),
		back:    onion.NewSealer(keys.Backward),
		streams: make(map[uint16]*circuit.Stream),
		held:    make(map[*circuit.Stream]int64),
	}
}

// forward peels this hop's layer from a cell coming from the client side.
func (c *relayCirc) forward(tok []byte) {
	kind, body, err := c.fwd.OpenInPlace(tok) // the cell's own buffer
	if err != nil {
		c.fail(onion.DestroyLayer, err)
		return
	}
	if kind == onion.KindForward {
		c.mu.Lock()
		next, nextID := c.next, c.nextID
		c.mu.Unlock()
		if next == nil {
			c.fail(onion.DestroyProtocol, errors.New("forward layer but no next hop"))
			return
		}
		if err := next.link.Send(onion.Cell{CircID: nextID, Cmd: onion.CmdRelay, Payload: body}); err != nil {
			c.fail(onion.DestroyLinkClosed, err)
		}
		return
	}
	var m onion.RelayMsg
	if err := m.UnmarshalBinary(body); err != nil {
		c.fail(onion.DestroyProtocol, err)
		return
	}
	if err := c.handleMsg(m, tok); err != nil {
		c.fail(onion.DestroyProtocol, err)
	}
}

// handleMsg acts on a message for this hop; its body lies in buf, the
// cell's pooled buffer, which an exit stream may recycle once the data is
// passed on.
func (c *relayCirc) handleMsg(m onion.RelayMsg, buf []byte) error {
	switch m.Cmd {
	case onion.RelayExtend:
		return c.extend(m)
	case onion.RelayBegin:
		return c.begin(m)
	case onion.RelayResolve:
		return c.resolve(m)
	case onion.RelayEstablish:
		return c.establish(m)
	case onion.RelayMeet:
		return c.meet(m)
	case onion.RelayAccept:
		return c.serviceMsg(m)
	case onion.RelayE2E, onion.RelayE2EEnd:
		c.mu.Lock()
		isService := c.serviceKey != ""
		c.mu.Unlock()
		var err error
		if isService {
			err = c.serviceMsg(m)
		} else {
			err = c.clientMsg(m)
		}
		if m.Cmd == onion.RelayE2E {
			onion.Recycle(buf) // sealed into the other circuit's layer: a copy went on
		}
		return err
	case onion.RelayData, onion.RelayEnd, onion.RelaySendme:
		return c.streamMsg(m, buf)
	case onion.RelayCCOffer:
		return c.ccOffer(m)
	case onion.RelayCircuitSendme:
		if m.Stream != 0 || len(m.Body) != 0 {
			return fmt.Errorf("%v on stream %d with %d bytes", m.Cmd, m.Stream, len(m.Body))
		}
		return c.flow.Load().Acked()
	}
	return fmt.Errorf("unexpected relay message %v", m.Cmd)
}

// sendBack adds this hop's backward layer and queues the cell to the previous hop.
func (c *relayCirc) sendBack(kind onion.LayerKind, body []byte) error {
	return c.sendBackWith(func(s *onion.Sealer) ([]byte, error) { return s.Seal(kind, body) }, false)
}

// sendBackWith seals with seal under the backward lock and queues the
// cell. origin says the cell is an exit stream's DATA, sent by the
// stream's own goroutine: it waits at its source while the circuit has
// cells queued (circuit.Link.SendOrigin). Anything the link's reader may
// send must not: the reader serves every circuit of its link.
func (c *relayCirc) sendBackWith(seal func(*onion.Sealer) ([]byte, error), origin bool) error {
	c.backMu.Lock()
	defer c.backMu.Unlock()
	c.mu.Lock()
	dead := c.dead
	c.mu.Unlock()
	if dead {
		return circuit.ErrCircuitClosed
	}
	c.prev.cells.Add(1)
	tok, err := seal(c.back)
	if err != nil {
		return err
	}
	cell := onion.Cell{CircID: c.prevID, Cmd: onion.CmdRelay, Payload: tok}
	c.r.stats.cell(back, cell)
	if origin {
		return c.prev.link.SendOrigin(cell)
	}
	return c.prev.link.Send(cell)
}

// SendMsg sends a relay message from this hop to the client (streams use
// it; DATA comes only from an exit stream's Write).
func (c *relayCirc) SendMsg(m onion.RelayMsg) error {
	if m.Cmd == onion.RelayData {
		c.flow.Load().Sent()
	}
	return c.sendBackWith(func(s *onion.Sealer) ([]byte, error) { return s.SealMessage(m) }, m.Cmd == onion.RelayData)
}

// DataRoom is the circuit's congestion window for an exit stream's next
// DATA (§6.1).
func (c *relayCirc) DataRoom() <-chan struct{} { return c.flow.Load().Room() }

// ccOffer answers a client's CC_OFFER: from here on the client's DATA is
// counted and acknowledged, and ours, after the CC_ACCEPT, limited. Only
// the last hop, before its first stream, and once.
func (c *relayCirc) ccOffer(m onion.RelayMsg) error {
	_, inc, err := onion.ParseCCBody(m.Body)
	if err != nil {
		return err
	}
	c.mu.Lock()
	ok := m.Stream == 0 && c.next == nil && !c.extending && len(c.streams) == 0 && c.serviceKey == "" && c.joined == nil
	c.mu.Unlock()
	send := func() error { return c.SendMsg(circuit.CircuitSendme()) }
	if !ok || !c.recv.CompareAndSwap(nil, circuit.NewFlowRecv(inc, send)) {
		return fmt.Errorf("%v on stream %d, not before the last hop's first stream", m.Cmd, m.Stream)
	}
	if err := c.SendMsg(onion.RelayMsg{Cmd: onion.RelayCCAccept, Body: onion.CCBody(inc)}); err != nil {
		return err
	}
	c.flow.Store(circuit.NewFlow(circuit.FlowParams(inc)))
	return nil
}

// fail destroys the circuit for a reason worth a log line.
func (c *relayCirc) fail(reason onion.DestroyReason, err error) {
	c.r.logger.Warn("destroying circuit", "link", c.prev.id, "circ", c.prevID, "reason", reason, "err", err)
	c.destroy(reason, fromSelf)
}

// destroy tears the circuit down once, telling the hops that did not start it.
func (c *relayCirc) destroy(reason onion.DestroyReason, from origin) {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return
	}
	c.dead = true
	c.r.stats.closed(reason)
	c.r.circuits.give(c.prev.peer)
	next, nextID := c.next, c.nextID
	streams := c.streams
	c.streams = map[uint16]*circuit.Stream{}
	exits := c.exits
	c.exits = nil
	c.mu.Unlock()

	c.prev.mu.Lock()
	if c.prev.circs[c.prevID] == c {
		delete(c.prev.circs, c.prevID)
	}
	c.prev.mu.Unlock()
	if next != nil {
		next.remove(nextID)
		next.shares.give(c.prev.peer) // taken in doExtend
	}
	payload := []byte{byte(reason)}
	if from != fromPrev {
		c.prev.link.Send(onion.Cell{CircID: c.prevID, Cmd: onion.CmdDestroy, Payload: payload})
	}
	if from != fromNext && next != nil {
		next.link.Send(onion.Cell{CircID: nextID, Cmd: onion.CmdDestroy, Payload: payload})
	}
	for _, s := range streams {
		s.Abort(fmt.Errorf("%w: %v", circuit.ErrCircuitClosed, reason))
	}
	for _, conn := range exits {
		conn.Close() // a splice blocked on a stalled destination sees no Abort
	}
	c.leaveMeetings()
}

// destroyReason reads a DESTROY payload's reason, or def if there is none.
func destroyReason(payload []byte, def onion.DestroyReason) onion.DestroyReason {
	if len(payload) == 0 {
		return def
	}
	return onion.DestroyReason(payload[0])
}
