package directory

// Prometheus instruments (Config.Metrics), read from the stores at each
// scrape. No label names a relay or a service.

import (
	"github.com/prometheus/client_golang/prometheus"
)

// registerMetrics registers s's instruments with reg.
func (s *server) registerMetrics(reg prometheus.Registerer) error {
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "onion_directory_" + name, Help: help}, f)
	}
	relays := func(exitsOnly bool) func() float64 {
		return func() float64 {
			l, _ := s.relays.list()
			n := 0
			for _, d := range l {
				if d.Exit || !exitsOnly {
					n++
				}
			}
			return float64(n)
		}
	}
	for _, c := range []prometheus.Collector{
		gauge("relays_listed", "Relays whose descriptor this authority holds and lists now.", relays(false)),
		gauge("exits_listed", "Exit relays among relays_listed.", relays(true)),
		gauge("services_listed", "Hidden service descriptors held now.", func() float64 { l, _ := s.services.list(); return float64(len(l)) }),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
