//go:build linux

package launch

import (
	"os/exec"
	"syscall"
)

func setProcAttr(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	// A process group of its own: Ctrl-C on the terminal reaches only the
	// parent, which then stops its children in order, and Stop can kill
	// whatever the child itself started.
	cmd.SysProcAttr.Setpgid = true
	// Die with the parent, even one killed with SIGKILL. The signal is tied
	// to the OS thread that forked the child; the Go runtime does not end
	// its threads except for goroutines that exit while locked to one,
	// which nothing here does.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
}
