package client

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"onion/onion"
)

// countingDirectory serves lists[i] on its i-th fetch (the last one after
// that) and counts the fetches.
type countingDirectory struct {
	mu      sync.Mutex
	lists   [][]onion.RelayDescriptor
	fetches int
}

func (d *countingDirectory) Relays(context.Context) (onion.RelayList, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.lists[min(d.fetches, len(d.lists)-1)]
	d.fetches++
	return onion.RelayList{Relays: l}, nil
}

func (d *countingDirectory) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.fetches
}

// TestRefreshEarlyWhenListCannotMakePath: a build that finds too few
// relays fetches the list again before it gives up, at most once per
// minEarlyRefresh, and uses the list it gets.
func TestRefreshEarlyWhenListCannotMakePath(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	dir := &countingDirectory{lists: [][]onion.RelayDescriptor{descriptors(2, 1)}}
	noLinks := func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no links in this test")
	}
	m := NewManager(Config{Directory: dir, Now: func() time.Time { return now }, BuildAttempts: 1, DialLink: noLinks})
	defer m.Close()
	if err := m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	build := func() error {
		_, _, err := m.BuildCircuit(context.Background(), nil)
		return err
	}
	if err := build(); !errors.Is(err, ErrNotEnoughRelays) || dir.count() != 2 {
		t.Fatalf("build = %v after %d fetches, want ErrNotEnoughRelays after an early fetch (2)", err, dir.count())
	}
	if err := build(); !errors.Is(err, ErrNotEnoughRelays) || dir.count() != 2 {
		t.Fatalf("second build at once = %v after %d fetches, want no new fetch", err, dir.count())
	}
	now = now.Add(minEarlyRefresh)
	dir.mu.Lock()
	dir.lists = append(dir.lists, descriptors(4, 1))
	dir.mu.Unlock()
	build() // no link opens: only the path matters here
	if dir.count() != 3 {
		t.Fatalf("%d fetches after minEarlyRefresh, want 3", dir.count())
	}
	if relays, exits, ok := m.Usable(); !ok || relays != 4 || exits != 1 {
		t.Fatalf("list after the early fetch: %d relays, %d exits, usable %v; want the new 4", relays, exits, ok)
	}
}
