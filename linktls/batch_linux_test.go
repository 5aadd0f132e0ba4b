package linktls

import (
	"context"
	"crypto/ed25519"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// countConn counts the reads of the conn under TLS and the bytes that
// crossed it.
type countConn struct {
	net.Conn
	reads, read, written atomic.Int64
}

func (c *countConn) Read(p []byte) (int, error) {
	c.reads.Add(1)
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c *countConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

// TestReadsTakeSeveralRecordsAtOnce: when four 16 KiB records wait in the
// socket, a TLS link reads them in two system calls at most (its buffer
// under TLS), not one call per record as crypto/tls does on a bare socket.
func TestReadsTakeSeveralRecordsAtOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	id := newKey(t, 4)
	cfg, err := ServerConfig(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const payload = 64 << 10
	sent := make(chan int64, 1) // all bytes the relay wrote, once the payload is out
	go func() {
		defer close(sent)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		cc := &countConn{Conn: c}
		sc, err := Server(ctx, cc, cfg)
		if err != nil {
			return
		}
		defer sc.Close()
		if _, err := sc.Write(make([]byte, payload)); err != nil {
			return
		}
		sent <- cc.written.Load()
		io.Copy(io.Discard, sc) // until the client closes
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	under := &countConn{Conn: raw}
	cc, err := Client(ctx, under, id.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	total, ok := <-sent
	if !ok {
		t.Fatal("the relay side failed")
	}
	// Wait until everything the relay wrote is in this socket's queue.
	sys, err := raw.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var queued int
		var qerr error
		sys.Control(func(fd uintptr) { queued, qerr = unix.IoctlGetInt(int(fd), unix.SIOCINQ) })
		if qerr != nil {
			t.Fatal(qerr)
		}
		if int64(queued) >= total-under.read.Load() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes queued, want %d", queued, total-under.read.Load())
		}
		time.Sleep(time.Millisecond) // polling the queue, not waiting blind
	}
	reads0 := under.reads.Load()
	if _, err := io.ReadFull(cc, make([]byte, payload)); err != nil {
		t.Fatal(err)
	}
	if n := under.reads.Load() - reads0; n > 2 {
		t.Fatalf("%d reads of the socket for %d queued bytes, want 2 at most", n, total)
	}
}
