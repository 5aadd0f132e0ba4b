package bench

// Hidden-service figures. The SOCKS username is the login name and the
// demo user the only login, so every stream with valid credentials shares
// one meeting circuit (the proxy isolates streams by credentials). Fresh
// meeting circuits are therefore measured with fresh usernames and no
// password: the whole path up to the service's first answer (its login
// challenge, which the proxy then declines without deriving a key; or, from
// a service without logins, its refusal of a port it does not offer).

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"golang.org/x/net/proxy"

	"onion/onion"
)

// Virtual ports of the hidden server (hiddenserver.PortEcho, PortHTTP) and
// one it does not offer.
const (
	hiddenEchoPort   = "7"
	hiddenHTTPPort   = "80"
	hiddenClosedPort = "81"
)

// hiddenService measures the hidden server, if the network has one.
func (r *runner) hiddenService(ctx context.Context) {
	switch {
	case r.rep.Setup.Hidden:
		r.hidden(ctx)
	case r.net.info != nil:
		r.rep.note("the network has no hidden server (or its info file no demo user): hidden-service figures skipped")
	}
}

func (r *runner) hidden(ctx context.Context) {
	info, p := r.net.info, r.plan
	rt := route{socks: r.net.socks}
	host := info.OnionAddress
	hd := rt.dialer(info.DemoUser, info.DemoPassword)
	lat := reps{n: p.ttfbs, budget: p.latencyBudget, timeout: p.opTimeout}
	connBase, getBase := r.baselineOf("connect_warm"), r.baselineOf("ttfb_warm")

	f := r.rep.add("hidden_first_contact", "hidden: first contact (lookup, meeting circuit, login incl. KDF)", unitSeconds)
	r.prog.begin("hidden: first contact", 0, false)
	x, err := withTimeout(ctx, p.opTimeout, func(ctx context.Context) (float64, error) {
		return connectTime(ctx, hd, net.JoinHostPort(host, hiddenHTTPPort))
	})
	r.set(f, single(x, err), err, connBase, false)
	if r.rep.Setup.Network == networkExternal {
		r.rep.note("hidden first contact on an external network: the proxy may have met the service before")
	}

	f = r.rep.add("hidden_new_circuit", "hidden: new meeting circuit to the service's first answer (fresh username)", unitSeconds)
	i := 0
	xs, err := r.repeat(ctx, reps{label: "hidden: new meeting circuits", n: p.contacts, budget: p.latencyBudget, timeout: p.opTimeout},
		func(ctx context.Context) (float64, error) {
			i++
			return refusedTime(ctx, rt.dialer(r.user("hs", i), ""), net.JoinHostPort(host, hiddenClosedPort))
		})
	r.set(f, xs, err, connBase, true)

	f = r.rep.add("hidden_kdf", fmt.Sprintf("hidden: password KDF (scrypt 2^%d, in this process)", onion.DefaultAuthLogN), unitSeconds)
	r.prog.begin("hidden: password KDF", 0, false)
	x, err = kdfTime(host)
	r.set(f, single(x, err), err, baseline{}, false)

	f = r.rep.add("hidden_ttfb_warm", "hidden: TTFB GET /echo, warm circuit (new stream + login)", unitSeconds)
	lat.label = "hidden: GET /echo on a warm circuit"
	c := rt.client(info.DemoUser, info.DemoPassword)
	url := "http://" + net.JoinHostPort(host, hiddenHTTPPort) + "/echo?msg=ok"
	xs, err = r.repeat(ctx, lat, func(ctx context.Context) (float64, error) { return ttfb(ctx, c, url) })
	r.set(f, xs, err, getBase, true)

	r.hiddenEchoes(ctx)
	r.hiddenForward(ctx)
}

// baselineOf is the baseline already measured for figure key, as its
// medians; empty if it has none.
func (r *runner) baselineOf(key string) baseline {
	f := r.rep.Figures[key]
	if f == nil || f.Plain == nil || f.Direct == nil {
		return baseline{}
	}
	return baseline{plain: []float64{*f.Plain}, direct: []float64{*f.Direct}}
}

// hiddenEchoes measures echo throughput through the service's raw echo
// port, one stream and Streams streams, against a local echo.
func (r *runner) hiddenEchoes(ctx context.Context) {
	info, p := r.net.info, r.plan
	per := p.size / Streams
	one := reps{label: "echo " + mb(p.size), n: p.transfers, budget: p.transferBudget, timeout: p.transferLimit, bytes: p.size}
	many := one
	many.label = fmt.Sprintf("echo %d x %s", Streams, mb(per))
	many.bytes = per * Streams
	local := r.dest.echoAddr()
	base1 := r.baselines(ctx, one, func(rt route) sampler { return r.echoes(rt.dialer("", ""), local, 1) })
	base8 := r.baselines(ctx, many, func(rt route) sampler { return r.echoes(rt.dialer("", ""), local, Streams) })

	hd := route{socks: r.net.socks}.dialer(info.DemoUser, info.DemoPassword)
	remote := net.JoinHostPort(info.OnionAddress, hiddenEchoPort)
	f := r.rep.add("hidden_echo_1", "hidden: echo, 1 stream ("+mb(p.size)+" each way, payload rate)", unitBytesPerSec)
	one.label = "hidden: " + one.label
	xs, err := r.withCPU(ctx, "cpu_hidden_echo_1", "CPU per 100 MB echoed, 1 stream (proxy + relays)", one, r.echoes(hd, remote, 1))
	r.set(f, xs, err, base1, false)

	f = r.rep.add("hidden_echo_8", fmt.Sprintf("hidden: echo, %d streams on 1 circuit (%s each, aggregate)", Streams, mb(per)), unitBytesPerSec)
	many.label = "hidden: " + many.label
	xs, err = r.withCPU(ctx, "cpu_hidden_echo_8", fmt.Sprintf("CPU per 100 MB echoed, %d streams (proxy + relays)", Streams), many, r.echoes(hd, remote, Streams))
	r.set(f, xs, err, base8, false)
	r.noteHiddenCPU()
}

// echoes sends size/k bytes on each of k streams at once through d to the
// echo at addr, reads them back, and returns the payload rate in B/s.
func (r *runner) echoes(d proxy.ContextDialer, addr string, k int) sampler {
	per := r.plan.size / int64(k)
	return func(ctx context.Context) (float64, error) {
		secs, err := together(ctx, k, func(ctx context.Context, _ int) error {
			_, err := echoTime(ctx, d, addr, per, r.prog.add)
			return err
		})
		return float64(per*int64(k)) / secs, err
	}
}

// noteHiddenCPU says what the hidden server itself spent on the echoes.
func (r *runner) noteHiddenCPU() {
	var parts []string
	for _, k := range []string{"cpu_hidden_echo_1", "cpu_hidden_echo_8"} {
		if c := r.rep.CPU[k]; c != nil && c.Bytes > 0 {
			parts = append(parts, fmt.Sprintf("%s: %s", k, sig3(c.Seconds[roleHidden]/float64(c.Bytes)*1e8)))
		}
	}
	if len(parts) > 0 {
		r.rep.note("the hidden server's own CPU seconds per 100 MB echoed, not in the figures above: " + strings.Join(parts, ", "))
	}
}

var errNotRefused = errors.New("bench: the hidden server accepted a stream without a login to a port it does not offer")

// refusedTime is how long a CONNECT through d, without a password, to
// addr, a port the hidden server does not offer, takes to be refused: "not
// allowed" when the service asks for a login, "connection refused" when it
// does not. Any other outcome is an error.
func refusedTime(ctx context.Context, d proxy.ContextDialer, addr string) (float64, error) {
	start := time.Now()
	c, err := d.DialContext(ctx, "tcp", addr)
	elapsed := time.Since(start).Seconds()
	if err == nil {
		c.Close()
		return 0, errNotRefused
	}
	// "code: 244": Tor's extended reply 0xF4 (missing client
	// authorization), which x/net/proxy names by its number.
	if msg := err.Error(); !strings.Contains(msg, "not allowed") && !strings.Contains(msg, "connection refused") &&
		!strings.Contains(msg, "code: 244") {
		return 0, err
	}
	return elapsed, nil
}

// kdfTime is how long deriving one login verifier takes here: the work the
// proxy does on a first contact with a service that asks for a password.
func kdfTime(host string) (float64, error) {
	pub, err := onion.ParseAddress(host)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if _, err := onion.DeriveVerifier(pub, "bench", "bench-password", onion.DefaultAuthLogN); err != nil {
		return 0, err
	}
	return time.Since(start).Seconds(), nil
}

// single is the samples of a figure measured once: none if it failed.
func single(x float64, err error) []float64 {
	if err != nil {
		return nil
	}
	return []float64{x}
}
