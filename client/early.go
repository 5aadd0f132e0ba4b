package client

// Early replies (PROTOCOL.md §5.2). A CONNECT to a destination that the
// circuit it goes to has reached before is answered at once: the stream
// sends BEGIN, and whatever the application writes goes right behind it as
// optimistic data, while CONNECTED is still on its way. A client that waits
// for the SOCKS reply before it writes (curl, most applications) so saves
// one trip through the circuit. The price is the reply code: if the exit
// now fails to connect, the application sees its connection reset instead
// of a SOCKS error, and the destination is forgotten so that the next
// attempt waits for the answer and gets the code. Config.WaitConnected
// turns early replies off.
//
// What a circuit remembers is kept with the circuit: streams of another
// isolation key use another circuit, so whether a reply came early tells
// an application nothing about what other identities visited.

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"onion/onion"
	"onion/onion/circuit"
)

const (
	// maxReached bounds the destinations a circuit remembers; past it, new
	// ones are not added (their CONNECTs wait for CONNECTED as usual).
	maxReached = 256
	// earlyKeep bounds the bytes written before CONNECTED that a stream
	// keeps to send again on a fresh circuit if its circuit fails first.
	// A writer that would pass it waits for CONNECTED. It is well inside
	// the stream window, so writes before CONNECTED never wait for window.
	earlyKeep = 4 * onion.MaxData
)

// markReached records that target answered CONNECTED on ce's circuit.
func (ce *circEntry) markReached(target string) {
	ce.mu.Lock()
	defer ce.mu.Unlock()
	if ce.reached == nil {
		ce.reached = make(map[string]struct{})
	}
	if len(ce.reached) < maxReached {
		ce.reached[target] = struct{}{}
	}
}

func (ce *circEntry) hasReached(target string) bool {
	ce.mu.Lock()
	defer ce.mu.Unlock()
	_, ok := ce.reached[target]
	return ok
}

func (ce *circEntry) forget(target string) {
	ce.mu.Lock()
	defer ce.mu.Unlock()
	delete(ce.reached, target)
}

// warm returns the circuit new streams with key use if there is one ready
// (never builds).
func (m *Manager) warm(key string) *circEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	ce := m.current[key]
	if ce == nil || m.cfg.Now().Sub(ce.born) >= m.cfg.CircuitLifetime || ce.c.Err() != nil {
		return nil
	}
	return ce
}

// dialEarly opens a stream to target on ce without waiting for CONNECTED.
// BEGIN goes out on the stream's first use (Read, Write, CloseWrite): the
// SOCKS server writes its reply before that, so the application is not
// kept waiting while BEGIN is sealed and written. (With early, data the
// application sent behind its request, BEGIN goes out at once, followed
// by it.) deadline bounds the wait for CONNECTED, retry included.
func (m *Manager) dialEarly(deadline time.Time, ce *circEntry, key, target string, early []byte) (net.Conn, error) {
	s, err := ce.c.NewStream(target)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithDeadline(m.stop, deadline)
	es := &earlyStream{m: m, key: key, target: target, ce: ce, s: s, cancel: cancel,
		unsent: true, begun: make(chan struct{}), ready: make(chan struct{}), moved: make(chan struct{})}
	if len(early) > 0 {
		es.Write(early) // kept, so never lost: a failed send is resent on the retry
	}
	if !m.goTracked(func() { es.settle(ctx) }) {
		es.Close()
		return nil, errors.New("client: shutting down")
	}
	return es, nil
}

// earlyStream is a stream answered before CONNECTED. Until CONNECTED it
// keeps what it sent, and if the circuit fails first it opens the stream
// again on a fresh circuit and sends it again (as Tor does with optimistic
// data). Reads wait for the outcome.
type earlyStream struct {
	m      *Manager
	key    string
	target string
	cancel context.CancelFunc // ends settle
	begun  chan struct{}      // closed once BEGIN is sent
	ready  chan struct{}      // closed once connected or failed for good

	mu        sync.Mutex
	ce        *circEntry
	s         *circuit.Stream
	unsent    bool   // BEGIN is not sent yet
	kept      []byte // sent before CONNECTED; nil after
	connected bool
	err       error // the stream could not be opened
	closed    bool
	rdeadline time.Time
	wdeadline time.Time
	moved     chan struct{} // closed and replaced when a deadline is set
}

// settle waits for CONNECTED, retrying once on a fresh circuit if the
// circuit failed, and records the outcome.
func (e *earlyStream) settle(ctx context.Context) {
	defer e.cancel()
	log := e.m.logger
	select {
	case <-e.begun:
	case <-ctx.Done():
		e.finish(net.ErrClosed) // closed (or never used) before BEGIN
		return
	}
	for attempt := 1; ; attempt++ {
		e.mu.Lock()
		s, ce := e.s, e.ce
		e.mu.Unlock()
		err := s.WaitConnected(ctx)
		if err == nil {
			ce.markReached(e.target) // a fresh circuit after a reopen has reached it now
			e.finish(nil)
			return
		}
		if se, ok := errors.AsType[*circuit.StreamError](err); ok && se.Remote {
			ce.forget(e.target) // the next CONNECT waits and gets the reply code
			e.finish(&OpenError{Reason: se.Reason, Err: err})
			log.Info("stream refused after an early SOCKS reply; the application's connection is reset", "circ", ce.id, "reason", se.Reason)
			return
		}
		if e.isClosed() {
			e.finish(net.ErrClosed) // the application is gone: nothing to report
			return
		}
		if timedOut(ctx, err) || attempt == 2 {
			if timedOut(ctx, err) {
				err = &OpenError{Reason: onion.EndTimeout, Err: err}
			}
			e.finish(err)
			log.Info("stream failed after an early SOCKS reply; the application's connection is reset", "circ", ce.id, "err", err)
			return
		}
		log.Info("stream failed on circuit; building another", "circ", ce.id, "err", err)
		e.m.retire(ce)
		if err := e.reopen(ctx); err != nil {
			e.finish(err)
			log.Info("stream failed after an early SOCKS reply; the application's connection is reset", "err", err)
			return
		}
	}
}

// reopen opens the stream again on the key's circuit (a fresh one) and
// sends what was kept.
func (e *earlyStream) reopen(ctx context.Context) error {
	ce, err := e.m.circuitFor(ctx, e.key)
	if err != nil {
		return err
	}
	s, err := ce.c.Begin(e.target)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		s.Close()
		return net.ErrClosed
	}
	e.ce, e.s = ce, s
	s.SetReadDeadline(e.rdeadline)
	s.SetWriteDeadline(e.wdeadline)
	if len(e.kept) > 0 {
		s.Write(e.kept) // a failure shows in WaitConnected
	}
	return nil
}

// finish records the outcome: err nil for CONNECTED. On failure the
// stream, if its BEGIN went out, is also closed toward the exit (a timeout
// leaves the exit holding it otherwise; after an END or on a dead circuit
// closing sends nothing), and it is never begun afterwards.
func (e *earlyStream) finish(err error) {
	e.mu.Lock()
	s, begun := e.s, !e.unsent
	if err == nil {
		e.connected = true
	} else {
		e.err = err
		e.unsent = false
	}
	e.kept = nil
	e.mu.Unlock()
	if err != nil {
		if begun {
			s.Close()
		}
		s.Abort(err)
	}
	close(e.ready)
}

// startLocked sends BEGIN, once, unless the stream is closed or failed
// already. A failure aborts the stream, and settle takes it from there.
func (e *earlyStream) startLocked() {
	if !e.unsent || e.err != nil || e.closed {
		return
	}
	e.unsent = false
	e.ce.c.SendBegin(e.s, e.target)
	close(e.begun)
}

func (e *earlyStream) start() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.startLocked()
}

func (e *earlyStream) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

// stream waits until the open is settled and returns the stream, or why
// there is none. The read (read is true) or write deadline ends the wait,
// also one set while it waits, as does Close.
func (e *earlyStream) stream(read bool) (*circuit.Stream, error) {
	for {
		e.mu.Lock()
		d, moved := e.wdeadline, e.moved
		if read {
			d = e.rdeadline
		}
		e.mu.Unlock()
		settled, err := e.waitReady(d, moved)
		if err != nil {
			return nil, err
		}
		if settled {
			e.mu.Lock()
			defer e.mu.Unlock()
			if e.err != nil {
				return nil, e.err
			}
			return e.s, nil
		}
	}
}

// waitReady waits for the open to settle (true), for deadline d to pass
// (an error), or for a deadline to be set anew (false).
func (e *earlyStream) waitReady(d time.Time, moved <-chan struct{}) (bool, error) {
	var expired <-chan time.Time
	if !d.IsZero() {
		t := time.NewTimer(time.Until(d))
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-e.ready:
		return true, nil
	case <-expired:
		return false, os.ErrDeadlineExceeded
	case <-moved:
		return false, nil
	}
}

func (e *earlyStream) Read(p []byte) (int, error) {
	e.start()
	s, err := e.stream(true)
	if err != nil {
		return 0, err
	}
	return s.Read(p)
}

// Write sends p. Before CONNECTED it also keeps p, up to earlyKeep bytes in
// all; a write past that waits for CONNECTED.
func (e *earlyStream) Write(p []byte) (int, error) {
	e.mu.Lock()
	e.startLocked()
	if !e.connected && e.err == nil && !e.closed && len(e.kept)+len(p) <= earlyKeep {
		e.kept = append(e.kept, p...)
		// Under e.mu so that a reopen cannot slip between keeping and
		// sending. It cannot wait for window (earlyKeep is well inside
		// it), only for the link's queue, which is bounded in time. A
		// passed write deadline sends (part of) nothing and says so; any
		// other failure means the circuit is failing, and settle sends the
		// kept bytes again on the next one.
		n, err := e.s.Write(p)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			e.kept = e.kept[:len(e.kept)-len(p)+n]
			e.mu.Unlock()
			return n, err
		}
		e.mu.Unlock()
		return len(p), nil
	}
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return 0, net.ErrClosed
	}
	s, err := e.stream(false)
	if err != nil {
		return 0, err
	}
	return s.Write(p)
}

// CloseWrite half-closes toward the destination, once the stream is open.
func (e *earlyStream) CloseWrite() error {
	e.start()
	s, err := e.stream(false)
	if err != nil {
		return err
	}
	return s.CloseWrite()
}

// Close ends the stream and any wait for CONNECTED.
func (e *earlyStream) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	s, unsent := e.s, e.unsent
	e.mu.Unlock()
	e.cancel()
	if unsent { // the exit never heard of it: nothing to tell
		s.Abort(net.ErrClosed)
		return nil
	}
	return s.Close()
}

// Failed reports whether the stream failed rather than ended cleanly, so
// the application's connection is reset (socksClientConn.CloseWrite).
func (e *earlyStream) Failed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err != nil || e.s.Failed()
}

func (e *earlyStream) LocalAddr() net.Addr {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.s.LocalAddr()
}

func (e *earlyStream) RemoteAddr() net.Addr {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.s.RemoteAddr()
}

func (e *earlyStream) SetDeadline(t time.Time) error {
	e.SetReadDeadline(t)
	return e.SetWriteDeadline(t)
}

func (e *earlyStream) SetReadDeadline(t time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rdeadline = t
	e.moveLocked()
	return e.s.SetReadDeadline(t)
}

func (e *earlyStream) SetWriteDeadline(t time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.wdeadline = t
	e.moveLocked()
	return e.s.SetWriteDeadline(t)
}

// moveLocked wakes the waits in stream, to look at the deadlines again.
func (e *earlyStream) moveLocked() {
	close(e.moved)
	e.moved = make(chan struct{})
}
