package circuit

import (
	"crypto/tls"
	"net"
	"syscall"
	"testing"
)

// TestTuneSocketUnderTLS: the link's socket option reaches the TCP socket
// under a TLS conn (as links are wrapped), and a conn with no socket is
// left alone.
func TestTuneSocketUnderTLS(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tuneSocket(tls.Client(c, &tls.Config{InsecureSkipVerify: true})) // no handshake: only the wrapping matters

	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var got int
	var gerr error
	raw.Control(func(fd uintptr) { got, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpNotSentLowat) })
	if gerr != nil || got != notSentLowat {
		t.Fatalf("TCP_NOTSENT_LOWAT = %d, %v; want %d", got, gerr, notSentLowat)
	}

	p, q := net.Pipe()
	defer p.Close()
	defer q.Close()
	tuneSocket(p) // nothing to tune: must not panic
}
