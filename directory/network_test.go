package directory

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onion/internal/statusview"
)

// TestNetworkPage: the page lists the relays held, with how long each has
// been listed (kept across re-publication, not across a gap), to loopback
// Hosts only; its JSON has the same relays.
func TestNetworkPage(t *testing.T) {
	h := newHarness(t)
	for n := range 2 {
		if a := h.post(t, mustJSON(t, descriptor(t, n, t0))); a.status != http.StatusOK {
			t.Fatalf("publish relay %d: %d %s", n, a.status, a.body)
		}
	}
	h.clock.Set(t0.Add(60 * time.Second)) // relay0 re-publishes in time
	if a := h.post(t, mustJSON(t, descriptor(t, 0, t0.Add(55*time.Second)))); a.status != http.StatusOK {
		t.Fatalf("re-publish: %d %s", a.status, a.body)
	}
	h.clock.Set(t0.Add(120 * time.Second)) // relay1 expired at 90 s, and comes back
	if a := h.post(t, mustJSON(t, descriptor(t, 1, t0.Add(120*time.Second)))); a.status != http.StatusOK {
		t.Fatalf("publish again: %d %s", a.status, a.body)
	}
	page := h.do(t, "GET", "/network", nil)
	if page.status != http.StatusOK || page.header.Get("Content-Type") != "text/html; charset=utf-8" ||
		!strings.Contains(page.header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("GET /network: %d %v", page.status, page.header)
	}
	for _, want := range []string{"2 relays listed (1 exits)", "relay0", "2m00s", "relay1", "0s", `fetch("/network/live"`} {
		if !strings.Contains(string(page.body), want) {
			t.Errorf("page lacks %q:\n%s", want, page.body)
		}
	}
	var relays []statusview.Relay
	a := h.do(t, "GET", "/network/relays", nil)
	if err := json.Unmarshal(a.body, &relays); err != nil || len(relays) != 2 || relays[1].Nickname != "relay0" ||
		relays[1].UptimeSec != 120 || !relays[1].Exit || relays[0].UptimeSec != 0 || !strings.Contains(string(a.body), `"uptime_seconds":0`) {
		t.Errorf("GET /network/relays: %s (%v)", a.body, err)
	}
	if live := h.do(t, "GET", "/network/live", nil); !strings.HasPrefix(string(live.body), `<p id="summary">`) {
		t.Errorf("GET /network/live: %s", live.body)
	}
	wantError(t, h.do(t, "POST", "/network", nil), http.StatusMethodNotAllowed, "")
	wantError(t, h.do(t, "GET", "/network/x", nil), http.StatusNotFound, "")
	for _, path := range []string{"/network", "/network/live", "/network/relays"} {
		req, _ := http.NewRequest("GET", h.ts.URL+path, nil)
		req.Host = "rebound.example"
		resp, err := h.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s with a foreign Host: %s", path, resp.Status)
		}
	}
}

// TestDirectoryMetrics: relays, exits and services listed, read at scrape.
func TestDirectoryMetrics(t *testing.T) {
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	if err := h.srv.registerMetrics(reg); err != nil {
		t.Fatal(err)
	}
	for n := range 3 {
		h.post(t, mustJSON(t, descriptor(t, n, t0)))
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		got[f.GetName()] = f.Metric[0].GetGauge().GetValue()
	}
	if got["onion_directory_relays_listed"] != 3 || got["onion_directory_exits_listed"] != 2 || got["onion_directory_services_listed"] != 0 {
		t.Errorf("metrics %v", got)
	}
}
