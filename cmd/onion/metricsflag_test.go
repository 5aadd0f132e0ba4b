package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestMetricsRefusesPublicAddress: every part refuses a --metrics address
// off loopback unless --metrics-public says so; nothing is started.
func TestMetricsRefusesPublicAddress(t *testing.T) {
	for _, args := range [][]string{
		{"directory", "--listen", "127.0.0.1:0"},
		{"relay", "--directory", "http://127.0.0.1:1", "--directory-key", "pluFI8LSd-GTeiKmtNJoH_rkFogPoU6hYBn0HdrSFXg"},
		{"proxy", "--directory", "http://127.0.0.1:1", "--directory-key", "pluFI8LSd-GTeiKmtNJoH_rkFogPoU6hYBn0HdrSFXg"},
	} {
		full := append([]string{"onion"}, args...)
		full = append(full, "--data-dir", t.TempDir(), "--metrics", "0.0.0.0:0")
		app := newApp()
		app.Writer, app.ErrWriter = io.Discard, io.Discard
		err := app.Run(full)
		if err == nil || !strings.Contains(err.Error(), "--metrics-public") {
			t.Errorf("onion %s: %v, want a refusal naming --metrics-public", strings.Join(args, " "), err)
		}
	}
}

// TestMetricsHandler: counts to a loopback Host, 403 to another, unless
// public; nothing but /metrics.
func TestMetricsHandler(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "test_total", Help: "a test"}))
	for _, tt := range []struct {
		public     bool
		host, path string
		want       int
	}{
		{false, "127.0.0.1:9", "/metrics", 200},
		{false, "localhost", "/metrics", 200},
		{false, "rebound.example:9", "/metrics", 403},
		{true, "metrics.example", "/metrics", 200},
		{false, "127.0.0.1:9", "/", 404},
	} {
		r := httptest.NewRequest("GET", tt.path, nil)
		r.Host = tt.host
		w := httptest.NewRecorder()
		metricsHandler(reg, tt.public).ServeHTTP(w, r)
		if w.Code != tt.want {
			t.Errorf("public=%v Host %s %s: %d, want %d", tt.public, tt.host, tt.path, w.Code, tt.want)
		}
		if w.Code == http.StatusOK && !strings.Contains(w.Body.String(), "test_total 0") {
			t.Errorf("public=%v Host %s: body %q", tt.public, tt.host, w.Body.String())
		}
	}
}
