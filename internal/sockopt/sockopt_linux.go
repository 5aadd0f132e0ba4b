package sockopt

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// control sets TCP_USER_TIMEOUT on a TCP socket.
func control(network, _ string, raw syscall.RawConn) error {
	var serr error
	err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(UserTimeout.Milliseconds()))
	})
	if err != nil {
		return err
	}
	return serr
}
