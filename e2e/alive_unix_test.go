//go:build unix

package e2e

import (
	"errors"
	"os"
	"syscall"

	"onion/internal/procstat"
)

// alive reports whether pid is a running process; a zombie, exited but not
// yet reaped by whoever inherited it, is not.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	state, err := procstat.State(pid)
	if err != nil {
		// Gone since kill(0), unless there is no /proc: then trust kill(0).
		return !errors.Is(err, os.ErrNotExist) || !procstat.Supported()
	}
	return state != 'Z'
}
