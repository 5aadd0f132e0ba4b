package client

import "testing"

// TestMemoryTrimAfterIdleInterval: memory is given back at the first tick
// that finds no stream open, once per stretch of activity.
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
		{0, false, true},  // none open now: trim
		{0, false, false}, // trimmed already, nothing since
		{1, false, true},  // a stream opened and closed between ticks
		{0, false, false},
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
