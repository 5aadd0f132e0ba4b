package testhosts

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// doIn runs f on this goroutine's OS thread moved into the network
// namespace open at descriptor target, and moves the thread back.
func doIn(target int, f func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setns: %w", err)
	}
	ferr := f()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("setns back: %w", err) // thread stays locked and dies
	}
	runtime.UnlockOSThread()
	return ferr
}
