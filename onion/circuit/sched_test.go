package circuit

import (
	"testing"
	"time"

	"onion/onion"
)

func schedCell(circ uint32, n int) onion.Cell {
	return onion.Cell{CircID: circ, Cmd: onion.CmdRelay, Payload: make([]byte, n)}
}

// TestSchedQuietCircuitFirst: behind a burst of 200 cells on circuit 1, a
// cell of circuit 2 goes out in the very next batch, ahead of the burst,
// and each circuit's cells keep their order.
func TestSchedQuietCircuitFirst(t *testing.T) {
	now := time.Unix(1000, 0)
	s := newSched(now)
	for i := range 200 {
		c := schedCell(1, 100)
		c.Payload[0] = byte(i)
		s.push(c)
	}
	batch := s.take(nil, maxBatchCells, maxBatchBytes, now) // the burst is being written
	s.push(schedCell(2, 100))
	batch = s.take(batch[:0], maxBatchCells, maxBatchBytes, now)
	if batch[0].CircID != 2 {
		t.Fatalf("next batch starts with circuit %d, want the quiet circuit 2", batch[0].CircID)
	}
	next := byte(maxBatchCells)
	for more := batch[1:]; len(more) > 0 || s.n > 0; more = s.take(nil, maxBatchCells, maxBatchBytes, now) {
		for _, c := range more {
			if c.CircID != 1 || c.Payload[0] != next {
				t.Fatalf("got circuit %d cell %d, want circuit 1 cell %d", c.CircID, c.Payload[0], next)
			}
			next++
		}
	}
	if next != 200 {
		t.Fatalf("%d cells of circuit 1 came out, want 200", next)
	}
}

// TestSchedBatchBounded: a batch holds at most maxBatchCells cells and
// maxBatchBytes of payload, but always at least one cell.
func TestSchedBatchBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	s := newSched(now)
	for range 100 {
		s.push(schedCell(7, onion.MaxCellPayload))
	}
	b := s.take(nil, maxBatchCells, maxBatchBytes, now)
	if got := len(b) * onion.MaxCellPayload; got > maxBatchBytes || len(b) == 0 {
		t.Fatalf("batch of %d full cells (%d bytes), bound %d", len(b), got, maxBatchBytes)
	}
	s = newSched(now)
	for range 100 {
		s.push(schedCell(7, 1))
	}
	if b := s.take(nil, maxBatchCells, maxBatchBytes, now); len(b) != maxBatchCells {
		t.Fatalf("batch of %d small cells, want %d", len(b), maxBatchCells)
	}
	s = newSched(now)
	s.push(schedCell(7, onion.MaxCellPayload))
	if b := s.take(nil, 1, 0, now); len(b) != 1 {
		t.Fatalf("a batch bounded below one cell took %d", len(b))
	}
}

// TestSchedEWMAForgets: of two circuits that were both busy, the one busy
// longer ago goes first; equally busy ones take turns; and the entries of
// circuits idle for long are dropped at a rescale.
func TestSchedEWMAForgets(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := newSched(t0)
	for range 50 { // circuit 1 busy at t0
		s.push(schedCell(1, 10))
	}
	for s.n > 0 {
		s.take(nil, maxBatchCells, maxBatchBytes, t0)
	}
	t1 := t0.Add(4 * ewmaHalfLife)
	for range 10 { // circuit 2 less busy, but now
		s.push(schedCell(2, 10))
	}
	for s.n > 0 {
		s.take(nil, maxBatchCells, maxBatchBytes, t1)
	}
	s.push(schedCell(2, 10))
	s.push(schedCell(1, 10))
	if b := s.take(nil, 1, maxBatchBytes, t1); b[0].CircID != 1 {
		t.Fatalf("circuit %d first, want 1 (its burst is 4 half-lives old)", b[0].CircID)
	}
	s.take(nil, 1, maxBatchBytes, t1)

	s.push(schedCell(3, 10))
	s.push(schedCell(3, 10))
	s.push(schedCell(4, 10))
	s.push(schedCell(4, 10))
	var order []uint32
	for s.n > 0 {
		order = append(order, s.take(nil, 1, maxBatchBytes, t1)[0].CircID)
	}
	if order[0] == order[1] || order[2] == order[3] {
		t.Fatalf("two new circuits went %v, want turns", order)
	}

	late := t1.Add(40 * ewmaHalfLife) // past the rescale
	s.push(schedCell(5, 10))
	s.take(nil, 1, maxBatchBytes, late)
	if len(s.circs) != 1 || s.circs[5] == nil {
		t.Fatalf("after a rescale %d circuits are remembered, want only the one active now", len(s.circs))
	}
}

// TestSchedForgetsDestroyed: a circuit's entry goes with its DESTROY.
func TestSchedForgetsDestroyed(t *testing.T) {
	now := time.Unix(1000, 0)
	s := newSched(now)
	s.push(schedCell(9, 10))
	s.push(onion.Cell{CircID: 9, Cmd: onion.CmdDestroy, Payload: []byte{1}})
	s.take(nil, maxBatchCells, maxBatchBytes, now)
	if len(s.circs) != 0 {
		t.Fatalf("%d circuits remembered after the only one was destroyed", len(s.circs))
	}
}

// BenchmarkSchedCell is the scheduler's cost per cell, with four circuits
// busy on the link (push, then take in batches).
func BenchmarkSchedCell(b *testing.B) {
	now := time.Unix(1000, 0)
	s := newSched(now)
	batch := make([]onion.Cell, 0, maxBatchCells)
	payload := make([]byte, onion.MaxCellPayload)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.push(onion.Cell{CircID: uint32(i % 4), Cmd: onion.CmdRelay, Payload: payload})
		if s.n >= maxBatchCells {
			batch = s.take(batch[:0], maxBatchCells, 1<<30, now)
		}
	}
}
