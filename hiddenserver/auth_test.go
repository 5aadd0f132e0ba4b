package hiddenserver

import (
	"fmt"
	"testing"
	"time"
)

// TestFailuresSlowASession: each failed login of a session lengthens the
// wait before its next challenge, up to a cap; a success clears it; other
// sessions are unaffected; the table stays bounded.
func TestFailuresSlowASession(t *testing.T) {
	var f failures
	if d := f.delay("a"); d != 0 {
		t.Fatalf("fresh session waits %v", d)
	}
	f.record("a", false)
	f.record("a", false)
	if d := f.delay("a"); d != 2*failureDelay {
		t.Fatalf("after 2 failures: %v, want %v", d, 2*failureDelay)
	}
	if d := f.delay("b"); d != 0 {
		t.Fatalf("another session waits %v", d)
	}
	for i := 0; i < 100; i++ {
		f.record("a", false)
	}
	if d := f.delay("a"); d != maxFailureDelay {
		t.Fatalf("delay not capped: %v", d)
	}
	f.record("a", true)
	if d := f.delay("a"); d != 0 {
		t.Fatalf("after a success: %v", d)
	}
	for i := 0; i < maxSessionsSeen+50; i++ {
		f.record(fmt.Sprint("s", i), false)
	}
	if len(f.m) > maxSessionsSeen {
		t.Fatalf("failure table grew to %d", len(f.m))
	}
	f.m["s1"].last = time.Now().Add(-2 * failureMemory)
	if d := f.delay("s1"); d != 0 {
		t.Fatalf("stale failure still delays: %v", d)
	}
}
