package client

// Reuse and retirement: streams of one isolation key share the circuit
// until it is CircuitLifetime old; retireIdle closes old circuits once they
// carry no stream; Circuits reports what is live.

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"onion/onion/oniontest"
)

const lifetime = 10 * time.Minute

// lifetimeManager returns a manager whose circuits live lifetime by the
// clock returned.
func lifetimeManager(t *testing.T) (*Manager, *fakeClock) {
	clock := newFakeClock()
	return startNet(t, 5, 2).manager(t, clock, func(c *Config) { c.CircuitLifetime = lifetime }), clock
}

// TestStreamsShareCircuit: two streams with one key go over one circuit,
// and Circuits reports its path, age and streams.
func TestStreamsShareCircuit(t *testing.T) {
	oniontest.CheckLeaks(t)
	synctest.Test(t, func(t *testing.T) {
		tn := startNet(t, 5, 2)
		clock := newFakeClock()
		m := tn.manager(t, clock, nil)
		a := dialEcho(t, m, echoAt(7))
		defer a.Close()
		b := dialEcho(t, m, echoAt(8))
		defer b.Close()
		clock.Advance(90 * time.Second)
		synctest.Wait()

		circs := m.Circuits()
		if len(circs) != 1 {
			t.Fatalf("Circuits = %+v, want one circuit", circs)
		}
		c := circs[0]
		if c.Streams != 2 || c.AgeSec != 90 || len(c.Path) != pathLen {
			t.Fatalf("circuit %+v, want 2 streams, 90 s old, %d hops", c, pathLen)
		}
		for i, h := range c.Path {
			d := tn.relay(h.Nickname)
			if d == nil || h.Fingerprint != d.Fingerprint() || h.Address != d.Address {
				t.Fatalf("hop %d = %+v, not a listed relay", i+1, h)
			}
		}
		if last := tn.relay(c.Path[pathLen-1].Nickname); !last.Exit {
			t.Fatalf("last hop %s is not an exit", last.Nickname)
		}
	})
}

// TestNewCircuitAfterLifetime: once the circuit is CircuitLifetime old a
// new stream gets a new circuit; the old one keeps its open stream.
func TestNewCircuitAfterLifetime(t *testing.T) {
	oniontest.CheckLeaks(t)
	synctest.Test(t, func(t *testing.T) {
		m, clock := lifetimeManager(t)
		old := dialEcho(t, m, echoAt(7))
		defer old.Close()
		clock.Advance(lifetime - time.Second)
		dialEcho(t, m, echoAt(7)).Close()
		if ids := circuitIDs(m); !slices.Equal(ids, []int{1}) {
			t.Fatalf("circuits %v before the lifetime, want [1]", ids)
		}
		clock.Advance(time.Second)
		fresh := dialEcho(t, m, echoAt(7))
		defer fresh.Close()
		synctest.Wait()
		circs := m.Circuits()
		if len(circs) != 2 || circs[0].Streams != 1 || circs[1].Streams != 1 || circs[1].AgeSec != 0 {
			t.Fatalf("Circuits = %+v, want the old one with its stream and a new one", circs)
		}
	})
}

// TestRetireIdle: retireIdle closes the circuits past their lifetime that
// carry no stream, and only those.
func TestRetireIdle(t *testing.T) {
	oniontest.CheckLeaks(t)
	synctest.Test(t, func(t *testing.T) {
		m, clock := lifetimeManager(t)
		dialEcho(t, m, DialRequest{Host: "192.0.2.1", Port: 7, Username: "old-idle"}).Close()
		busy := dialEcho(t, m, DialRequest{Host: "192.0.2.1", Port: 7, Username: "old-busy"})
		defer busy.Close()
		clock.Advance(lifetime)
		dialEcho(t, m, DialRequest{Host: "192.0.2.1", Port: 7, Username: "young-idle"}).Close()
		synctest.Wait()
		if ids := circuitIDs(m); !slices.Equal(ids, []int{1, 2, 3}) {
			t.Fatalf("circuits %v, want [1 2 3]", ids)
		}

		m.retireIdle()
		synctest.Wait()
		if ids := circuitIDs(m); !slices.Equal(ids, []int{2, 3}) {
			t.Fatalf("after retireIdle: circuits %v, want [2 3] (old-busy, young-idle)", ids)
		}
		busy.Close()
		synctest.Wait()
		m.retireIdle()
		synctest.Wait()
		if ids := circuitIDs(m); !slices.Equal(ids, []int{3}) {
			t.Fatalf("after the last stream closed: circuits %v, want [3]", ids)
		}
	})
}
