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

	"onion/client/pathsel"
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

// usable returns the guards in usable, in the set's order, after
// dropping guards past their lifetime or no longer listed and sampling
// new ones from listed up to GuardSetSize, weighted for the guard
// position (pathsel.PickGuard).
func (g *Guards) usable(listed, usable []onion.RelayDescriptor, now time.Time, rng pathsel.Rand, log *slog.Logger) []onion.RelayDescriptor {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refreshLocked(listed, now, rng) {
		if err := g.saveLocked(); err != nil {
			log.Warn("cannot save the guards", "err", err)
		}
	}
	byFP := make(map[string]onion.RelayDescriptor, len(usable))
	for _, d := range usable {
		byFP[d.Fingerprint()] = d
	}
	var out []onion.RelayDescriptor
	for _, e := range g.list {
		if d, ok := byFP[e.Fingerprint]; ok {
			out = append(out, d)
		}
	}
	return out
}

// served notes that a circuit starts at a guard again.
func (g *Guards) served() {
	g.mu.Lock()
	g.fellBack = false
	g.mu.Unlock()
}

// fellBackOnce logs, once until a guard serves again, that circuits start
// outside the guard set.
func (g *Guards) fellBackOnce(log *slog.Logger) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.fellBack {
		g.fellBack = true
		log.Warn("no entry guard usable now: this circuit starts at a relay outside the guard set", "guards", len(g.list))
	}
}

// refreshLocked rotates and fills the set; it reports whether it changed.
func (g *Guards) refreshLocked(listed []onion.RelayDescriptor, now time.Time, rng pathsel.Rand) bool {
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
	if len(g.list) >= GuardSetSize {
		return changed
	}
	held := make(map[string]bool)
	for _, e := range g.list {
		held[e.Fingerprint] = true
	}
	l := pathsel.New(listed)
	for len(g.list) < GuardSetSize {
		d, ok := l.PickGuard(func(fp string) bool { return held[fp] }, rng)
		if !ok {
			break
		}
		fp := d.Fingerprint()
		g.list = append(g.list, guardEntry{Fingerprint: fp, Added: now.Unix()})
		held[fp] = true
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
