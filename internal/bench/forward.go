package bench

// A forwarded download (PROTOCOL.md §11.8): the network this run starts has
// its hidden server forward virtual port 8080 to the destination's HTTP
// server, so one download from the same blob runs through the whole
// hidden-service path (three client hops, the meeting relay, three service
// hops, and the service's splice to the app), compared with the same
// download through an exit in the same run (download_1).

import (
	"context"
	"net"
	"strconv"
)

// hiddenForwardPort is the virtual port bench forwards to its destination.
const hiddenForwardPort = "8080"

// forwardArg is up's --forward value for the destination.
func (r *runner) forwardArg() string { return hiddenForwardPort + "=" + r.dest.httpAddr() }

// hiddenForward measures the forwarded download and its ratios to the
// exit path's download and to the built-in echo.
func (r *runner) hiddenForward(ctx context.Context) {
	if r.net.up == nil {
		r.rep.note("forwarded download not measured on an external network (its hidden server does not forward to this run's destination)")
		return
	}
	info, p := r.net.info, r.plan
	rp := reps{label: "hidden: forwarded download " + mb(p.size), n: p.transfers, budget: p.transferBudget, timeout: p.transferLimit, bytes: p.size}
	url := "http://" + net.JoinHostPort(info.OnionAddress, hiddenForwardPort) + "/blob/" + strconv.FormatInt(p.size, 10)
	c := route{socks: r.net.socks}.client(info.DemoUser, info.DemoPassword)
	f := r.rep.add("hidden_forward_download", "hidden: download from a forwarded local app, 1 stream ("+mb(p.size)+")", unitBytesPerSec)
	xs, err := r.withCPU(ctx, "cpu_hidden_forward", "CPU per 100 MB, forwarded download (proxy + relays)", rp,
		func(ctx context.Context) (float64, error) {
			secs, err := download(ctx, c, url, p.size, r.prog.add)
			return float64(p.size) / secs, err
		})
	r.set(f, xs, err, baseline{}, false)
	r.ratioTo("hidden_forward_of_exit", "hidden: forwarded download ÷ the same download through an exit", "hidden_forward_download", "download_1")
	r.ratioTo("hidden_echo_of_exit", "hidden: built-in echo (payload rate, 1 stream) ÷ download through an exit", "hidden_echo_1", "download_1")
}

// ratioTo adds figure key as figure num's value over figure den's.
func (r *runner) ratioTo(key, label, num, den string) {
	n, d := r.rep.Figures[num], r.rep.Figures[den]
	if n == nil || d == nil || n.Value == nil || d.Value == nil || *d.Value == 0 {
		return
	}
	f := r.rep.add(key, label, unitRatio)
	f.setSamples([]float64{*n.Value / *d.Value}, false)
}
