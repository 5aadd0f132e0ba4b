//go:build unix

package launch

import (
	"os/exec"
	"syscall"
)

// killGroup kills the child's process group (see setProcAttr), then the
// child itself in case it left the group.
func killGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}
