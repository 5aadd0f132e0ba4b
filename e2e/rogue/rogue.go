package main

// What the rogue does to the cells its relay writes.

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"onion/onion"
)

// direction is which way a link's written cells go through the circuit.
type direction int

const (
	forward  direction = iota // on links the relay dialed: toward the exit
	backward                  // on links the relay accepted: toward the client
)

// every is the rogue's period: it acts on every 8th RELAY cell of a
// direction, so a circuit through it meets a bad cell within a few cells.
const every = 8

// modes are the misbehaviours ONION_ROGUE may name.
var modes = []string{"tamper", "replay", "drop", "reorder", "forge"}

// rogue is one misbehaviour, shared by every link of the process: the
// count of RELAY cells runs across links, per direction.
type rogue struct {
	mode string
	rand io.Reader // forge's bytes
	// quiet passes every cell untouched: main sets it until the relay is
	// ready, so that its reachability self-test (a circuit of its own,
	// extended back to its listener) passes and the relay is listed.
	quiet atomic.Bool

	mu   sync.Mutex
	seen [2]int // RELAY cells counted, per direction
}

func newRogue(mode string, rand io.Reader) (*rogue, error) {
	for _, m := range modes {
		if m == mode {
			return &rogue{mode: mode, rand: rand}, nil
		}
	}
	return nil, fmt.Errorf("ONION_ROGUE=%q: want one of %v", mode, modes)
}

// eighth counts a RELAY cell going way d and says whether it is an 8th.
func (r *rogue) eighth(d direction) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[d]++
	return r.seen[d]%every == 0
}

// filter is the rogue on one link: it turns each whole cell the relay
// writes into the cells that go on the wire instead.
type filter struct {
	r    *rogue
	dir  direction
	held []byte // reorder: the cell held back until the next RELAY cell
}

// apply returns what goes on the wire for cell (header and payload, a
// slice of its own that apply may change).
func (f *filter) apply(cell []byte) [][]byte {
	if f.r.quiet.Load() {
		return [][]byte{cell}
	}
	switch onion.Command(cell[4]) {
	case onion.CmdCreated:
		if f.r.mode == "forge" {
			f.r.rand.Read(cell[onion.CellHeaderLen:]) // crypto/rand: never fails
		}
		return [][]byte{cell}
	case onion.CmdRelay:
		return f.relayCell(cell)
	}
	return [][]byte{cell}
}

func (f *filter) relayCell(cell []byte) [][]byte {
	if held := f.held; held != nil {
		f.held = nil
		return [][]byte{cell, held}
	}
	if !f.r.eighth(f.dir) {
		return [][]byte{cell}
	}
	payload := cell[onion.CellHeaderLen:]
	switch f.r.mode {
	case "tamper":
		if len(payload) > 0 {
			payload[len(payload)/2] ^= 0x10 // inside the token, which its MAC covers
		}
	case "replay":
		return [][]byte{cell, cell}
	case "drop":
		return nil
	case "reorder":
		f.held = cell
		return nil
	}
	return [][]byte{cell}
}
