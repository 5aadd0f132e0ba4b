package localnet

import (
	"strings"
	"testing"

	"onion/internal/upinfo"
)

func TestCheckMetrics(t *testing.T) {
	for addr, ok := range map[string]bool{"": true, "127.0.0.1:0": true, "[::1]:0": true,
		"127.0.0.1:9100": false, "0.0.0.0:0": false, "192.0.2.1:0": false} {
		if err := checkMetrics(addr); (err == nil) != ok {
			t.Errorf("checkMetrics(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}

func TestNoteMetrics(t *testing.T) {
	n := &network{cfg: Config{Metrics: "127.0.0.1:0"}}
	if err := n.noteMetrics("relay1", map[string]string{"addr": "x"}); err == nil {
		t.Error("a ready line without metrics= was accepted")
	}
	if err := n.noteMetrics("relay1", map[string]string{"metrics": "127.0.0.1:5"}); err != nil {
		t.Fatal(err)
	}
	n.noteMetrics("proxy", map[string]string{"metrics": "127.0.0.1:6"})
	if got := n.info.Metrics["relay1"]; got != "http://127.0.0.1:5/metrics" {
		t.Errorf("relay1: %q", got)
	}
	b := banner(&n.info)
	if !strings.Contains(b, "  metrics        proxy  http://127.0.0.1:6/metrics\n                 relay1 http://127.0.0.1:5/metrics\n") {
		t.Errorf("banner lacks the metrics lines:\n%s", b)
	}
	if strings.Contains(banner(&upinfo.Info{}), "metrics") {
		t.Error("banner names metrics when off")
	}
	off := &network{}
	if off.noteMetrics("relay1", map[string]string{}) != nil || off.metricsArgs() != nil {
		t.Error("metrics off, yet asked for")
	}
	t.Setenv("ONION_METRICS", "127.0.0.1:9100")
	if got := off.metricsArgs(); len(got) != 1 || got[0] != "--metrics=" {
		t.Errorf("off with ONION_METRICS set: %v, want an empty --metrics", got)
	}
}
