package loopback

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.0.0.1:9000": true, "[::1]:80": true, "[::1]": true, "::1": true,
		"localhost": true, "LOCALHOST:1": true, "127.5.6.7:1": true, "[::ffff:127.0.0.1]:1": true,
		"example.com": false, "evil.example:9000": false, "10.0.0.1:80": false, "": false,
		"[fe80::1%lo]:80": false, "localhost.evil.example": false,
	} {
		if got := Host(host); got != want {
			t.Errorf("Host(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestGuard(t *testing.T) {
	h := Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	for host, want := range map[string]int{"127.0.0.1:5": http.StatusTeapot, "rebound.example": http.StatusForbidden} {
		r := httptest.NewRequest("GET", "/metrics", nil)
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("Host %q: %d, want %d", host, w.Code, want)
		}
	}
}

func TestAddr(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:0": true, "[::1]:9": true, "localhost:1": true,
		"0.0.0.0:9": false, ":9": false, "192.0.2.1:9": false, "127.0.0.1": false} {
		if err := Addr(addr); (err == nil) != ok {
			t.Errorf("Addr(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}
