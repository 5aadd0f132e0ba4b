package proxy

// The status endpoint: the status page, GET /circuits and GET /relays, on
// loopback only. Listening on
// loopback keeps other machines out but not web pages: a page whose name
// its owner re-points at 127.0.0.1 (DNS rebinding) can read the answer as
// same-origin. The browser still sends that name in the Host header, so
// only requests naming a loopback address or localhost are served.

import (
	"encoding/json"
	"net/http"
	"time"

	"onion/client"
	"onion/internal/loopback"
	"onion/internal/statusview"
)

// StatusHandler serves, to requests whose Host is a loopback address or
// localhost (others get 403):
//
//	GET /          the status page: relays and circuits, drawn (HTML, inline SVG)
//	GET /live      the page's live part, which its script fetches again
//	GET /circuits  m's circuits, JSON
//	GET /relays    m's verified relay list, JSON
//	GET /failures  recent failures with their reasons, JSON
//	GET /metrics   Prometheus text format, if metrics is not nil
func StatusHandler(m *client.Manager, metrics http.Handler) http.Handler {
	return statusHandler(m, metrics, &client.Failures{})
}

// statusHandler is StatusHandler, listing the failures failed records.
func statusHandler(m *client.Manager, metrics http.Handler, failed *client.Failures) http.Handler {
	mux := http.NewServeMux()
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	mux.HandleFunc("GET /circuits", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, m.Circuits())
	})
	mux.HandleFunc("GET /relays", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, relayList(m))
	})
	mux.HandleFunc("GET /failures", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, failed.Recent())
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		pageHeaders(w)
		statusview.HTML(w, snapshot(m, failed), "/live")
	})
	mux.HandleFunc("GET /live", func(w http.ResponseWriter, r *http.Request) {
		pageHeaders(w)
		statusview.Live(w, snapshot(m, failed))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			http.Error(w, "forbidden: the Host header must be a loopback address or localhost", http.StatusForbidden)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// pageHeaders: the page loads nothing from elsewhere, runs only its own
// inline script, fetches only from this origin, and is never framed.
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}

// relayList is m's relay list as GET /relays shows it.
func relayList(m *client.Manager) []statusview.Relay {
	out := []statusview.Relay{}
	for _, d := range m.Relays() {
		out = append(out, statusview.Relay{Nickname: d.Nickname, Fingerprint: d.Fingerprint(),
			Address: d.Address, Exit: d.Exit, Published: d.Published})
	}
	return out
}

// snapshot is what the page draws: the relay list, the circuits and the
// recent failures.
func snapshot(m *client.Manager, failed *client.Failures) statusview.Snapshot {
	s := statusview.Snapshot{Relays: relayList(m), Now: time.Now()}
	for _, f := range failed.Recent() {
		s.Failures = append(s.Failures, statusview.Failure(f))
	}
	for _, c := range m.Circuits() {
		v := statusview.Circuit{ID: c.ID, Streams: c.Streams, AgeSec: c.AgeSec,
			BytesSent: c.BytesSent, BytesReceived: c.BytesReceived}
		for _, h := range c.Path {
			v.Path = append(v.Path, statusview.Hop(h))
		}
		s.Circuits = append(s.Circuits, v)
	}
	return s
}

// loopbackHost reports whether a Host header (with or without a port)
// names this machine by a loopback IP literal or as localhost.
func loopbackHost(hostport string) bool { return loopback.Host(hostport) }
