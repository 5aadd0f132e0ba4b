//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package prompt

import "golang.org/x/sys/unix"

type fder interface{ Fd() uintptr }

// Supported reports whether this platform can ask on a terminal.
const Supported = true

// echoOff turns the terminal's echo off, keeping it line by line (so that
// the one reader still gets whole lines, and Ctrl-C still interrupts),
// and returns what turns it back on.
func echoOff(f fder) (restore func(), err error) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return nil, err
	}
	t := *old
	t.Lflag &^= unix.ECHO
	t.Lflag |= unix.ICANON | unix.ISIG
	t.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(fd, ioctlSetTermios, &t); err != nil {
		return nil, err
	}
	return func() { unix.IoctlSetTermios(fd, ioctlSetTermios, old) }, nil
}
