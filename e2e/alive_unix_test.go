//go:build unix

package e2e

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// alive reports whether pid is a running process; a zombie, exited but not
// yet reaped by whoever inherited it, is not.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		_, noProc := os.Stat("/proc/self/stat")
		// Gone since kill(0), unless there is no /proc: then trust kill(0).
		return !errors.Is(err, os.ErrNotExist) || noProc != nil
	}
	// The state follows the parenthesised command name, which may hold spaces.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
