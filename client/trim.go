package client

// Noticing the end of a burst. A process that carried hundreds of streams
// holds their buffers' pages long after they closed: the Go runtime returns
// freed memory to the system only gradually. At the first maintenance tick
// that finds no stream open after activity, the manager calls
// Config.OnIdle, so the process can give memory back then (the proxy
// does); what to do is the process's decision, not this library's.

import "sync/atomic"

// memoryTrim tracks activity between maintenance ticks.
type memoryTrim struct {
	opened   atomic.Uint64 // streams asked for, ever
	seen     uint64        // opened at the last tick; maintenance goroutine only
	needTrim bool          // activity since the last trim; maintenance goroutine only
}

// streamOpened counts one stream request.
func (t *memoryTrim) streamOpened() { t.opened.Add(1) }

// tick runs once per maintenance interval. active reports whether any
// stream is open now. It gives memory back when no stream is open and
// there was activity since the last idle moment, and reports whether this
// is one: at most one per interval, so even a forced collection on each
// costs little while short streams keep coming.
func (t *memoryTrim) tick(active bool) bool {
	if cur := t.opened.Load(); cur != t.seen {
		t.seen = cur
		t.needTrim = true
	}
	if active {
		t.needTrim = true
		return false
	}
	if !t.needTrim {
		return false
	}
	t.needTrim = false
	return true
}

// anyStreams reports whether a circuit carries a stream.
func (m *Manager) anyStreams() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for ce := range m.all {
		if ce.c.NumStreams() > 0 {
			return true
		}
	}
	return false
}
