package relay

// Prometheus instruments (Config.Metrics). The data path only adds to
// atomic counters (stats); the registry reads them at each scrape, and
// the gauges read the relay's bookkeeping then too. No label names a
// peer, a destination or a circuit.

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"onion/onion"
)

// stats are the relay's counters, added to where things happen.
type stats struct {
	cells, bytes [2]atomic.Uint64 // by direction, on the link toward the client: fwd (read), back (sent)
	created      atomic.Uint64    // circuits created (CREATE answered)
	closedBy     [len(closeReasons)]atomic.Uint64
	handshakes   [numHandshakeFails]atomic.Uint64
}

// Directions of relayed cells.
const (
	fwd  = 0 // read from the previous hop: toward the exit
	back = 1 // sent back to the previous hop: toward the client
)

// Why a handshake failed, the reason label's values.
const (
	failTLS        = iota // the TLS handshake under a link
	failTLSTimeout        // no TLS handshake in time
	failPreface           // the link preface
	failCreate            // CREATE's handshake (the client's onion-key half, its MAC)
	failCreateKeys        // CREATE named keys this relay does not hold
	numHandshakeFails
)

var handshakeFailNames = [numHandshakeFails]string{"tls", "tls_timeout", "preface", "create", "create_wrong_key"}

// closeReasons name onion.DestroyReason 0 to 10 for the reason label; any
// other value a peer sends counts as the last, "other".
var closeReasons = [...]string{"none", "protocol", "internal", "requested", "layer", "wrong_key",
	"connect_fail", "link_closed", "timeout", "resource", "not_listed", "other"}

// closed counts a circuit closed for reason.
func (s *stats) closed(reason onion.DestroyReason) {
	s.closedBy[min(int(reason), len(closeReasons)-1)].Add(1)
}

// cell counts one relay cell in direction dir.
func (s *stats) cell(dir int, c onion.Cell) {
	s.cells[dir].Add(1)
	s.bytes[dir].Add(uint64(onion.CellHeaderLen + len(c.Payload)))
}

// registerMetrics registers r's instruments with reg.
func (r *Relay) registerMetrics(reg prometheus.Registerer) error {
	read := func(v *atomic.Uint64) func() float64 { return func() float64 { return float64(v.Load()) } }
	counter := func(name, help string, labels prometheus.Labels, v *atomic.Uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "onion_relay_" + name, Help: help, ConstLabels: labels}, read(v))
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "onion_relay_" + name, Help: help}, f)
	}
	var cs []prometheus.Collector
	for dir, name := range []string{"forward", "backward"} {
		l := prometheus.Labels{"direction": name}
		cs = append(cs,
			counter("cells_total", "Cells relayed, by direction, counted on the link toward the client (forward: read from the previous hop; backward: sent back to it, from the next hop or this relay's exit streams).", l, &r.stats.cells[dir]),
			counter("bytes_total", "Bytes of the cells in onion_relay_cells_total (header and payload), by direction.", l, &r.stats.bytes[dir]))
	}
	for i, name := range handshakeFailNames {
		cs = append(cs, counter("handshake_failures_total", "Failed handshakes, by reason (tls, tls_timeout, preface: of a link; create, create_wrong_key: of a circuit).",
			prometheus.Labels{"reason": name}, &r.stats.handshakes[i]))
	}
	for i, name := range closeReasons {
		cs = append(cs, counter("circuits_closed_total", "Circuits closed, by the DESTROY reason (none and requested: the client closed it; layer: a cell failed its layer's authentication; others: PROTOCOL.md §2.3).",
			prometheus.Labels{"reason": name}, &r.stats.closedBy[i]))
	}
	cs = append(cs,
		counter("circuits_created_total", "Circuits created (CREATE answered).", nil, &r.stats.created),
		gauge("circuits_open", "Circuits through this relay now.", func() float64 { return float64(r.circuits.count()) }),
		gauge("exit_streams_open", "Exit connections to destinations now.", func() float64 { return float64(r.exitConns.count()) }),
		gauge("links_open", "Links other relays and clients opened to this relay, now.", func() float64 {
			r.mu.Lock()
			defer r.mu.Unlock()
			return float64(len(r.inbound))
		}),
	)
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// tlsFailed counts a failed TLS handshake, reasoned as tlsError does.
func (s *stats) tlsFailed(reason error) {
	if reason == errNoTLS {
		s.handshakes[failTLSTimeout].Add(1)
	} else {
		s.handshakes[failTLS].Add(1)
	}
}
