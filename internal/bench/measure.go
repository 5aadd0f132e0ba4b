package bench

import (
	"context"
	"fmt"
	"time"
)

// measure takes every figure, in table order.
func (r *runner) measure(ctx context.Context) {
	// Idle circuits come before the downloads: the relays' heaps are still
	// small, so the circuits' memory is not hidden in pages that a
	// transfer left behind.
	phases := []func(context.Context){r.latency, r.idleCircuits, r.downloads, r.underLoad, r.cryptoBound, r.cpuLinearity, r.hiddenService}
	if r.cfg.LoadOnly {
		phases = []func(context.Context){r.underLoad}
	}
	for _, phase := range phases {
		if ctx.Err() != nil {
			break // cut short: Run reports the timeout once
		}
		phase(ctx)
	}
	if procs := r.net.processes(); len(procs) > 0 {
		r.rep.PeakRSS = peakRSS(procs)
	}
	for _, line := range r.net.logFaults() {
		r.failed(fmt.Errorf("the network's output shows: %s", line))
	}
	r.legend()
}

// sampler is one timed operation; it returns a sample in its figure's unit.
type sampler func(ctx context.Context) (float64, error)

// reps says how often to run a sampler and within which bounds.
type reps struct {
	label   string
	n       int
	budget  time.Duration // stop early when another repetition would overrun it
	timeout time.Duration // each repetition
	bytes   int64         // > 0: progress counts these bytes per repetition, else repetitions
}

// repeat runs op up to rp.n times and returns its samples. It stops at the
// first error, and before a repetition that would likely end past the
// budget; it always runs at least once.
func (r *runner) repeat(ctx context.Context, rp reps, op sampler) ([]float64, error) {
	r.prog.begin(rp.label, max(int64(rp.n)*rp.bytes, int64(rp.n)), rp.bytes > 0)
	start := time.Now()
	xs := make([]float64, 0, rp.n)
	for i := range rp.n {
		if elapsed := time.Since(start); i > 0 && elapsed+elapsed/time.Duration(i) > rp.budget {
			break
		}
		x, err := withTimeout(ctx, rp.timeout, op)
		if err != nil {
			return xs, err
		}
		xs = append(xs, x)
		if rp.bytes == 0 {
			r.prog.add(1)
		}
	}
	return xs, nil
}

// rounds runs ops in turn, one sample of each per round, for up to rp.n
// rounds, stopping before a round that would likely end past rp.budget,
// and returns each op's samples. It stops at the first error and returns
// the index of the op that failed (-1 if none).
func (r *runner) rounds(ctx context.Context, rp reps, ops []sampler) ([][]float64, int, error) {
	r.prog.begin(rp.label, int64(rp.n), false)
	start := time.Now()
	xs := make([][]float64, len(ops))
	for i := range rp.n {
		if elapsed := time.Since(start); i > 0 && elapsed+elapsed/time.Duration(i) > rp.budget {
			break
		}
		for j, op := range ops {
			x, err := withTimeout(ctx, rp.timeout, op)
			if err != nil {
				return xs, j, err
			}
			xs[j] = append(xs[j], x)
		}
		r.prog.add(1)
	}
	return xs, -1, nil
}

func withTimeout(ctx context.Context, d time.Duration, op sampler) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return op(ctx)
}

// baseline is what an onion figure is compared with: the same measurement
// through the plain SOCKS5 proxy and without any proxy.
type baseline struct{ plain, direct []float64 }

// baselines runs op on the plain and the direct route with rp.
func (r *runner) baselines(ctx context.Context, rp reps, op func(route) sampler) baseline {
	var b baseline
	var err error
	label := rp.label
	rp.label = "plain SOCKS5: " + label
	if b.plain, err = r.repeat(ctx, rp, op(route{socks: r.plain.addr})); err != nil && !r.expired() {
		r.failed(fmt.Errorf("%s: %w", rp.label, err))
	}
	rp.label = "direct: " + label
	if b.direct, err = r.repeat(ctx, rp, op(route{})); err != nil && !r.expired() {
		r.failed(fmt.Errorf("%s: %w", rp.label, err))
	}
	return b
}

// set fills f with the onion samples and the baseline, and keeps err.
func (r *runner) set(f *Figure, xs []float64, err error, b baseline, withP99 bool) {
	f.setSamples(xs, withP99)
	f.setBaselines(b.plain, b.direct)
	r.record(f, err)
}

// user returns a SOCKS username no earlier run has used: a fresh circuit.
func (r *runner) user(what string, i int) string {
	return fmt.Sprintf("bench-%s-%s%d", r.id, what, i)
}

// legend notes what the figures mean, for a reader of the table alone.
func (r *runner) legend() {
	r.rep.note("onion/plain and onion/direct are the onion figure divided by the baseline's: above 1 is slower for times, below 1 is slower for rates")
	r.rep.note("each GET, download and echo opens a new connection, through a proxy a new stream (as curl does), and its time includes that; circuits are built beforehand except where a figure says fresh")
	r.rep.note("p99 is nearest-rank: with fewer than 100 samples it is the slowest one")
	if len(r.net.processes()) > 0 {
		r.rep.note("CPU: utime+stime from /proc of the proxy and the relays, per 100 MB (10^8 bytes) of payload; an echo moves each payload byte there and back")
	}
}
