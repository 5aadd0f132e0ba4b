//go:build linux

package sockopt

import (
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestOptions: a dialled and an accepted link both carry keepalive, and
// no user timeout.
func TestOptions(t *testing.T) {
	d, a := linkPair(t)
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
		if err != nil || ut != 0 {
			t.Errorf("%s: TCP_USER_TIMEOUT %d ms, %v; want none (it kills a link with a zero window)", name, ut, err)
		}
		idle, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_KEEPIDLE)
		if err != nil || idle != int(KeepAliveIdle.Seconds()) {
			t.Errorf("%s: TCP_KEEPIDLE %d, %v", name, idle, err)
		}
	})
}

// TestAckWatch: the peer is dead only when data has waited AckTimeout with
// no ack at all; data just sent on a link idle for long is not, nor is a
// link whose peer answers (window probes included) however long its data
// waits.
func TestAckWatch(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	type sample struct {
		at       time.Duration
		unacked  uint32
		sinceAck time.Duration
		dead     bool
	}
	for name, samples := range map[string][]sample{
		"dead link with data in flight": {
			{0, 4, 0, false}, {time.Second, 4, time.Second, false}, {2900 * time.Millisecond, 9, 2900 * time.Millisecond, false},
			{3 * time.Second, 9, 3 * time.Second, true},
		},
		"data sent after a long idle": {
			{0, 0, time.Minute, false}, {500 * time.Millisecond, 2, time.Minute, false}, {3 * time.Second, 2, time.Minute, false},
			{3500 * time.Millisecond, 2, time.Minute, true}, // 3 s since it was first seen outstanding
		},
		"busy link, acks flowing": {
			{0, 40, 0, false}, {10 * time.Second, 40, 10 * time.Millisecond, false}, {20 * time.Second, 40, 0, false},
		},
		"all acked in between": {
			{0, 3, 0, false}, {2 * time.Second, 0, 2 * time.Second, false}, {4 * time.Second, 1, 4 * time.Second, false},
			{6 * time.Second, 1, 6 * time.Second, false}, {7 * time.Second, 1, 7 * time.Second, true},
		},
	} {
		var w ackWatch
		for i, s := range samples {
			if got := w.dead(at(s.at), s.unacked, s.sinceAck); got != s.dead {
				t.Errorf("%s: sample %d (%v, %d unacked, %v since an ack): dead=%v, want %v", name, i, s.at, s.unacked, s.sinceAck, got, s.dead)
			}
		}
	}
}

// TestZeroWindowSurvives: a healthy peer that stops reading for longer
// than AckTimeout (its window closes; its kernel answers the probes) keeps
// its link, and every byte arrives once it reads again. With
// TCP_USER_TIMEOUT at 3 s, Linux killed this link after 3 s. Takes
// AckTimeout + 1.5 s.
func TestZeroWindowSurvives(t *testing.T) {
	c, peer := linkPair(t)
	const total = 16 << 20 // far beyond both socket buffers
	wrote := make(chan error, 1)
	go func() {
		buf := make([]byte, 64<<10)
		for n := 0; n < total; n += len(buf) {
			if _, err := c.Write(buf); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	stall := AckTimeout + 1500*time.Millisecond
	select {
	case err := <-wrote:
		t.Fatalf("the writer finished (%v) while its peer read nothing", err)
	case <-time.After(stall): // the peer reads nothing: the condition under test
	}
	n, err := io.Copy(io.Discard, io.LimitReader(peer, total))
	if err != nil || n != total {
		t.Fatalf("after a %v stall the peer read %d of %d bytes: %v", stall, n, total, err)
	}
	if err := <-wrote; err != nil {
		t.Fatalf("writer: %v", err)
	}
}

// linkPair is a link dialled with Dial and its end accepted with Accepted,
// both closed when the test ends.
func linkPair(t *testing.T) (dialled, accepted net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(ch)
			return
		}
		ch <- Accepted(c)
	}()
	dialled, err = Dial(Dialer())(t.Context(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dialled.Close() })
	if accepted = <-ch; accepted == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { accepted.Close() })
	return dialled, accepted
}
