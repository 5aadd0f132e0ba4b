package proxy

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"onion/client"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestStatusRefusesForeignHost: a request that reached the loopback
// listener under another name (DNS rebinding from a web page) gets 403 and
// no circuits; loopback addresses and localhost are served.
func TestStatusRefusesForeignHost(t *testing.T) {
	srv := httptest.NewServer(StatusHandler(client.NewManager(client.Config{}), nil))
	defer srv.Close()
	_, p, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port := ":" + p
	for _, tc := range []struct {
		host string
		want int
	}{
		{"127.0.0.1" + port, http.StatusOK},
		{"127.0.0.2" + port, http.StatusOK},
		{"[::1]" + port, http.StatusOK},
		{"localhost" + port, http.StatusOK},
		{"LocalHost" + port, http.StatusOK},
		{"127.0.0.1", http.StatusOK},
		{"[::1]", http.StatusOK},
		{"localhost", http.StatusOK},
		{"evil.example" + port, http.StatusForbidden},
		{"evil.example", http.StatusForbidden},
		{"localhost.evil.example" + port, http.StatusForbidden},
		{"127.0.0.1.nip.io" + port, http.StatusForbidden},
		{"192.168.1.10" + port, http.StatusForbidden},
		{"0.0.0.0" + port, http.StatusForbidden},
		{"[::]" + port, http.StatusForbidden},
		{"2130706433" + port, http.StatusForbidden},
	} {
		req, err := http.NewRequest("GET", srv.URL+"/circuits", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = tc.host
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("Host %q: %v", tc.host, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("Host %q: %s %q, want %d", tc.host, resp.Status, body, tc.want)
		}
		if tc.want == http.StatusForbidden && strings.Contains(string(body), "[") {
			t.Errorf("Host %q: refused, yet the body %q looks like circuits", tc.host, body)
		}
	}
	if loopbackHost("") {
		t.Error("a request without a Host header is served") // HTTP/1.0; Go's client always sends one
	}
}

// TestStatusPage: the page, its live part and the relay list are served
// to loopback names with headers that keep the page to itself, and
// refused to foreign ones like /circuits.
func TestStatusPage(t *testing.T) {
	srv := httptest.NewServer(StatusHandler(client.NewManager(client.Config{}), nil))
	defer srv.Close()
	for _, tc := range []struct{ path, contentType, want string }{
		{"/", "text/html; charset=utf-8", "network status"},
		{"/live", "text/html; charset=utf-8", "No circuits yet"},
		{"/relays", "application/json", "[]"},
		{"/circuits", "application/json", "[]"},
		{"/failures", "application/json", "[]"},
	} {
		for _, host := range []string{"localhost", "evil.example"} {
			req, _ := http.NewRequest("GET", srv.URL+tc.path, nil)
			req.Host = host
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if host != "localhost" {
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s for Host %s: %s", tc.path, host, resp.Status)
				}
				continue
			}
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != tc.contentType || !strings.Contains(string(body), tc.want) {
				t.Errorf("%s: %s %s %q", tc.path, resp.Status, resp.Header.Get("Content-Type"), body)
			}
			if strings.HasPrefix(tc.contentType, "text/html") && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
				t.Errorf("%s: no content security policy", tc.path)
			}
		}
	}
}

// TestMetrics: /metrics is Prometheus text that the format's own parser
// accepts, with the circuit build histogram and the byte counters.
func TestMetrics(t *testing.T) {
	met := newMetrics(nil)
	mgr := client.NewManager(client.Config{})
	met.watch(mgr)
	met.observeBuild(120*time.Millisecond, nil)
	met.observeBuild(3*time.Second, errors.New("extend failed"))
	srv := httptest.NewServer(StatusHandler(mgr, met.handler()))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("not Prometheus text: %v", err)
	}
	h := families["onion_proxy_circuit_build_seconds"]
	if h == nil || h.Metric[0].GetHistogram().GetSampleCount() != 2 {
		t.Errorf("build histogram: %v", h)
	}
	for _, name := range []string{"onion_proxy_circuits_open", "onion_proxy_streams_open", "onion_proxy_relays_listed",
		"onion_proxy_relay_bytes_sent_total", "onion_proxy_relay_bytes_received_total", "onion_proxy_circuit_builds_total"} {
		if families[name] == nil {
			t.Errorf("no %s", name)
		}
	}
}

// TestStatusPageMeeting: given a hidden server's status address, the page
// shows its meeting relays; one that does not answer leaves them out and
// the page still served.
func TestStatusPageMeeting(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/meeting" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, `[{"service":"abc.onion","nickname":"relay4","fingerprint":"FP4","address":"127.0.0.1:4",
			"path":[{"nickname":"relay1"},{"nickname":"relay2"},{"nickname":"relay4"}],"age_seconds":61}]`)
	}))
	defer hs.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	for _, tc := range []struct{ addr, want string }{
		{strings.TrimPrefix(hs.URL, "http://"), "hidden server &rarr; <span title=\" \">relay1</span>"},
		{strings.TrimPrefix(dead.URL, "http://"), "Recent failures"},
	} {
		srv := httptest.NewServer(statusHandler(client.NewManager(client.Config{}), nil,
			statusSources{failed: &client.Failures{}, hidden: tc.addr}))
		resp, err := http.Get(srv.URL + "/live")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), tc.want) {
			t.Errorf("hidden status %s: %s, lacks %q:\n%s", tc.addr, resp.Status, tc.want, body)
		}
		if tc.addr != strings.TrimPrefix(hs.URL, "http://") && strings.Contains(string(body), "meeting relays") {
			t.Error("meeting relays shown without a hidden server")
		}
	}
}
