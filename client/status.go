package client

// What the status endpoint shows: the live circuits and the relay list.

import (
	"sort"
)

// HopInfo describes one relay of a circuit.
type HopInfo struct {
	Nickname    string `json:"nickname"`
	Fingerprint string `json:"fingerprint"`
	Address     string `json:"address"`
}

// CircuitInfo describes one live circuit.
type CircuitInfo struct {
	ID      int       `json:"id"`
	Path    []HopInfo `json:"path"`
	Streams int       `json:"streams"`
	AgeSec  int64     `json:"age_seconds"`
	// Relay cell payload bytes sent and received on the circuit.
	BytesSent     uint64 `json:"bytes_sent"`
	BytesReceived uint64 `json:"bytes_received"`
	// CongestionControl: the exit or service accepted it (PROTOCOL.md
	// §6.1); CwndCells is then the window of what this end sends.
	CongestionControl bool `json:"congestion_control"`
	CwndCells         int  `json:"cwnd_cells,omitempty"`
}

// Circuits lists the live circuits, oldest first.
func (m *Manager) Circuits() []CircuitInfo {
	now := m.cfg.Now()
	m.mu.Lock()
	out := make([]CircuitInfo, 0, len(m.all))
	for ce := range m.all {
		info := CircuitInfo{ID: ce.id, Streams: ce.c.NumStreams(), AgeSec: int64(now.Sub(ce.born).Seconds())}
		info.BytesSent, info.BytesReceived = ce.c.Bytes()
		info.CongestionControl, info.CwndCells, _ = ce.c.CongestionControl()
		for _, d := range ce.path {
			info.Path = append(info.Path, HopInfo{Nickname: d.Nickname, Fingerprint: d.Fingerprint(), Address: d.Address})
		}
		out = append(out, info)
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Totals reports the relay cell bytes sent and received on every circuit
// this manager has had, open or closed.
func (m *Manager) Totals() (sent, received uint64) {
	sent, received = m.closedSent.Load(), m.closedReceived.Load()
	m.mu.Lock()
	defer m.mu.Unlock()
	for ce := range m.all {
		s, r := ce.c.Bytes()
		sent, received = sent+s, received+r
	}
	return sent, received
}
