package circuit

// A circuit's congestion control between its two ends, PROTOCOL.md §6.1:
// the sender of DATA keeps a Vegas window (Flow), the receiver counts DATA
// cells and acknowledges every SendmeInc of them (FlowRecv).

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"onion/onion"
)

// Flow is the sending side of one direction of a circuit's congestion
// control. Its methods are safe for concurrent use; a nil *Flow (no
// congestion control negotiated) lets every cell through.
type Flow struct {
	mu   sync.Mutex
	v    *Vegas
	wake chan struct{} // closed and replaced when an ack opens the window
	now  func() time.Time
}

// NewFlow starts a sender's window with parameters p.
func NewFlow(p VegasParams) *Flow {
	return &Flow{v: NewVegas(p), wake: make(chan struct{}), now: time.Now}
}

// Room reports whether a DATA cell may go now: nil if so, else a channel
// that is closed when an ack may have made room.
func (f *Flow) Room() <-chan struct{} {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.v.CanSend() {
		return nil
	}
	return f.wake
}

// Sent counts one DATA cell sent. A sender that found Room may overshoot
// the window by the cells of other streams sent meanwhile: at most one
// cell per stream.
func (f *Flow) Sent() {
	if f == nil {
		return
	}
	f.mu.Lock()
	f.v.OnSend(f.now())
	f.mu.Unlock()
}

// Acked takes one CIRCUIT_SENDME. An error is a peer acknowledging cells
// never sent: a protocol violation.
func (f *Flow) Acked() error {
	if f == nil {
		return fmt.Errorf("%w: %v without congestion control", ErrProtocol, onion.RelayCircuitSendme)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.v.OnSendme(f.now()); err != nil {
		return fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	close(f.wake)
	f.wake = make(chan struct{})
	return nil
}

// Stats is the window, the cells in flight and the smoothed and smallest
// RTT, for logs and tests.
func (f *Flow) Stats() (cwnd, inflight int, rtt, rttMin time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rtt, rttMin = f.v.RTT()
	return f.v.Cwnd(), f.v.Inflight(), rtt, rttMin
}

// FlowRecv is the receiving side: it counts the DATA cells of a circuit
// (of every stream, those of streams already closed too) and sends a
// CIRCUIT_SENDME every inc of them.
//
// The SENDMEs go out from a goroutine of their own, never from the
// caller: the caller is a link's reader, and a reader at a circuit's end
// that waited for room on its link would close a cycle of full queues
// (its peer's reader forwarding the other way, and so on round the path)
// when both directions are busy.
type FlowRecv struct {
	inc     int
	send    func() error // sends one CIRCUIT_SENDME
	n       atomic.Int64
	pending atomic.Int64 // SENDMEs due and not yet sent; a drainer runs while > 0
}

// NewFlowRecv counts towards a CIRCUIT_SENDME every inc cells; send sends one.
func NewFlowRecv(inc int, send func() error) *FlowRecv {
	return &FlowRecv{inc: inc, send: send}
}

// Count counts one DATA cell and, on every inc-th, has a CIRCUIT_SENDME
// sent. It never blocks. A nil *FlowRecv counts nothing.
func (r *FlowRecv) Count() {
	if r == nil || r.n.Add(1)%int64(r.inc) != 0 {
		return
	}
	if r.pending.Add(1) == 1 {
		go r.drain()
	}
}

// drain sends the SENDMEs due, one at a time, until none is left. A send
// fails only when the circuit is closing; the rest then fail at once too.
func (r *FlowRecv) drain() {
	for {
		r.send()
		if r.pending.Add(-1) == 0 {
			return
		}
	}
}

// FlowParams is DefaultVegas with the SendmeInc a CC_OFFER named.
func FlowParams(inc int) VegasParams {
	p := DefaultVegas
	p.SendmeInc = inc
	return p
}

// DataGate is a MsgSender whose DATA a circuit's congestion window limits:
// a Stream waits for DataRoom (nil: room now) before it writes DATA.
type DataGate interface {
	DataRoom() <-chan struct{}
}

// circuitSendme is the acknowledgement a receiver sends.
var circuitSendme = onion.RelayMsg{Cmd: onion.RelayCircuitSendme}

// CircuitSendme is the CIRCUIT_SENDME message (stream 0, empty body).
func CircuitSendme() onion.RelayMsg { return circuitSendme }
