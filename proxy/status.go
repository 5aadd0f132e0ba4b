package proxy

// The status endpoint: GET /circuits, on loopback only. Listening on
// loopback keeps other machines out but not web pages: a page whose name
// its owner re-points at 127.0.0.1 (DNS rebinding) can read the answer as
// same-origin. The browser still sends that name in the Host header, so
// only requests naming a loopback address or localhost are served.

import (
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"onion/client"
)

// StatusHandler serves GET /circuits as a JSON array of m's circuits, to
// requests whose Host is a loopback address or localhost; others get 403.
func StatusHandler(m *client.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /circuits", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(m.Circuits())
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			http.Error(w, "forbidden: the Host header must be a loopback address or localhost", http.StatusForbidden)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether a Host header (with or without a port)
// names this machine by a loopback IP literal or as localhost.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Zone() == "" && a.Unmap().IsLoopback()
}
