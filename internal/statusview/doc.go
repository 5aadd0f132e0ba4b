// Package statusview draws a proxy's network: the relays it knows and its
// circuits hop by hop, as an HTML page with an inline SVG picture (no
// external assets) for the status endpoint, and as text for `onion status`
// on a terminal. It renders a Snapshot and does nothing else: no I/O of its
// own, no network. Stream destinations are not in a Snapshot: the view
// never shows where a stream goes.
package statusview

import "time"

// Hop is one relay of a circuit, as GET /circuits gives it.
type Hop struct {
	Nickname    string `json:"nickname"`
	Fingerprint string `json:"fingerprint"`
	Address     string `json:"address"`
}

// Circuit is one live circuit, as GET /circuits gives it.
type Circuit struct {
	ID            int    `json:"id"`
	Path          []Hop  `json:"path"`
	Streams       int    `json:"streams"`
	AgeSec        int64  `json:"age_seconds"`
	BytesSent     uint64 `json:"bytes_sent"`
	BytesReceived uint64 `json:"bytes_received"`
}

// Relay is one relay of the proxy's verified list, as GET /relays gives it.
type Relay struct {
	Nickname    string `json:"nickname"`
	Fingerprint string `json:"fingerprint"`
	Address     string `json:"address"`
	Exit        bool   `json:"exit"`
	Published   int64  `json:"published"` // Unix seconds
	// UptimeSec is how long the directory has listed it without a break;
	// the directory's network page knows it, a proxy does not.
	UptimeSec int64 `json:"uptime_seconds,omitempty"`
}

// Failure is one recent failure, as GET /failures gives it.
type Failure struct {
	At     int64  `json:"at"`     // Unix seconds
	What   string `json:"what"`   // what failed: "circuit build"
	Reason string `json:"reason"` // one word
	Detail string `json:"detail"` // the error; never a destination
}

// Snapshot is what one view shows.
type Snapshot struct {
	Relays   []Relay
	Circuits []Circuit
	Failures []Failure // newest first
	// Meeting are the meeting relays of this network's hidden server,
	// when the proxy was told where its status page is (onion up).
	Meeting []MeetingRelay
	Now     time.Time
}

// uses counts the circuits each relay (by fingerprint) is on.
func (s Snapshot) uses() map[string]int {
	n := make(map[string]int)
	for _, c := range s.Circuits {
		for _, h := range c.Path {
			n[h.Fingerprint]++
		}
	}
	return n
}

func (s Snapshot) exits() int {
	n := 0
	for _, r := range s.Relays {
		if r.Exit {
			n++
		}
	}
	return n
}
