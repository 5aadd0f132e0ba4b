package bench

// Throughput figures: one stream and Streams concurrent streams, with the
// CPU the network spends on them.

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// downloads measures a one-stream download and Streams concurrent
// downloads on as many circuits, with their baselines and CPU.
func (r *runner) downloads(ctx context.Context) {
	p := r.plan
	per := p.size / Streams
	one := reps{label: "download " + mb(p.size), n: p.transfers, budget: p.transferBudget, timeout: p.transferLimit, bytes: p.size}
	many := one
	many.label = fmt.Sprintf("download %d x %s", Streams, mb(per))
	many.bytes = per * Streams

	base1 := r.baselines(ctx, one, func(rt route) sampler { return r.downloadOne(rt, "") })
	base8 := r.baselines(ctx, many, func(rt route) sampler { return r.downloadMany(rt, nil) })

	viaOnion := route{socks: r.net.socks}
	f := r.rep.add("download_1", "download, 1 stream ("+mb(p.size)+")", unitBytesPerSec)
	user := r.user("dl", 0)
	one.label = "onion: " + one.label
	xs, err := r.transferPhase(ctx, "cpu_download_1", "CPU per 100 MB, 1-stream download (proxy + relays)",
		one, []string{user}, r.downloadOne(viaOnion, user))
	r.set(f, xs, err, base1, false)

	f = r.rep.add("download_8", fmt.Sprintf("download, %d streams on %d circuits (%s each, aggregate)", Streams, Streams, mb(per)), unitBytesPerSec)
	users := make([]string, Streams)
	for i := range users {
		users[i] = r.user("dl8-", i)
	}
	many.label = "onion: " + many.label
	xs, err = r.transferPhase(ctx, "cpu_download_8", fmt.Sprintf("CPU per 100 MB, %d-stream download (proxy + relays)", Streams),
		many, users, r.downloadMany(viaOnion, users))
	r.set(f, xs, err, base8, false)
}

// downloadOne downloads the full size through rt as user, in B/s.
func (r *runner) downloadOne(rt route, user string) sampler {
	return r.downloadSize(rt, user, r.plan.size)
}

// downloadSize downloads size bytes through rt as user, in B/s.
func (r *runner) downloadSize(rt route, user string, size int64) sampler {
	url := r.dest.blobURL(size)
	return func(ctx context.Context) (float64, error) {
		c := rt.client(user, "")
		secs, err := download(ctx, c, url, size, r.prog.add)
		return float64(size) / secs, err
	}
}

// downloadMany downloads size/Streams on each of Streams streams at once,
// stream i as users[i] (nil: no username), and returns the aggregate B/s.
func (r *runner) downloadMany(rt route, users []string) sampler {
	per := r.plan.size / Streams
	url := r.dest.blobURL(per)
	return func(ctx context.Context) (float64, error) {
		clients := make([]*http.Client, Streams)
		for i := range clients {
			user := ""
			if users != nil {
				user = users[i]
			}
			clients[i] = rt.client(user, "")
		}
		secs, err := together(ctx, Streams, func(ctx context.Context, i int) error {
			_, err := download(ctx, clients[i], url, per, r.prog.add)
			return err
		})
		return float64(per*Streams) / secs, err
	}
}

// together runs op k times at once and returns the time until the last
// ends. The first error cancels the others and is returned.
func together(ctx context.Context, k int, op func(ctx context.Context, i int) error) (float64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range k {
		wg.Go(func() {
			if err := op(ctx, i); err != nil {
				cancel(fmt.Errorf("stream %d: %w", i, err))
			}
		})
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	if err := context.Cause(ctx); err != nil {
		return 0, err
	}
	return secs, nil
}

// transferPhase warms the circuits of users, then runs op as rp says and
// records the CPU the network spent meanwhile under cpuKey. The transfers
// run on circuits that already exist, so builds are not in the figures.
func (r *runner) transferPhase(ctx context.Context, cpuKey, cpuLabel string, rp reps, users []string, op sampler) ([]float64, error) {
	viaOnion := route{socks: r.net.socks}
	for _, u := range users {
		if err := r.warmUp(ctx, viaOnion, u, ""); err != nil {
			return nil, fmt.Errorf("warm-up GET: %w", err)
		}
	}
	return r.withCPU(ctx, cpuKey, cpuLabel, rp, op)
}

// withCPU runs op as rp says and records the CPU that the network's
// processes spent meanwhile, per 100 MB moved, as figure cpuKey.
func (r *runner) withCPU(ctx context.Context, cpuKey, cpuLabel string, rp reps, op sampler) ([]float64, error) {
	procs := r.net.processes()
	if len(procs) == 0 {
		return r.repeat(ctx, rp, op)
	}
	f := r.rep.add(cpuKey, cpuLabel, unitCPU)
	before, cpuErr := takeCPU(procs)
	xs, err := r.repeat(ctx, rp, op)
	if cpuErr == nil {
		var after cpuSnapshot
		if after, cpuErr = takeCPU(procs); cpuErr == nil && len(xs) > 0 {
			r.setCPU(f, cpuKey, cpuByRole(procs, before, after), int64(len(xs))*rp.bytes, len(xs))
		}
	}
	r.record(f, cpuErr)
	return xs, err
}

// setCPU records a phase's CPU and fills its figure: proxy and relays
// together, per 100 MB.
func (r *runner) setCPU(f *Figure, key string, secs map[string]float64, bytes int64, n int) {
	r.rep.CPU[key] = &CPUPhase{Bytes: bytes, Seconds: secs}
	per := (secs[roleProxy] + secs[roleRelays]) / float64(bytes) * 1e8
	f.setSamples([]float64{per}, false)
	f.N = n
}

// mb names a size for labels: "100 MB".
func mb(n int64) string { return fmtValue(unitBytes, num(float64(n))) }
