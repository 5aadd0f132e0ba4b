package bench

// Memory of idle circuits at the relays ("an idle circuit costs
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
	"onion/internal/upinfo"
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

// cost is the pinned relay's figures from its readings at 0 and at the
// plan's counts: its RSS at the first count (1,000 in the target), the memory
// per circuit as the slope of a least-squares line through the readings
// from the first count on, and that line's R² (1 for memory that grows
// exactly linearly). The reading at 0 is left out of the fit: between 0
// and the first count the collector's first heap steps (a few MB each)
// dwarf the circuits. Fewer than two counts give nils.
func (m *IdleCircuits) cost() (rss, perCircuit, r2 *float64) {
	xs := m.RSS[m.Pinned]
	if len(xs) != len(m.Circuits) || len(m.Circuits) < 3 || m.Circuits[0] != 0 {
		return nil, nil, nil
	}
	rss = num(float64(xs[1]))
	var ns, ys []float64
	for i := 1; i < len(xs); i++ {
		ns = append(ns, float64(m.Circuits[i]))
		ys = append(ys, float64(xs[i]))
	}
	slope, fit, ok := lineFit(ns, ys)
	if !ok {
		return rss, nil, nil
	}
	return rss, num(slope), num(fit)
}

// lineFit fits y = a + b·x by least squares and returns b and R²; ok is
// false for fewer than two distinct x. With every y equal, R² is 1.
func lineFit(x, y []float64) (b, r2 float64, ok bool) {
	n := float64(len(x))
	var sx, sy float64
	for i := range x {
		sx += x[i]
		sy += y[i]
	}
	mx, my := sx/n, sy/n
	var sxx, sxy, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxx += dx * dx
		sxy += dx * dy
		syy += dy * dy
	}
	if sxx == 0 {
		return 0, 0, false
	}
	b = sxy / sxx
	if syy == 0 {
		return b, 1, true
	}
	return b, sxy * sxy / (sxx * syy), true
}

// idleCircuits builds circuits through the relays and reads their memory.
// It needs the relays' keys and pids, so only a network this run started.
func (r *runner) idleCircuits(ctx context.Context) {
	if r.net.up == nil {
		r.rep.note("idle-circuit memory and CPU linearity are measured only on the network bench starts: skipped with --socks")
		return
	}
	counts := r.plan.idle
	lo, hi := counts[0], counts[len(counts)-1]
	r.prog.begin("idle circuits: relay list", 0, false)
	pinned, others, procs, err := r.idleRelays(ctx)
	name := pinned.Nickname
	if err != nil {
		name = "one relay"
	}
	fRSS := r.rep.add("idle_rss", fmt.Sprintf("idle circuits: RSS of %s carrying %d (middle hop of all)", name, lo), unitBytes)
	fPer := r.rep.add("idle_per_circuit", fmt.Sprintf("idle circuits: memory per circuit at %s (slope of RSS over %d..%d circuits)", name, lo, hi), unitBytes)
	fLinear := r.rep.add("idle_linear_r2", fmt.Sprintf("idle circuits: RSS at %s against %d..%d circuits, R² of a straight line (1: linear)", name, lo, hi), unitRatio)
	var m *IdleCircuits
	if err == nil {
		m, err = r.measureIdle(ctx, pinned, others, procs)
	}
	if m != nil {
		r.rep.Idle = m
		rss, per, r2 := m.cost()
		for _, fv := range []struct {
			f *Figure
			v *float64
		}{{fRSS, rss}, {fPer, per}, {fLinear, r2}} {
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
func pickPinned(started []upinfo.Relay, listed []onion.RelayDescriptor) (pinned onion.RelayDescriptor, others []onion.RelayDescriptor, procs []process, err error) {
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
	for _, n := range append([]int{0}, r.plan.idle...) {
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
	r.rep.note("idle circuits: a Go process's RSS grows in steps of its collector's headroom (about as much again as the live heap, a few MB here); the first steps, between 0 and the first count, are left out of the line fitted for the cost per circuit")
	if slices.Contains(m.Settled, false) {
		r.rep.note(fmt.Sprintf("idle circuits: some RSS readings had not settled after %v (settled per count: %v)", settleEvery*settleReads, m.Settled))
	}
}
