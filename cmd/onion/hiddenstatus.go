package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/urfave/cli/v2"

	"onion/hiddenserver"
	"onion/internal/loopback"
)

// hiddenStatusFlag is the hidden server's status page address.
func hiddenStatusFlag() cli.Flag {
	return &cli.StringFlag{Name: "status", Usage: "serve a status page of the meeting relays at http://`HOST:PORT`/ (JSON at /meeting), loopback only; port 0 picks a free port (the ready line says which); default: off", EnvVars: []string{"ONION_HIDDENSERVER_STATUS"}}
}

// hiddenViews are what the hidden server shows beside its service: its
// metrics and its status page, each nil when off, and the ready line's
// fields that say where.
type hiddenViews struct {
	metrics *hiddenserver.Metrics
	status  *hiddenserver.Status
	ready   string // " status=HOST:PORT metrics=HOST:PORT", the parts that are on
}

// startHiddenViews starts --status and --metrics, serving until
// c.Context ends.
func startHiddenViews(c *cli.Context, log *slog.Logger) (v hiddenViews, err error) {
	if addr := c.String("status"); addr != "" {
		if err := loopback.Addr(addr); err != nil {
			return v, fmt.Errorf("--status: %w: the page names the meeting relays, for this machine only", err)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return v, fmt.Errorf("--status: %w", err)
		}
		v.status = &hiddenserver.Status{}
		srv := &http.Server{Handler: v.status.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		context.AfterFunc(c.Context, func() { srv.Close() })
		v.ready = " status=" + ln.Addr().String()
	}
	met, err := startMetrics(c, log)
	if err != nil || met.reg == nil {
		return v, err
	}
	v.ready += met.readyField()
	v.metrics, err = hiddenserver.NewMetrics(met.reg)
	return v, err
}
