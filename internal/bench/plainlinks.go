package bench

// What TLS on links costs (onion bench --compare-plain-links): the same
// network twice, once as it runs and once with plain links (onion up
// --insecure-plain-links), measured in alternating rounds so that the
// machine's drift hits both alike. Each round takes a series of warm tiny
// GETs, one on each network in turn, then a one-stream download on each;
// the figures are the medians of the rounds (PROTOCOL.md §2.1, PERFORMANCE.md).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Link-cost rounds and the targets they are checked against (issue 12).
const (
	linkRounds          = 3
	linkRateTarget      = 0.80   // TLS one-stream rate at least this share of plain
	linkTTFBTargetDelta = 0.0002 // TLS warm TTFB at most this much over plain, seconds
)

// LinkSide is one network's figures: per round and their medians.
type LinkSide struct {
	Rates     []float64 `json:"rates_bytes_per_second"` // one-stream download, per round
	TTFBs     []float64 `json:"ttfb_seconds"`           // median warm tiny GET, per round
	CPUs      []float64 `json:"cpu_seconds_per_100mb"`  // proxy + relays during the download, per round
	Rate      float64   `json:"rate_bytes_per_second"`  // median of Rates
	TTFB      float64   `json:"ttfb_median_seconds"`    // median of TTFBs
	CPU       float64   `json:"cpu_median_seconds_per_100mb"`
	TTFBsSeen int       `json:"ttfb_samples_per_round"` // tiny GETs behind each round's median
}

// LinkCost is what --compare-plain-links reports.
type LinkCost struct {
	DownloadBytes int64    `json:"download_bytes"`
	Rounds        int      `json:"rounds"`
	TLS           LinkSide `json:"tls"`
	Plain         LinkSide `json:"plain"`
	RateRatio     float64  `json:"rate_ratio"`         // TLS.Rate / Plain.Rate
	TTFBDelta     float64  `json:"ttfb_delta_seconds"` // TLS.TTFB - Plain.TTFB
	WithinTarget  bool     `json:"within_target"`
}

// CompareLinks runs the comparison as cfg says (its Socks and InfoFile
// must be empty: bench starts both networks) and writes the report to
// cfg.Stdout. Everything it started is stopped before it returns.
func CompareLinks(ctx context.Context, cfg Config) (*LinkCost, error) {
	return compareTwo(ctx, cfg, "--compare-plain-links", "--insecure-plain-links",
		func(r *runner, nets [2]*network) (*LinkCost, error) { return r.compareLinks(ctx, nets[0], nets[1]) })
}

// compareTwo runs an A/B comparison that bench starts both sides of: the
// network as it runs, and one whose `onion up` gets flag. measure
// compares them; its report is written to cfg.Stdout. Everything it
// started is stopped before it returns. what names the bench option.
func compareTwo[R interface{ writeTable(io.Writer) error }](ctx context.Context, cfg Config, what, flag string,
	measure func(*runner, [2]*network) (R, error)) (_ R, err error) {
	var zero R
	if cfg.Socks != "" {
		return zero, fmt.Errorf("%s starts its own two networks: not with --socks", what)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout())
	defer cancel()
	r := &runner{cfg: cfg, plan: cfg.plan(), prog: newProgress(cfg.Stderr, cfg.Live)}
	exe, err := r.exe()
	if err != nil {
		return zero, err
	}
	if r.dest, err = startDest(); err != nil {
		return zero, fmt.Errorf("destination server: %w", err)
	}
	defer r.dest.Close()
	nets := [2]*network{}
	defer func() {
		for _, n := range nets {
			if n != nil {
				err = errors.Join(err, n.stop())
			}
		}
	}()
	for i, extra := range [][]string{nil, {flag}} {
		r.prog.begin(fmt.Sprintf("starting network %d of 2 (onion up %v)", i+1, extra), 0, false)
		if nets[i], err = startNetwork(ctx, exe, extra...); err != nil {
			return zero, err
		}
	}
	res, err := measure(r, nets)
	r.prog.end()
	if err != nil {
		return zero, err
	}
	return res, writeReport(cfg, res)
}

// writeReport writes an A/B report to cfg.Stdout: indented JSON with
// --json, else its table.
func writeReport(cfg Config, r interface{ writeTable(io.Writer) error }) error {
	out := cfg.Stdout
	if out == nil {
		out = io.Discard
	}
	if cfg.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return r.writeTable(out)
}

// compareLinks measures the two networks in alternating rounds.
func (r *runner) compareLinks(ctx context.Context, tlsNet, plainNet *network) (*LinkCost, error) {
	lc := &LinkCost{DownloadBytes: r.plan.size, Rounds: linkRounds}
	sides := [2]*LinkSide{&lc.TLS, &lc.Plain}
	nets := [2]*network{tlsNet, plainNet}
	for i, n := range nets {
		if err := r.warmUp(ctx, route{socks: n.socks}, "", ""); err != nil {
			return nil, fmt.Errorf("warm-up on network %d: %w", i+1, err)
		}
	}
	names := [2]string{"TLS", "plain"}
	for round := range linkRounds {
		first := round % 2 // who goes first alternates
		ttfbs, err := r.linkTTFBs(ctx, nets, first)
		if err != nil {
			return nil, fmt.Errorf("round %d: %w", round+1, err)
		}
		for k := range 2 {
			i := (first + k) % 2
			rate, cpu, err := r.linkDownload(ctx, nets[i])
			if err != nil {
				return nil, fmt.Errorf("round %d, %s links: %w", round+1, names[i], err)
			}
			s := sides[i]
			s.Rates, s.TTFBs, s.CPUs = append(s.Rates, rate), append(s.TTFBs, ttfbs[i]), append(s.CPUs, cpu)
		}
	}
	for _, s := range sides {
		s.Rate, s.TTFB, s.CPU, s.TTFBsSeen = median(s.Rates), median(s.TTFBs), median(s.CPUs), r.plan.ttfbs
	}
	lc.RateRatio, lc.TTFBDelta = lc.TLS.Rate/lc.Plain.Rate, lc.TLS.TTFB-lc.Plain.TTFB
	lc.WithinTarget = lc.RateRatio >= linkRateTarget && lc.TTFBDelta <= linkTTFBTargetDelta
	return lc, nil
}

// linkTTFBs is the median of plan.ttfbs warm tiny GETs on each of the
// two networks, taken one by one in turn (first starts), so that both
// series see the same moments of the machine: after a download, a GET on
// either network waits on the same settling caches and timers.
func (r *runner) linkTTFBs(ctx context.Context, nets [2]*network, first int) ([2]float64, error) {
	order := [2]int{first, 1 - first}
	ops := make([]sampler, 2)
	for k, i := range order {
		c := route{socks: nets[i].socks}.client("", "")
		ops[k] = func(ctx context.Context) (float64, error) { return ttfb(ctx, c, r.dest.tinyURL()) }
	}
	// Every round, as many as the plan says: the report counts them.
	all := reps{label: "tiny GETs", n: r.plan.ttfbs, budget: time.Duration(math.MaxInt64), timeout: r.plan.opTimeout}
	xs, failed, err := r.rounds(ctx, all, ops)
	if err != nil {
		return [2]float64{}, fmt.Errorf("tiny GET on network %d: %w", order[failed]+1, err)
	}
	var medians [2]float64
	for k, i := range order {
		medians[i] = median(xs[k])
	}
	return medians, nil
}

// linkDownload is one download of plan.size on network n: its rate and
// the CPU seconds that the proxy and the relays spent on it, per 100 MB.
func (r *runner) linkDownload(ctx context.Context, n *network) (rate, cpu float64, err error) {
	c := route{socks: n.socks}.client("", "")
	r.prog.begin("download "+mb(r.plan.size), r.plan.size, true)
	procs := n.processes()
	before, err := takeCPU(procs)
	if err != nil {
		return 0, 0, err
	}
	secs, err := withTimeout(ctx, r.plan.transferLimit, func(ctx context.Context) (float64, error) {
		return download(ctx, c, r.dest.blobURL(r.plan.size), r.plan.size, r.prog.add)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("download: %w", err)
	}
	after, err := takeCPU(procs)
	if err != nil {
		return 0, 0, err
	}
	by := cpuByRole(procs, before, after)
	cpu = (by[roleProxy] + by[roleRelays]) * 100e6 / float64(r.plan.size)
	return float64(r.plan.size) / secs, cpu, nil
}

func (lc *LinkCost) writeTable(w io.Writer) error {
	ms := func(s float64) string { return fmt.Sprintf("%.3f ms", s*1e3) }
	mbs := func(b float64) string { return fmt.Sprintf("%.1f MB/s", b/1e6) }
	var err error
	p := func(format string, a ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, a...)
		}
	}
	p("links: TLS 1.3 against plain (onion up --insecure-plain-links), %d alternating rounds, %s downloads, %d warm tiny GETs a round\n",
		lc.Rounds, mb(lc.DownloadBytes), lc.TLS.TTFBsSeen)
	p("%-7s %12s %12s %6s %11s %11s %10s %9s %9s\n", "round", "TLS rate", "plain rate", "ratio",
		"TLS TTFB", "plain TTFB", "TTFB diff", "TLS CPU", "plain CPU")
	row := func(label string, t, pl float64, ratio, tt, pt, tc, pc float64) {
		p("%-7s %12s %12s %6.3f %11s %11s %10s %8.2fs %8.2fs\n", label, mbs(t), mbs(pl), ratio, ms(tt), ms(pt), ms(tt-pt), tc, pc)
	}
	for i := range lc.TLS.Rates {
		row(fmt.Sprint(i+1), lc.TLS.Rates[i], lc.Plain.Rates[i], lc.TLS.Rates[i]/lc.Plain.Rates[i],
			lc.TLS.TTFBs[i], lc.Plain.TTFBs[i], lc.TLS.CPUs[i], lc.Plain.CPUs[i])
	}
	row("median", lc.TLS.Rate, lc.Plain.Rate, lc.RateRatio, lc.TLS.TTFB, lc.Plain.TTFB, lc.TLS.CPU, lc.Plain.CPU)
	p("CPU: seconds of the proxy and the relays per 100 MB downloaded\n")
	verdict := "within"
	if !lc.WithinTarget {
		verdict = "NOT within"
	}
	p("target: TLS rate >= %.0f%% of plain, TLS warm TTFB <= plain + %s: %s target\n",
		linkRateTarget*100, ms(linkTTFBTargetDelta), verdict)
	if math.IsNaN(lc.RateRatio) {
		p("(no figures)\n")
	}
	return err
}
