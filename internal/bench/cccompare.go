package bench

// What circuit congestion control changes in bulk (onion bench
// --compare-congestion-control): the same build twice, one network as it
// runs and one with its proxy at --no-congestion-control (stream windows
// alone, PROTOCOL.md §6), measured in alternating rounds so that the
// machine's drift hits both alike. Each round takes a one-stream download
// and Streams downloads at once on as many circuits; the figures are the
// medians of the rounds, and the ratios those of the medians.

import (
	"context"
	"fmt"
	"io"
)

// Congestion-control rounds and the bound they are checked against
// (issue 16: bulk within 10% of stream windows alone).
const (
	ccRounds      = 3
	ccRateTarget  = 0.90
	noCCFlagValue = "--no-congestion-control"
)

// CCSide is one network's bulk figures: per round and their medians.
type CCSide struct {
	One     []float64 `json:"one_stream_bytes_per_second"`
	Many    []float64 `json:"streams_aggregate_bytes_per_second"`
	OneMed  float64   `json:"one_stream_median_bytes_per_second"`
	ManyMed float64   `json:"streams_aggregate_median_bytes_per_second"`
}

// CCCost is what --compare-congestion-control reports.
type CCCost struct {
	DownloadBytes int64   `json:"download_bytes"`
	Streams       int     `json:"streams"`
	Rounds        int     `json:"rounds"`
	CC            CCSide  `json:"congestion_control"`
	NoCC          CCSide  `json:"stream_windows_only"`
	OneRatio      float64 `json:"one_stream_ratio"` // CC.OneMed / NoCC.OneMed
	ManyRatio     float64 `json:"aggregate_ratio"`  // CC.ManyMed / NoCC.ManyMed
	WithinTarget  bool    `json:"within_target"`
}

// CompareCC runs the comparison as cfg says (bench starts both networks)
// and writes the report to cfg.Stdout.
func CompareCC(ctx context.Context, cfg Config) (*CCCost, error) {
	return compareTwo(ctx, cfg, "--compare-congestion-control", noCCFlagValue,
		func(r *runner, nets [2]*network) (*CCCost, error) { return r.compareCC(ctx, nets) })
}

// compareCC measures the two networks in alternating rounds.
func (r *runner) compareCC(ctx context.Context, nets [2]*network) (*CCCost, error) {
	cc := &CCCost{DownloadBytes: r.plan.size, Streams: Streams, Rounds: ccRounds}
	sides := [2]*CCSide{&cc.CC, &cc.NoCC}
	users := make([]string, Streams)
	for i := range users {
		users[i] = r.user("cc8-", i)
	}
	for i, n := range nets {
		for _, u := range append([]string{""}, users...) {
			if err := r.warmUp(ctx, route{socks: n.socks}, u, ""); err != nil {
				return nil, fmt.Errorf("warm-up on network %d: %w", i+1, err)
			}
		}
	}
	for round := range ccRounds {
		for k := range 2 {
			i := (round + k) % 2 // who goes first alternates
			rt := route{socks: nets[i].socks}
			r.prog.begin("download "+mb(r.plan.size), r.plan.size, true)
			one, err := withTimeout(ctx, r.plan.transferLimit, r.downloadOne(rt, ""))
			if err != nil {
				return nil, fmt.Errorf("round %d, one stream: %w", round+1, err)
			}
			r.prog.begin(fmt.Sprintf("download %d x %s", Streams, mb(r.plan.size/Streams)), r.plan.size, true)
			many, err := withTimeout(ctx, r.plan.transferLimit, r.downloadMany(rt, users))
			if err != nil {
				return nil, fmt.Errorf("round %d, %d streams: %w", round+1, Streams, err)
			}
			s := sides[i]
			s.One, s.Many = append(s.One, one), append(s.Many, many)
		}
	}
	for _, s := range sides {
		s.OneMed, s.ManyMed = median(s.One), median(s.Many)
	}
	cc.OneRatio, cc.ManyRatio = cc.CC.OneMed/cc.NoCC.OneMed, cc.CC.ManyMed/cc.NoCC.ManyMed
	cc.WithinTarget = cc.OneRatio >= ccRateTarget && cc.ManyRatio >= ccRateTarget
	return cc, nil
}

func (cc *CCCost) writeTable(out io.Writer) error {
	mbs := func(b float64) string { return fmt.Sprintf("%.1f MB/s", b/1e6) }
	var err error
	p := func(format string, a ...any) {
		if err == nil {
			_, err = fmt.Fprintf(out, format, a...)
		}
	}
	p("congestion control against stream windows alone (proxy --no-congestion-control), %d alternating rounds, %s downloads\n",
		cc.Rounds, mb(cc.DownloadBytes))
	p("%-7s %12s %12s %6s %14s %14s %6s\n", "round", "cc 1", "no cc 1", "ratio",
		fmt.Sprintf("cc %d", cc.Streams), fmt.Sprintf("no cc %d", cc.Streams), "ratio")
	row := func(label string, a, b, c, d float64) {
		p("%-7s %12s %12s %6.3f %14s %14s %6.3f\n", label, mbs(a), mbs(b), a/b, mbs(c), mbs(d), c/d)
	}
	for i := range cc.CC.One {
		row(fmt.Sprint(i+1), cc.CC.One[i], cc.NoCC.One[i], cc.CC.Many[i], cc.NoCC.Many[i])
	}
	row("median", cc.CC.OneMed, cc.NoCC.OneMed, cc.CC.ManyMed, cc.NoCC.ManyMed)
	verdict := "within"
	if !cc.WithinTarget {
		verdict = "NOT within"
	}
	p("target: both rates >= %.0f%% of stream windows alone: %s target\n", ccRateTarget*100, verdict)
	return err
}
