package proxy

import "testing"

// TestMemoryTrimAfterIdleInterval: memory is given back once, at the first
// tick with no stream open and none asked for since the previous tick, and
// only after activity.
func TestMemoryTrimAfterIdleInterval(t *testing.T) {
	var tr memoryTrim
	steps := []struct {
		opened int
		active bool
		want   bool
	}{
		{0, false, false}, // never active: nothing to give back
		{3, true, false},  // busy
		{0, true, false},  // streams still open
		{0, false, true},  // no stream open, none asked for since the last tick: trim
		{0, false, false}, // trimmed already
		{1, false, false}, // a stream opened and closed between ticks is activity
		{0, false, true},
	}
	for i, st := range steps {
		for range st.opened {
			tr.streamOpened()
		}
		if got := tr.tick(st.active); got != st.want {
			t.Fatalf("step %d: tick = %v, want %v", i, got, st.want)
		}
	}
}
