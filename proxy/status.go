package proxy

// The status endpoint: the status page, GET /circuits and GET /relays, on
// loopback only. Listening on
// loopback keeps other machines out but not web pages: a page whose name
// its owner re-points at 127.0.0.1 (DNS rebinding) can read the answer as
// same-origin. The browser still sends that name in the Host header, so
// only requests naming a loopback address or localhost are served.

import (
	"context"
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
	return statusHandler(m, metrics, statusSources{failed: &client.Failures{}})
}

// statusSources are what the page shows besides the Manager's state.
type statusSources struct {
	failed *client.Failures
	// hidden is the status address of this network's hidden server
	// (Config.HiddenStatus), whose meeting relays the page shows; "" for none.
	hidden string
}

// statusHandler is StatusHandler, with the failures and meeting relays
// of src.
func statusHandler(m *client.Manager, metrics http.Handler, src statusSources) http.Handler {
	failed := src.failed
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
		statusview.HTML(w, snapshot(r.Context(), m, src), "/live")
	})
	mux.HandleFunc("GET /live", func(w http.ResponseWriter, r *http.Request) {
		pageHeaders(w)
		statusview.Live(w, snapshot(r.Context(), m, src))
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
func snapshot(ctx context.Context, m *client.Manager, src statusSources) statusview.Snapshot {
	s := statusview.Snapshot{Relays: relayList(m), Now: time.Now()}
	for _, f := range src.failed.Recent() {
		s.Failures = append(s.Failures, statusview.Failure(f))
	}
	s.Meeting = fetchMeeting(ctx, src.hidden)
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
