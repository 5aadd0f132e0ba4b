package main

// --metrics ADDR on every part: Prometheus text format at
// http://ADDR/metrics, from the part's own registry (plus the Go runtime's
// and the process's). Loopback only unless --metrics-public, and then
// only to requests whose Host names this machine, like the status page.

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/urfave/cli/v2"

	"onion/internal/loopback"
)

// metricsFlags are --metrics and --metrics-public, for every part.
func metricsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "metrics", Usage: "serve Prometheus metrics at http://`HOST:PORT`/metrics (port 0 picks a free port; the ready line says which): counts only, never an address, destination or user; loopback only, and only to requests whose Host header is a loopback address or localhost, unless --metrics-public; default: off", EnvVars: []string{"ONION_METRICS"}},
		&cli.BoolFlag{Name: "metrics-public", Usage: "let --metrics listen on any address and answer any Host header (for a Prometheus server on another machine; put a firewall in front: anyone who reaches it reads the counts)", EnvVars: []string{"ONION_METRICS_PUBLIC"}},
	}
}

// partMetrics is a part's metrics endpoint, when --metrics asks for one.
type partMetrics struct {
	reg  prometheus.Registerer // nil when off: the parts then count nothing
	addr string                // the bound address, "" when off
}

// readyField is the ready line's metrics=HOST:PORT field, with its
// leading space, or "" when off.
func (p partMetrics) readyField() string {
	if p.addr == "" {
		return ""
	}
	return " metrics=" + p.addr
}

// startMetrics listens on --metrics and serves the registry it returns
// until c.Context ends; with no --metrics it returns a partMetrics that is
// off.
func startMetrics(c *cli.Context, log *slog.Logger) (partMetrics, error) {
	addr, public := c.String("metrics"), c.Bool("metrics-public")
	if addr == "" {
		return partMetrics{}, nil
	}
	if err := loopback.Addr(addr); err != nil && !public {
		return partMetrics{}, fmt.Errorf("--metrics %s: not a loopback address (say --metrics-public to serve metrics to other machines)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return partMetrics{}, fmt.Errorf("--metrics: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv := &http.Server{Handler: metricsHandler(reg, public), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	context.AfterFunc(c.Context, func() { srv.Close() })
	log.Info("metrics listening", "url", "http://"+ln.Addr().String()+"/metrics")
	return partMetrics{reg: reg, addr: ln.Addr().String()}, nil
}

// metricsHandler serves reg at GET /metrics; unless public, only to
// requests whose Host names this machine.
func metricsHandler(reg *prometheus.Registry, public bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if public {
		return mux
	}
	return loopback.Guard(mux)
}

// upMetricsFlag is up's --metrics: passed to every part.
func upMetricsFlag() cli.Flag {
	return &cli.StringFlag{Name: "metrics", Usage: "passed to every part: each serves Prometheus metrics on a free port of its own at this loopback address, which must end in :0 (e.g. 127.0.0.1:0); the banner and the info file (\"metrics\") say where; default: off"}
}
