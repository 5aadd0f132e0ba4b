package client

// Building circuits: a relay that cannot be reached fails the build at its
// hop, is marked down, and another path is tried, up to BuildAttempts;
// concurrent callers with one isolation key wait for one build.

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"onion/onion"
	"onion/onion/oniontest"
)

var errUnreachable = errors.New("test: unreachable")

// TestBuildRetriesWithoutFailedRelay: every link to one relay fails. When
// the first path holds it (as first hop, where the client's own dial
// fails, or further on, where the previous relay's EXTEND fails), that
// attempt fails at its hop and the next path leaves it out. As first hop
// it is marked down for relayDownFor; further on, where the previous relay
// might be the one that cannot reach it, both are suspects for as long.
func TestBuildRetriesWithoutFailedRelay(t *testing.T) {
	for hop := range pathLen {
		t.Run("hop "+strconv.Itoa(hop+1), func(t *testing.T) {
			oniontest.CheckLeaks(t)
			synctest.Test(t, func(t *testing.T) {
				tn := startNet(t, 5, 2)
				clock := newFakeClock()
				// The manager draws its first path from the same seed as this twin.
				first, err := pathManager(t, tn.relays, clock, 1).pickPathTo(nil)
				if err != nil {
					t.Fatal(err)
				}
				bad := first[hop]
				tn.net.FailDials(bad.Address, errUnreachable)
				m := tn.manager(t, clock, nil)
				c := dialEcho(t, m, echoAt(7))
				defer c.Close()

				// Down at once, a first hop is never dialled again; a suspect is
				// when suspects are all that is left (here, both exits can be).
				if n := tn.net.DialCount(bad.Address); n != 1 && (hop == 0 || n > m.cfg.BuildAttempts) {
					t.Fatalf("%d dials to %s, want the first attempt's one", n, bad.Nickname)
				}
				tn.logs.Await(t, "circuit build failed; trying another path",
					map[string]string{"attempt": "1", "hop": strconv.Itoa(hop + 1), "relay": bad.Nickname})
				circs := m.Circuits()
				if len(circs) != 1 {
					t.Fatalf("Circuits = %+v, want one", circs)
				}
				for _, h := range circs[0].Path {
					if h.Fingerprint == bad.Fingerprint() {
						t.Fatalf("built path %+v holds the relay that failed", circs[0].Path)
					}
				}
				m.mu.Lock()
				until := m.down[bad.Fingerprint()]
				var prevUntil time.Time
				if hop > 0 {
					if s := m.suspect[bad.Fingerprint()]; s.After(until) {
						until = s // down only if a second relay could not reach it either
					}
					prevUntil = m.suspect[first[hop-1].Fingerprint()]
				}
				m.mu.Unlock()
				want := clock.Now().Add(relayDownFor)
				if !until.Equal(want) {
					t.Fatalf("%s avoided until %v, want now + relayDownFor", bad.Nickname, until)
				}
				if hop > 0 && !prevUntil.Equal(want) {
					t.Fatalf("%s, which could not reach %s, suspect until %v, want %v", first[hop-1].Nickname, bad.Nickname, prevUntil, want)
				}
			})
		})
	}
}

// TestBuildGivesUp: when every first hop fails, DialStream returns an
// error after BuildAttempts paths, or sooner when the relays left cannot
// make a path; either way it carries the last build error.
func TestBuildGivesUp(t *testing.T) {
	tests := []struct {
		name              string
		relays, exits     int
		attempts          int
		wantDials         int
		wantText          string
		wantNotEnough     bool
		wantUnwrapsDialer bool
	}{
		{"attempts run out", 6, 3, 2, 2, "no circuit after 2 attempts", false, true},
		{"relays run out", 3, 1, 4, 1, "(last build error: connect to first hop: " + errUnreachable.Error() + ")", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oniontest.CheckLeaks(t)
			synctest.Test(t, func(t *testing.T) {
				nw := oniontest.NewMemNet()
				for _, d := range descriptors(tt.relays, tt.exits) {
					nw.FailDials(d.Address, errUnreachable)
				}
				tn := &testNet{net: nw, relays: descriptors(tt.relays, tt.exits), logs: oniontest.NewLogs(t)}
				m := tn.manager(t, newFakeClock(), func(c *Config) { c.BuildAttempts = tt.attempts })
				_, err := m.DialStream(stepContext(t), echoAt(7))
				if err == nil || !strings.Contains(err.Error(), tt.wantText) {
					t.Fatalf("DialStream = %v, want an error with %q", err, tt.wantText)
				}
				if got := errors.Is(err, ErrNotEnoughRelays); got != tt.wantNotEnough {
					t.Errorf("errors.Is(err, ErrNotEnoughRelays) = %v, want %v", got, tt.wantNotEnough)
				}
				if got := errors.Is(err, errUnreachable); got != tt.wantUnwrapsDialer {
					t.Errorf("errors.Is(err, the dial error) = %v, want %v", got, tt.wantUnwrapsDialer)
				}
				dials := 0
				for _, d := range tn.relays {
					dials += nw.DialCount(d.Address)
				}
				if dials != tt.wantDials {
					t.Errorf("%d link dials, want %d", dials, tt.wantDials)
				}
			})
		})
	}
}

// TestConcurrentCallersShareBuild: callers that ask for a circuit with one
// key while it is being built all wait for that one build and get it.
func TestConcurrentCallersShareBuild(t *testing.T) {
	oniontest.CheckLeaks(t)
	synctest.Test(t, func(t *testing.T) {
		tn := startNet(t, 5, 2)
		gate := make(chan struct{})
		var mu sync.Mutex
		dials := 0
		m := tn.manager(t, newFakeClock(), func(c *Config) {
			c.DialLink = func(ctx context.Context, network, addr string) (net.Conn, error) {
				mu.Lock()
				dials++
				mu.Unlock()
				<-gate
				return tn.net.Dial(ctx, network, addr)
			}
		})
		var once sync.Once
		release := func() { once.Do(func() { close(gate) }) }
		t.Cleanup(release) // before m.Close, which waits for the build
		const callers = 5
		conns := make(chan net.Conn, callers)
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				c, err := m.DialStream(stepContext(t), echoAt(7))
				if err != nil {
					t.Errorf("DialStream: %v", err)
					return
				}
				conns <- c
			})
		}
		synctest.Wait() // every caller waits, and the one build waits at its first dial
		mu.Lock()
		n := dials
		mu.Unlock()
		m.mu.Lock()
		building := len(m.building)
		m.mu.Unlock()
		if n != 1 || building != 1 {
			t.Fatalf("%d dials and %d builds under way for %d callers of one key, want 1 and 1", n, building, callers)
		}
		release()
		wg.Wait()
		close(conns)
		for c := range conns {
			roundTrip(t, c, "shared")
			defer c.Close()
		}
		if built := tn.logs.Find("circuit built", nil); len(built) != 1 {
			t.Fatalf("%d circuits built, want 1", len(built))
		}
		if circs := m.Circuits(); len(circs) != 1 || circs[0].Streams != callers {
			t.Fatalf("Circuits = %+v, want one with %d streams", circs, callers)
		}
	})
}

// TestBuildCircuitToGivenLast: BuildCircuit ends its path at the given
// relay (a meeting relay, not an exit). When another hop fails it tries
// another path to the same last hop; when the last hop itself cannot be
// reached it gives up at once, since no other path can help, and does not
// mark it down.
func TestBuildCircuitToGivenLast(t *testing.T) {
	tests := []struct {
		name    string
		failHop int // the hop of the first path whose relay is unreachable
		wantErr bool
	}{
		{"first hop unreachable", 0, false},
		{"last hop unreachable", pathLen - 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oniontest.CheckLeaks(t)
			synctest.Test(t, func(t *testing.T) {
				tn := startNet(t, 5, 1)
				clock := newFakeClock()
				last := tn.relays[4] // not an exit
				first, err := pathManager(t, tn.relays, clock, 1).pickPathTo(&last)
				if err != nil {
					t.Fatal(err)
				}
				bad := first[tt.failHop]
				tn.net.FailDials(bad.Address, errUnreachable)
				m := tn.manager(t, clock, nil)

				c, path, err := m.BuildCircuit(stepContext(t), &last)
				if tt.wantErr {
					if err == nil {
						c.Close()
						t.Fatalf("BuildCircuit to an unreachable last hop = %v, want an error", nicknames(path))
					}
					if n := tn.net.DialCount(bad.Address); n != 1 {
						t.Fatalf("%d dials to the last hop, want 1 (no second path)", n)
					}
				} else {
					if err != nil {
						t.Fatalf("BuildCircuit: %v", err)
					}
					defer c.Close()
					if len(path) != pathLen || path[pathLen-1].Fingerprint() != last.Fingerprint() || holds(path, bad) {
						t.Fatalf("path %v, want one to %s without %s", nicknames(path), last.Nickname, bad.Nickname)
					}
				}
				m.mu.Lock()
				_, down := m.down[bad.Fingerprint()]
				m.mu.Unlock()
				if down == tt.wantErr {
					t.Fatalf("%s marked down: %v, want %v", bad.Nickname, down, !tt.wantErr)
				}
			})
		})
	}
}

// holds reports whether path goes through relay d.
func holds(path []onion.RelayDescriptor, d onion.RelayDescriptor) bool {
	return slices.ContainsFunc(path, func(h onion.RelayDescriptor) bool { return h.Fingerprint() == d.Fingerprint() })
}
