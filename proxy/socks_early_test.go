package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"testing"

	socks5 "github.com/armon/go-socks5"
)

// TestSOCKSEarlyData: a client that writes greeting, authentication, request
// and data at once, with either method and every address type: the data
// reaches DialStream as Early, exactly (go-socks5 read the handshake and not
// one byte more), and comes back through the stream once.
func TestSOCKSEarlyData(t *testing.T) {
	d := socksEchoDialer(t)
	ts := startSOCKS(t, &SOCKSServer{Dialer: d})
	const data = "GET / HTTP/1.1\r\n\r\n"
	for _, auth := range [][]byte{nil, socksUserPass("alice", "s3cret"), socksUserPass("", "")} {
		for _, host := range []string{"192.0.2.1", "2001:db8::1", "site.test"} {
			method, replies := byte(socks5.NoAuth), 2
			if auth != nil {
				method, replies = socks5.UserPassAuth, 4
			}
			c := socksDialRaw(t, ts.addr)
			msg := append([]byte{5, 1, method}, auth...)
			msg = append(append(msg, socksRequest(1, host, 80)...), data...)
			socksWrite(t, c, msg)
			socksRead(t, c, replies) // method, auth status
			if rep, _ := socksReadReply(t, c); rep != 0 {
				t.Fatalf("%s: reply 0x%02x", host, rep)
			}
			c.CloseWrite()
			if got, _ := io.ReadAll(c); string(got) != data {
				t.Errorf("auth %q, %s: echoed %q, want %q once", auth, host, got, data)
			}
			if got := d.last(t); string(got.Early) != data {
				t.Errorf("auth %q, %s: Early = %q, want %q", auth, host, got.Early, data)
			}
		}
	}
}

// TestSOCKSEarlyDataBounded: more data behind the request than one cell:
// at most optimisticMax of it goes as Early, the rest through the stream
// after the reply, nothing lost or repeated. An onion host gets no Early
// (its stream needs a login first), and its data still goes through once.
func TestSOCKSEarlyDataBounded(t *testing.T) {
	d := socksEchoDialer(t)
	ts := startSOCKS(t, &SOCKSServer{Dialer: d})
	data := bytes.Repeat([]byte("0123456789abcdef"), 2*optimisticMax/16+5)
	for _, host := range []string{"big.test", "abcdefghijklmnop.onion"} {
		c := socksDialRaw(t, ts.addr)
		go func() {
			c.Write(append(append([]byte{5, 1, 0}, socksRequest(1, host, 80)...), data...))
			c.CloseWrite()
		}()
		socksRead(t, c, 2)
		if rep, _ := socksReadReply(t, c); rep != 0 {
			t.Fatalf("%s: reply 0x%02x", host, rep)
		}
		if got, _ := io.ReadAll(c); !bytes.Equal(got, data) {
			t.Errorf("%s: echoed %d bytes, want the %d sent, in order", host, len(got), len(data))
		}
		early := d.last(t).Early
		if len(early) > optimisticMax || !bytes.HasPrefix(data, early) {
			t.Errorf("%s: Early is %d bytes, not a prefix of the data of at most %d", host, len(early), optimisticMax)
		}
		if host != "big.test" && early != nil {
			t.Errorf("%s: Early = %d bytes, want none for an onion host", host, len(early))
		}
	}
}

// TestClientConnHoldsEarlyData: a client that writes greeting, request and
// data at once: a reader with a large buffer (go-socks5's bufio) gets the
// handshake and not one byte more; early returns the data, once.
func TestClientConnHoldsEarlyData(t *testing.T) {
	ours, theirs := net.Pipe()
	defer theirs.Close()
	handshake := append([]byte{5, 1, socks5.NoAuth}, socksRequest(1, "site.test", 80)...)
	go theirs.Write(append(bytes.Clone(handshake), "GET / HTTP/1.1\r\n\r\n"...))

	c := newSocksConn(&SOCKSServer{}, ours)
	lib := bufio.NewReaderSize(c, 4096)
	got := make([]byte, len(handshake))
	if _, err := io.ReadFull(lib, got); err != nil {
		t.Fatal(err)
	}
	if lib.Buffered() != 0 {
		t.Fatalf("the reader got %d bytes past the request", lib.Buffered())
	}
	if !bytes.Equal(got, handshake) {
		t.Fatalf("handshake bytes %x", got)
	}
	if e := c.early(); string(e) != "GET / HTTP/1.1\r\n\r\n" {
		t.Fatalf("early = %q", e)
	}
	if e := c.early(); e != nil {
		t.Fatalf("early again = %q", e)
	}
}
