package circuit

// Streams and their flow control, PROTOCOL.md §5.3 and §6.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"onion/onion"
)

// MsgSender sends relay messages to the other end of a circuit. SendMsg is
// safe for concurrent use and does not keep m.Body after it returns.
type MsgSender interface {
	SendMsg(m onion.RelayMsg) error
}

// StreamError is how a stream ended when the far end (or the circuit) ended
// it with a reason other than a normal close.
type StreamError struct {
	Reason onion.EndReason
	Remote bool // true when the reason came from the other end
}

func (e *StreamError) Error() string {
	if e.Remote {
		return "stream ended by peer: " + e.Reason.String()
	}
	return "stream ended: " + e.Reason.String()
}

// ErrProtocol marks a peer that broke the stream protocol; the circuit that
// carried it must be torn down.
var ErrProtocol = errors.New("circuit: protocol violation")

// Stream is one end of a stream: a net.Conn whose bytes travel as DATA
// messages. Writes wait for send window; reads grant window back with SENDME
// once SendmeThreshold bytes are consumed, so the other end can never make
// this one buffer more than onion.StreamWindow bytes.
type Stream struct {
	local  net.Addr
	remote net.Addr
	client string // set before the stream is handed out; never changes

	ctrl   chan onion.RelayMsg // control messages (auth, URL) for the application
	connCh chan struct{}       // closed on CONNECTED
	doneCh chan struct{}       // closed when the stream is released

	mu sync.Mutex
	// id, out and onClose place the stream on its circuit. They change
	// only when a lost stream moves to another circuit (stream_open.go).
	id          uint16
	out         MsgSender
	onClose     func()        // removes the stream from its circuit; called once
	open        *opening      // a client stream's BEGIN and what hangs on it; nil for a stream that answered one
	changed     chan struct{} // closed and replaced on every state change
	connected   bool
	recv        []chunk // DATA not yet read
	outstanding int     // bytes received and not yet granted back
	consumed    int     // bytes read since the last SENDME
	sendWindow  int
	sentEnd     bool  // we sent END (done or abort)
	remoteEOF   bool  // the peer sent END done
	err         error // the stream is aborted; reads and writes fail with it
	closed      bool
	released    bool
	rdeadline   time.Time
	wdeadline   time.Time
}

// NewStream makes the answering end of stream id: an exit's or a hidden
// service's, for a BEGIN that arrived. (A client opens its end with
// Circuit.OpenStream.) onClose runs once when the stream is finished in
// both directions or aborted. local and remote are what LocalAddr and
// RemoteAddr report.
func NewStream(id uint16, out MsgSender, onClose func(), local, remote net.Addr) *Stream {
	return &Stream{
		id:         id,
		out:        out,
		onClose:    onClose,
		local:      local,
		remote:     remote,
		changed:    make(chan struct{}),
		ctrl:       make(chan onion.RelayMsg, ctrlQueueLen),
		connCh:     make(chan struct{}),
		doneCh:     make(chan struct{}),
		sendWindow: onion.StreamWindow,
	}
}

const ctrlQueueLen = 8

// Control delivers the stream's control messages (PROTOCOL.md §12): auth
// exchanges and URL replies. They are not part of the byte stream.
func (s *Stream) Control() <-chan onion.RelayMsg { return s.ctrl }

// SendControl sends a control message on this stream.
func (s *Stream) SendControl(cmd onion.RelayCmd, body []byte) error {
	s.mu.Lock()
	err, out, id := s.err, s.out, s.id
	if o := s.open; err == nil && o != nil && o.lost != nil {
		err = &LostError{Err: o.lost} // on no circuit: nowhere to send it
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return out.SendMsg(onion.RelayMsg{Cmd: cmd, Stream: id, Body: body})
}

// Connected is closed when CONNECTED arrives.
func (s *Stream) Connected() <-chan struct{} { return s.connCh }

// Done is closed when the stream is over: finished both ways, closed or aborted.
func (s *Stream) Done() <-chan struct{} { return s.doneCh }

// Accept sends CONNECTED: the service side's answer to BEGIN.
func (s *Stream) Accept() error {
	s.mu.Lock()
	out, id := s.out, s.id
	s.mu.Unlock()
	return out.SendMsg(onion.RelayMsg{Cmd: onion.RelayConnected, Stream: id})
}

// Failed reports whether the stream ended in error before the far end
// finished cleanly: what a proxy must not pass on as a normal end.
func (s *Stream) Failed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err != nil && !s.remoteEOF
}

// Err is why the stream was aborted, or nil.
func (s *Stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// ID is the stream id on its circuit.
func (s *Stream) ID() uint16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

func (s *Stream) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// wait releases mu until the state changes or the deadline passes. It reports
// false on a deadline.
func (s *Stream) waitLocked(deadline time.Time) bool {
	return s.waitCancelLocked(deadline, nil)
}

// waitCancelLocked is waitLocked that also returns false when cancel closes.
func (s *Stream) waitCancelLocked(deadline time.Time, cancel <-chan struct{}) bool {
	return s.waitForLocked(deadline, cancel, nil)
}

// waitForLocked is waitLocked that also returns false when cancel closes,
// and true when wake does.
func (s *Stream) waitForLocked(deadline time.Time, cancel, wake <-chan struct{}) bool {
	ch := s.changed
	var timer <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return false
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	s.mu.Unlock()
	defer s.mu.Lock()
	select {
	case <-ch:
		return true
	case <-wake:
		return true
	case <-timer:
		return false
	case <-cancel:
		return false
	}
}

// Deliver hands the stream a message that arrived for it. It never blocks.
// An error means the peer broke the protocol and the circuit must die.
func (s *Stream) Deliver(m onion.RelayMsg) error { return s.DeliverFrom(m, nil) }

// DeliverFrom is Deliver for a message whose body lies in buf, a pooled
// cell buffer (onion.Recycle) that the caller gives up: the stream recycles
// it once the application has read a DATA body, or at once if it copied the
// body. Any other message leaves buf to the garbage collector.
func (s *Stream) DeliverFrom(m onion.RelayMsg, buf []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open != nil && s.open.lost != nil {
		return nil // from the circuit the stream was lost with, now gone
	}
	switch m.Cmd {
	case onion.RelayConnected:
		if !s.connected {
			s.connected = true
			close(s.connCh)
			if s.open != nil {
				s.open.kept = nil // never sent again: the exit has it
				s.answerLocked(nil)
			}
		}
	case onion.RelayData:
		if s.remoteEOF || s.err != nil && s.released {
			return nil // late data after an end we already acted on
		}
		if s.outstanding+len(m.Body) > onion.StreamWindow {
			return fmt.Errorf("%w: stream %d overran its window", ErrProtocol, s.id)
		}
		s.outstanding += len(m.Body)
		if len(m.Body) > 0 && s.err == nil && !s.closed {
			s.recv = appendChunk(s.recv, m.Body, buf)
		}
	case onion.RelaySendme:
		n, err := onion.ParseUint32Body(m.Body)
		if err != nil {
			return err
		}
		if s.sendWindow+int(n) > onion.StreamWindow {
			return fmt.Errorf("%w: stream %d SENDME beyond window", ErrProtocol, s.id)
		}
		s.sendWindow += int(n)
	case onion.RelayEnd:
		if len(m.Body) != 1 {
			return fmt.Errorf("%w: END body of %d bytes", ErrProtocol, len(m.Body))
		}
		if r := onion.EndReason(m.Body[0]); r == onion.EndDone {
			s.remoteEOF = true
		} else if s.err == nil {
			s.err = &StreamError{Reason: r, Remote: true}
			s.sentEnd = true // the peer has forgotten the stream; never answer
			if !s.connected {
				s.answerLocked(s.err)
			}
		}
	case onion.RelayResolved:
		if s.open == nil || s.open.cmd != onion.RelayResolve || s.remoteEOF || s.err != nil {
			return fmt.Errorf("%w: RESOLVED on stream %d, which asked for none", ErrProtocol, s.id)
		}
		// The answer is the whole stream: the exit has forgotten it.
		select {
		case s.ctrl <- onion.RelayMsg{Cmd: m.Cmd, Stream: m.Stream, Body: append([]byte(nil), m.Body...)}:
		default:
			return fmt.Errorf("%w: stream %d control queue full", ErrProtocol, s.id)
		}
		s.remoteEOF, s.sentEnd = true, true
	case onion.RelayAuthChallenge, onion.RelayAuthProof, onion.RelayAuthResult, onion.RelayURL:
		// Control messages for the application above the stream. The queue
		// is small: these come one at a time, each answered before the next.
		select {
		case s.ctrl <- onion.RelayMsg{Cmd: m.Cmd, Stream: m.Stream, Body: append([]byte(nil), m.Body...)}:
		default:
			return fmt.Errorf("%w: stream %d control queue full", ErrProtocol, s.id)
		}
	default:
		return fmt.Errorf("%w: %v on a stream", ErrProtocol, m.Cmd)
	}
	s.notifyLocked()
	s.maybeReleaseLocked()
	return nil
}

// Abort ends the stream locally with err, without telling the peer (the
// circuit is gone). It is for the circuit's owner.
func (s *Stream) Abort(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.abortLocked(err)
}

func (s *Stream) abortLocked(err error) {
	if s.loseLocked(err) {
		return // waits to move to another circuit
	}
	if s.err == nil {
		s.err = err
	}
	s.sentEnd = true
	s.notifyLocked()
	s.maybeReleaseLocked()
}

// maybeReleaseLocked calls onClose once the stream is over in both directions.
func (s *Stream) maybeReleaseLocked() {
	over := s.err != nil || s.closed || (s.sentEnd && s.remoteEOF)
	if !over || s.released {
		return
	}
	s.released = true
	close(s.doneCh)
	if s.onClose != nil {
		go s.onClose() // never under s.mu: onClose takes the circuit's lock
	}
}

// WaitConnected waits for CONNECTED (or an END) after BEGIN, or for ctx.
// It does not send BEGIN itself (Begin does, as does the first Read or
// Write). A stream lost with its circuit (KeepUntilConnected) ends the
// wait with a *LostError.
func (s *Stream) WaitConnected(ctx context.Context) error {
	deadline, _ := ctx.Deadline()
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.connected {
		if s.closed {
			return net.ErrClosed
		}
		if s.err != nil {
			return s.err
		}
		if s.open != nil && s.open.lost != nil {
			return &LostError{Err: s.open.lost}
		}
		if !s.waitCancelLocked(deadline, ctx.Done()) {
			if err := ctx.Err(); err != nil {
				return err
			}
			return context.DeadlineExceeded
		}
	}
	return nil
}

// Read reads stream bytes; io.EOF after the peer's half-close.
func (s *Stream) Read(p []byte) (int, error) {
	s.mu.Lock()
	s.beginLocked()
	// A passed deadline fails the call even when bytes are waiting, as on a
	// TCP conn: that is how a caller cancels I/O (net.Conn's contract).
	if !s.closed && passed(s.rdeadline) {
		s.mu.Unlock()
		return 0, os.ErrDeadlineExceeded
	}
	for len(s.recv) == 0 {
		switch {
		case s.closed:
			s.mu.Unlock()
			return 0, net.ErrClosed
		case s.remoteEOF:
			// Before err: a peer that finished sending and then closed
			// (END done, END reset) delivered everything.
			s.mu.Unlock()
			return 0, io.EOF
		case s.err != nil:
			s.mu.Unlock()
			return 0, s.err
		}
		if !s.waitLocked(s.rdeadline) {
			s.mu.Unlock()
			return 0, os.ErrDeadlineExceeded
		}
	}
	n := 0
	for n < len(p) && len(s.recv) > 0 {
		c := copy(p[n:], s.recv[0].b)
		n += c
		if c == len(s.recv[0].b) {
			onion.Recycle(s.recv[0].buf) // read: nothing refers to it now
			s.recv[0] = chunk{}
			s.recv = s.recv[1:]
		} else {
			s.recv[0].b = s.recv[0].b[c:]
		}
	}
	s.consumed += n
	grant := 0
	if s.consumed >= onion.SendmeThreshold && !s.remoteEOF && s.err == nil {
		grant, s.consumed = s.consumed, 0
		s.outstanding -= grant
	}
	out, id := s.out, s.id
	s.mu.Unlock()
	if grant > 0 {
		// A failed SENDME means the circuit is dying; the next call sees it.
		out.SendMsg(onion.RelayMsg{Cmd: onion.RelaySendme, Stream: id, Body: onion.Uint32Body(uint32(grant))})
	}
	return n, nil
}

// Write sends p as DATA messages, waiting for window as needed. A stream
// that keeps what it writes before CONNECTED (KeepUntilConnected) keeps p
// too, and waits for CONNECTED rather than keep more than KeepLimit bytes.
func (s *Stream) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		s.mu.Lock()
		s.beginLocked()
		for {
			if err := s.writeErrLocked(); err != nil {
				s.mu.Unlock()
				return written, err
			}
			// Stream window first (the reader's bound), then the circuit's
			// congestion window (§6.1), which an ack elsewhere may open.
			var gate <-chan struct{}
			room := s.writeRoomLocked()
			if room > 0 {
				if gate = s.dataRoomLocked(); gate == nil {
					break
				}
			}
			if !s.waitForLocked(s.wdeadline, nil, gate) {
				s.mu.Unlock()
				return written, os.ErrDeadlineExceeded
			}
		}
		n := min(len(p)-written, s.writeRoomLocked())
		kept := s.keepLocked(p[written : written+n])
		s.sendWindow -= n
		out, id, lost := s.out, s.id, s.open != nil && s.open.lost != nil
		s.mu.Unlock()
		if !lost {
			err := out.SendMsg(onion.RelayMsg{Cmd: onion.RelayData, Stream: id, Body: p[written : written+n]})
			if err != nil && !kept {
				return written, err
			}
		}
		// A kept write that did not go out is not lost: it goes out behind
		// BEGIN when the stream is (re)attached.
		written += n
	}
	return written, nil
}

// writeRoomLocked is how many bytes the next DATA message may carry now: 0
// while there is no window, while BEGIN is on its way, while the stream is
// lost (unless it keeps what it writes), or while it keeps KeepLimit bytes
// already.
func (s *Stream) writeRoomLocked() int {
	n := min(onion.MaxData, s.sendWindow)
	if o := s.open; o != nil && !s.connected {
		switch {
		case o.state == beginSending:
			return 0
		case o.keep:
			n = min(n, KeepLimit-len(o.kept)) // while lost, it is only kept
		case o.lost != nil:
			return 0
		}
	}
	return max(n, 0)
}

// dataRoomLocked is the circuit's congestion window for the next DATA
// cell: nil when it may go now (or goes nowhere yet: a lost stream only
// keeps it), else a channel closed when an ack may have made room.
func (s *Stream) dataRoomLocked() <-chan struct{} {
	if o := s.open; o != nil && o.lost != nil {
		return nil
	}
	if g, ok := s.out.(DataGate); ok {
		return g.DataRoom()
	}
	return nil
}

func (s *Stream) writeErrLocked() error {
	switch {
	case s.closed:
		return net.ErrClosed
	case passed(s.wdeadline):
		// Checked before window, so a passed deadline fails a Write that
		// could complete at once, as on a TCP conn.
		return os.ErrDeadlineExceeded
	case s.err != nil:
		return s.err
	case s.sentEnd:
		return errors.New("circuit: write after CloseWrite")
	}
	return nil
}

// CloseWrite half-closes: the peer reads EOF after the bytes already written.
func (s *Stream) CloseWrite() error {
	s.mu.Lock()
	s.beginLocked()
	if !s.waitSettledLocked() {
		s.mu.Unlock()
		return os.ErrDeadlineExceeded
	}
	if s.closed {
		s.mu.Unlock()
		return net.ErrClosed
	}
	send := !s.sentEnd && s.err == nil
	out, id := s.out, s.id
	s.sentEnd = true
	s.notifyLocked()
	s.maybeReleaseLocked()
	s.mu.Unlock()
	if !send {
		return nil
	}
	return out.SendMsg(onion.RelayMsg{Cmd: onion.RelayEnd, Stream: id, Body: []byte{byte(onion.EndDone)}})
}

// Close ends the stream like closing a TCP socket: the peer still reads
// every byte written before Close, then EOF (END done); if the peer was
// still sending, it is also told to stop (END reset), since nobody reads
// here any more.
func (s *Stream) Close() error {
	s.mu.Lock()
	s.waitBegunLocked()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	var msgs []onion.EndReason
	told := s.exitKnowsLocked()
	if told && s.err == nil && !s.sentEnd {
		msgs = append(msgs, onion.EndDone)
	}
	if told && s.err == nil && !s.remoteEOF {
		msgs = append(msgs, onion.EndReset)
	}
	out, id := s.out, s.id
	s.closeLocked()
	s.mu.Unlock()
	for _, r := range msgs {
		if err := out.SendMsg(onion.RelayMsg{Cmd: onion.RelayEnd, Stream: id, Body: []byte{byte(r)}}); err != nil {
			return err
		}
	}
	return nil
}

// CloseWithReason aborts the stream with an explicit reason (an exit
// reporting why a connection failed, say): one END carrying r.
func (s *Stream) CloseWithReason(r onion.EndReason) error {
	s.mu.Lock()
	s.waitBegunLocked()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	send := s.err == nil && !(s.sentEnd && s.remoteEOF) && s.exitKnowsLocked()
	out, id := s.out, s.id
	s.closeLocked()
	s.mu.Unlock()
	if !send {
		return nil
	}
	return out.SendMsg(onion.RelayMsg{Cmd: onion.RelayEnd, Stream: id, Body: []byte{byte(r)}})
}

func (s *Stream) closeLocked() {
	s.closed = true
	s.sentEnd = true
	s.recv = nil
	s.notifyLocked()
	s.maybeReleaseLocked()
}

// passed reports whether deadline d is set and has passed.
func passed(d time.Time) bool { return !d.IsZero() && !time.Now().Before(d) }

// LocalAddr reports the address given to NewStream.
func (s *Stream) LocalAddr() net.Addr { return s.local }

// RemoteAddr reports the address given to NewStream.
func (s *Stream) RemoteAddr() net.Addr { return s.remote }

// SetDeadline sets both deadlines.
func (s *Stream) SetDeadline(t time.Time) error { return s.setDeadlines(&t, &t) }

// SetReadDeadline sets the read deadline.
func (s *Stream) SetReadDeadline(t time.Time) error { return s.setDeadlines(&t, nil) }

// SetWriteDeadline sets the write deadline.
func (s *Stream) SetWriteDeadline(t time.Time) error { return s.setDeadlines(nil, &t) }

// setDeadlines sets the deadlines given (nil: unchanged) and wakes every
// wait to look at them again.
func (s *Stream) setDeadlines(r, w *time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r != nil {
		s.rdeadline = *r
	}
	if w != nil {
		s.wdeadline = *w
	}
	s.notifyLocked()
	return nil
}

// chunk is received data waiting for the application: either a DATA body
// in the cell buffer it arrived in, or small bodies copied together into a
// buffer of the stream's own.
type chunk struct {
	b     []byte
	buf   []byte // the pooled buffer b lies in, recycled once b is read; or nil
	owned bool   // b's array is ours: small bodies may be appended to it
}

// coalesceLen is the size of the buffers small bodies are copied into.
const coalesceLen = 16 << 10

// appendChunk queues body, which lies in buf (a pooled buffer, or nil). A
// body that would pin a cell buffer more than twice its size (a peer
// sending one byte per cell, say) is copied into a shared buffer instead,
// and buf recycled at once, so the memory a stream holds stays near the
// bytes its window allows however the peer cuts them up.
func appendChunk(recv []chunk, body, buf []byte) []chunk {
	if cap(body) <= 2*len(body) {
		return append(recv, chunk{b: body, buf: buf})
	}
	defer onion.Recycle(buf)
	if n := len(recv); n > 0 && recv[n-1].owned && cap(recv[n-1].b)-len(recv[n-1].b) >= len(body) {
		recv[n-1].b = append(recv[n-1].b, body...)
		return recv
	}
	b := make([]byte, 0, max(coalesceLen, len(body)))
	return append(recv, chunk{b: append(b, body...), owned: true})
}
