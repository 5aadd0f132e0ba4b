package testnet

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"onion/client"
	"onion/hiddenserver"
	"onion/onion"
)

// TestForwardTCP: a virtual port forwarded to a loopback TCP app carries
// bytes both ways with half-close; the built-in echo stays on 7; a port
// forwarded to nothing listening and an unmapped port are refused, each
// with its END reason, and the service keeps serving.
func TestForwardTCP(t *testing.T) {
	app := startReverser(t)
	dead := closedPort(t)
	n := Start(t, Options{HiddenServer: true, Service: func(c *hiddenserver.Config) {
		c.Forwards = []hiddenserver.Forward{
			{Port: 2222, Network: "tcp", Addr: app},
			{Port: 2223, Network: "tcp", Addr: dead},
		}
	}})
	ctx := Deadline(t, 60*time.Second)
	addr := n.Service.Address()
	conn, err := n.Manager.DialStream(ctx, client.DialRequest{Host: addr, Port: 2222})
	if err != nil {
		t.Fatalf("dial forwarded port: %v", err)
	}
	msg := bytes.Repeat([]byte("forward "), 40000)
	go func() {
		for i := 0; i < len(msg); i += 1000 { // many small writes, as a terminal session
			conn.Write(msg[i:min(i+1000, len(msg))])
		}
		conn.(interface{ CloseWrite() error }).CloseWrite()
	}()
	got, err := io.ReadAll(conn)
	conn.Close()
	if err != nil || !bytes.Equal(got, reversed(msg)) {
		t.Fatalf("forwarded app: %d bytes, err %v; want %d bytes reversed", len(got), err, len(msg))
	}
	for port, want := range map[uint16]onion.EndReason{2223: onion.EndRefused, 81: onion.EndRefused} {
		_, err := n.Manager.DialStream(ctx, client.DialRequest{Host: addr, Port: port})
		var oe *client.OpenError
		if !errors.As(err, &oe) || oe.Reason != want {
			t.Errorf("port %d: %v; want END %v", port, err, want)
		}
	}
	echo, err := n.Manager.DialStream(ctx, client.DialRequest{Host: addr, Port: hiddenserver.PortEcho})
	if err != nil {
		t.Fatalf("built-in echo after refusals: %v", err)
	}
	echo.Close()
}

// startReverser runs a loopback TCP app that reads until EOF and answers
// with the bytes reversed: its answer proves the client's half-close
// arrived, and the client's EOF proves the app's did.
func startReverser(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b, err := io.ReadAll(c)
				if err == nil {
					c.Write(reversed(b))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func reversed(b []byte) []byte {
	r := make([]byte, len(b))
	for i, c := range b {
		r[len(b)-1-i] = c
	}
	return r
}

// closedPort is a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

// TestForwardStreamLimit: with MaxStreams 1, a second stream to a forward
// while the first is open gets END resource; the first still works.
func TestForwardStreamLimit(t *testing.T) {
	app := startReverser(t)
	n := Start(t, Options{HiddenServer: true, Service: func(c *hiddenserver.Config) {
		c.Forwards = []hiddenserver.Forward{{Port: 2222, Network: "tcp", Addr: app}}
		c.MaxStreams = 1
	}})
	ctx := Deadline(t, 60*time.Second)
	addr := n.Service.Address()
	first, err := n.Manager.DialStream(ctx, client.DialRequest{Host: addr, Port: 2222})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	_, err = n.Manager.DialStream(ctx, client.DialRequest{Host: addr, Port: 2222})
	var oe *client.OpenError
	if !errors.As(err, &oe) || oe.Reason != onion.EndResource {
		t.Fatalf("second stream: %v; want END resource", err)
	}
	first.Write([]byte("abc"))
	first.(interface{ CloseWrite() error }).CloseWrite()
	if got, err := io.ReadAll(first); err != nil || string(got) != "cba" {
		t.Fatalf("first stream after the refusal: %q, %v", got, err)
	}
}
