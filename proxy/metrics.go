package proxy

// Metrics in the Prometheus text format, at GET /metrics on the status
// address (loopback only, like the rest of it). They count, never name:
// no destination, address or user appears in a label.

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"onion/client"
)

// metrics are the proxy's own instruments; the rest is read from the
// Manager at each scrape.
type metrics struct {
	reg       *prometheus.Registry
	buildTime prometheus.Histogram
	builds    *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		buildTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "onion_proxy_circuit_build_seconds",
			Help:    "Time to build one circuit path (three hops), successful or not.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		builds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onion_proxy_circuit_builds_total",
			Help: "Circuit path builds, by result (ok or failed).",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.buildTime, m.builds)
	return m
}

// observeBuild is the Manager's OnBuild.
func (m *metrics) observeBuild(took time.Duration, err error) {
	m.buildTime.Observe(took.Seconds())
	result := "ok"
	if err != nil {
		result = "failed"
	}
	m.builds.WithLabelValues(result).Inc()
}

// watch registers what is read from mgr at each scrape.
func (m *metrics) watch(mgr *client.Manager) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "onion_proxy_circuits_open", Help: "Circuits open now."},
			func() float64 { return float64(len(mgr.Circuits())) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "onion_proxy_streams_open", Help: "Streams open now, on all circuits."},
			func() float64 { return float64(streamsOpen(mgr)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "onion_proxy_relays_listed", Help: "Relays in the verified relay list."},
			func() float64 { return float64(len(mgr.Relays())) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "onion_proxy_relay_bytes_sent_total", Help: "Relay cell payload bytes sent on all circuits."},
			func() float64 { s, _ := mgr.Totals(); return float64(s) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "onion_proxy_relay_bytes_received_total", Help: "Relay cell payload bytes received on all circuits."},
			func() float64 { _, r := mgr.Totals(); return float64(r) }),
	)
}

func streamsOpen(mgr *client.Manager) int {
	n := 0
	for _, c := range mgr.Circuits() {
		n += c.Streams
	}
	return n
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
