//go:build linux

package sockopt

import (
	"net"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestOptions: a dialled and an accepted link both carry the user timeout
// and keepalive.
func TestOptions(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- Accepted(c)
	}()
	d, err := Dialer().Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	a := <-accepted
	if a == nil {
		t.Fatal("accept failed")
	}
	defer a.Close()
	for name, c := range map[string]net.Conn{"dialled": d, "accepted": a} {
		check(t, name, c.(*net.TCPConn))
	}
	if Dialer().Timeout != 5*time.Second {
		t.Errorf("dial timeout %v", Dialer().Timeout)
	}
}

func check(t *testing.T, name string, c *net.TCPConn) {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	raw.Control(func(fd uintptr) {
		ka, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_KEEPALIVE)
		if err != nil || ka == 0 {
			t.Errorf("%s: SO_KEEPALIVE %d, %v", name, ka, err)
		}
		if runtime.GOOS != "linux" {
			return
		}
		ut, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT)
		if err != nil || ut != int(UserTimeout.Milliseconds()) {
			t.Errorf("%s: TCP_USER_TIMEOUT %d ms, %v; want %d", name, ut, err, UserTimeout.Milliseconds())
		}
		idle, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_KEEPIDLE)
		if err != nil || idle != int(KeepAliveIdle.Seconds()) {
			t.Errorf("%s: TCP_KEEPIDLE %d, %v", name, idle, err)
		}
	})
}
