//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package prompt

import "golang.org/x/sys/unix"

const (
	ioctlGetTermios = unix.TIOCGETA
	ioctlSetTermios = unix.TIOCSETA
)

// fread is FREAD of the BSDs' <sys/fcntl.h>: TIOCFLUSH's "input queue"
// (x/sys/unix does not name it on every BSD).
const fread = 0x1

func flushInput(f fder) {
	unix.IoctlSetPointerInt(int(f.Fd()), unix.TIOCFLUSH, fread)
}
