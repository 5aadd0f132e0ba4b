package bench

// Latency figures: opening streams and circuits, and the time to the first
// byte of a tiny GET.

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
	lat.label = "connect"
	connBase := r.baselines(ctx, lat, connect)
	lat.label = "tiny GET"
	getBase := r.baselines(ctx, lat, get)

	// The warm circuit is the proxy's default one (no SOCKS credentials),
	// so that its clients make the same handshake as the baselines'.
	warm := ""
	f := r.rep.add("connect_warm", "SOCKS CONNECT, warm circuit (stream open)", unitSeconds)
	err := r.warmUp(ctx, viaOnion, warm, "")
	var xs []float64
	if err == nil {
		lat.label = "onion: SOCKS CONNECT on a warm circuit"
		d := viaOnion.dialer(warm, "")
		xs, err = r.repeat(ctx, lat, func(ctx context.Context) (float64, error) { return connectTime(ctx, d, tiny) })
	}
	r.set(f, xs, err, connBase, true)

	f = r.rep.add("circuit_build", "circuit build + stream open (CONNECT, fresh username)", unitSeconds)
	i := 0
	xs, err = r.repeat(ctx, reps{label: "onion: circuit builds", n: p.builds, budget: p.latencyBudget, timeout: p.opTimeout},
		func(ctx context.Context) (float64, error) {
			i++
			return connectTime(ctx, viaOnion.dialer(r.user("build", i), ""), tiny)
		})
	r.set(f, xs, err, connBase, true)

	f = r.rep.add("ttfb_warm", "TTFB tiny GET, warm circuit (new stream)", unitSeconds)
	lat.label = "onion: tiny GET on a warm circuit"
	c := viaOnion.client(warm, "")
	xs, err = r.repeat(ctx, lat, func(ctx context.Context) (float64, error) { return ttfb(ctx, c, url) })
	r.set(f, xs, err, getBase, true)

	r.waitConnected(ctx, lat, getBase)
	r.hopFloor(ctx, lat, get, f)
	r.optimistic(ctx, lat, warm)

	f = r.rep.add("ttfb_fresh", "TTFB tiny GET, fresh circuit", unitSeconds)
	i = 0
	lat.label = "onion: tiny GET on a fresh circuit"
	xs, err = r.repeat(ctx, lat, func(ctx context.Context) (float64, error) {
		i++
		return ttfb(ctx, viaOnion.client(r.user("fresh", i), ""), url)
	})
	r.set(f, xs, err, getBase, true)
}

// waitConnected measures the warm tiny GET through the second proxy, which
// answers CONNECT only after CONNECTED (waitproxy.go).
func (r *runner) waitConnected(ctx context.Context, lat reps, getBase baseline) {
	f := r.rep.add("ttfb_warm_wait", "TTFB tiny GET, warm circuit, proxy --wait-connected (SOCKS reply after CONNECTED)", unitSeconds)
	if r.wait == nil {
		return
	}
	rt := route{socks: r.wait.addr}
	err := r.warmUp(ctx, rt, "", "")
	var xs []float64
	if err == nil {
		lat.label = "onion, --wait-connected: tiny GET on a warm circuit"
		c := rt.client("", "")
		xs, err = r.repeat(ctx, lat, func(ctx context.Context) (float64, error) { return ttfb(ctx, c, r.dest.tinyURL()) })
	}
	r.set(f, xs, err, getBase, true)
	r.rep.note("early SOCKS replies: the network's proxy answers a CONNECT to a destination its circuit reached before at once, and the request follows BEGIN through the circuit; --wait-connected answers only after CONNECTED, which costs one more trip through the circuit")
}

// warmUp makes sure the circuit of user exists: one tiny GET, not counted.
func (r *runner) warmUp(ctx context.Context, rt route, user, pass string) error {
	_, err := withTimeout(ctx, r.plan.opTimeout, func(ctx context.Context) (float64, error) {
		return ttfb(ctx, rt.client(user, pass), r.dest.tinyURL())
	})
	return err
}

// hopFloor measures the tiny GET through the hop floor (hop.go): as many
// processes as the onion path, no cryptography, no protocol. Its figure
// shows what this machine charges for the path alone; warm is the onion's
// warm-circuit TTFB, which it is compared with.
func (r *runner) hopFloor(ctx context.Context, lat reps, get func(route) sampler, warm *Figure) {
	f := r.rep.add("ttfb_floor", "TTFB tiny GET, hop floor: go-socks5 + 3 forwarders, separate processes, no crypto", unitSeconds)
	ratio := r.rep.add("ttfb_warm_of_floor", "TTFB tiny GET, warm circuit, over the hop floor's", unitRatio)
	if len(r.floor) == 0 {
		return
	}
	lat.label = "hop floor: tiny GET"
	xs, err := r.repeat(ctx, lat, get(route{socks: r.floor[len(r.floor)-1].addr}))
	f.setSamples(xs, true)
	r.record(f, err)
	if err == nil && f.Value != nil && warm.Value != nil {
		ratio.setSamples([]float64{*warm.Value / *f.Value}, false)
	}
	r.rep.note("hop floor: a tiny GET through go-socks5 and three TCP forwarders, each a process of its own like the onion proxy and its three relays; it pays one trip through the path, as a warm onion GET does with an early SOCKS reply (BEGIN, then the request right behind it)")
}

// optimistic measures the warm tiny GET for an optimistic client (one that
// sends its request behind CONNECT without waiting for the reply, as Tor
// Browser does), through the onion proxy and the plain one, and the direct
// GET as before.
func (r *runner) optimistic(ctx context.Context, lat reps, warm string) {
	f := r.rep.add("ttfb_warm_optimistic", "TTFB tiny GET, warm circuit, optimistic client (request sent behind CONNECT)", unitSeconds)
	addr := r.dest.httpAddr()
	op := func(socks, user string) sampler {
		return func(ctx context.Context) (float64, error) { return ttfbOptimistic(ctx, socks, user, addr, "/tiny") }
	}
	lat.label = "plain SOCKS5: tiny GET, optimistic client"
	plain, err := r.repeat(ctx, lat, op(r.plain.addr, ""))
	if err != nil && !r.expired() {
		r.failed(fmt.Errorf("%s: %w", lat.label, err))
	}
	lat.label = "direct: tiny GET"
	c := route{}.client("", "")
	direct, err := r.repeat(ctx, lat, func(ctx context.Context) (float64, error) { return ttfb(ctx, c, r.dest.tinyURL()) })
	if err != nil && !r.expired() {
		r.failed(fmt.Errorf("%s: %w", lat.label, err))
	}
	lat.label = "onion: tiny GET on a warm circuit, optimistic client"
	xs, err := r.repeat(ctx, lat, op(r.net.socks, warm))
	r.set(f, xs, err, baseline{plain: plain, direct: direct}, true)
}
