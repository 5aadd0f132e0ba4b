package relay_test

import (
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onion/onion"
	"onion/relay"
)

// gather reads reg's counters and gauges by name and label values.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.Metric {
			key := f.GetName()
			for _, l := range m.Label {
				key += " " + l.GetValue()
			}
			got[key] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return got
}

// TestMetrics: cells both ways, circuits created, open and closed by
// reason, and a link whose preface is wrong, each counted where it happens.
func TestMetrics(t *testing.T) {
	echoAddr := echoServer(t)
	reg := prometheus.NewRegistry()
	tr := startRelay(t, "middle", func(cfg *relay.Config) { cfg.Metrics = reg })
	p := tr.link()
	c := tr.create(p, 1)
	wantEnd(t, begin(t, p, c, 1, echoAddr), onion.EndExitPolicy)
	got := gather(t, reg)
	for key, min := range map[string]float64{
		"onion_relay_cells_total forward": 2, "onion_relay_cells_total backward": 1,
		"onion_relay_bytes_total forward": 2 * onion.CellHeaderLen, "onion_relay_bytes_total backward": onion.CellHeaderLen,
		"onion_relay_circuits_created_total": 1, "onion_relay_circuits_open": 1, "onion_relay_links_open": 1,
	} {
		if got[key] < min {
			t.Errorf("%s = %v, want at least %v", key, got[key], min)
		}
	}

	bad, err := net.Dial("tcp", tr.addr)
	if err != nil {
		t.Fatal(err)
	}
	bad.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	bad.SetReadDeadline(time.Now().Add(10 * time.Second))
	bad.Read(make([]byte, 1)) // until the relay closes it
	bad.Close()
	p.Conn.Close()
	waitMetric(t, reg, "onion_relay_handshake_failures_total preface", 1)
	waitMetric(t, reg, "onion_relay_circuits_closed_total link_closed", 1)
	if got := gather(t, reg)["onion_relay_circuits_open"]; got != 0 {
		t.Errorf("circuits open after the link closed: %v", got)
	}
}

func waitMetric(t *testing.T, reg *prometheus.Registry, key string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for gather(t, reg)[key] != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v, want %v", key, gather(t, reg)[key], want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
