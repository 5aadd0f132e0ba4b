package relay

// The bytes an exit holds for destinations that do not read. A stream's
// window lets a client send 1 MiB on each of its up to 1024 streams before
// the exit has passed any of it on, so one circuit against a destination
// that never reads could make the exit hold a GiB. The budget bounds that
// per circuit and for the relay as a whole.

import (
	"fmt"
	"sync/atomic"

	"onion/onion/circuit"
)

// exitBudget is the relay-wide side of the budget.
type exitBudget struct {
	max, perCircuit int64
	total           atomic.Int64
	active          atomic.Int64 // circuits holding any bytes
}

// take counts n more bytes for a circuit that holds held. Past the relay's
// whole, a circuit may still grow to its fair share of it (the whole over
// the circuits holding any), so a few circuits that filled it cannot keep
// every other circuit from sending a request.
func (b *exitBudget) take(held, n int64) error {
	if held+n > b.perCircuit {
		return fmt.Errorf("%w: %d bytes held for destinations (one circuit)", errLimit, b.perCircuit)
	}
	if b.total.Add(n) <= b.max || held+n <= b.max/max(1, b.active.Load()) {
		return nil
	}
	b.total.Add(-n)
	return fmt.Errorf("%w: %d bytes held for destinations (all circuits)", errLimit, b.max)
}

// holdStreamLocked starts counting for a new exit stream. c.mu is held.
func (c *relayCirc) holdStreamLocked(s *circuit.Stream) { c.held[s] = 0 }

// holdLocked counts n bytes of DATA for s before s gets them, or refuses
// them. A stream that is over (no longer counted) takes anything: it drops
// what comes. c.mu is held.
func (c *relayCirc) holdLocked(s *circuit.Stream, n int) error {
	q, ok := c.held[s]
	if !ok || n == 0 {
		return nil
	}
	if err := c.r.exitBuf.take(c.heldSum, int64(n)); err != nil {
		return err
	}
	if c.heldSum == 0 {
		c.r.exitBuf.active.Add(1)
	}
	c.held[s] = q + int64(n)
	c.heldSum += int64(n)
	return nil
}

// releaseLocked uncounts n bytes of s that its destination has taken, or,
// with n < 0, all s holds, and stops counting for it (s is over). c.mu is
// held.
func (c *relayCirc) releaseLocked(s *circuit.Stream, n int64) {
	q, ok := c.held[s]
	if !ok {
		return
	}
	if n < 0 {
		n = q
		delete(c.held, s)
	} else {
		n = min(n, q)
		c.held[s] = q - n
	}
	if n == 0 {
		return
	}
	c.heldSum -= n
	c.r.exitBuf.total.Add(-n)
	if c.heldSum == 0 {
		c.r.exitBuf.active.Add(-1)
	}
}

// destReader reads an exit stream for its destination, uncounting what it
// passes on.
type destReader struct {
	c *relayCirc
	s *circuit.Stream
}

func (d destReader) Read(p []byte) (int, error) {
	n, err := d.s.Read(p)
	if n > 0 {
		d.c.mu.Lock()
		d.c.releaseLocked(d.s, int64(n))
		d.c.mu.Unlock()
	}
	return n, err
}
