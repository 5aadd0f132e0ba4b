package testnet

import (
	"bytes"
	"crypto/sha256"
	"io"
	mrand "math/rand"
	"net"
	"testing"
	"time"

	"onion/client"

	xproxy "golang.org/x/net/proxy"
)

// echoServer accepts connections and echoes until EOF, then closes.
func echoServer(t *testing.T) string {
	ln := listen(t)
	t.Cleanup(func() { ln.Close() })
	go serveEcho(ln)
	return ln.Addr().String()
}

// serveEcho echoes on every connection ln accepts until ln is closed.
func serveEcho(ln net.Listener) { serveEach(ln, func(c net.Conn) { io.Copy(c, c) }) }

// serveEach runs handle on every connection ln accepts, each on its own
// goroutine, and closes the connection when handle returns; it returns
// once ln is closed.
func serveEach(ln net.Listener, handle func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			handle(c)
		}()
	}
}

func TestStreamThroughThreeHops(t *testing.T) {
	n := Start(t, Options{})
	addr := echoServer(t)
	host, port, _ := net.SplitHostPort(addr)
	_ = host
	ctx := Deadline(t, 30*time.Second)
	conn, err := n.Manager.DialStream(ctx, client.DialRequest{Host: "localhost", Port: mustPort(t, port)})
	if err != nil {
		t.Fatalf("DialStream: %v", err)
	}
	defer conn.Close()
	payload := make([]byte, 3<<20)
	mrand.New(mrand.NewSource(1)).Read(payload)
	go func() {
		conn.Write(payload)
		conn.(interface{ CloseWrite() error }).CloseWrite()
	}()
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if sha256.Sum256(got) != sha256.Sum256(payload) {
		t.Fatalf("echo mismatch: got %d bytes, want %d", len(got), len(payload))
	}
	circs := n.Manager.Circuits()
	if len(circs) != 1 || len(circs[0].Path) != 3 {
		t.Fatalf("circuits = %+v, want one of 3 hops", circs)
	}
	seen := map[string]bool{}
	for _, h := range circs[0].Path {
		seen[h.Fingerprint] = true
	}
	if len(seen) != 3 {
		t.Fatalf("path has repeated relays: %+v", circs[0].Path)
	}
}

func TestSOCKSEcho(t *testing.T) {
	n := Start(t, Options{})
	addr := echoServer(t)
	d, err := xproxy.SOCKS5("tcp", n.SOCKSAddr, nil, xproxy.Direct)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial through SOCKS: %v", err)
	}
	defer conn.Close()
	msg := bytes.Repeat([]byte("onion "), 1000)
	if _, err := conn.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("echo mismatch")
	}
}

func mustPort(_ testing.TB, s string) uint16 {
	var p uint16
	for _, c := range s {
		p = p*10 + uint16(c-'0')
	}
	return p
}
