package hiddenserver

// Prometheus instruments of a hidden server process, shared by all its
// services: circuit builds, logins, streams and meeting circuits. The hot
// paths add to atomic counters; the registry reads them at each scrape.
// No label names a user, a client or a relay.

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onion/client"
)

// Metrics are the instruments (Config.Metrics). A nil *Metrics counts
// nothing.
type Metrics struct {
	reg    prometheus.Registerer
	builds *client.BuildMetrics
	logins [3]atomic.Uint64 // by verdict
	// streams open now: accepted from clients, logging in or served.
	streams atomic.Int64

	mu       sync.Mutex
	servers  []*Server
	watching bool
}

// NewMetrics makes the instruments and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{reg: reg, builds: client.NewBuildMetrics("onion_hiddenserver")}
	cs := m.builds.Collectors()
	for v := range m.logins {
		cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "onion_hiddenserver_logins_total",
			Help:        "Login proofs judged, by result: accepted, denied (wrong name or password), throttled (the login budget was spent).",
			ConstLabels: prometheus.Labels{"result": verdict(v).String()},
		}, func() float64 { return float64(m.logins[v].Load()) }))
	}
	cs = append(cs,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "onion_hiddenserver_streams_open", Help: "Streams from clients open now, all services."},
			func() float64 { return float64(m.streams.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "onion_hiddenserver_meeting_circuits_open", Help: "Circuits to meeting relays open now, all services."},
			m.meetingCircuits),
	)
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// observeBuild is the circuit manager's OnBuild, chained after any other.
func (m *Metrics) observeBuild(cfg *client.Config) {
	if m == nil {
		return
	}
	prev := cfg.OnBuild
	cfg.OnBuild = func(took time.Duration, err error) {
		if prev != nil {
			prev(took, err)
		}
		m.builds.Observe(took, err)
	}
}

// watch registers, once, what is read from the circuit manager.
func (m *Metrics) watch(mgr *client.Manager) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.watching {
		return
	}
	m.watching = true
	for _, c := range client.ManagerCollectors("onion_hiddenserver", mgr) {
		m.reg.Register(c) // the names are unique to this package
	}
}

func (m *Metrics) add(s *Server) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.servers = append(m.servers, s)
	m.mu.Unlock()
}

func (m *Metrics) meetingCircuits() float64 {
	m.mu.Lock()
	servers := append([]*Server(nil), m.servers...)
	m.mu.Unlock()
	n := 0
	for _, s := range servers {
		n += s.count()
	}
	return float64(n)
}

func (m *Metrics) login(v verdict) {
	if m != nil {
		m.logins[v].Add(1)
	}
}

// stream counts a stream open until the returned func is called.
func (m *Metrics) stream() (done func()) {
	if m == nil {
		return func() {}
	}
	m.streams.Add(1)
	return func() { m.streams.Add(-1) }
}
