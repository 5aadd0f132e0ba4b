package bench

// The circuit build alone: CREATE to the first hop and two EXTENDs, made
// with the circuit engine from this process on links opened beforehand,
// as the proxy's are once it has run. circuit_build, through SOCKS, also
// opens a stream on the new circuit.

import (
	"context"
	"time"
)

func (r *runner) engineBuilds(ctx context.Context) {
	f := r.rep.add("circuit_build_3hop", "circuit build alone, three hops (circuit engine, links open)", unitSeconds)
	if r.net.info == nil {
		r.rep.note("the circuit build alone needs the network's directory: skipped with --socks and no --info-file")
		return
	}
	pinned, others, _, err := r.idleRelays(ctx)
	if err != nil {
		r.record(f, err)
		return
	}
	fl, err := openFleet(ctx, pinned, others)
	if err != nil {
		r.record(f, err)
		return
	}
	defer fl.close()
	p := r.plan
	i := 0
	xs, err := r.repeat(ctx, reps{label: "onion: three-hop builds (engine)", n: p.builds, budget: p.latencyBudget, timeout: p.opTimeout},
		func(ctx context.Context) (float64, error) {
			i++
			start := time.Now()
			c, err := fl.build(ctx, i, p.opTimeout)
			if err != nil {
				return 0, err
			}
			took := time.Since(start)
			c.Close()
			return took.Seconds(), nil
		})
	f.setSamples(xs, true)
	r.record(f, err)
}
