package bench

import (
	"os"
	"testing"
	"time"

	"onion/internal/procstat"
)

// TestCPUByRole measures this process as if it were the proxy: the CPU a
// little busy work uses is counted to its role, and to no other.
func TestCPUByRole(t *testing.T) {
	if !procstat.Supported() {
		t.Skip("no /proc here")
	}
	procs := []process{{name: "me", role: roleProxy, pid: os.Getpid()}}
	before, err := takeCPU(procs)
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
	} // burn a little CPU
	after, err := takeCPU(procs)
	if err != nil {
		t.Fatal(err)
	}
	by := cpuByRole(procs, before, after)
	if got := by[roleProxy]; got < 0 || got > 5 {
		t.Errorf("cpuByRole = %v s for 50 ms of work", got)
	}
	if len(by) != 1 {
		t.Errorf("cpuByRole = %v, want the proxy's role only", by)
	}
	if peak := peakRSS(procs); peak["me"] <= 0 {
		t.Errorf("peakRSS = %v, want this process's peak", peak)
	}
}
