package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"testing"

	socks5 "github.com/armon/go-socks5"
)

// TestHandshakeNeed walks both sub-negotiations and every address type one
// byte at a time: the need never overshoots, and it reaches 0 exactly at
// the request's end.
func TestHandshakeNeed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method byte
		bytes  []byte
	}{
		{"no auth, IPv4", socks5.NoAuth, socksRequest(1, "192.0.2.1", 80)},
		{"no auth, IPv6", socks5.NoAuth, socksRequest(1, "2001:db8::1", 80)},
		{"user/pass, name", socks5.UserPassAuth, append(socksUserPass("alice", "s3cret"), socksRequest(1, "site.test", 443)...)},
		{"user/pass, empty", socks5.UserPassAuth, append(socksUserPass("", ""), socksRequest(1, "x", 1)...)},
	} {
		for i := 0; i < len(tc.bytes); i++ {
			need, ok := handshakeNeed(tc.method, tc.bytes[:i])
			if !ok || need == 0 || i+need > len(tc.bytes) {
				t.Fatalf("%s: after %d of %d bytes: need %d, %v", tc.name, i, len(tc.bytes), need, ok)
			}
		}
		if need, ok := handshakeNeed(tc.method, tc.bytes); !ok || need != 0 {
			t.Fatalf("%s: complete request: need %d, %v", tc.name, need, ok)
		}
	}
	if _, ok := handshakeNeed(socks5.NoAuth, []byte{5, 1, 0, 9}); ok {
		t.Error("unknown address type followed")
	}
	if _, ok := handshakeNeed(0xff, nil); ok {
		t.Error("no acceptable method followed")
	}
}

// TestClientConnHoldsEarlyData: a client that writes greeting, request and
// data at once: a reader with a large buffer (go-socks5's bufio) gets the
// handshake and not one byte more; early returns the data, once.
func TestClientConnHoldsEarlyData(t *testing.T) {
	ours, theirs := net.Pipe()
	defer theirs.Close()
	greeting := []byte{5, 1, socks5.NoAuth}
	request := socksRequest(1, "site.test", 80)
	go theirs.Write(append(append(append([]byte(nil), greeting...), request...), "GET / HTTP/1.1\r\n\r\n"...))

	br := bufio.NewReader(ours)
	g, err := readGreeting(br)
	if err != nil {
		t.Fatal(err)
	}
	c := newSocksClientConn(ours, g, br)
	lib := bufio.NewReaderSize(c, 4096)
	got := make([]byte, len(greeting)+len(request))
	if _, err := io.ReadFull(lib, got); err != nil {
		t.Fatal(err)
	}
	if lib.Buffered() != 0 {
		t.Fatalf("the reader got %d bytes past the request", lib.Buffered())
	}
	if !bytes.Equal(got, append(greeting, request...)) {
		t.Fatalf("handshake bytes %x", got)
	}
	if e := c.early(); string(e) != "GET / HTTP/1.1\r\n\r\n" {
		t.Fatalf("early = %q", e)
	}
	if e := c.early(); e != nil {
		t.Fatalf("early again = %q", e)
	}
}
