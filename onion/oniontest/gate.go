package oniontest

import (
	"context"
	"sync"
	"testing"
)

// Gate lets a test hold the next call of something (an exit's connect,
// say) at a point of its choosing, so a race it tests is forced rather
// than slept for. The zero Gate holds nothing; it is safe for concurrent
// use.
type Gate struct {
	mu   sync.Mutex
	hold chan struct{} // the next Pass waits until it is closed
	held chan struct{} // closed once that Pass waits
}

// HoldNext makes the next Pass wait until release. held is closed once it
// waits; release runs at the test's cleanup if the test did not call it.
func (g *Gate) HoldNext(t testing.TB) (held <-chan struct{}, release func()) {
	hold, h := make(chan struct{}), make(chan struct{})
	g.mu.Lock()
	g.hold, g.held = hold, h
	g.mu.Unlock()
	var once sync.Once
	release = func() { once.Do(func() { close(hold) }) }
	t.Cleanup(release)
	return h, release
}

// Pass returns at once, unless HoldNext armed the gate: then it waits for
// the release, or returns ctx's error if ctx ends first.
func (g *Gate) Pass(ctx context.Context) error {
	g.mu.Lock()
	hold, held := g.hold, g.held
	g.hold, g.held = nil, nil
	g.mu.Unlock()
	if hold == nil {
		return nil
	}
	close(held)
	select {
	case <-hold:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
