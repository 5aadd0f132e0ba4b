package sockopt

import (
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// watch closes c once its peer is dead (ackWatch), and ends when c is
// closed, by anyone.
func watch(c *net.TCPConn) {
	raw, err := c.SyscallConn()
	if err != nil {
		return
	}
	var w ackWatch
	t := time.NewTicker(WatchEvery)
	defer t.Stop()
	for now := range t.C {
		var info *unix.TCPInfo
		var ierr error
		if err := raw.Control(func(fd uintptr) { info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) }); err != nil {
			return // closed
		}
		if ierr != nil {
			return
		}
		// Zero-window probes outstanding count as data waiting: a peer
		// that answers them resets them (and its ack time).
		if w.dead(now, info.Unacked+uint32(info.Probes), time.Duration(info.Last_ack_recv)*time.Millisecond) {
			c.Close() // its readers and writers fail; the link above ends
			return
		}
	}
}
