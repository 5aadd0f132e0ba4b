package hiddenserver

// The hidden server's status page (issue 14): its meeting relays, each
// with the circuit that reaches it, for its operator, on loopback only.
//
//	GET /         the page (HTML), refreshing itself
//	GET /live     its live part
//	GET /meeting  the same as JSON: [MeetingRelay]

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"onion/internal/loopback"
	"onion/internal/statusview"
)

// Status collects the services of a process for the status page. The zero
// value is ready; a nil *Status shows nothing.
type Status struct {
	mu      sync.Mutex
	servers []*Server
}

func (st *Status) add(s *Server) {
	if st == nil {
		return
	}
	st.mu.Lock()
	st.servers = append(st.servers, s)
	st.mu.Unlock()
}

// MeetingRelay is one meeting relay as GET /meeting gives it.
type MeetingRelay = statusview.MeetingRelay

// Meeting lists the meeting relays of every service, by service and
// nickname.
func (st *Status) Meeting() []MeetingRelay {
	st.mu.Lock()
	servers := slices.Clone(st.servers)
	st.mu.Unlock()
	out := []MeetingRelay{}
	for _, s := range servers {
		out = append(out, s.meetingRelays()...)
	}
	return out
}

func (s *Server) meetingRelays() []MeetingRelay {
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []MeetingRelay
	for _, mc := range s.meeting {
		m := MeetingRelay{Service: s.addr, Nickname: mc.relay.Nickname, Fingerprint: mc.relay.Fingerprint(),
			Address: mc.relay.Address, AgeSec: int64(now.Sub(mc.since) / time.Second)}
		for _, d := range mc.path {
			m.Path = append(m.Path, statusview.Hop{Nickname: d.Nickname, Fingerprint: d.Fingerprint(), Address: d.Address})
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b MeetingRelay) int { return strings.Compare(a.Nickname, b.Nickname) })
	return out
}

// Handler serves the page, its live part and the JSON to requests whose
// Host is a loopback address or localhost (403 to others).
func (st *Status) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /meeting", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(st.Meeting())
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		statusview.PageHeaders(w.Header())
		statusview.MeetingHTML(w, st.view(), "/live")
	})
	mux.HandleFunc("GET /live", func(w http.ResponseWriter, r *http.Request) {
		statusview.PageHeaders(w.Header())
		statusview.MeetingLive(w, st.view())
	})
	return loopback.Guard(mux)
}

func (st *Status) view() statusview.Meeting {
	return statusview.Meeting{Relays: st.Meeting(), Now: time.Now()}
}
