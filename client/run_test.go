package client

// Run's loop, in a synctest bubble so that its tickers run on fake time:
// it calls OnIdle once after a burst of streams, retires old idle
// circuits, and refreshes the relay list, keeping the last good one when
// the directory fails.

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"onion/onion"
	"onion/onion/oniontest"
)

// runManager runs m.Run until the test ends and returns what stops it.
func runManager(t *testing.T, m *Manager) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx)
	}()
	stop = func() {
		cancel()
		<-done
	}
	t.Cleanup(stop)
	return stop
}

// tick lets fake time pass to just after the next maintenance tick and
// lets the loop handle it.
func tick() {
	time.Sleep(maintainEvery)
	synctest.Wait()
}

// TestRunOnIdleOncePerBurst: OnIdle is called at the first tick that finds
// no stream open after some were, once; not while a stream is open.
func TestRunOnIdleOncePerBurst(t *testing.T) {
	oniontest.CheckLeaks(t)
	synctest.Test(t, func(t *testing.T) {
		var idle atomic.Int32
		m := startNet(t, 4, 1).manager(t, newFakeClock(), func(c *Config) {
			c.OnIdle = func() { idle.Add(1) }
		})
		runManager(t, m)
		time.Sleep(time.Second) // between ticks from here on: tick() lands just past one
		check := func(step string, want int32) {
			t.Helper()
			if got := idle.Load(); got != want {
				t.Fatalf("%s: OnIdle called %d times, want %d", step, got, want)
			}
		}
		tick()
		check("no stream yet", 0)
		dialEcho(t, m, echoAt(1)).Close()
		dialEcho(t, m, echoAt(2)).Close()
		synctest.Wait()
		tick()
		check("streams closed", 1)
		tick()
		tick()
		check("nothing since", 1)
		open := dialEcho(t, m, echoAt(3))
		tick()
		tick()
		check("a stream open", 1)
		open.Close()
		synctest.Wait()
		tick()
		check("that stream closed", 2)
	})
}

// TestRunRetiresOldIdleCircuits: the loop closes a circuit past its
// lifetime once it carries no stream.
func TestRunRetiresOldIdleCircuits(t *testing.T) {
	oniontest.CheckLeaks(t)
	synctest.Test(t, func(t *testing.T) {
		m, clock := lifetimeManager(t)
		runManager(t, m)
		time.Sleep(time.Second)
		dialEcho(t, m, echoAt(1)).Close()
		tick()
		if ids := circuitIDs(m); !slices.Equal(ids, []int{1}) {
			t.Fatalf("young idle circuit: circuits %v, want [1]", ids)
		}
		clock.Advance(lifetime)
		tick()
		if ids := circuitIDs(m); len(ids) != 0 {
			t.Fatalf("old idle circuit: circuits %v, want none", ids)
		}
	})
}

// swapDir is a Directory whose answer the test changes.
type swapDir struct {
	mu     sync.Mutex
	relays []onion.RelayDescriptor
	err    error
}

func (d *swapDir) set(relays []onion.RelayDescriptor, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.relays, d.err = relays, err
}

func (d *swapDir) Relays(context.Context) (onion.RelayList, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return onion.RelayList{Relays: d.relays}, d.err
}

// TestRunRefreshesRelays: every RefreshInterval the loop fetches the list;
// a failed fetch keeps the last good one.
func TestRunRefreshesRelays(t *testing.T) {
	oniontest.CheckLeaks(t)
	synctest.Test(t, func(t *testing.T) {
		dir := &swapDir{relays: descriptors(3, 1)}
		m := NewManager(Config{Directory: dir, RefreshInterval: time.Minute})
		t.Cleanup(m.Close)
		if err := m.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		runManager(t, m)
		time.Sleep(time.Second) // just past each refresh from here on
		relays := func() int { return len(m.Relays()) }

		dir.set(descriptors(5, 2), nil)
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := relays(); n != 5 {
			t.Fatalf("after a refresh: %d relays, want 5", n)
		}
		dir.set(nil, errors.New("directory down"))
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := relays(); n != 5 {
			t.Fatalf("after a failed refresh: %d relays, want the last good 5", n)
		}
		if _, _, ok := m.Usable(); !ok {
			t.Fatal("Usable = false with the last good list")
		}
	})
}
