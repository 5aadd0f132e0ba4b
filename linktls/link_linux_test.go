package linktls

import (
	"context"
	"crypto/ed25519"
	"net"
	"syscall"
	"testing"
	"time"

	"onion/onion/circuit"
)

// TestLinkTunesSocketUnderTLS: a link over linktls bounds the unsent data
// of the TCP socket under TLS as a plain link does (onion/circuit's
// TCP_NOTSENT_LOWAT). It did not while the conn under *tls.Conn had no
// NetConn: the socket kept the kernel's unbounded default.
func TestLinkTunesSocketUnderTLS(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	id := newKey(t, 3)
	cfg, err := ServerConfig(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			srv <- err
			return
		}
		sc, err := Server(ctx, c, cfg)
		if err != nil {
			srv <- err
			return
		}
		l, err := circuit.Handshake(sc)
		if err == nil {
			defer l.Close()
			_, err = l.ReadCell() // until the client closes
			err = nil
		}
		srv <- err
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cc, err := Client(ctx, raw, id.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	l, err := circuit.Handshake(cc)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := raw.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var got int
	var gerr error
	sc.Control(func(fd uintptr) {
		got, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, 0x19 /* TCP_NOTSENT_LOWAT */)
	})
	l.Close()
	if err := <-srv; err != nil {
		t.Fatal(err)
	}
	// The kernel's default is unbounded (it reads as 0 here);
	// the link asks for a fraction of a megabyte.
	if gerr != nil || got <= 0 || got > 1<<20 {
		t.Fatalf("TCP_NOTSENT_LOWAT under TLS = %d, %v; want the link's bound", got, gerr)
	}
}
