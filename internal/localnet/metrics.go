package localnet

// `onion up --metrics HOST:0`: every part serves its metrics on a free
// port of its own, announced on its ready line (metrics=HOST:PORT); up
// collects them into the info file and the banner.

import (
	"fmt"
	"net"
	"os"
	"slices"
	"strings"

	"onion/internal/loopback"
	"onion/internal/upinfo"
)

// checkMetrics: one address for several parts needs port 0, and metrics
// under up stay on loopback.
func checkMetrics(addr string) error {
	if addr == "" {
		return nil
	}
	if err := loopback.Addr(addr); err != nil {
		return fmt.Errorf("--metrics %s: under up, a loopback address with port 0 (each part picks a free port)", addr)
	}
	if _, port, _ := net.SplitHostPort(addr); port != "0" {
		return fmt.Errorf("--metrics %s: want port 0, as every part needs a port of its own (they are printed when ready)", addr)
	}
	return nil
}

// metricsArgs is the --metrics flag every child gets when asked for; when
// off, an empty one if up's environment has ONION_METRICS, one address,
// which every part would otherwise try to listen on.
func (n *network) metricsArgs() []string {
	if n.cfg.Metrics == "" && os.Getenv("ONION_METRICS") == "" {
		return nil
	}
	return []string{"--metrics=" + n.cfg.Metrics}
}

// noteMetrics records where part name serves its metrics, from its ready
// line. Relays start concurrently, hence the lock.
func (n *network) noteMetrics(name string, ready map[string]string) error {
	if n.cfg.Metrics == "" {
		return nil
	}
	if ready["metrics"] == "" {
		return fmt.Errorf("%s: ready line has no metrics= field", name)
	}
	n.metricsMu.Lock()
	defer n.metricsMu.Unlock()
	if n.info.Metrics == nil {
		n.info.Metrics = map[string]string{}
	}
	n.info.Metrics[name] = "http://" + ready["metrics"] + "/metrics"
	return nil
}

// metricsLines are the banner's lines for the parts' metrics, "" when off.
func metricsLines(i *upinfo.Info) string {
	if len(i.Metrics) == 0 {
		return ""
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range i.Metrics {
			if !yield(k) {
				return
			}
		}
	})
	width := 0
	for _, k := range names {
		width = max(width, len(k))
	}
	var b strings.Builder
	for j, k := range names {
		label := strings.Repeat(" ", 17)
		if j == 0 {
			label = "  metrics        "
		}
		fmt.Fprintf(&b, "%s%-*s %s\n", label, width, k, i.Metrics[k])
	}
	return b.String()
}
