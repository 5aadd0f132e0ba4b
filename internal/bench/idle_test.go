package bench

import (
	"crypto/ed25519"
	"math"
	"strings"
	"testing"

	"onion/internal/upinfo"
	"onion/onion"
)

func TestIdleCost(t *testing.T) {
	const mib = 1 << 20
	idle := func(rss ...int64) *IdleCircuits {
		return &IdleCircuits{Pinned: "relay5", Circuits: []int{0, 1000, 2000, 4000}, RSS: map[string][]int64{"relay5": rss, "relay1": {1, 2, 3, 4}}}
	}
	// 4 KiB per circuit from 1000 on, after a 3 MiB first step.
	rss, per, r2 := idle(16*mib, 19*mib+4000<<10, 19*mib+8000<<10, 19*mib+16000<<10).cost()
	if rss == nil || *rss != 19*mib+4000<<10 {
		t.Errorf("rss = %v, want the reading at the first count", rss)
	}
	if per == nil || math.Abs(*per-4096) > 1e-6 {
		t.Errorf("per circuit = %v, want 4096", per)
	}
	if r2 == nil || math.Abs(*r2-1) > 1e-12 {
		t.Errorf("R² = %v, want 1", r2)
	}
	// Not a line: R² well below 1.
	if _, _, r2 := idle(16*mib, 20*mib, 40*mib, 21*mib).cost(); r2 == nil || *r2 > 0.5 {
		t.Errorf("zigzag R² = %v", r2)
	}
	// Memory given back: a negative cost is reported as measured.
	if _, per, _ := idle(16*mib, 18*mib, 17*mib, 15*mib).cost(); per == nil || *per >= 0 {
		t.Errorf("shrinking: per %v", per)
	}
	// A reading missing (the run failed half way): no figures.
	short := idle(16*mib, 17*mib)
	short.Circuits = short.Circuits[:2]
	if rss, per, r2 := short.cost(); rss != nil || per != nil || r2 != nil {
		t.Errorf("two readings gave %v %v %v", rss, per, r2)
	}
}

func TestIdleAdd(t *testing.T) {
	m := &IdleCircuits{RSS: make(map[string][]int64)}
	m.add(0, rssReading{"relay1": 10, "relay2": 20}, true)
	m.add(100, rssReading{"relay1": 11, "relay2": 22}, false)
	if got := m.RSS["relay2"]; len(got) != 2 || got[0] != 20 || got[1] != 22 {
		t.Errorf("relay2 = %v", got)
	}
	if len(m.Circuits) != 2 || m.Circuits[1] != 100 || m.Settled[0] != true || m.Settled[1] != false {
		t.Errorf("circuits %v, settled %v", m.Circuits, m.Settled)
	}
}

// TestFleetPaths checks that every path runs through the pinned relay as
// its middle hop, and that the others share the first and last hops
// evenly: every ordered pair once per round.
func TestFleetPaths(t *testing.T) {
	others := descriptors("relay1", "relay2", "relay3", "relay4")
	f := &fleet{pinned: descriptors("relay5")[0], others: others, pairs: orderedPairs(len(others))}
	if len(f.pairs) != 12 {
		t.Fatalf("%d pairs of 4, want 12", len(f.pairs))
	}
	seen := map[string]int{}
	hops := map[string]int{}
	for i := range 2 * len(f.pairs) {
		p := f.path(i)
		if p[1].Nickname != "relay5" || p[0].Nickname == p[2].Nickname || p[0].Nickname == "relay5" || p[2].Nickname == "relay5" {
			t.Fatalf("path %d = %s %s %s", i, p[0].Nickname, p[1].Nickname, p[2].Nickname)
		}
		seen[p[0].Nickname+">"+p[2].Nickname]++
		hops[p[0].Nickname]++
		hops[p[2].Nickname]++
	}
	for pair, n := range seen {
		if n != 2 {
			t.Errorf("pair %s used %d times in two rounds, want 2", pair, n)
		}
	}
	for name, n := range hops {
		if n != 12 { // half of 24 circuits each
			t.Errorf("%s is an end of %d circuits, want 12", name, n)
		}
	}
}

func TestPickPinned(t *testing.T) {
	listed := descriptors("relay1", "relay2", "relay3", "relay4", "relay5")
	started := func(exits int, names ...string) []upinfo.Relay {
		var rs []upinfo.Relay
		for i, n := range names {
			d := listed[strings.TrimPrefix(n, "relay")[0]-'1']
			rs = append(rs, upinfo.Relay{Nickname: n, Fingerprint: d.Fingerprint(), Exit: i < exits, PID: 100 + i})
		}
		return rs
	}
	pinned, others, procs, err := pickPinned(started(2, "relay1", "relay2", "relay3", "relay4", "relay5"), listed)
	if err != nil {
		t.Fatal(err)
	}
	if pinned.Nickname != "relay5" || len(others) != 4 || len(procs) != 5 || procs[4].pid != 104 {
		t.Errorf("pinned %s, %d others, procs %v", pinned.Nickname, len(others), procs)
	}
	if pinned, _, _, _ := pickPinned(started(3, "relay1", "relay2", "relay3"), listed); pinned.Nickname != "relay1" {
		t.Errorf("all exits: pinned %s, want the first", pinned.Nickname)
	}
	if _, _, _, err := pickPinned(started(1, "relay1", "relay2"), listed); err == nil {
		t.Error("two relays: no error")
	}
	if _, _, _, err := pickPinned(started(1, "relay1", "relay2", "relay3"), listed[1:]); err == nil {
		t.Error("a relay missing from the list: no error")
	}
}

// descriptors are relay descriptors with distinct fixed keys.
func descriptors(names ...string) []onion.RelayDescriptor {
	var ds []onion.RelayDescriptor
	for i, n := range names {
		seed := make([]byte, ed25519.SeedSize)
		seed[0] = byte(i + 1)
		seed[1] = n[len(n)-1]
		d := onion.RelayDescriptor{Nickname: n, Address: "127.0.0.1:" + string('0'+rune(i)), OnionKey: make([]byte, onion.KeyLen)}
		d.Sign(ed25519.NewKeyFromSeed(seed))
		ds = append(ds, d)
	}
	return ds
}
