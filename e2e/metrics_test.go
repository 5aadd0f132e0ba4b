package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"onion/internal/upinfo"
)

// TestUpMetrics: `onion up --metrics 127.0.0.1:0` gives every part a
// metrics endpoint of its own, named in the info file. After a download
// through the proxy and a login at the hidden server, each part's
// Prometheus text parses with the format's own parser and counts what
// happened: circuit builds timed at the proxy and the hidden server, bytes
// relayed by every relay of the proxy's circuit, relays listed at each
// directory authority and the proxy, the login accepted. A request naming
// a foreign Host gets 403 from every endpoint. The directory's network
// page and the hidden server's meeting relays (issue 14's status page)
// are checked on the same network. Budget: 60 s (10-20 s here: up starts
// in ~5 s, the transfers take a second).
func TestUpMetrics(t *testing.T) {
	_, info := startUp(t, "--metrics", "127.0.0.1:0")
	want := []string{"proxy", "hiddenserver"}
	for i := range max(1, len(info.Directories)) {
		want = append(want, strings.TrimSuffix(fmt.Sprintf("directory%d", i+1), "1"))
	}
	for _, r := range info.Relays {
		want = append(want, r.Nickname)
	}
	for _, part := range want {
		if !strings.HasPrefix(info.Metrics[part], "http://127.0.0.1:") {
			t.Fatalf("info file metrics[%q] = %q; metrics: %v", part, info.Metrics[part], info.Metrics)
		}
	}

	blob := startBlobServer(t, 256<<10)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := blob.getChecked(ctx, socksHTTP(t, info.Socks, false), "localhost"); err != nil {
		t.Fatalf("download through the proxy: %v", err)
	}
	login := hiddenHTTP(t, info.Socks, info.DemoUser, info.DemoPassword, false)
	if got, err := fetch(t, login, "GET", "http://"+info.OnionAddress+"/echo?msg=metrics", nil, time.Minute); err != nil || !strings.Contains(string(got), "metrics") {
		t.Fatalf("GET /echo at the hidden server with the demo login: %q, %v", got, err)
	}

	proxy := scrape(t, info.Metrics["proxy"])
	wantHistogram(t, proxy, "onion_proxy_circuit_build_seconds")
	atLeast(t, "proxy", proxy, "onion_proxy_relays_listed", nil, 3)
	hidden := scrape(t, info.Metrics["hiddenserver"])
	wantHistogram(t, hidden, "onion_hiddenserver_circuit_build_seconds")
	atLeast(t, "hiddenserver", hidden, "onion_hiddenserver_logins_total", map[string]string{"result": "accepted"}, 1)
	for _, part := range want {
		if strings.HasPrefix(part, "directory") {
			atLeast(t, part, scrape(t, info.Metrics[part]), "onion_directory_relays_listed", nil, 3)
		}
	}
	checkRelaysCarried(t, info)
	for _, part := range want {
		checkForeignHost(t, info.Metrics[part])
	}
	checkNetworkPages(t, info)
}

// checkNetworkPages wants the directory's network page to list every
// relay with its uptime, and the hidden server's page its meeting relays,
// each the last hop of its circuit, which the proxy's page shows too; the
// first two refuse a foreign Host.
func checkNetworkPages(t *testing.T, info *upinfo.Info) {
	t.Helper()
	var listed []struct {
		Nickname string `json:"nickname"`
		Uptime   *int64 `json:"uptime_seconds"`
	}
	getJSONOK(t, info.Directory+"/network/relays", &listed)
	if len(listed) != len(info.Relays) || listed[0].Uptime == nil {
		t.Errorf("directory /network/relays: %+v, want %d relays with their uptime", listed, len(info.Relays))
	}
	if page := getOK(t, info.Directory+"/network"); !strings.Contains(page, fmt.Sprintf("%d relays listed", len(info.Relays))) {
		t.Errorf("directory /network page:\n%s", page)
	}
	if info.HiddenStatus == "" {
		t.Fatal("info file has no hiddenserver_status")
	}
	var meeting []struct {
		Fingerprint string `json:"fingerprint"`
		Path        []struct {
			Fingerprint string `json:"fingerprint"`
		} `json:"path"`
	}
	getJSONOK(t, "http://"+info.HiddenStatus+"/meeting", &meeting)
	if len(meeting) == 0 || len(meeting[0].Path) != 3 || meeting[0].Path[2].Fingerprint != meeting[0].Fingerprint {
		t.Errorf("hidden server /meeting: %+v, want meeting relays at the end of 3-hop circuits", meeting)
	}
	if page := getOK(t, "http://"+info.HiddenStatus+"/"); !strings.Contains(page, "meeting relays") {
		t.Errorf("hidden server page:\n%s", page)
	}
	if live := getOK(t, "http://"+info.Status+"/live"); !strings.Contains(live, "hidden server: meeting relays") {
		t.Errorf("the proxy's status page does not show the hidden server's meeting relays:\n%s", live)
	}
	checkForeignHost(t, info.Directory+"/network")
	checkForeignHost(t, "http://"+info.HiddenStatus+"/meeting")
}

// getOK GETs url, wanting 200, and returns the body.
func getOK(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", url, resp.Status, err)
	}
	return string(b)
}

func getJSONOK(t *testing.T, url string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(getOK(t, url)), v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// checkRelaysCarried wants relayed bytes counted, both ways, by each relay
// of the proxy's circuits.
func checkRelaysCarried(t *testing.T, info *upinfo.Info) {
	t.Helper()
	cs := circuits(t, info.Status)
	if len(cs) == 0 {
		t.Fatal("the proxy has no circuit after a download")
	}
	for _, h := range cs[0].Path {
		i := slices.IndexFunc(info.Relays, func(r upinfo.Relay) bool { return r.Fingerprint == h.Fingerprint })
		if i < 0 {
			t.Fatalf("circuit hop %s is not one of up's relays", h.Nickname)
		}
		name := info.Relays[i].Nickname
		fams := scrape(t, info.Metrics[name])
		for _, dir := range []string{"forward", "backward"} {
			atLeast(t, name, fams, "onion_relay_bytes_total", map[string]string{"direction": dir}, 1)
			atLeast(t, name, fams, "onion_relay_cells_total", map[string]string{"direction": dir}, 1)
		}
		atLeast(t, name, fams, "onion_relay_circuits_created_total", nil, 1)
	}
}

// scrape GETs a metrics URL and parses it as Prometheus text.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("%s is not Prometheus text: %v", url, err)
	}
	return fams
}

// wantHistogram wants histogram name with at least one observation.
func wantHistogram(t *testing.T, fams map[string]*dto.MetricFamily, name string) {
	t.Helper()
	f := fams[name]
	if f == nil || f.GetType() != dto.MetricType_HISTOGRAM || f.Metric[0].GetHistogram().GetSampleCount() == 0 {
		t.Errorf("%s: want a histogram with observations, got %v", name, f)
	}
}

// atLeast wants the counter or gauge name, with the given labels, at min
// or more.
func atLeast(t *testing.T, part string, fams map[string]*dto.MetricFamily, name string, labels map[string]string, min float64) {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Errorf("%s: no %s", part, name)
		return
	}
	for _, m := range f.Metric {
		if !hasLabels(m, labels) {
			continue
		}
		v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
		if v < min {
			t.Errorf("%s: %s%v = %v, want at least %v", part, name, labels, v, min)
		}
		return
	}
	t.Errorf("%s: no %s with labels %v", part, name, labels)
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.Label {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			n++
		}
	}
	return n == len(want)
}

// checkForeignHost wants 403 for a request naming a host that is not this
// machine (DNS rebinding), and that nothing but counts is served.
func checkForeignHost(t *testing.T, url string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Host = "rebound.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET %s with Host rebound.example: %s, want 403", url, resp.Status)
	}
}
