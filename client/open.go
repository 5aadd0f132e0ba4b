package client

// Opening a stream (PROTOCOL.md §5.2). Every stream is a circuit.Stream
// that keeps what it writes until CONNECTED, so that connect, the one
// place that decides to try a fresh circuit, can move it there if its
// circuit fails first (as Tor does with optimistic data).
//
// Early replies: a CONNECT to a destination that the circuit it goes to
// has reached before is answered at once; the stream's BEGIN goes out on
// its first use, with whatever the application writes right behind it,
// while connect waits for CONNECTED in the background. A client that
// waits for the SOCKS reply before it writes (curl, most applications) so
// saves one trip through the circuit. The price is the reply code: if the
// exit now fails to connect, the application sees its connection reset
// instead of a SOCKS error, and the destination is forgotten so that the
// next attempt waits for the answer and gets the code. Config.WaitConnected
// turns early replies off.
//
// What a circuit remembers is kept with the circuit: streams of another
// isolation key use another circuit, so whether a reply came early tells
// an application nothing about what other identities visited.

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"time"

	"onion/onion"
	"onion/onion/circuit"
)

// maxReached bounds the destinations a circuit remembers; past it, new
// ones are not added (their CONNECTs wait for CONNECTED as usual).
const maxReached = 256

// newStream makes a stream to target that keeps what it writes until
// CONNECTED, with early (optimistic data) written already: it goes out
// right behind BEGIN once the stream is on a circuit. The circuit that
// hears the exit's answer remembers or forgets target (in step with the
// answer, so a CONNECT after a refusal the application saw waits for its
// own answer); at points at the circuit the stream is on.
func newStream(target string, early []byte, at *atomic.Pointer[circEntry]) (*circuit.Stream, error) {
	s, err := circuit.NewClientStream(target)
	if err != nil {
		return nil, err
	}
	s.KeepUntilConnected()
	s.OnAnswer(func(err error) {
		if ce := at.Load(); ce != nil && err == nil {
			ce.markReached(target)
		} else if ce != nil {
			ce.forget(target) // the next CONNECT waits and gets the reply code
		}
	})
	if len(early) > 0 {
		s.Write(early) // kept: cannot fail or wait (early is at most one cell)
	}
	return s, nil
}

// connect waits until s, on the circuit at points at (nil: on none yet),
// is CONNECTED. It is the one place that decides to try a fresh circuit: when
// s's circuit fails before CONNECTED (or s has none), that circuit is
// retired and s moves to the key's circuit, a fresh one; a second failed
// circuit ends the attempt. On failure s is given up (the exit told, if it
// knew of it), with an *OpenError where the exit or a timeout decided.
func (m *Manager) connect(ctx context.Context, key string, port uint16, at *atomic.Pointer[circEntry], s *circuit.Stream) error {
	failed := 0
	for {
		err := s.WaitConnected(ctx)
		if err == nil {
			return nil
		}
		if se, ok := errors.AsType[*circuit.StreamError](err); ok && se.Remote {
			return &OpenError{Reason: se.Reason, Err: err}
		}
		if errors.Is(err, net.ErrClosed) {
			return err // the application is gone
		}
		if timedOut(ctx, err) {
			oe := &OpenError{Reason: onion.EndTimeout, Err: err}
			s.Fail(oe)
			return oe
		}
		if ce := at.Load(); ce != nil {
			m.logger.Info("stream failed on circuit; building another", "circ", ce.id, "err", err)
			m.retire(ce)
			if failed++; failed == 2 {
				s.Fail(err)
				return err
			}
		}
		ce, err := m.circuitFor(ctx, key, port)
		if err != nil {
			s.Fail(err)
			return err
		}
		at.Store(ce)
		ce.c.Attach(s) // a failure leaves s lost: the next wait says so
	}
}

// dialEarly attaches a stream to target to ce and returns it without
// waiting for CONNECTED; connect waits in the background, until deadline
// at the latest, and a failure there resets the application's connection.
func (m *Manager) dialEarly(deadline time.Time, ce *circEntry, key, target string, port uint16, early []byte) (net.Conn, error) {
	var at atomic.Pointer[circEntry]
	at.Store(ce)
	s, err := newStream(target, early, &at)
	if err != nil {
		return nil, err
	}
	if err := ce.c.Attach(s); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithDeadline(m.stop, deadline)
	settle := func() {
		defer cancel()
		err := m.connect(ctx, key, port, &at, s)
		if err != nil && !errors.Is(err, net.ErrClosed) {
			m.logger.Info("stream failed after an early SOCKS reply; the application's connection is reset", "err", err)
		}
	}
	if !m.goTracked(settle) {
		cancel()
		s.Close()
		return nil, errors.New("client: shutting down")
	}
	return s, nil
}

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
