//go:build linux

package e2e

import (
	"testing"
	"time"
)

// TestUpKilledChildrenExit: when up is killed with SIGKILL and cannot stop
// its children, the kernel's parent-death signal does.
func TestUpKilledChildrenExit(t *testing.T) {
	up, info := startUp(t, "--relays", "3", "--exits", "1")
	up.killed = true
	if err := up.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-up.Done()
	waitFor(t, 15*time.Second, "up's children to exit", func() bool {
		for _, pid := range info.PIDs() {
			if alive(pid) {
				return false
			}
		}
		return true
	})
}
