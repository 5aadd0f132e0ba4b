package circuit

// A client stream until CONNECTED (PROTOCOL.md §5.2). It is made apart
// from any circuit (NewClientStream) and placed on one (Circuit.Attach).
// BEGIN goes out on the stream's first use, so an application answered
// early is not kept waiting while BEGIN is sealed and written. A stream
// that keeps what it writes before CONNECTED (optimistic data) can outlive
// its circuit: if the circuit fails first, the stream is lost rather than
// failed, and its owner attaches it to another circuit, where BEGIN and
// the kept bytes go out again, or gives it up (Fail). A stream not yet
// attached is lost in the same way. Reads and writes wait meanwhile, under
// the stream's own deadlines: the application keeps one conn throughout.

import (
	"errors"
	"fmt"
	"net"
	"time"

	"onion/onion"
)

// KeepLimit bounds the bytes a stream keeps before CONNECTED to send again
// on another circuit; a writer past it waits for CONNECTED. It is well
// inside the stream window, so writes before CONNECTED never wait for
// window.
const KeepLimit = 4 * onion.MaxData

// beginState is where a client stream's BEGIN is.
type beginState uint8

const (
	beginUnsent  beginState = iota // not sent: the stream has not been used
	beginSending                   // on its way; DATA waits behind it
	beginSent
)

// opening is what a client stream holds until CONNECTED.
type opening struct {
	target string
	cmd    onion.RelayCmd // BEGIN, or RESOLVE for a resolve stream
	body   []byte         // cmd's body
	state  beginState
	keep   bool   // keep what is written before CONNECTED; be lost, not failed, with the circuit
	kept   []byte // written before CONNECTED, at most KeepLimit bytes
	lost   error  // the circuit failed before CONNECTED; set until attached again or Fail
	// answered, if set, hears the far end's answer to BEGIN (OnAnswer).
	answered func(err error)
}

// LostError is what WaitConnected returns for a stream whose circuit failed
// before CONNECTED, while it waits to be reattached or given up.
type LostError struct{ Err error }

func (e *LostError) Error() string { return "stream lost with its circuit: " + e.Err.Error() }
func (e *LostError) Unwrap() error { return e.Err }

// errUnattached is why a client stream not yet on a circuit is lost.
var errUnattached = errors.New("circuit: stream not attached to a circuit")

// NewClientStream makes a client stream to target (host:port; the host is
// sent unresolved), on no circuit yet: Circuit.Attach places it.
func NewClientStream(target string) (*Stream, error) {
	if _, _, err := onion.SplitHostPort(target); err != nil {
		return nil, err
	}
	s := NewStream(0, nil, nil, anonAddr, StreamAddr(target))
	s.open = &opening{target: target, cmd: onion.RelayBegin, body: []byte(target), lost: errUnattached}
	return s, nil
}

// NewResolveStream makes a client stream that asks the exit to resolve
// name (PROTOCOL.md §5.5): RESOLVE goes out on its first use (Begin), and
// the exit's RESOLVED arrives on Control, after which the stream is over.
// An END instead is the stream's error. Nothing is written or read on it.
func NewResolveStream(name string) (*Stream, error) {
	body, err := onion.ResolveBody(name)
	if err != nil {
		return nil, err
	}
	s := NewStream(0, nil, nil, anonAddr, StreamAddr(name))
	s.open = &opening{target: name, cmd: onion.RelayResolve, body: body, lost: errUnattached}
	return s, nil
}

// KeepUntilConnected makes the stream keep what it writes before CONNECTED
// (up to KeepLimit bytes) and, should its circuit fail before CONNECTED,
// wait as lost for its owner to Reattach or Fail it. Call it before the
// stream's first use.
func (s *Stream) KeepUntilConnected() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open != nil {
		s.open.keep = true
	}
}

// OnAnswer sets f to hear the far end's answer to BEGIN: nil for CONNECTED,
// the *StreamError of an END. f runs once, on the circuit's reader, before
// any Read or WaitConnected sees the answer; it must not block or use the
// stream. Call it before the stream's first use.
func (s *Stream) OnAnswer(f func(err error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open != nil {
		s.open.answered = f
	}
}

// answerLocked passes the answer to BEGIN to OnAnswer's f, once.
func (s *Stream) answerLocked(err error) {
	if o := s.open; o != nil && o.answered != nil {
		f := o.answered
		o.answered = nil
		f(err)
	}
}

// Begin sends BEGIN now if it has not gone out yet.
func (s *Stream) Begin() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beginLocked()
}

// beginLocked sends BEGIN if it is due: the stream's first use. It lets go
// of s.mu while sending (a send may wait for the link's queue, and the
// circuit's reader must still reach the stream); DATA waits behind it
// (writeRoomLocked).
func (s *Stream) beginLocked() {
	o := s.open
	if o == nil || o.state != beginUnsent || s.err != nil || s.closed {
		return
	}
	if o.lost != nil {
		o.state = beginSent // used: BEGIN goes out when the stream is attached
		return
	}
	o.state = beginSending
	out, id := s.out, s.id
	s.mu.Unlock()
	err := out.SendMsg(onion.RelayMsg{Cmd: o.cmd, Stream: id, Body: o.body})
	s.mu.Lock()
	o.state = beginSent
	if err != nil {
		s.abortLocked(err)
	}
	s.notifyLocked()
}

// waitBegunLocked waits while BEGIN is on its way from another goroutine
// (beginLocked or moveTo let go of s.mu to send it), so that an END sent
// next cannot overtake it. The send ends on its own: queued or failed.
func (s *Stream) waitBegunLocked() {
	for s.open != nil && s.open.state == beginSending {
		s.waitLocked(time.Time{})
	}
}

// keepLocked keeps b if the stream keeps what it writes before CONNECTED,
// and reports whether it did.
func (s *Stream) keepLocked(b []byte) bool {
	o := s.open
	if o == nil || !o.keep || s.connected {
		return false
	}
	o.kept = append(o.kept, b...)
	return true
}

// loseLocked makes the stream lost instead of failed when its circuit ends
// before CONNECTED, if it keeps for that; it reports whether it did.
func (s *Stream) loseLocked(err error) bool {
	o := s.open
	if o == nil || !o.keep || s.connected || s.closed || s.err != nil {
		return false
	}
	if o.lost == nil {
		o.lost = err
	}
	s.notifyLocked()
	return true
}

// exitKnowsLocked reports whether the far end has heard of the stream: it
// answered a BEGIN, or this end sent one on a circuit that still stands.
func (s *Stream) exitKnowsLocked() bool {
	o := s.open
	return o == nil || o.state != beginUnsent && o.lost == nil
}

// waitSettledLocked waits, under the write deadline, until the stream's
// END done may go out, as its writes would: it is on a circuit with BEGIN
// sent, and, if it keeps what it writes, connected (its END must not
// overtake a move to another circuit); or it is over. False on the
// deadline.
func (s *Stream) waitSettledLocked() bool {
	for s.unsettledLocked() {
		if !s.waitLocked(s.wdeadline) {
			return false
		}
	}
	return true
}

func (s *Stream) unsettledLocked() bool {
	o := s.open
	if o == nil || s.err != nil || s.closed {
		return false
	}
	return o.lost != nil || o.state == beginSending || o.keep && !s.connected
}

// Fail gives the stream up with err, which its reads and writes return
// from now on. If the far end heard of it, it is told (END reset).
func (s *Stream) Fail(err error) {
	s.mu.Lock()
	s.waitBegunLocked()
	if s.closed || s.err != nil {
		s.mu.Unlock()
		return
	}
	tell := s.exitKnowsLocked() && !(s.sentEnd && s.remoteEOF)
	out, id := s.out, s.id
	if s.open != nil {
		s.open.lost, s.open.kept = nil, nil
	}
	s.err = err
	s.sentEnd = true
	s.notifyLocked()
	s.maybeReleaseLocked()
	s.mu.Unlock()
	if tell {
		out.SendMsg(onion.RelayMsg{Cmd: onion.RelayEnd, Stream: id, Body: []byte{byte(onion.EndReset)}})
	}
}

// moveTo places a lost stream on a circuit as id, and sends BEGIN there
// (unless the stream was never used) followed by what it kept.
func (s *Stream) moveTo(id uint16, out MsgSender, onClose func()) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.open
	if s.closed || s.err != nil { // first: Fail clears lost
		return net.ErrClosed
	}
	if o == nil || o.lost == nil {
		return fmt.Errorf("circuit: attach a stream that is on a circuit already")
	}
	s.waitBegunLocked() // the first BEGIN, on the failed circuit
	s.id, s.out, s.onClose = id, out, onClose
	o.lost = nil
	s.sendWindow, s.outstanding, s.consumed = onion.StreamWindow-len(o.kept), 0, 0
	if o.state == beginUnsent {
		return nil
	}
	o.state = beginSending
	kept := o.kept
	s.mu.Unlock()
	err := out.SendMsg(onion.RelayMsg{Cmd: o.cmd, Stream: id, Body: o.body})
	for b := kept; err == nil && len(b) > 0; {
		n := min(len(b), onion.MaxData)
		err = out.SendMsg(onion.RelayMsg{Cmd: onion.RelayData, Stream: id, Body: b[:n]})
		b = b[n:]
	}
	s.mu.Lock()
	o.state = beginSent
	if err != nil {
		s.abortLocked(err) // lost again: the new circuit is failing too
	}
	s.notifyLocked()
	return nil
}
