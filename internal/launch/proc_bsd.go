//go:build unix && !linux

package launch

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the child in a process group of its own, so Ctrl-C on
// the terminal reaches only the parent. There is no parent-death signal
// outside Linux.
func setProcAttr(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}
