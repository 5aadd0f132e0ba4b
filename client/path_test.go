package client

// Path rules (PROTOCOL.md §3.3): three distinct relays, the last an exit
// or the one given; relays that failed a build are left out for
// relayDownFor, suspects of tampering while others can stand in.

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"onion/onion"
	"onion/onion/oniontest"
)

// draws is how many paths the statistical checks pick: with five relays,
// a given one misses a position in all of them with odds below 1e-20.
const draws = 300

// pathManager is a Manager that knows relays and never dials.
func pathManager(t *testing.T, relays []onion.RelayDescriptor, clock *fakeClock, seed byte) *Manager {
	t.Helper()
	m := NewManager(Config{Directory: fixedDir{relays}, Rand: oniontest.Rand(seed), Now: clock.Now})
	t.Cleanup(m.Close)
	if err := m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkPath fails unless path has three distinct hops.
func checkPath(t *testing.T, path []onion.RelayDescriptor) {
	t.Helper()
	if len(path) != pathLen {
		t.Fatalf("path of %d hops, want %d", len(path), pathLen)
	}
	seen := map[string]bool{}
	for _, d := range path {
		if seen[d.Fingerprint()] {
			t.Fatalf("relay %s twice in path %v", d.Nickname, nicknames(path))
		}
		seen[d.Fingerprint()] = true
	}
}

// positions counts, over many paths, how often each relay took each hop.
func positions(t *testing.T, m *Manager, last *onion.RelayDescriptor) map[string][pathLen]int {
	t.Helper()
	count := map[string][pathLen]int{}
	for range draws {
		path, err := m.pickPathTo(last)
		if err != nil {
			t.Fatal(err)
		}
		checkPath(t, path)
		for i, d := range path {
			c := count[d.Nickname]
			c[i]++
			count[d.Nickname] = c
		}
	}
	return count
}

// TestPickPathThreeDistinctLastExit: every path has three distinct relays
// and ends at an exit; over many draws every exit ends a path and every
// relay is a first and a middle hop somewhere.
func TestPickPathThreeDistinctLastExit(t *testing.T) {
	relays := descriptors(5, 2)
	count := positions(t, pathManager(t, relays, newFakeClock(), 1), nil)
	for _, d := range relays {
		c := count[d.Nickname]
		if c[0] == 0 || c[1] == 0 {
			t.Errorf("%s: %d times first, %d times middle in %d paths; want both", d.Nickname, c[0], c[1], draws)
		}
		if d.Exit && c[2] == 0 {
			t.Errorf("exit %s never last in %d paths", d.Nickname, draws)
		}
		if !d.Exit && c[2] != 0 {
			t.Errorf("non-exit %s last %d times", d.Nickname, c[2])
		}
	}
}

// TestPickPathToGivenLast: a given last hop (a service's meeting relay) ends
// every path as is, whether or not it is an exit, listed, or down for us.
func TestPickPathToGivenLast(t *testing.T) {
	relays := descriptors(4, 1)
	unlisted := descriptor(9, false)
	tests := []struct {
		name string
		last onion.RelayDescriptor
		down bool
	}{
		{"listed non-exit", relays[2], false},
		{"listed exit", relays[0], false},
		{"not in the list", unlisted, false},
		{"down for us", relays[3], true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := pathManager(t, relays, newFakeClock(), 2)
			if tt.down {
				m.markDown(tt.last.Fingerprint())
			}
			count := positions(t, m, &tt.last)
			if got := count[tt.last.Nickname]; got[2] != draws || got[0]+got[1] != 0 {
				t.Fatalf("%s at positions %v in %d paths, want last in all", tt.last.Nickname, got, draws)
			}
			for _, d := range relays {
				if d.Nickname != tt.last.Nickname && count[d.Nickname][0] == 0 {
					t.Errorf("%s never a first hop", d.Nickname)
				}
			}
		})
	}
}

// TestPickPathDownUntilExpiry: a relay that failed a build is in no path
// until relayDownFor has passed, then it is back.
func TestPickPathDownUntilExpiry(t *testing.T) {
	relays := descriptors(5, 2)
	clock := newFakeClock()
	m := pathManager(t, relays, clock, 3)
	for _, d := range []onion.RelayDescriptor{relays[0], relays[3]} { // an exit and a non-exit
		m.markDown(d.Fingerprint())
	}
	clock.Advance(relayDownFor - time.Nanosecond)
	count := positions(t, m, nil)
	for _, name := range []string{relays[0].Nickname, relays[3].Nickname} {
		if c := count[name]; c != [pathLen]int{} {
			t.Fatalf("down relay %s used at positions %v", name, c)
		}
	}
	clock.Advance(time.Nanosecond)
	count = positions(t, m, nil)
	if count[relays[0].Nickname][2] == 0 || count[relays[3].Nickname][0] == 0 {
		t.Fatalf("relays back after relayDownFor are unused: %v", count)
	}
}

// TestPickPathSuspects: suspects are left out while the others can make a
// path, and used when without them there would be none.
func TestPickPathSuspects(t *testing.T) {
	tests := []struct {
		name     string
		relays   []onion.RelayDescriptor
		suspects []int // indexes into relays
		wantUsed bool  // the suspects appear in paths
	}{
		{"enough others", descriptors(5, 2), []int{1, 4}, false},
		{"three relays in all", descriptors(3, 1), []int{2}, true},
		{"the only exit", descriptors(5, 1), []int{0}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			m := pathManager(t, tt.relays, clock, 4)
			for _, i := range tt.suspects {
				m.markSuspect(tt.relays[i].Fingerprint())
			}
			count := positions(t, m, nil)
			for _, i := range tt.suspects {
				c := count[tt.relays[i].Nickname]
				if used := c != [pathLen]int{}; used != tt.wantUsed {
					t.Errorf("suspect %s at positions %v, want used %v", tt.relays[i].Nickname, c, tt.wantUsed)
				}
			}
			clock.Advance(relayDownFor)
			count = positions(t, m, nil)
			for _, i := range tt.suspects {
				if count[tt.relays[i].Nickname] == [pathLen]int{} {
					t.Errorf("suspect %s unused after relayDownFor", tt.relays[i].Nickname)
				}
			}
		})
	}
}

// TestPickPathSuspectsPerPosition: where suspects cannot all be left out
// (too few relays), each position still prefers the others: a suspect
// exit is never the exit while a clean one is listed, and a clean relay is
// in every path. (A middle relay that could not reach the exit, and that
// exit, both suspects, must not be the next build's path again.)
func TestPickPathSuspectsPerPosition(t *testing.T) {
	relays := descriptors(4, 2) // relay1, relay2 exits
	m := pathManager(t, relays, newFakeClock(), 5)
	m.markSuspect(relays[0].Fingerprint()) // an exit
	m.markSuspect(relays[2].Fingerprint()) // a middle
	count := positions(t, m, nil)
	if c := count["relay1"]; c[pathLen-1] != 0 {
		t.Errorf("suspect exit relay1 was the exit in %d of %d paths, with relay2 clean", c[pathLen-1], draws)
	}
	if c := count["relay4"]; c[0]+c[1]+c[2] != draws {
		t.Errorf("clean relay4 in %d of %d paths, want all", c[0]+c[1]+c[2], draws)
	}
	if c := count["relay2"]; c[pathLen-1] != draws {
		t.Errorf("clean exit relay2 the exit in %d of %d paths, want all", c[pathLen-1], draws)
	}
}

// TestPickPathNotEnoughRelays: fewer than three usable relays, or no exit,
// is ErrNotEnoughRelays.
func TestPickPathNotEnoughRelays(t *testing.T) {
	tests := []struct {
		name   string
		relays []onion.RelayDescriptor
		down   []int
		last   *onion.RelayDescriptor
	}{
		{"empty list", nil, nil, nil},
		{"two relays", descriptors(2, 2), nil, nil},
		{"no exit", descriptors(4, 0), nil, nil},
		{"two down of four", descriptors(4, 2), []int{2, 3}, nil},
		{"the only exit down", descriptors(4, 1), []int{0}, nil},
		{"given last and one other", descriptors(1, 0), nil, new(descriptor(9, false))},
		{"given last listed, two in all", descriptors(2, 0), nil, new(descriptor(2, false))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := pathManager(t, tt.relays, newFakeClock(), 5)
			for _, i := range tt.down {
				m.markDown(tt.relays[i].Fingerprint())
			}
			path, err := m.pickPathTo(tt.last)
			if !errors.Is(err, ErrNotEnoughRelays) {
				t.Fatalf("pickPathTo = %v, %v; want ErrNotEnoughRelays", nicknames(path), err)
			}
		})
	}
}

// TestPickPathDeterministic: path choice draws only on Config.Rand, so
// one seed gives one sequence of paths.
func TestPickPathDeterministic(t *testing.T) {
	relays := descriptors(6, 3)
	sequence := func(seed byte) [][]string {
		m := pathManager(t, relays, newFakeClock(), seed)
		var out [][]string
		for range 20 {
			path, err := m.pickPathTo(nil)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, nicknames(path))
		}
		return out
	}
	a, b, other := sequence(7), sequence(7), sequence(8)
	eq := func(x, y [][]string) bool { return slices.EqualFunc(x, y, slices.Equal) }
	if !eq(a, b) {
		t.Fatalf("seed 7 gave two sequences:\n%v\n%v", a, b)
	}
	if eq(a, other) {
		t.Fatalf("seeds 7 and 8 gave the same 20 paths: Rand is not what chooses")
	}
}
