package proxy

// Metrics in the Prometheus text format, at GET /metrics on the status
// address (loopback only, like the rest of it) and, with `--metrics`, on
// an address of their own. They count, never name: no destination,
// address or user appears in a label.

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"onion/client"
)

// metrics are the proxy's own instruments; the rest is read from the
// Manager at each scrape. They are registered in the status endpoint's
// registry and, if set, in extra (Config.Metrics).
type metrics struct {
	reg    *prometheus.Registry
	extra  prometheus.Registerer
	builds *client.BuildMetrics
}

func newMetrics(extra prometheus.Registerer) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), extra: extra, builds: client.NewBuildMetrics("onion_proxy")}
	m.register(m.builds.Collectors()...)
	return m
}

func (m *metrics) register(cs ...prometheus.Collector) {
	m.reg.MustRegister(cs...)
	if m.extra != nil {
		m.extra.MustRegister(cs...)
	}
}

// observeBuild is the Manager's OnBuild.
func (m *metrics) observeBuild(took time.Duration, err error) { m.builds.Observe(took, err) }

// watch registers what is read from mgr at each scrape.
func (m *metrics) watch(mgr *client.Manager) {
	m.register(client.ManagerCollectors("onion_proxy", mgr)...)
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
