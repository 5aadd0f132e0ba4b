package circuit

import (
	"net"
	"syscall"
)

// tcpNotSentLowat is TCP_NOTSENT_LOWAT (linux/tcp.h), which package syscall
// does not name.
const tcpNotSentLowat = 0x19

// tuneSocket asks the kernel to hold at most notSentLowat bytes of a link's
// data that it has not sent yet (KIST's idea, as Tor does): a write then
// waits while the peer or the path is slow, and the cells wait in the
// link's queue, where quiet circuits go first, rather than in a socket
// buffer of megabytes where they cannot. conn may be TLS over TCP (any
// conn with NetConn, as *tls.Conn has); other conns are left alone. A
// failure only loses the tuning.
func tuneSocket(conn net.Conn) {
	tc, ok := tcpConn(conn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	raw.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpNotSentLowat, notSentLowat)
	})
}
