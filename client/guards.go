package client

// Entry guards (PROTOCOL.md §8.1), Tor's design simplified: a client
// samples a few relays once, starts every circuit at the first of them it
// can use, and keeps them across restarts for a set lifetime, so that an
// attacker running a share of the relays is the first hop of that share of
// clients, not of a share of every client's circuits.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"onion/internal/keyfile"
	"onion/onion"
)

// Guard set parameters.
const (
	// GuardsFile is the guards' file name in a proxy's or a hidden
	// server's data dir.
	GuardsFile    = "guards.json"
	GuardSetSize  = 3
	GuardLifetime = 60 * 24 * time.Hour // Tor rotates after 2-3 months
)

// Guards is a small persistent set of entry guards. Safe for concurrent use.
type Guards struct {
	path string // "" keeps them in memory only

	mu       sync.Mutex
	list     []guardEntry // in the order sampled: the first usable is used
	fellBack bool         // the fallback to a non-guard was logged
}

type guardEntry struct {
	Fingerprint string `json:"fingerprint"`
	Added       int64  `json:"added"` // Unix seconds
}

type guardsFile struct {
	Version int          `json:"version"`
	Guards  []guardEntry `json:"guards"`
}

// LoadGuards reads the guards kept in path, a file private to its owner
// that the set rewrites when it changes; a missing file holds none. path
// "" keeps them in memory only.
func LoadGuards(path string) (*Guards, error) {
	g := &Guards{path: path}
	if path == "" {
		return g, nil
	}
	if err := keyfile.CheckPrivate("guards file", path); errors.Is(err, fs.ErrNotExist) {
		return g, nil
	} else if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f guardsFile
	if err := json.Unmarshal(b, &f); err != nil || f.Version != 1 || len(f.Guards) > 4*GuardSetSize {
		return nil, fmt.Errorf("guards file %s: not a version 1 guards file (%v)", path, err)
	}
	g.list = f.Guards
	return g, nil
}

// Fingerprints are the guards held, in order.
func (g *Guards) Fingerprints() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var fps []string
	for _, e := range g.list {
		fps = append(fps, e.Fingerprint)
	}
	return fps
}

// pick returns the first guard in usable and not in avoid, after dropping
// guards past their lifetime or no longer listed and sampling new ones
// from listed up to GuardSetSize. With no guard usable it returns false
// and logs, once until a guard is usable again, that circuits start at
// other relays.
// quiet: a first try, after which the caller tries again; only the last
// try says that the circuit starts outside the guards.
func (g *Guards) pick(listed, usable []onion.RelayDescriptor, avoid map[string]bool, now time.Time, randIntn func(int) int, log *slog.Logger, quiet bool) (onion.RelayDescriptor, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refreshLocked(listed, now, randIntn) {
		if err := g.saveLocked(); err != nil {
			log.Warn("cannot save the guards", "err", err)
		}
	}
	byFP := make(map[string]onion.RelayDescriptor, len(usable))
	for _, d := range usable {
		byFP[d.Fingerprint()] = d
	}
	for _, e := range g.list {
		if d, ok := byFP[e.Fingerprint]; ok && !avoid[e.Fingerprint] {
			g.fellBack = false
			return d, true
		}
	}
	if !quiet && !g.fellBack {
		g.fellBack = true
		log.Warn("no entry guard usable now: this circuit starts at a relay outside the guard set", "guards", len(g.list))
	}
	return onion.RelayDescriptor{}, false
}

// refreshLocked rotates and fills the set; it reports whether it changed.
func (g *Guards) refreshLocked(listed []onion.RelayDescriptor, now time.Time, randIntn func(int) int) bool {
	isListed := make(map[string]bool, len(listed))
	for _, d := range listed {
		isListed[d.Fingerprint()] = true
	}
	kept := g.list[:0]
	for _, e := range g.list {
		if isListed[e.Fingerprint] && now.Sub(time.Unix(e.Added, 0)) < GuardLifetime {
			kept = append(kept, e)
		}
	}
	changed := len(kept) != len(g.list)
	g.list = kept
	held := make(map[string]bool)
	for _, e := range g.list {
		held[e.Fingerprint] = true
	}
	var candidates []string
	for _, d := range listed {
		if !held[d.Fingerprint()] {
			candidates = append(candidates, d.Fingerprint())
		}
	}
	for len(g.list) < GuardSetSize && len(candidates) > 0 {
		i := randIntn(len(candidates))
		g.list = append(g.list, guardEntry{Fingerprint: candidates[i], Added: now.Unix()})
		candidates = append(candidates[:i], candidates[i+1:]...)
		changed = true
	}
	return changed
}

// saveLocked replaces the file atomically.
func (g *Guards) saveLocked() error {
	if g.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(guardsFile{Version: 1, Guards: g.list}, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(g.path), ".guards-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(append(b, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), g.path)
	}
	return err
}
