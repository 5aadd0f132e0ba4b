package oniontest

import (
	"runtime"
	"testing"
	"time"
)

// LeakWait bounds how long CheckLeaks waits for goroutines to finish.
const LeakWait = 10 * time.Second

// CheckLeaks notes how many goroutines run now and, when the test ends,
// waits (bounded by LeakWait) for the count to come back down, failing the
// test with every goroutine's stack if it does not (wireguard-go's
// goroutineLeakCheck). Call it first in a test, before anything that
// registers a Cleanup, so that it runs after every other Cleanup. Tests that
// use it must not run in parallel.
func CheckLeaks(tb testing.TB) {
	base := runtime.NumGoroutine()
	tb.Cleanup(func() {
		deadline := time.Now().Add(LeakWait)
		for {
			n := runtime.NumGoroutine()
			if n <= base {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				tb.Errorf("%d goroutines still running %v after the test, %d before:\n%s", n, LeakWait, base, buf)
				return
			}
			time.Sleep(10 * time.Millisecond) // bounded polling: nothing to wait on
		}
	})
}
