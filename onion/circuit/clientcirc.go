package circuit

// A client circuit: telescoping build (PROTOCOL.md §3.3), layered sends and
// receives (§4), streams (§5).

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"onion/onion"
)

// MaxStreamsPerCircuit bounds the open streams on one circuit.
const MaxStreamsPerCircuit = 1024

// ErrCircuitClosed is the cause of failures on a circuit that has closed.
var ErrCircuitClosed = errors.New("circuit: closed")

// LayerError is a backward cell whose layer of hop Hop (counting from 1)
// failed to open: the cell was altered, replayed, reordered or dropped
// after that hop sealed it, so hop Hop or the one before it (or the link
// between) is to blame.
type LayerError struct {
	Hop int
	Err error
}

func (e *LayerError) Error() string { return fmt.Sprintf("layer of hop %d: %v", e.Hop, e.Err) }
func (e *LayerError) Unwrap() error { return e.Err }

// ExtendError is the last hop's EXTEND_FAILED, with its reason.
type ExtendError struct{ Reason onion.DestroyReason }

func (e *ExtendError) Error() string { return fmt.Sprintf("relay could not extend: %v", e.Reason) }

// Hop names a relay to build through: its address and public keys, as the
// directory published them.
type Hop struct {
	Address     string
	IdentityKey []byte
	OnionKey    []byte
}

type clientHop struct {
	Hop
	fwd  *onion.Sealer // guarded by Circuit.sendMu
	back *onion.Opener // owned by the link's reader
}

type ctrlMsg struct {
	cmd  onion.RelayCmd
	body []byte
}

// Circuit is a client circuit. Its methods are safe for concurrent use.
type Circuit struct {
	cl *ClientLink
	id uint32

	hops   atomic.Pointer[[]*clientHop] // grows during the build only
	e2e    atomic.Pointer[e2eLayer]     // set once the circuit has met a hidden service
	svc    atomic.Pointer[serviceSide]  // set when the circuit serves a hidden service
	ctrl   chan ctrlMsg                 // CREATED / EXTENDED / EXTEND_FAILED / MET / ESTABLISHED for the builder
	expect atomic.Bool                  // a request is out and its answer may arrive on ctrl

	sendMu sync.Mutex // orders sealing with queueing

	// Congestion control (§6.1): flow limits our DATA once CC_OFFER went
	// out; recv counts the far end's DATA once its CC_ACCEPT came.
	ccOnce    sync.Once
	ccOffered atomic.Bool
	flow      atomic.Pointer[Flow]
	recv      atomic.Pointer[FlowRecv]

	// Relay cell payload bytes sent and received, for the status page.
	bytesOut, bytesIn atomic.Uint64

	mu         sync.Mutex
	streams    map[uint16]*Stream
	nextStream uint16
	err        error // why it closed

	done      chan struct{}
	closeOnce sync.Once
}

func newCircuit(cl *ClientLink, id uint32) *Circuit {
	c := &Circuit{
		cl:         cl,
		id:         id,
		ctrl:       make(chan ctrlMsg, 1),
		streams:    make(map[uint16]*Stream),
		nextStream: 1,
		done:       make(chan struct{}),
	}
	c.hops.Store(&[]*clientHop{})
	return c
}

// ID is the circuit id on the first link.
func (c *Circuit) ID() uint32 { return c.id }

// Done is closed when the circuit closes.
func (c *Circuit) Done() <-chan struct{} { return c.done }

// Err says why the circuit closed.
func (c *Circuit) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Path is the hops built so far, in order.
func (c *Circuit) Path() []Hop {
	hops := *c.hops.Load()
	out := make([]Hop, len(hops))
	for i, h := range hops {
		out[i] = h.Hop
	}
	return out
}

// Bytes reports the relay cell payload bytes the circuit has sent and
// received (its layers included), for status displays.
func (c *Circuit) Bytes() (sent, received uint64) { return c.bytesOut.Load(), c.bytesIn.Load() }

// NumStreams is the number of open streams.
func (c *Circuit) NumStreams() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.streams)
}

func (c *Circuit) addHop(keys onion.HopKeys, h Hop) {
	old := *c.hops.Load()
	hops := append(append([]*clientHop{}, old...), &clientHop{
		Hop:  h,
		fwd:  onion.NewSealer(keys.Forward),
		back: onion.NewOpener(keys.Backward),
	})
	c.hops.Store(&hops)
}

// Extend adds a hop through the current last hop.
func (c *Circuit) Extend(ctx context.Context, next Hop) error {
	hs, create, err := onion.NewClientHandshake(c.cl.rand, next.IdentityKey, next.OnionKey)
	if err != nil {
		return err
	}
	body, err := onion.Extend{Create: create, Address: next.Address}.MarshalBinary()
	if err != nil {
		return err
	}
	last := len(*c.hops.Load()) - 1
	c.expect.Store(true)
	if err := c.sendTo(last, onion.RelayMsg{Cmd: onion.RelayExtend, Body: body}); err != nil {
		return err
	}
	created, err := c.awaitCtrl(ctx, onion.RelayExtended)
	if err != nil {
		return fmt.Errorf("extend to hop %d: %w", last+2, err)
	}
	keys, err := hs.Finish(created)
	if err != nil {
		c.closeWith(err, true)
		return fmt.Errorf("extend to hop %d: %w", last+2, err)
	}
	c.addHop(keys, next)
	return nil
}

func (c *Circuit) awaitCtrl(ctx context.Context, want onion.RelayCmd) ([]byte, error) {
	select {
	case m := <-c.ctrl:
		if m.cmd == onion.RelayMeetFailed {
			reason := onion.MeetReason(0)
			if len(m.body) > 0 {
				reason = onion.MeetReason(m.body[0])
			}
			return nil, &MeetError{Reason: reason}
		}
		if m.cmd == onion.RelayExtendFailed {
			reason := onion.DestroyReason(0)
			if len(m.body) > 0 {
				reason = onion.DestroyReason(m.body[0])
			}
			return nil, &ExtendError{Reason: reason}
		}
		if m.cmd != want {
			return nil, fmt.Errorf("%w: got %v while building", ErrProtocol, m.cmd)
		}
		return m.body, nil
	case <-c.done:
		return nil, c.Err()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// sendTo seals m for hop k and queues it on the link.
func (c *Circuit) sendTo(k int, m onion.RelayMsg) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	hops := *c.hops.Load()
	return c.wrapAndSendLocked(k, func() ([]byte, error) { return hops[k].fwd.SealMessage(m) }, c.linkSend(m.Cmd))
}

// linkSend is how a message with cmd goes on the link: a stream's DATA,
// written by the application's goroutine, waits at its source while the
// circuit has cells queued already (Link.SendOrigin); anything else, which
// the link's reader may send, only waits for the link's queue.
func (c *Circuit) linkSend(cmd onion.RelayCmd) func(onion.Cell) error {
	if cmd == onion.RelayData {
		return c.cl.link.SendOrigin
	}
	return c.cl.link.Send
}

// sendE2E seals inner in the end-to-end layer sealer, wraps it in an E2E
// message on stream join, and sends that to the last hop. One lock orders
// both sealings with the queueing.
func (c *Circuit) sendE2E(sealer *onion.Sealer, join uint16, inner onion.RelayMsg) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	tok, err := sealer.SealMessage(inner)
	if err != nil {
		return err
	}
	hops := *c.hops.Load()
	last := len(hops) - 1
	outer := onion.RelayMsg{Cmd: onion.RelayE2E, Stream: join, Body: tok}
	return c.wrapAndSendLocked(last, func() ([]byte, error) { return hops[last].fwd.SealMessage(outer) }, c.linkSend(inner.Cmd))
}

// wrapAndSendLocked seals hop k's layer with inner, wraps it in the layers
// of hops k-1..0 and queues the cell with send. c.sendMu is held.
func (c *Circuit) wrapAndSendLocked(k int, inner func() ([]byte, error), send func(onion.Cell) error) error {
	hops := *c.hops.Load()
	select {
	case <-c.done:
		return c.Err()
	default:
	}
	tok, err := inner()
	for i := k - 1; i >= 0 && err == nil; i-- {
		var outer []byte
		outer, err = hops[i].fwd.Seal(onion.KindForward, tok)
		onion.Recycle(tok) // copied into outer
		tok = outer
	}
	if err != nil {
		return err
	}
	c.bytesOut.Add(uint64(len(tok)))
	return send(onion.Cell{CircID: c.id, Cmd: onion.CmdRelay, Payload: tok})
}

// exitSender sends stream messages to the last hop.
type exitSender struct{ c *Circuit }

func (e exitSender) SendMsg(m onion.RelayMsg) error {
	if m.Cmd == onion.RelayData {
		e.c.flow.Load().Sent()
	}
	if l := e.c.e2e.Load(); l != nil {
		return e.c.sendE2E(l.fwd, 0, m)
	}
	return e.c.sendTo(len(*e.c.hops.Load())-1, m)
}

// DataRoom is the circuit's congestion window for a stream's next DATA.
func (e exitSender) DataRoom() <-chan struct{} { return e.c.flow.Load().Room() }

// offerCC asks the far end (the last hop, or the service through the
// end-to-end layer) for congestion control, once, before the first
// stream: from the offer on our DATA is counted and limited (§6.1).
func (c *Circuit) offerCC() error {
	if !c.cl.cc.Load() {
		return nil
	}
	var err error
	c.ccOnce.Do(func() {
		c.flow.Store(NewFlow(DefaultVegas))
		c.ccOffered.Store(true)
		err = exitSender{c}.SendMsg(onion.RelayMsg{Cmd: onion.RelayCCOffer, Body: onion.CCBody(DefaultVegas.SendmeInc)})
	})
	return err
}

// ccMsg takes CC_ACCEPT or CIRCUIT_SENDME from the far end.
func (c *Circuit) ccMsg(m onion.RelayMsg) error {
	switch m.Cmd {
	case onion.RelayCCAccept:
		_, inc, err := onion.ParseCCBody(m.Body)
		if err != nil {
			return err
		}
		send := func() error { return exitSender{c}.SendMsg(CircuitSendme()) }
		if !c.ccOffered.Load() || inc != DefaultVegas.SendmeInc || !c.recv.CompareAndSwap(nil, NewFlowRecv(inc, send)) {
			return fmt.Errorf("%w: unsolicited %v", ErrProtocol, m.Cmd)
		}
		return nil
	case onion.RelayCircuitSendme:
		if len(m.Body) != 0 {
			return fmt.Errorf("%w: %v body of %d bytes", ErrProtocol, m.Cmd, len(m.Body))
		}
		return c.flow.Load().Acked()
	}
	return fmt.Errorf("%w: %v on stream 0", ErrProtocol, m.Cmd)
}

// CongestionControl reports whether the far end accepted congestion
// control (§6.1), and our own window's size in cells and cells in flight.
func (c *Circuit) CongestionControl() (on bool, cwnd, inflight int) {
	if c.recv.Load() == nil {
		return false, 0, 0
	}
	cwnd, inflight, _, _ = c.flow.Load().Stats()
	return true, cwnd, inflight
}

// countData counts a DATA cell from the far end; every SendmeInc-th is
// acknowledged. It runs on the link's reader and never blocks.
func (c *Circuit) countData() { c.recv.Load().Count() }

// Attach places s, a client stream (NewClientStream), on c: the one way a
// client opens a stream on a circuit, toward the last hop or, on a circuit
// that met a hidden service, the service. A stream that was used already
// (it was lost with another circuit, or written to before it had one)
// sends BEGIN here at once, followed by what it kept; otherwise BEGIN goes
// out on its first use.
func (c *Circuit) Attach(s *Stream) error {
	if err := c.offerCC(); err != nil {
		return err
	}
	id, err := c.addStream(s)
	if err != nil {
		return err
	}
	if err := s.moveTo(id, exitSender{c}, func() { c.removeStream(id) }); err != nil {
		c.removeStream(id)
		return err
	}
	return nil
}

// addStream gives s a free id on c.
func (c *Circuit) addStream(s *Stream) (uint16, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if len(c.streams) >= MaxStreamsPerCircuit {
		return 0, errors.New("circuit: too many streams")
	}
	for c.streams[c.nextStream] != nil || c.nextStream == 0 {
		c.nextStream++
	}
	id := c.nextStream
	c.nextStream++
	c.streams[id] = s
	return id, nil
}

func (c *Circuit) removeStream(id uint16) {
	c.mu.Lock()
	delete(c.streams, id)
	c.mu.Unlock()
}

// Close tears the circuit down and tells the first hop.
func (c *Circuit) Close() error {
	c.closeWith(ErrCircuitClosed, true)
	return nil
}

// closeWith ends the circuit once: every stream fails with err, and if tell
// is set the first hop gets a DESTROY.
func (c *Circuit) closeWith(err error, tell bool) {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.err = fmt.Errorf("%w: %w", ErrCircuitClosed, err)
		if errors.Is(err, ErrCircuitClosed) {
			c.err = err
		}
		streams := c.streams
		c.streams = map[uint16]*Stream{}
		c.mu.Unlock()
		close(c.done)
		c.cl.remove(c.id)
		for _, s := range streams {
			s.Abort(c.err)
		}
		if side := c.svc.Load(); side != nil {
			side.endAll(c.err)
		}
		if tell {
			reason := onion.DestroyRequested
			if !errors.Is(err, ErrCircuitClosed) {
				reason = onion.DestroyProtocol
			}
			c.cl.link.Send(onion.Cell{CircID: c.id, Cmd: onion.CmdDestroy, Payload: []byte{byte(reason)}})
		}
	})
}
