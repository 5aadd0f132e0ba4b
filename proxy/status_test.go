package proxy

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"onion/client"
)

// TestStatusRefusesForeignHost: a request that reached the loopback
// listener under another name (DNS rebinding from a web page) gets 403 and
// no circuits; loopback addresses and localhost are served.
func TestStatusRefusesForeignHost(t *testing.T) {
	srv := httptest.NewServer(StatusHandler(client.NewManager(client.Config{})))
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
