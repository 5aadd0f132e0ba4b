package client

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"onion/onion"
	"onion/onion/oniontest"
)

// windowDir returns its relays in a list valid for ten minutes from start.
type windowDir struct {
	relays []onion.RelayDescriptor
	start  time.Time
}

func (d windowDir) Relays(context.Context) (onion.RelayList, error) {
	return onion.RelayList{ValidAfter: d.start.Unix(), ValidUntil: d.start.Add(10 * time.Minute).Unix(), Relays: d.relays}, nil
}

// TestExpiredListRefused: once the list held is past its window (and the
// clock skew lists allow), no path is chosen from it, and the log says
// why, once; a fresh list brings paths back.
func TestExpiredListRefused(t *testing.T) {
	clock := newFakeClock()
	var logs bytes.Buffer
	dir := windowDir{descriptors(5, 2), clock.Now()}
	m := NewManager(Config{Directory: dir, Rand: oniontest.Rand(1), Now: clock.Now,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	t.Cleanup(m.Close)
	if err := m.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.pickPathTo(nil); err != nil {
		t.Fatalf("fresh list: %v", err)
	}
	clock.Advance(10*time.Minute + onion.MaxClockSkew)
	if _, err := m.pickPathTo(nil); err != nil {
		t.Fatalf("list at the end of its window: %v", err)
	}
	clock.Advance(time.Second)
	for range 2 {
		if _, err := m.pickPathTo(nil); !errors.Is(err, ErrNotEnoughRelays) {
			t.Fatalf("expired list: %v, want ErrNotEnoughRelays", err)
		}
	}
	if n := strings.Count(logs.String(), "relay list has expired"); n != 1 {
		t.Errorf("expiry logged %d times, want once:\n%s", n, logs.String())
	}
	m.cfg.Directory = windowDir{dir.relays, clock.Now()}
	if err := m.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.pickPathTo(nil); err != nil {
		t.Errorf("after a fresh list: %v", err)
	}
}
