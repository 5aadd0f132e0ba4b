package bench

// Memory of idle circuits at the relays (issue 4: "an idle circuit costs
// under 64 KiB at each relay; a relay carrying 1,000 idle circuits stays
// under 100 MiB RSS; 10x the idle circuits 10x the memory").
//
// One relay, the pinned one, is the middle hop of every circuit, so it
// carries them all; the other relays take turns as first and last hops.
// Warm-up circuits, one per pair of first and last hop, open every link
// the circuits will use before the first reading, so that the links' own
// buffers are not counted as circuits. Counts are beyond them.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"onion/directory"
	"onion/onion"
)

// IdleCircuits is the resident memory of every relay as idle circuits were
// added, and what --json prints of them.
type IdleCircuits struct {
	Pinned   string             `json:"pinned_relay"`    // the middle hop of every circuit
	Warmup   int                `json:"warmup_circuits"` // open before the first reading, not counted
	Circuits []int              `json:"circuits"`        // counts read at, the first 0
	RSS      map[string][]int64 `json:"rss_bytes"`       // VmRSS by relay, one per count
	Settled  []bool             `json:"settled"`         // per count: the reading settled (rss.go)
}

// add records the reading with n circuits open.
func (m *IdleCircuits) add(n int, rss rssReading, settled bool) {
	m.Circuits = append(m.Circuits, n)
	m.Settled = append(m.Settled, settled)
	for name, b := range rss {
		m.RSS[name] = append(m.RSS[name], b)
	}
}

// cost is the pinned relay's figures from readings at 0, lo and hi
// circuits: its RSS at hi, the memory per circuit (RSS@hi - RSS@0) / hi,
// and the growth ratio (RSS@hi - RSS@0) / (RSS@lo - RSS@0), which is
// hi/lo when memory grows linearly. Missing readings give nils.
func (m *IdleCircuits) cost() (rss, perCircuit, growth *float64) {
	xs := m.RSS[m.Pinned]
	if len(xs) != 3 || len(m.Circuits) != 3 || m.Circuits[0] != 0 {
		return nil, nil, nil
	}
	lo, hi := m.Circuits[1], m.Circuits[2]
	rss = num(float64(xs[2]))
	if hi > 0 {
		perCircuit = num(float64(xs[2]-xs[0]) / float64(hi))
	}
	if lo > 0 && xs[1] > xs[0] {
		// With no growth at lo the ratio has no meaning, not an infinite one.
		growth = num(float64(xs[2]-xs[0]) / float64(xs[1]-xs[0]))
	}
	return rss, perCircuit, growth
}

// idleCircuits builds circuits through the relays and reads their memory.
// It needs the relays' keys and pids, so only a network this run started.
func (r *runner) idleCircuits(ctx context.Context) {
	if r.net.up == nil {
		r.rep.note("idle-circuit memory and CPU linearity are measured only on the network bench starts: skipped with --socks")
		return
	}
	lo, hi := r.plan.idle[0], r.plan.idle[1]
	r.prog.begin("idle circuits: relay list", 0, false)
	pinned, others, procs, err := r.idleRelays(ctx)
	name := pinned.Nickname
	if err != nil {
		name = "one relay"
	}
	fRSS := r.rep.add("idle_rss", fmt.Sprintf("idle circuits: RSS of %s carrying %d (middle hop of all)", name, hi), unitBytes)
	fPer := r.rep.add("idle_per_circuit", fmt.Sprintf("idle circuits: memory per circuit at %s ((RSS@%d - RSS@0) / %d)", name, hi, hi), unitBytes)
	fGrowth := r.rep.add("idle_growth", fmt.Sprintf("idle circuits: RSS growth at %s, %d vs %d circuits (linear: %gx)", name, hi, lo, float64(hi)/float64(lo)), unitRatio)
	var m *IdleCircuits
	if err == nil {
		m, err = r.measureIdle(ctx, pinned, others, procs)
	}
	if m != nil {
		r.rep.Idle = m
		rss, per, growth := m.cost()
		for _, fv := range []struct {
			f *Figure
			v *float64
		}{{fRSS, rss}, {fPer, per}, {fGrowth, growth}} {
			if fv.v != nil {
				fv.f.setSamples([]float64{*fv.v}, false)
			}
		}
		r.noteIdle(m)
	}
	r.record(fRSS, err)
}

// idleRelays fetches the relay list from the network's directory and
// returns the relay to pin, the others, and the relays' processes. The
// pinned relay is the last that is not an exit, so that it carries no
// exit streams of the other figures.
func (r *runner) idleRelays(ctx context.Context) (pinned onion.RelayDescriptor, others []onion.RelayDescriptor, procs []process, err error) {
	info := r.net.info
	key, err := onion.DecodeDirectoryKey(info.DirectoryKey)
	if err != nil {
		return pinned, nil, nil, fmt.Errorf("directory key in the info file: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.plan.opTimeout)
	defer cancel()
	list, err := (&directory.Client{URL: info.Directory, Key: key}).Relays(ctx)
	if err != nil {
		return pinned, nil, nil, err
	}
	return pickPinned(info.Relays, list.Relays)
}

// pickPinned matches the relays up started to their descriptors by
// fingerprint and picks the relay to pin (see idleRelays).
func pickPinned(started []upRelay, listed []onion.RelayDescriptor) (pinned onion.RelayDescriptor, others []onion.RelayDescriptor, procs []process, err error) {
	byFP := make(map[string]onion.RelayDescriptor, len(listed))
	for _, d := range listed {
		byFP[d.Fingerprint()] = d
	}
	pin := -1
	for i, s := range started {
		if _, ok := byFP[s.Fingerprint]; !ok {
			return pinned, nil, nil, fmt.Errorf("%s is not in the directory's relay list", s.Nickname)
		}
		if !s.Exit || pin < 0 { // the last non-exit, else the first relay
			pin = i
		}
		procs = append(procs, process{name: s.Nickname, role: roleRelays, pid: s.PID})
	}
	if len(started) < 3 {
		return pinned, nil, nil, fmt.Errorf("%d relays: a three-hop circuit needs 3", len(started))
	}
	for i, s := range started {
		d := byFP[s.Fingerprint]
		d.Nickname = s.Nickname // the name every other figure uses
		if i == pin {
			pinned = d
		} else {
			others = append(others, d)
		}
	}
	return pinned, others, procs, nil
}

// measureIdle opens warm-up circuits, then reads every relay's settled RSS
// at 0 circuits and at each count of the plan, and closes them all.
func (r *runner) measureIdle(ctx context.Context, pinned onion.RelayDescriptor, others []onion.RelayDescriptor, procs []process) (m *IdleCircuits, err error) {
	fl, err := openFleet(ctx, pinned, others)
	if err != nil {
		return nil, err
	}
	defer func() {
		r.prog.begin("idle circuits: closing them", 0, false)
		err = errors.Join(err, fl.close())
	}()
	fl.built = func() { r.prog.add(1) }
	m = &IdleCircuits{Pinned: pinned.Nickname, Warmup: len(fl.pairs), RSS: make(map[string][]int64)}
	r.prog.begin(fmt.Sprintf("idle circuits: %d warm-up circuits", m.Warmup), int64(m.Warmup), false)
	if err := fl.grow(ctx, m.Warmup, r.plan.opTimeout); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	read := func() (rssReading, error) { return readRSSAll(procs) }
	for _, n := range []int{0, r.plan.idle[0], r.plan.idle[1]} {
		if more := n - (len(fl.circs) - m.Warmup); more > 0 {
			r.prog.begin(fmt.Sprintf("idle circuits: building to %d, %d at a time", n, buildConcurrency), int64(more), false)
			if err := fl.grow(ctx, more, r.plan.opTimeout); err != nil {
				return m, err
			}
		}
		r.prog.begin(fmt.Sprintf("idle circuits: %d open, waiting for RSS to settle", n), 0, false)
		rss, ok, err := settle(ctx, read, settleEvery, settleReads)
		if err != nil {
			return m, err
		}
		m.add(n, rss, ok)
	}
	return m, nil
}

// noteIdle lists every relay's RSS at each count, which the figures show
// only for the pinned relay.
func (r *runner) noteIdle(m *IdleCircuits) {
	names := slices.Sorted(maps.Keys(m.RSS))
	parts := make([]string, 0, len(names))
	for _, n := range names {
		vs := make([]string, 0, len(m.RSS[n]))
		for _, b := range m.RSS[n] {
			vs = append(vs, sig3(float64(b)/1e6))
		}
		parts = append(parts, n+" "+strings.Join(vs, "/"))
	}
	counts := make([]string, 0, len(m.Circuits))
	for _, c := range m.Circuits {
		counts = append(counts, fmt.Sprint(c))
	}
	r.rep.note(fmt.Sprintf("idle circuits: VmRSS in MB once settled with %s circuits open (beyond %d warm-up ones; %s is the middle hop of all, the others first and last hops in turn): %s",
		strings.Join(counts, "/"), m.Warmup, m.Pinned, strings.Join(parts, ", ")))
	r.rep.note("idle circuits: a Go process's RSS grows in steps of its collector's headroom (about as much again as the live heap, a few MB here), so growth at the smaller count is near the resolution and its ratio varies from run to run; the cost per circuit at the larger count is the steadier figure")
	if slices.Contains(m.Settled, false) {
		r.rep.note(fmt.Sprintf("idle circuits: some RSS readings had not settled after %v (settled per count: %v)", settleEvery*settleReads, m.Settled))
	}
}
