package bench

// `onion bench --hosts`: the latency and one-stream figures measured on a
// network spread over network namespaces (internal/testhosts), one host
// per part, instead of on loopback: every byte crosses veths and a bridge,
// as between machines, with each part's own address. The baseline is the
// same request straight from the client host to the destination host.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/proxy"

	"onion/internal/testhosts"
)

// networkHosts is Setup.Network for a run on namespaces.
const networkHosts = "hosts"

// hostsRelays and hostsExits are the network's size, as `onion up`'s.
const (
	hostsRelays = 5
	hostsExits  = 2
)

// runHosts is Run for cfg.Hosts.
func runHosts(ctx context.Context, cfg Config) (*Report, error) {
	if why := testhosts.Missing(); why != "" {
		return nil, fmt.Errorf("bench --hosts: %s (it builds network namespaces)", why)
	}
	if cfg.Socks != "" {
		return nil, errors.New("bench --hosts starts its own network: it does not go with --socks")
	}
	r := &runner{cfg: cfg, plan: cfg.plan(), rep: newReport(), prog: newProgress(cfg.Stderr, cfg.Live)}
	r.id = randomID()
	start := time.Now()
	r.rep.Started = start.UTC().Truncate(time.Second)
	r.describeMachine()
	runCtx, cancel := context.WithTimeout(ctx, cfg.timeout())
	defer cancel()
	r.expired = func() bool { return runCtx.Err() != nil }

	r.prog.begin("starting the network on namespaces", 0, false)
	hn, err := startHostsNetwork(runCtx, r.exeOrEmpty())
	r.prog.end()
	if err == nil {
		r.measureHosts(runCtx, hn)
	}
	if stopErr := hn.close(); err == nil && stopErr != nil {
		r.failed(stopErr)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("interrupted: %w", ctx.Err())
	}
	if err != nil {
		return nil, err
	}
	r.rep.Duration = time.Since(start).Round(time.Millisecond).Seconds()
	if err := r.write(); err != nil {
		return r.rep, err
	}
	return r.rep, errors.Join(r.errs...)
}

func (r *runner) exeOrEmpty() string {
	exe, _ := r.exe()
	return exe
}

// measureHosts takes circuit_build, ttfb_warm and download_1, each beside
// the direct path between the same two hosts.
func (r *runner) measureHosts(ctx context.Context, hn *hostsNetwork) {
	p := r.plan
	s := &r.rep.Setup
	s.Network, s.Relays, s.Exits, s.DownloadBytes, s.Streams, s.Quick = networkHosts, hostsRelays, hostsExits, p.size, 1, r.cfg.Quick
	onion := func(user string) proxy.ContextDialer { return hn.onionDialer(user) }
	direct := hostDialer{hn.client}
	lat := reps{n: p.builds, budget: p.latencyBudget, timeout: p.opTimeout}

	f := r.rep.add("circuit_build", "circuit build + stream open (CONNECT, fresh username), across hosts", unitSeconds)
	i := 0
	lat.label = "onion: circuit builds across hosts"
	xs, err := r.repeat(ctx, lat, func(ctx context.Context) (float64, error) {
		i++
		return connectTime(ctx, onion(r.user("build", i)), hn.destHTTP)
	})
	lat.label = "direct: TCP connects across hosts"
	ds, derr := r.repeat(ctx, lat, func(ctx context.Context) (float64, error) { return connectTime(ctx, direct, hn.destHTTP) })
	r.setHosts(f, xs, ds, errors.Join(err, derr))

	f = r.rep.add("ttfb_warm", "TTFB tiny GET, warm circuit (new stream), across hosts", unitSeconds)
	warm, tiny := httpVia(onion(r.user("warm", 0))), "http://"+hn.destHTTP+"/tiny"
	_, err = withTimeout(ctx, p.opTimeout, func(ctx context.Context) (float64, error) { return ttfb(ctx, warm, tiny) })
	lat.n, lat.label = p.ttfbs, "onion: warm tiny GETs across hosts"
	xs, err2 := r.repeat(ctx, lat, func(ctx context.Context) (float64, error) { return ttfb(ctx, warm, tiny) })
	lat.label = "direct: tiny GETs across hosts"
	ds, derr = r.repeat(ctx, lat, func(ctx context.Context) (float64, error) { return ttfb(ctx, httpVia(direct), tiny) })
	r.setHosts(f, xs, ds, errors.Join(err, err2, derr))

	f = r.rep.add("download_1", fmt.Sprintf("download, 1 stream (%s), across hosts", mb(p.size)), unitBytesPerSec)
	blob := fmt.Sprintf("http://%s/blob/%d", hn.destHTTP, p.size)
	tr := reps{n: p.transfers, budget: p.transferBudget, timeout: p.transferLimit, label: "onion: downloads across hosts"}
	rate := func(c *http.Client) sampler {
		return func(ctx context.Context) (float64, error) {
			secs, err := download(ctx, c, blob, p.size, func(int) {})
			return float64(p.size) / secs, err
		}
	}
	xs, err = r.repeat(ctx, tr, rate(httpVia(onion(r.user("dl", 0)))))
	tr.label = "direct: downloads across hosts"
	ds, derr = r.repeat(ctx, tr, rate(httpVia(direct)))
	r.setHosts(f, xs, ds, errors.Join(err, derr))
	r.rep.note("--hosts: directory, " + fmt.Sprint(hostsRelays) + " relays, destination, proxy and client each in a network namespace of its own on one bridge (internal/testhosts); direct is client host to destination host")
}

func (r *runner) setHosts(f *Figure, xs, direct []float64, err error) {
	f.setSamples(xs, true)
	f.setBaselines(nil, direct)
	r.record(f, err)
}

// httpVia is an HTTP client dialling with d, a new connection per request.
func httpVia(d proxy.ContextDialer) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: d.DialContext, DisableKeepAlives: true, DisableCompression: true,
	}}
}

// hostDialer dials from a test host.
type hostDialer struct{ h *testhosts.Host }

func (d hostDialer) Dial(network, addr string) (net.Conn, error) {
	return d.h.Dial(context.Background(), network, addr)
}

func (d hostDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return d.h.Dial(ctx, network, addr)
}
