package directory

// The network page (issue 14): the relays this authority lists, for a
// person, at GET /network (HTML), /network/live (the part its script
// fetches again) and /network/relays (JSON). Only to requests whose Host
// names this machine: a web page re-pointing its own name at the
// directory (DNS rebinding) gets 403, as at the proxy's status page.

import (
	"net/http"
	"strings"
	"time"

	"onion/internal/loopback"
	"onion/internal/statusview"
)

const networkPath = "/network"

func isNetworkPath(path string) bool {
	return path == networkPath || strings.HasPrefix(path, networkPath+"/")
}

// serveNetwork answers the network paths, behind the loopback Host check.
func (s *server) serveNetwork(w http.ResponseWriter, r *http.Request) {
	loopback.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !method(w, r, http.MethodGet) {
			return
		}
		switch r.URL.Path {
		case networkPath:
			statusview.PageHeaders(w.Header())
			statusview.NetworkHTML(w, s.networkSnapshot(), networkPath+"/live")
		case networkPath + "/live":
			statusview.PageHeaders(w.Header())
			statusview.NetworkLive(w, s.networkSnapshot())
		case networkPath + "/relays":
			writeJSON(w, http.StatusOK, networkJSON(s.networkSnapshot().Relays))
		default:
			writeError(w, http.StatusNotFound, "no such endpoint")
		}
	})).ServeHTTP(w, r)
}

// networkSnapshot is the relays held now, each with how long it has been
// listed.
func (s *server) networkSnapshot() statusview.Snapshot {
	now := s.now()
	relays, since := s.relays.listSince()
	snap := statusview.Snapshot{Relays: []statusview.Relay{}, Now: now}
	for i, d := range relays {
		snap.Relays = append(snap.Relays, statusview.Relay{Nickname: d.Nickname, Fingerprint: d.Fingerprint(),
			Address: d.Address, Exit: d.Exit, Published: d.Published, UptimeSec: int64(now.Sub(since[i]) / time.Second)})
	}
	return snap
}

// networkRelay is a relay as GET /network/relays gives it: always with its
// uptime, 0 included.
type networkRelay struct {
	statusview.Relay
	UptimeSec int64 `json:"uptime_seconds"`
}

func networkJSON(relays []statusview.Relay) []networkRelay {
	out := make([]networkRelay, len(relays))
	for i, r := range relays {
		out[i] = networkRelay{Relay: r, UptimeSec: r.UptimeSec}
	}
	return out
}
