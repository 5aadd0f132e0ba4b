package client

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"onion/onion/oniontest"
)

// guardManager is a manager over relays that keeps its guards in path.
func guardManager(t *testing.T, path string, clock *fakeClock, logs *bytes.Buffer, seed byte) *Manager {
	t.Helper()
	g, err := LoadGuards(path)
	if err != nil {
		t.Fatal(err)
	}
	m := NewManager(Config{Directory: fixedDir{descriptors(12, 4)}, Rand: oniontest.Rand(seed), Now: clock.Now,
		Guards: g, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	t.Cleanup(m.Close)
	if err := m.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	return m
}

// firstHops picks n paths and returns the distinct first hops.
func firstHops(t *testing.T, m *Manager, n int) []string {
	t.Helper()
	var fps []string
	for range n {
		path, err := m.pickPathTo(nil)
		if err != nil {
			t.Fatal(err)
		}
		checkPath(t, path)
		if fp := path[0].Fingerprint(); !slices.Contains(fps, fp) {
			fps = append(fps, fp)
		}
	}
	return fps
}

// TestGuardsPersist: every circuit starts at the first guard; the set
// survives a restart (a new manager reading the same file), moves to the
// next guard while the first is down, and rotates after its lifetime.
func TestGuardsPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "guards.json")
	clock := newFakeClock()
	var logs bytes.Buffer
	m := guardManager(t, path, clock, &logs, 1)
	hops := firstHops(t, m, 30)
	guards := m.cfg.Guards.Fingerprints()
	if len(guards) != GuardSetSize || len(hops) != 1 || hops[0] != guards[0] {
		t.Fatalf("first hops %v, guards %v: want every circuit at the first of %d guards", hops, guards, GuardSetSize)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("guards file: %v %v, want mode 0600", fi, err)
	}

	restarted := guardManager(t, path, clock, &logs, 2) // another seed: no luck involved
	if got := restarted.cfg.Guards.Fingerprints(); !slices.Equal(got, guards) {
		t.Fatalf("guards after a restart %v, want %v", got, guards)
	}
	restarted.markDown(guards[0])
	if hops := firstHops(t, restarted, 10); len(hops) != 1 || hops[0] != guards[1] {
		t.Errorf("first hops with guard 1 down %v, want only guard 2 %s", hops, guards[1])
	}

	clock.Advance(GuardLifetime)
	firstHops(t, restarted, 1)
	if got := restarted.cfg.Guards.Fingerprints(); len(got) != GuardSetSize || slices.Equal(got, guards) {
		t.Errorf("guards after their lifetime %v, want a new set", got)
	}
}

// TestGuardsAllDown: with every guard down a circuit may start elsewhere,
// and the log says so once.
func TestGuardsAllDown(t *testing.T) {
	clock := newFakeClock()
	var logs bytes.Buffer
	m := guardManager(t, "", clock, &logs, 3)
	firstHops(t, m, 1)
	guards := m.cfg.Guards.Fingerprints()
	for _, fp := range guards {
		m.markDown(fp)
	}
	for _, fp := range firstHops(t, m, 10) {
		if slices.Contains(guards, fp) {
			t.Errorf("a circuit starts at down guard %s", fp)
		}
	}
	if n := strings.Count(logs.String(), "no entry guard usable now"); n != 1 {
		t.Errorf("fallback logged %d times, want once:\n%s", n, logs.String())
	}
}

func TestGuardsFileRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "guards.json")
	os.WriteFile(path, []byte(`{"version":2}`), 0o600)
	if _, err := LoadGuards(path); err == nil {
		t.Error("a version 2 guards file loaded")
	}
}

// TestGuardNotTheOnlyExit: with one exit, which is also a guard, circuits
// start at another guard rather than failing.
func TestGuardNotTheOnlyExit(t *testing.T) {
	for seed := range byte(8) {
		g, _ := LoadGuards("")
		relays := descriptors(4, 1)
		m := NewManager(Config{Directory: fixedDir{relays}, Rand: oniontest.Rand(seed), Now: newFakeClock().Now, Guards: g})
		if err := m.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			path, err := m.pickPathTo(nil)
			if err != nil {
				t.Fatalf("seed %d, guards %v: %v", seed, g.Fingerprints(), err)
			}
			checkPath(t, path)
		}
		m.Close()
	}
}

// TestGuardSuspectSkipped: a guard suspected of tampering is not a first
// hop while clean relays can build paths: circuits start at the next guard.
func TestGuardSuspectSkipped(t *testing.T) {
	var logs bytes.Buffer
	m := guardManager(t, "", newFakeClock(), &logs, 3)
	first := firstHops(t, m, 1)[0]
	m.markSuspect(first)
	for _, fp := range firstHops(t, m, 20) {
		if fp == first {
			t.Fatalf("a circuit starts at suspect guard %s", fp)
		}
		if !slices.Contains(m.cfg.Guards.Fingerprints(), fp) {
			t.Errorf("a circuit starts at %s, outside the guards", fp)
		}
	}
}
