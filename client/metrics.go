package client

// Prometheus instruments for the users of a Manager (the proxy and the
// hidden server): circuit builds, timed and counted by result and by
// failure reason, and what the Manager holds, read at each scrape. They
// count, never name: no destination, address or user is a label.

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onion/onion"
	"onion/onion/circuit"
)

// BuildMetrics times and counts circuit builds; Observe is a
// Config.OnBuild.
type BuildMetrics struct {
	seconds  prometheus.Histogram
	builds   *prometheus.CounterVec
	failures *prometheus.CounterVec
}

// NewBuildMetrics makes the instruments, their names starting with
// prefix ("onion_proxy", say).
func NewBuildMetrics(prefix string) *BuildMetrics {
	b := &BuildMetrics{
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    prefix + "_circuit_build_seconds",
			Help:    "Time to build one circuit path (three hops), successful or not.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		builds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: prefix + "_circuit_builds_total",
			Help: "Circuit path builds, by result (ok: a circuit was created, or failed).",
		}, []string{"result"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: prefix + "_circuit_build_failures_total",
			Help: "Failed circuit path builds, by reason (" + reasonList + ").",
		}, []string{"reason"}),
	}
	b.builds.WithLabelValues("ok")
	b.builds.WithLabelValues("failed")
	return b
}

// Observe records one build attempt.
func (b *BuildMetrics) Observe(took time.Duration, err error) {
	b.seconds.Observe(took.Seconds())
	if err == nil {
		b.builds.WithLabelValues("ok").Inc()
		return
	}
	b.builds.WithLabelValues("failed").Inc()
	b.failures.WithLabelValues(BuildFailureReason(err)).Inc()
}

// Collectors are the instruments, to register.
func (b *BuildMetrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{b.seconds, b.builds, b.failures}
}

const reasonList = "timeout, canceled, extend_refused, handshake, link_closed, connect, other"

// BuildFailureReason is one word for why a circuit build failed, from a
// fixed set (reasonList): a label value that names no relay or address.
func BuildFailureReason(err error) string {
	var ee *circuit.ExtendError
	var op *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &ee):
		return "extend_refused"
	case errors.Is(err, onion.ErrHandshake), errors.Is(err, onion.ErrWrongRelayKeys):
		return "handshake"
	case errors.Is(err, circuit.ErrLinkClosed), errors.Is(err, circuit.ErrCircuitClosed):
		return "link_closed"
	case errors.As(err, &op):
		return "connect"
	}
	return "other"
}

// ManagerCollectors read m at each scrape: circuits and streams open,
// relays listed, and relay cell payload bytes; names start with prefix.
func ManagerCollectors(prefix string, m *Manager) []prometheus.Collector {
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: prefix + "_" + name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: prefix + "_" + name, Help: help}, f)
	}
	return []prometheus.Collector{
		gauge("circuits_open", "Circuits open now.", func() float64 { return float64(len(m.Circuits())) }),
		gauge("streams_open", "Streams open now, on all circuits.", func() float64 {
			n := 0
			for _, c := range m.Circuits() {
				n += c.Streams
			}
			return float64(n)
		}),
		gauge("relays_listed", "Relays in the verified relay list.", func() float64 { return float64(len(m.Relays())) }),
		counter("relay_bytes_sent_total", "Relay cell payload bytes sent on all circuits.",
			func() float64 { s, _ := m.Totals(); return float64(s) }),
		counter("relay_bytes_received_total", "Relay cell payload bytes received on all circuits.",
			func() float64 { _, r := m.Totals(); return float64(r) }),
	}
}
