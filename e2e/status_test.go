//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"onion/internal/upinfo"
)

// TestStatusPage: with `onion up` running and a download in flight, the
// proxy's status page, loaded in headless Chromium, lists the relays and
// draws a circuit of three relays; `onion status --json` lists the same
// circuit, and `onion status` draws it as a line; /metrics counts the
// build and the bytes. A screenshot of the page
// is kept as a test artifact (go test -artifacts). Budget: 90 s (Chromium alone takes 15-35 s on a loaded machine).
func TestStatusPage(t *testing.T) {
	chromium := chromiumPath()
	if chromium == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no chromium on PATH in CI")
		}
		t.Skip("no chromium on PATH (CI installs it; apt-get install chromium)")
	}
	_, info := startUp(t)
	const size = 8 << 20
	blob := startBlobServer(t, size)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	resp, err := get(ctx, socksHTTP(t, info.Socks, false), blob.url("127.0.0.1"))
	if err != nil {
		t.Fatalf("GET through SOCKS: %v", err)
	}
	defer resp.Body.Close()
	checked := false
	blob.check(t, "the download", &afterBytes{r: resp.Body, n: size / 4, f: func() {
		checked = true
		checkStatusViews(t, chromium, info)
	}})
	if !checked {
		t.Fatal("the download ended before the views were checked")
	}
}

// drawnCircuit matches one circuit of the page's SVG: its id and the
// classes and labels of its nodes.
var drawnCircuit = regexp.MustCompile(`(?s)<g class="circuit" data-id="(\d+)">(.*?)</g>\s*</g>`)
var drawnNode = regexp.MustCompile(`<g class="(\w+)"><circle[^>]*>.*?</circle><text[^>]*>([^<]*)</text>`)

func checkStatusViews(t *testing.T, chromium string, info *upinfo.Info) {
	t.Helper()
	page := "http://" + info.Status + "/"
	start := time.Now()
	shot := filepath.Join(t.ArtifactDir(), "status-page.png")
	dom, err := runChromium(t, chromium, "--window-size=1100,700", "--screenshot="+shot, "--dump-dom", page)
	if err != nil {
		t.Fatalf("chromium %s: %v", page, err)
	}
	t.Logf("chromium loaded the page in %v", time.Since(start).Round(time.Millisecond))
	os.WriteFile(filepath.Join(t.ArtifactDir(), "status-page.html"), []byte(dom), 0o644)
	if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
		t.Errorf("no screenshot: %v", err)
	}
	if rows := strings.Count(dom, `class="relay-row"`); rows < 3 {
		t.Errorf("the page lists %d relays, want at least 3:\n%s", rows, dom)
	}
	drawn := map[string][]string{} // circuit id -> "class:label" of each node
	for _, m := range drawnCircuit.FindAllStringSubmatch(dom, -1) {
		for _, n := range drawnNode.FindAllStringSubmatch(m[2], -1) {
			drawn[m[1]] = append(drawn[m[1]], n[1]+":"+n[2])
		}
	}
	listed := statusJSON(t, info)
	found := false
	for _, c := range listed {
		nodes := drawn[strconv.Itoa(c.ID)]
		if len(c.Path) != 3 || len(nodes) != 5 {
			continue
		}
		want := []string{"you:this proxy", "relay:" + c.Path[0].Nickname, "relay:" + c.Path[1].Nickname, "exit:" + c.Path[2].Nickname, "end:destination"}
		found = found || strings.Join(nodes, " ") == strings.Join(want, " ")
	}
	if !found {
		t.Errorf("no circuit of three relays both drawn on the page (%v) and listed by onion status --json (%+v)", drawn, listed)
	}
	checkMetrics(t, info.Status)
	text, err := exec.Command(onionBinary(t), "status", "--info-file", infoPathOf(t, info)).Output()
	if err != nil || !strings.Contains(string(text), "you ── ") || strings.Contains(string(text), "\x1b") {
		t.Errorf("onion status: %v\n%s", err, text)
	}
}

// statusJSON runs `onion status --json` against up's proxy.
func statusJSON(t *testing.T, info *upinfo.Info) []circuit {
	t.Helper()
	out, err := exec.Command(onionBinary(t), "status", "--json", "--status", info.Status).Output()
	if err != nil {
		t.Fatalf("onion status --json: %v", err)
	}
	var v struct {
		Relays   []json.RawMessage `json:"relays"`
		Circuits []circuit         `json:"circuits"`
	}
	if err := json.Unmarshal(out, &v); err != nil || len(v.Relays) < 3 {
		t.Fatalf("onion status --json: %v, %d relays:\n%s", err, len(v.Relays), out)
	}
	return v.Circuits
}

// infoPathOf writes info to a file for --info-file.
func infoPathOf(t *testing.T, info *upinfo.Info) string {
	path := filepath.Join(t.TempDir(), "info.json")
	if err := upinfo.Write(path, info); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkMetrics wants /metrics in the Prometheus text format, with a
// circuit built and bytes received.
func checkMetrics(t *testing.T, status string) {
	t.Helper()
	resp, err := http.Get("http://" + status + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v", err)
	}
	h := families["onion_proxy_circuit_build_seconds"]
	if h == nil || h.Metric[0].GetHistogram().GetSampleCount() == 0 {
		t.Errorf("no circuit build observed: %v", h)
	}
	if b := families["onion_proxy_relay_bytes_received_total"]; b == nil || b.Metric[0].GetCounter().GetValue() == 0 {
		t.Errorf("no bytes received counted: %v", b)
	}
}
