package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"onion/internal/bench"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "measure the network end to end: circuit builds, time to first byte, throughput, CPU and memory",
		Description: "Starts its own network (as `onion up` on free loopback ports), a local HTTP server to\n" +
			"download from, and baselines in processes of their own: a plain SOCKS5 proxy, and a hop floor\n" +
			"(a SOCKS5 proxy and three TCP forwarders, as many processes as the onion path, no crypto).\n" +
			"Then it prints a table of figures, each beside a direct download and the plain proxy: circuit\n" +
			"builds, time to first byte, one and eight downloads, CPU per 100 MB, peak RSS, the crypto\n" +
			"bound on one download (measured in this process), idle-circuit memory at the relays, and the\n" +
			"hidden server, and the tiny GET under load (four downloads, capped and full speed, on other\n" +
			"circuits and on the GET's own) against its idle time and the hop floor under the same load,\n" +
			"with how busy the downloads alone kept the machine's CPUs.\n" +
			"Everything it starts is stopped at the end. With --socks it measures a running\n" +
			"proxy instead; give that up's --info-file too for CPU, memory and the hidden server.\n" +
			"On a terminal, stderr shows each phase with a progress bar; elsewhere one line per phase.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "socks", Usage: "measure the SOCKS5 proxy already running at `ADDR` instead of starting a network"},
			&cli.StringFlag{Name: "info-file", Usage: "with --socks: the --info-file `PATH` of its onion up (pids for CPU and memory, the hidden server)"},
			&cli.StringFlag{Name: "size", Usage: "bytes per download, e.g. 100MB or 64MiB (default 100MB, 8MB with --quick)"},
			&cli.BoolFlag{Name: "quick", Usage: "a few repetitions of everything and small downloads: a smoke test, not figures"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object (seconds, bytes, bytes per second) instead of the table"},
			&cli.BoolFlag{Name: "load-only", Usage: "measure only the tiny GET under load (4 downloads, capped and full speed) against its idle baseline"},
			&cli.StringFlag{Name: "load-cap", Usage: "each download's `RATE` in the capped under-load case, e.g. 10MB (per second; default 20MB)"},
			&cli.DurationFlag{Name: "timeout", Value: bench.DefaultTimeout, Usage: "stop the run after this long"},
			&cli.BoolFlag{Name: "compare-plain-links", Usage: "instead of the full table: what TLS on links costs, against the same network with plain links (one-stream rate and warm TTFB, alternating rounds)"},
			&cli.BoolFlag{Name: "compare-congestion-control", Usage: "instead of the full table: bulk with circuit congestion control against stream windows alone (one stream and 8 streams, alternating rounds on two networks)"},
			&cli.BoolFlag{Name: "no-congestion-control", Usage: "start the network with its proxy at --no-congestion-control (stream windows alone), to compare with a run without it"},
			&cli.BoolFlag{Name: "hosts", Usage: "measure circuit builds, warm TTFB and one download on a network of network namespaces (one host per part, each its own address) instead of loopback; needs root and ip (iproute2)"},
		},
		Action: runBench,
	}
}

func runBench(c *cli.Context) error {
	cfg := bench.Config{
		Socks: c.String("socks"), InfoFile: c.String("info-file"),
		Quick: c.Bool("quick"), JSON: c.Bool("json"), Timeout: c.Duration("timeout"), Hosts: c.Bool("hosts"),
		LoadOnly: c.Bool("load-only"), NoCongestionControl: c.Bool("no-congestion-control"),
		Stdout: os.Stdout, Stderr: os.Stderr, Live: term.IsTerminal(int(os.Stderr.Fd())),
	}
	if cfg.InfoFile != "" && cfg.Socks == "" {
		return cli.Exit("--info-file goes with --socks: without --socks bench starts its own network", 2)
	}
	if s := c.String("size"); s != "" {
		n, err := bench.ParseSize(s)
		if err != nil {
			return cli.Exit("--"+err.Error(), 2)
		}
		cfg.DownloadBytes = n
	}
	if s := c.String("load-cap"); s != "" {
		rate, err := parseLoadCap(s)
		if err != nil {
			return cli.Exit(err.Error(), 2)
		}
		cfg.LoadCap = rate
	}
	if c.Bool("compare-congestion-control") {
		_, err := bench.CompareCC(c.Context, cfg)
		return err
	}
	if c.Bool("compare-plain-links") {
		_, err := bench.CompareLinks(c.Context, cfg)
		return err
	}
	_, err := bench.Run(c.Context, cfg)
	return err
}

// parseLoadCap reads --load-cap: bytes per second per download, as a
// size ("10MB", "16MiB") with or without "/s".
func parseLoadCap(s string) (float64, error) {
	n, err := bench.ParseSize(strings.TrimSuffix(strings.TrimSpace(s), "/s"))
	if err != nil {
		return 0, fmt.Errorf("--load-cap %q: want bytes per second per download, e.g. 10MB", s)
	}
	return float64(n), nil
}

// benchHopCommand runs one helper process of bench's baselines (a plain
// SOCKS5 proxy or a TCP forwarder). Hidden: bench starts it itself.
func benchHopCommand() *cli.Command {
	return &cli.Command{
		Name:   "bench-hop",
		Usage:  "(used by bench) one plain SOCKS5 proxy or TCP forwarder of a baseline, on a free loopback port",
		Hidden: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "mode", Usage: "socks or forward", Required: true},
			&cli.StringFlag{Name: "to", Usage: "forward: where to; socks: send every CONNECT there instead (optional)"},
		},
		Action: func(c *cli.Context) error {
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
			defer stop()
			err := bench.ServeHop(ctx, c.String("mode"), c.String("to"), os.Stdout)
			if ctx.Err() != nil {
				return nil
			}
			return err
		},
	}
}
