package circuit

// The link's cell scheduler, PROTOCOL.md §2.4: one queue per circuit, and
// the next cell comes from the quietest circuit that has one waiting (an
// exponentially weighted moving average of the cells each circuit sent
// recently, Tor's circuit-level EWMA), so a circuit that just woke up is
// not queued behind a bulk transfer on the same link. Within a circuit
// cells keep their order: every layer carries a sequence number.

import (
	"math"
	"time"

	"onion/onion"
)

// Scheduler defaults.
const (
	// ewmaHalfLife is how fast a circuit's past activity is forgotten.
	// Tor uses 30 s; a shorter one lets a circuit that paused for a few
	// seconds count as quiet again.
	ewmaHalfLife = 5 * time.Second
	// ewmaRescale is the growth of the per-cell weight at which every
	// circuit's count is scaled back (see sched.bump).
	ewmaRescale = 1 << 20
	// forgetBelow is the count, after a rescale, under which an idle
	// circuit's entry is dropped: its past is forgotten.
	forgetBelow = 1e-6
)

// sched holds the cells waiting for one link's writer. It is not safe for
// concurrent use: the Link guards it with its mutex.
type sched struct {
	circs  map[uint32]*circQueue // circuits with cells waiting or a recent past
	active []*circQueue          // circuits with cells waiting, in no order
	n      int                   // cells waiting in all
	epoch  time.Time             // when a cell's weight was 1
	seq    uint64                // counts activations, for ties
}

// circQueue is one circuit's waiting cells and its activity count.
type circQueue struct {
	id    uint32
	cells []onion.Cell // waiting, oldest first, from head
	head  int
	// count is the circuit's EWMA of cells sent, scaled by the weight of
	// a cell at epoch: counts of circuits compare directly, whenever they
	// were last touched, because all decay at the same rate.
	count float64
	slot  int    // index in sched.active, or -1
	since uint64 // when it last became active: of equal counts, the earlier goes first
}

func newSched(now time.Time) sched {
	return sched{circs: make(map[uint32]*circQueue), epoch: now}
}

func (q *circQueue) waiting() int { return len(q.cells) - q.head }

// push queues c behind the cells of its circuit.
func (s *sched) push(c onion.Cell) {
	q := s.circs[c.CircID]
	if q == nil {
		q = &circQueue{id: c.CircID, slot: -1}
		s.circs[c.CircID] = q
	}
	if q.slot < 0 {
		s.seq++
		q.since = s.seq
		q.slot = len(s.active)
		s.active = append(s.active, q)
	}
	q.cells = append(q.cells, c)
	s.n++
}

// waiting is how many cells of circuit id wait.
func (s *sched) waiting(id uint32) int {
	if q := s.circs[id]; q != nil {
		return q.waiting()
	}
	return 0
}

// take moves up to maxCells cells, and at most maxBytes of payload beyond
// the first cell, into batch and returns it: each the oldest of the
// quietest circuit with cells waiting, the circuit's count then raised.
func (s *sched) take(batch []onion.Cell, maxCells, maxBytes int, now time.Time) []onion.Cell {
	w := s.weight(now)
	bytes := 0
	for len(batch) < maxCells && s.n > 0 {
		q := s.quietest()
		c := q.cells[q.head]
		if len(batch) > 0 && bytes+len(c.Payload) > maxBytes {
			break
		}
		bytes += len(c.Payload)
		batch = append(batch, c)
		q.cells[q.head] = onion.Cell{}
		q.head++
		s.n--
		q.count += w
		s.settle(q, c.Cmd == onion.CmdDestroy)
	}
	return batch
}

// settle tidies q after a cell left it: an empty queue leaves the active
// set (and the map, after a DESTROY: the circuit is over), and a long
// one that never empties moves its cells down so it does not grow.
func (s *sched) settle(q *circQueue, destroyed bool) {
	switch {
	case q.waiting() == 0:
		q.cells, q.head = q.cells[:0], 0
		s.deactivate(q)
		if destroyed {
			delete(s.circs, q.id)
		}
	case q.head >= 32 && 2*q.head >= len(q.cells):
		n := copy(q.cells, q.cells[q.head:])
		clear(q.cells[n:])
		q.cells, q.head = q.cells[:n], 0
	}
}

// quietest is the active circuit with the lowest count, of equal ones the
// one active longest. The active set is at most the link's queue length,
// and usually a few circuits.
func (s *sched) quietest() *circQueue {
	best := s.active[0]
	for _, q := range s.active[1:] {
		if q.count < best.count || q.count == best.count && q.since < best.since {
			best = q
		}
	}
	return best
}

func (s *sched) deactivate(q *circQueue) {
	last := s.active[len(s.active)-1]
	s.active[q.slot] = last
	last.slot = q.slot
	s.active = s.active[:len(s.active)-1]
	q.slot = -1
}

// weight is what a cell sent now adds to its circuit's count: 2^(t/H) for
// t since the epoch, so older cells weigh exponentially less. When the
// weight grows past ewmaRescale, every count is divided by it and the
// epoch moves to now; idle circuits whose count has decayed to nothing
// are forgotten then, which bounds the map by the recently active ones.
func (s *sched) weight(now time.Time) float64 {
	w := math.Exp2(float64(now.Sub(s.epoch)) / float64(ewmaHalfLife))
	if w < ewmaRescale {
		return max(w, 1) // a clock step backwards: never below the epoch's
	}
	for id, q := range s.circs {
		q.count /= w
		if q.slot < 0 && q.count < forgetBelow {
			delete(s.circs, id)
		}
	}
	s.epoch = now
	return 1
}

// drain drops every waiting cell.
func (s *sched) drain() {
	for _, q := range s.active {
		q.cells, q.head, q.slot = nil, 0, -1
	}
	s.active, s.n = nil, 0
}
