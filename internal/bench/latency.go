package bench

// Latency figures: opening streams and circuits, and the time to the first
// byte of a tiny GET.
//
// A figure and the baselines it is divided by are measured in rounds, one
// sample of each route per round, rather than one series after another: on
// a shared machine the speed drifts from one second to the next, and a
// ratio of two series taken apart would carry that drift.

import (
	"context"
	"fmt"
)

// latency measures SOCKS CONNECT on a warm circuit, circuit builds, and
// tiny GETs on warm and fresh circuits, with their baselines.
func (r *runner) latency(ctx context.Context) {
	p := r.plan
	viaOnion := route{socks: r.net.socks}
	tiny, url := r.dest.httpAddr(), r.dest.tinyURL()
	lat := reps{n: p.ttfbs, budget: p.latencyBudget, timeout: p.opTimeout}
	connect := func(rt route) sampler {
		d := rt.dialer("", "")
		return func(ctx context.Context) (float64, error) { return connectTime(ctx, d, tiny) }
	}
	get := func(rt route) sampler {
		c := rt.client("", "")
		return func(ctx context.Context) (float64, error) { return ttfb(ctx, c, url) }
	}

	// The warm circuit is the proxy's default one (no SOCKS credentials),
	// so that its clients make the same handshake as the baselines'.
	warmErr := r.warmUp(ctx, viaOnion, "", "")
	f := r.rep.add("connect_warm", "SOCKS CONNECT, warm circuit (answered early: the circuit reached the destination before)", unitSeconds)
	lat.label = "SOCKS CONNECT: plain, direct, onion on a warm circuit"
	connBase := r.against(ctx, lat, f, connect, connect(viaOnion), warmErr)

	f = r.rep.add("circuit_build", "circuit build + stream open (CONNECT, fresh username)", unitSeconds)
	i := 0
	xs, err := r.repeat(ctx, reps{label: "onion: circuit builds", n: p.builds, budget: p.latencyBudget, timeout: p.opTimeout},
		func(ctx context.Context) (float64, error) {
			i++
			return connectTime(ctx, viaOnion.dialer(r.user("build", i), ""), tiny)
		})
	r.set(f, xs, err, connBase, true)
	r.engineBuilds(ctx)

	getBase := r.tinyGets(ctx, lat, get, warmErr)
	r.optimistic(ctx, lat)

	f = r.rep.add("ttfb_fresh", "TTFB tiny GET, fresh circuit", unitSeconds)
	i = 0
	lat.label = "onion: tiny GET on a fresh circuit"
	xs, err = r.repeat(ctx, lat, func(ctx context.Context) (float64, error) {
		i++
		return ttfb(ctx, viaOnion.client(r.user("fresh", i), ""), url)
	})
	r.set(f, xs, err, getBase, true)
}

// against measures onion and op's plain and direct baselines in rounds and
// fills f; it returns the baselines. prior, if not nil, is why onion cannot
// be measured (the baselines still are).
func (r *runner) against(ctx context.Context, lat reps, f *Figure, op func(route) sampler, onion sampler, prior error) baseline {
	ops := []sampler{op(route{socks: r.plain.addr}), op(route{})}
	if prior == nil {
		ops = append(ops, onion)
	}
	xs, failed, err := r.rounds(ctx, lat, ops)
	b := baseline{plain: xs[0], direct: xs[1]}
	r.baselineFailed(lat.label, failed, 2, err)
	if prior != nil {
		r.set(f, nil, prior, b, true)
		return b
	}
	if failed != 2 {
		err = nil
	}
	r.set(f, xs[2], err, b, true)
	return b
}

// baselineFailed reports err as the run's if it came from a baseline (an
// index below n), where no figure holds it.
func (r *runner) baselineFailed(label string, failed, n int, err error) {
	if err != nil && failed < n && !r.expired() {
		r.failed(fmt.Errorf("%s: baseline %d: %w", label, failed, err))
	}
}

// tinyGets measures the tiny GET through every route in rounds: the plain
// proxy, direct, the onion proxy on its warm circuit, the second onion
// proxy that waits for CONNECTED (waitproxy.go), and the hop floor
// (hop.go). It returns the baselines for the other GET figures.
func (r *runner) tinyGets(ctx context.Context, lat reps, get func(route) sampler, warmErr error) baseline {
	warm := r.rep.add("ttfb_warm", "TTFB tiny GET, warm circuit (new stream)", unitSeconds)
	wait := r.rep.add("ttfb_warm_wait", "TTFB tiny GET, warm circuit, proxy --wait-connected (SOCKS reply after CONNECTED)", unitSeconds)
	floor := r.rep.add("ttfb_floor", "TTFB tiny GET, hop floor: go-socks5 + 3 forwarders, separate processes, no crypto", unitSeconds)
	ofFloor := r.rep.add("ttfb_warm_of_floor", "TTFB tiny GET, warm circuit, over the hop floor's", unitRatio)

	routes := []route{{socks: r.plain.addr}, {}}
	figs := []*Figure{nil, nil}
	add := func(f *Figure, rt route, err error) {
		if err != nil {
			r.record(f, err)
			return
		}
		routes, figs = append(routes, rt), append(figs, f)
	}
	add(warm, route{socks: r.net.socks}, warmErr)
	if r.wait != nil {
		rt := route{socks: r.wait.addr}
		add(wait, rt, r.warmUp(ctx, rt, "", ""))
	} else {
		r.rep.note("the tiny GET through a second proxy with --wait-connected is measured only on the network bench starts: skipped with --socks")
	}
	if len(r.floor) > 0 {
		add(floor, route{socks: r.floor[len(r.floor)-1].addr}, nil)
	}
	ops := make([]sampler, len(routes))
	for i, rt := range routes {
		ops[i] = get(rt)
	}
	lat.label = fmt.Sprintf("tiny GET: %d routes in rounds", len(routes))
	xs, failed, err := r.rounds(ctx, lat, ops)
	b := baseline{plain: xs[0], direct: xs[1]}
	r.baselineFailed(lat.label, failed, 2, err)
	for i := 2; i < len(figs); i++ {
		var ferr error
		if i == failed {
			ferr = err
		}
		if figs[i] == floor {
			floor.setSamples(xs[i], true)
			r.record(floor, ferr)
			continue
		}
		r.set(figs[i], xs[i], ferr, b, true)
	}
	if warm.Value != nil && floor.Value != nil {
		ofFloor.setSamples([]float64{*warm.Value / *floor.Value}, false)
	}
	r.rep.note("early SOCKS replies: the network's proxy answers a CONNECT to a destination its circuit reached before at once, and the request follows BEGIN through the circuit; --wait-connected answers only after CONNECTED, which costs one more trip through the circuit")
	r.rep.note("hop floor: a tiny GET through go-socks5 and three TCP forwarders, each a process of its own like the onion proxy and its three relays; it pays one trip through the path, as a warm onion GET does with an early SOCKS reply (BEGIN, then the request right behind it)")
	return b
}

// warmUp makes sure the circuit of user exists: one tiny GET, not counted.
func (r *runner) warmUp(ctx context.Context, rt route, user, pass string) error {
	_, err := withTimeout(ctx, r.plan.opTimeout, func(ctx context.Context) (float64, error) {
		return ttfb(ctx, rt.client(user, pass), r.dest.tinyURL())
	})
	return err
}

// optimistic measures the warm tiny GET for an optimistic client (one that
// sends its request behind CONNECT without waiting for the reply, as Tor
// Browser does), through the onion proxy and the plain one, and the direct
// GET as before.
func (r *runner) optimistic(ctx context.Context, lat reps) {
	f := r.rep.add("ttfb_warm_optimistic", "TTFB tiny GET, warm circuit, optimistic client (request sent behind CONNECT)", unitSeconds)
	addr := r.dest.httpAddr()
	op := func(rt route) sampler {
		if rt.socks == "" {
			c := rt.client("", "")
			return func(ctx context.Context) (float64, error) { return ttfb(ctx, c, r.dest.tinyURL()) }
		}
		return func(ctx context.Context) (float64, error) { return ttfbOptimistic(ctx, rt.socks, "", addr, "/tiny") }
	}
	lat.label = "tiny GET, optimistic client: plain, direct, onion on a warm circuit"
	r.against(ctx, lat, f, op, op(route{socks: r.net.socks}), nil)
}
