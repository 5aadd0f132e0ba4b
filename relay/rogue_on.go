//go:build onion_rogue

package relay

// A relay that misbehaves on purpose, for end-to-end tests of what the
// network detects (issue: a malicious relay in the path). Only in binaries
// built with -tags onion_rogue; the environment variable ONION_ROGUE picks
// the misbehaviour:
//
//	tamper   flip one bit of every 8th cell it forwards (either direction)
//	replay   send every 8th cell twice
//	drop     drop every 8th cell
//	reorder  hold every 8th cell and send it after the next one
//	forge    answer every CREATE with a CREATED of random bytes
//
// Anything else (or unset) behaves.

import (
	"crypto/rand"
	"os"
	"sync"
)

const rogueEnabled = true

const rogueEvery = 8

var rogue = struct {
	mode string
	mu   sync.Mutex
	n    map[bool]int    // cells seen, per direction
	held map[bool][]byte // reorder: the cell held back, per direction
}{mode: os.Getenv("ONION_ROGUE"), n: map[bool]int{}, held: map[bool][]byte{}}

func rogueForward(p []byte) [][]byte  { return misbehave(true, p) }
func rogueBackward(p []byte) [][]byte { return misbehave(false, p) }

func rogueCreated(b []byte) []byte {
	if rogue.mode != "forge" {
		return b
	}
	forged := make([]byte, len(b))
	rand.Read(forged)
	return forged
}

func misbehave(fwd bool, p []byte) [][]byte {
	rogue.mu.Lock()
	defer rogue.mu.Unlock()
	if held := rogue.held[fwd]; held != nil {
		delete(rogue.held, fwd)
		return [][]byte{p, held}
	}
	rogue.n[fwd]++
	if rogue.n[fwd]%rogueEvery != 0 {
		return [][]byte{p}
	}
	switch rogue.mode {
	case "tamper":
		q := append([]byte(nil), p...)
		q[len(q)/2] ^= 0x10
		return [][]byte{q}
	case "replay":
		return [][]byte{p, append([]byte(nil), p...)}
	case "drop":
		return nil
	case "reorder":
		rogue.held[fwd] = p
		return nil
	}
	return [][]byte{p}
}
