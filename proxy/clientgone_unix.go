//go:build unix

package proxy

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"
)

// watchGone cancels cancel when the client on conn hangs up while its
// CONNECT waits (for a login prompt, say): the question it caused is then
// withdrawn rather than left for a person to answer in vain. It looks
// without reading: a peek that finds the end of the stream means gone;
// one that finds data means the client is there (and the data stays for
// the stream). The returned stop ends the watch before the conn is used
// again; it must be called before dial returns.
//
// A client that half-closes (sends its request, then shuts down its
// sending side) looks gone too: so only a CONNECT to a hidden service,
// which may wait for a person, is watched, and browsers and curl never
// half-close while they wait for the reply.
func watchGone(conn net.Conn, cancel context.CancelFunc) (stop func()) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return func() {}
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var gone bool
		err := raw.Read(func(fd uintptr) bool {
			var b [1]byte
			n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if errors.Is(err, syscall.EAGAIN) {
				return false // nothing yet: wait until the socket is readable
			}
			gone = n == 0 || err != nil
			return true
		})
		if gone && err == nil {
			cancel()
		}
	}()
	return func() {
		conn.SetReadDeadline(time.Now()) // wakes the watch's wait
		<-done
		conn.SetReadDeadline(time.Time{})
	}
}
