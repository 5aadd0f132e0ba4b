package bench

// Latency under load (issue 16): the tiny GET while LoadStreams bulk
// downloads run, on another circuit and on a circuit that carries one of
// them, with the downloads capped (the machine has room: what is left is
// queueing) and at full speed (both cores busy: compared with the hop
// floor under the same load).
//
// Every round takes one idle sample of each route first, then starts the
// downloads, lets them settle, measures their rate alone, takes one loaded
// sample of each route, and stops them: the idle baseline and the loaded
// figure come from the same rounds, so the machine's drift is in neither
// ratio.

import (
	"context"
	"fmt"
	"time"

	"onion/internal/procstat"
)

// Load defaults.
const (
	LoadStreams = 4                      // bulk downloads under which the GETs are measured
	LoadCapRate = 20_000_000             // B/s per download in the capped case, unless Config.LoadCap
	loadSettle  = 300 * time.Millisecond // from the downloads' start to the first sample
	loadAlone   = 250 * time.Millisecond // their aggregate rate is measured alone over this
	loadQuiet   = 250 * time.Millisecond // after stopping them, for the cells in flight to drain before an idle sample
	// loadSaturatedBusy is the machine's busy share, with the capped
	// downloads alone, from which the report says the capped case is not
	// the unsaturated one it is meant to be.
	loadSaturatedBusy = 0.7
)

// loadCase is one way of loading the path.
type loadCase struct {
	key, what string
	rate      float64 // per download, B/s; 0: full speed
	floor     bool    // also load the hop floor and measure its GET
}

// underLoad measures the tiny GET under load, capped then full speed.
func (r *runner) underLoad(ctx context.Context) {
	capRate := r.cfg.loadCap()
	cases := []loadCase{
		{key: "capped", what: fmt.Sprintf("%d downloads at %s each", LoadStreams, fmtValue(unitBytesPerSec, num(capRate))), rate: capRate},
		{key: "full", what: fmt.Sprintf("%d downloads at full speed", LoadStreams), floor: len(r.floor) > 0},
	}
	users := make([]string, LoadStreams)
	for i := range users {
		users[i] = r.user("load", i)
	}
	other := r.user("load-other", 0)
	viaOnion := route{socks: r.net.socks}
	for _, u := range append([]string{other}, users...) {
		if err := r.warmUp(ctx, viaOnion, u, ""); err != nil {
			r.failed(fmt.Errorf("latency under load: warm-up GET: %w", err))
			return
		}
	}
	for _, c := range cases {
		if ctx.Err() != nil {
			return
		}
		r.loadCase(ctx, c, users, other)
	}
	r.rep.note(fmt.Sprintf("under load: each round takes an idle tiny GET on each route, starts the %d downloads (onion: one per SOCKS identity, so one per circuit), waits %v, measures their aggregate rate alone for %v, takes one loaded GET on each route, and stops them; \"another circuit\" is a fifth identity, \"same circuit\" the identity of download 1; ratios are loaded over idle medians of the same rounds", LoadStreams, loadSettle, loadAlone))
}

// loadSamples is what the rounds of one case collect.
type loadSamples struct {
	idleOther, idleSame, other, same []float64
	idleFloor, floor                 []float64
	alone, during                    []float64 // aggregate B/s of the downloads
	busy                             []float64 // the machine's busy share with the onion downloads alone
	floorAlone, floorDuring          []float64
}

func (r *runner) loadCase(ctx context.Context, c loadCase, users []string, other string) {
	viaOnion := route{socks: r.net.socks}
	url := r.dest.tinyURL()
	getOther := viaOnion.client(other, "")
	getSame := viaOnion.client(users[0], "")
	var floor route
	var getFloor = getOther
	if c.floor {
		floor = route{socks: r.floor[len(r.floor)-1].addr}
		getFloor = floor.client("", "")
	}
	n := r.plan.ttfbs
	r.prog.begin("tiny GET under load: "+c.what, int64(n), false)
	var s loadSamples
	var err error
	start := time.Now()
	for i := range n {
		if elapsed := time.Since(start); i > 0 && elapsed+elapsed/time.Duration(i) > r.plan.loadBudget {
			break
		}
		if err = r.loadRound(ctx, c, &s, users, i%2 == 1, func(ctx context.Context, which int) (float64, error) {
			switch which {
			case 0:
				return ttfb(ctx, getOther, url)
			case 1:
				return ttfb(ctx, getSame, url)
			default:
				return ttfb(ctx, getFloor, url)
			}
		}, floor); err != nil {
			break
		}
		r.prog.add(1)
	}
	r.setLoad(c, &s, err)
}

// loadRound takes one round's samples into s: idle GETs, then the onion
// path loaded, then (for c.floor) the hop floor loaded.
// flip reverses the order of the onion routes' samples (alternate rounds
// do), so that neither is always the first after a pause.
func (r *runner) loadRound(ctx context.Context, c loadCase, s *loadSamples, users []string, flip bool, get func(context.Context, int) (float64, error), floor route) error {
	op := func(which int) sampler {
		return func(ctx context.Context) (float64, error) { return get(ctx, which) }
	}
	if !sleepCtx(ctx, loadQuiet) {
		return ctx.Err()
	}
	idle := []sampler{op(0), op(1)}
	if c.floor {
		idle = append(idle, op(2))
	}
	xs, err := r.sampleEach(ctx, idle, flip)
	if err != nil {
		return fmt.Errorf("idle GET: %w", err)
	}
	s.idleOther, s.idleSame = append(s.idleOther, xs[0]), append(s.idleSame, xs[1])
	m, err := r.loaded(ctx, route{socks: r.net.socks}, users, c.rate, []sampler{op(0), op(1)}, flip)
	if err != nil {
		return err
	}
	s.other, s.same = append(s.other, m.xs[0]), append(s.same, m.xs[1])
	s.alone, s.during = append(s.alone, m.alone), append(s.during, m.during)
	if m.busy >= 0 {
		s.busy = append(s.busy, m.busy)
	}
	if !c.floor {
		return nil
	}
	s.idleFloor = append(s.idleFloor, xs[2])
	m, err = r.loaded(ctx, floor, make([]string, len(users)), c.rate, []sampler{op(2)}, false)
	if err != nil {
		return fmt.Errorf("hop floor: %w", err)
	}
	s.floor = append(s.floor, m.xs[0])
	s.floorAlone, s.floorDuring = append(s.floorAlone, m.alone), append(s.floorDuring, m.during)
	return nil
}

// loadReading is what one loaded phase measured.
type loadReading struct {
	xs            []float64 // one sample of each op
	alone, during float64   // the downloads' aggregate B/s alone, and during the samples
	busy          float64   // the machine's busy share with the downloads alone, in [0, 1]; -1 where unknown
}

// loaded starts one download per user through rt, lets them settle,
// measures their aggregate rate (and how busy the machine's CPUs are) with
// the downloads alone, takes one sample of each op, and stops them.
func (r *runner) loaded(ctx context.Context, rt route, users []string, rate float64, ops []sampler, flip bool) (m loadReading, err error) {
	l := r.startLoad(ctx, rt, users, rate)
	defer func() {
		if stopErr := l.stop(); err == nil && stopErr != nil {
			err = fmt.Errorf("download under load: %w", stopErr)
		}
	}()
	if !sleepCtx(ctx, loadSettle) {
		return m, ctx.Err()
	}
	c0, cpuErr := procstat.ReadCPUTimes()
	b0, t0 := l.bytes.Load(), time.Now()
	if !sleepCtx(ctx, loadAlone) {
		return m, ctx.Err()
	}
	b1, t1 := l.bytes.Load(), time.Now()
	c1, cpuErr1 := procstat.ReadCPUTimes()
	m.alone = float64(b1-b0) / t1.Sub(t0).Seconds()
	m.busy = -1
	if cpuErr == nil && cpuErr1 == nil && c1.Total > c0.Total {
		m.busy = procstat.Busy(c0, c1)
	}
	if m.xs, err = r.sampleEach(ctx, ops, flip); err != nil {
		return m, fmt.Errorf("loaded GET: %w", err)
	}
	m.during = float64(l.bytes.Load()-b1) / time.Since(t1).Seconds()
	return m, nil
}

// sampleEach takes one sample of each op and returns them by op. With
// flip the first two go in reverse order.
func (r *runner) sampleEach(ctx context.Context, ops []sampler, flip bool) ([]float64, error) {
	order := make([]int, len(ops))
	for i := range order {
		order[i] = i
	}
	if flip && len(ops) >= 2 {
		order[0], order[1] = 1, 0
	}
	xs := make([]float64, len(ops))
	for _, i := range order {
		x, err := withTimeout(ctx, r.plan.opTimeout, ops[i])
		if err != nil {
			return nil, err
		}
		xs[i] = x
	}
	return xs, nil
}

// setLoad records one case's figures.
func (r *runner) setLoad(c loadCase, s *loadSamples, err error) {
	k, w := "load_"+c.key, c.what
	secs := func(key, label string, xs []float64) *Figure {
		f := r.rep.add(key, label, unitSeconds)
		f.setSamples(xs, true)
		return f
	}
	ratioOf := func(key, label string, a, b *Figure) {
		f := r.rep.add(key, label, unitRatio)
		if a.Value != nil && b.Value != nil && *b.Value > 0 {
			f.setSamples([]float64{*a.Value / *b.Value}, false)
			f.N = a.N
		}
	}
	idleO := secs(k+"_idle_other", "TTFB tiny GET, idle, rounds of: "+w+" (another circuit)", s.idleOther)
	idleS := secs(k+"_idle_same", "TTFB tiny GET, idle, rounds of: "+w+" (circuit of download 1)", s.idleSame)
	other := secs(k+"_other", "TTFB tiny GET, another circuit, during "+w, s.other)
	same := secs(k+"_same", "TTFB tiny GET, circuit carrying a download, during "+w, s.same)
	ratioOf(k+"_other_of_idle", "  another circuit under load, over idle", other, idleO)
	ratioOf(k+"_same_of_idle", "  same circuit under load, over idle", same, idleS)
	rate := func(key, label string, xs []float64) *Figure {
		f := r.rep.add(key, label, unitBytesPerSec)
		f.setSamples(xs, false)
		return f
	}
	alone := rate(k+"_rate_alone", "  the downloads' aggregate rate alone, onion", s.alone)
	during := rate(k+"_rate_during", "  the downloads' aggregate rate during the GETs, onion", s.during)
	ratioOf(k+"_rate_during_of_alone", "  aggregate during the GETs, over alone", during, alone)
	busy := r.rep.add(k+"_cpu_busy", "  the machine's CPUs busy with the downloads alone (all cores, every process)", unitShare)
	busy.setSamples(s.busy, false)
	if c.rate > 0 && busy.Value != nil && *busy.Value >= loadSaturatedBusy {
		r.rep.note(fmt.Sprintf("under load: with %s the machine's CPUs were %.0f%% busy before any GET: the capped case is meant to leave room, so on this machine its ratios measure CPU contention as well as queueing (docs/PERFORMANCE.md, \"Latency under load\"); --load-cap sets a lower rate", w, *busy.Value*100))
	}
	if c.floor {
		secs(k+"_floor_idle", "TTFB tiny GET, hop floor, idle", s.idleFloor)
		floor := secs(k+"_floor", "TTFB tiny GET, hop floor, during "+w+" through the floor", s.floor)
		ratioOf(k+"_other_of_floor", "  onion another circuit under load, over the loaded floor", other, floor)
		ratioOf(k+"_same_of_floor", "  onion same circuit under load, over the loaded floor", same, floor)
		rate(k+"_floor_rate_alone", "  the downloads' aggregate rate alone, hop floor", s.floorAlone)
	}
	if err != nil {
		r.record(other, err)
	}
}

// sleepCtx waits d unless ctx ends first; it reports whether d passed. The
// wait lets downloads reach their steady state: it is a measurement
// window, not synchronisation.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
