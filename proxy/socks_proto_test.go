package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"onion/client"

	xproxy "golang.org/x/net/proxy"

	"onion/onion"
)

// TestSOCKSHostnameNotResolved: a hostname reaches DialStream as sent, and
// no DNS lookup happens on the way.
func TestSOCKSHostnameNotResolved(t *testing.T) {
	// Every lookup through the default resolver dials DNS through this hook.
	var lookups atomic.Int32
	saved := net.DefaultResolver
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		lookups.Add(1)
		return nil, errors.New("test: DNS is off")
	}}
	t.Cleanup(func() { net.DefaultResolver = saved })
	// The hook must see a lookup, or this test would prove nothing.
	net.ResolveIPAddr("ip", "probe.invalid")
	if lookups.Load() == 0 {
		t.Fatal("DNS hook not called by a lookup; cannot detect leaks")
	}
	lookups.Store(0)

	d := socksEchoDialer(t)
	ts := startSOCKS(t, &SOCKSServer{Dialer: d})
	c, err := dialSOCKS(t, ts.addr, nil, "no-such-host.invalid:8080")
	if err != nil {
		t.Fatal(err)
	}
	socksEcho(t, c, "hello")

	want := client.DialRequest{Host: "no-such-host.invalid", Port: 8080}
	if got := d.last(t); !reflect.DeepEqual(got, want) {
		t.Errorf("client.DialRequest = %+v, want %+v", got, want)
	}
	if n := lookups.Load(); n != 0 {
		t.Errorf("%d DNS lookups made, want none", n)
	}
}

func TestSOCKSIPLiterals(t *testing.T) {
	d := socksEchoDialer(t)
	ts := startSOCKS(t, &SOCKSServer{Dialer: d})
	for _, tc := range []struct {
		target string
		want   client.DialRequest
	}{
		{"192.0.2.7:443", client.DialRequest{Host: "192.0.2.7", Port: 443}},
		{"[2001:db8::1]:8443", client.DialRequest{Host: "2001:db8::1", Port: 8443}},
	} {
		c, err := dialSOCKS(t, ts.addr, nil, tc.target)
		if err != nil {
			t.Fatalf("%s: %v", tc.target, err)
		}
		socksEcho(t, c, "x")
		if got := d.last(t); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: client.DialRequest = %+v, want %+v", tc.target, got, tc.want)
		}
	}
}

// TestSOCKSReplyCodes: the reply follows the exit's END reason, not the
// error text go-socks5 would match.
func TestSOCKSReplyCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want byte
	}{
		{"refused", &client.OpenError{Reason: onion.EndRefused}, 0x05},
		{"resolve", &client.OpenError{Reason: onion.EndResolve, Err: errors.New("no such host")}, 0x04},
		{"unreachable", &client.OpenError{Reason: onion.EndUnreachable}, 0x03},
		{"timeout", &client.OpenError{Reason: onion.EndTimeout}, 0x06},
		{"exit policy", &client.OpenError{Reason: onion.EndExitPolicy}, 0x02},
		{"misc", &client.OpenError{Reason: onion.EndMisc}, 0x01},
		{"wrapped", fmt.Errorf("stream 3: %w", &client.OpenError{Reason: onion.EndRefused}), 0x05},
		{"deadline", fmt.Errorf("build circuit: %w", context.DeadlineExceeded), 0x06},
		{"no circuit", errors.New("no relays"), 0x01},
		// go-socks5 would answer 0x05 and 0x03 for these texts.
		{"text refused", errors.New("link to relay: connection refused"), 0x01},
		{"text unreachable", errors.New("dial relay: network is unreachable"), 0x01},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startSOCKS(t, &SOCKSServer{Dialer: socksFailDialer(tc.err)})
			c, rep := socksConnectRaw(t, ts.addr, "example.test", 80)
			if rep != tc.want {
				t.Errorf("reply 0x%02x, want 0x%02x", rep, tc.want)
			}
			socksExpectClosed(t, c)
		})
	}
}

func TestSOCKSReplyConnectTimeout(t *testing.T) {
	d := socksBlockDialer(nil)
	ts := startSOCKS(t, &SOCKSServer{Dialer: d, ConnectTimeout: 50 * time.Millisecond})
	_, rep := socksConnectRaw(t, ts.addr, "slow.test", 80)
	if rep != 0x06 {
		t.Errorf("reply 0x%02x, want 0x06 (TTL expired)", rep)
	}
}

func TestSOCKSUnsupportedCommands(t *testing.T) {
	d := socksEchoDialer(t)
	ts := startSOCKS(t, &SOCKSServer{Dialer: d})
	for _, cmd := range []byte{2, 3, 9} { // BIND, UDP ASSOCIATE, unknown
		c := socksDialRaw(t, ts.addr)
		socksGreet(t, c, 0)
		socksWrite(t, c, socksRequest(cmd, "example.test", 80))
		if rep, _ := socksReadReply(t, c); rep != 0x07 {
			t.Errorf("command %d: reply 0x%02x, want 0x07", cmd, rep)
		}
	}
	if n := len(d.requests()); n != 0 {
		t.Errorf("DialStream called %d times, want 0", n)
	}
}

// TestSOCKSPreferUserPass: username/password is chosen whenever the client
// offers it, wherever in its list; otherwise no-auth, if offered.
func TestSOCKSPreferUserPass(t *testing.T) {
	ts := startSOCKS(t, &SOCKSServer{Dialer: socksEchoDialer(t)})
	for _, tc := range []struct {
		offer []byte
		want  byte
	}{
		{[]byte{0, 2}, 2},
		{[]byte{0, 1, 2, 3}, 2},
		{[]byte{2, 0}, 2},
		{[]byte{0, 1}, 0},
		{[]byte{1, 3}, 0xff},
		{[]byte{}, 0xff},
	} {
		if got := socksGreet(t, socksDialRaw(t, ts.addr), tc.offer...); got != tc.want {
			t.Errorf("offered %v: method 0x%02x, want 0x%02x", tc.offer, got, tc.want)
		}
	}
}

// TestSOCKSUserPassChosen: a client offering no-auth first and
// username/password second gets username/password, and both reach
// DialStream.
func TestSOCKSUserPassChosen(t *testing.T) {
	d := socksEchoDialer(t)
	ts := startSOCKS(t, &SOCKSServer{Dialer: d})

	c := socksDialRaw(t, ts.addr)
	if m := socksGreet(t, c, 0x00, 0x02); m != 0x02 {
		t.Fatalf("method 0x%02x, want 0x02", m)
	}
	socksWrite(t, c, socksUserPass("alice", "s3cret"))
	if st := socksRead(t, c, 2); !bytes.Equal(st, []byte{1, 0}) {
		t.Fatalf("auth status %x, want 0100", st)
	}
	socksWrite(t, c, socksRequest(1, "site.test", 443))
	if rep, _ := socksReadReply(t, c); rep != 0 {
		t.Fatalf("reply 0x%02x", rep)
	}
	socksEcho(t, c, "ping")
	want := client.DialRequest{Host: "site.test", Port: 443, Username: "alice", Password: "s3cret"}
	if got := d.last(t); !reflect.DeepEqual(got, want) {
		t.Errorf("client.DialRequest = %+v, want %+v", got, want)
	}

	// x/net's client offers the same [0x00, 0x02].
	xc, err := dialSOCKS(t, ts.addr, &xproxy.Auth{User: "bob", Password: "pw"}, "other.test:80")
	if err != nil {
		t.Fatal(err)
	}
	socksEcho(t, xc, "pong")
	want = client.DialRequest{Host: "other.test", Port: 80, Username: "bob", Password: "pw"}
	if got := d.last(t); !reflect.DeepEqual(got, want) {
		t.Errorf("x/net client: client.DialRequest = %+v, want %+v", got, want)
	}
}

func TestSOCKSNoAuth(t *testing.T) {
	d := socksEchoDialer(t)
	ts := startSOCKS(t, &SOCKSServer{Dialer: d})
	c, rep := socksConnectRaw(t, ts.addr, "site.test", 80)
	if rep != 0 {
		t.Fatalf("reply 0x%02x", rep)
	}
	socksEcho(t, c, "hi")
	if got, want := d.last(t), (client.DialRequest{Host: "site.test", Port: 80}); !reflect.DeepEqual(got, want) {
		t.Errorf("client.DialRequest = %+v, want %+v", got, want)
	}

	// Only GSSAPI offered: no acceptable method.
	c = socksDialRaw(t, ts.addr)
	if m := socksGreet(t, c, 0x01); m != 0xff {
		t.Errorf("method 0x%02x, want 0xff", m)
	}
}

// TestSOCKSPipelined: a client that sends greeting, auth, request and data
// in one write (optimistic data) is served: bytes read past the greeting
// are replayed to go-socks5, and the data behind the request reaches the
// dialer as Early, to go out behind BEGIN.
func TestSOCKSPipelined(t *testing.T) {
	d := socksEchoDialer(t)
	ts := startSOCKS(t, &SOCKSServer{Dialer: d})
	c := socksDialRaw(t, ts.addr)
	var msg []byte
	msg = append(msg, 5, 2, 0, 2)
	msg = append(msg, socksUserPass("u", "p")...)
	msg = append(msg, socksRequest(1, "site.test", 7)...)
	msg = append(msg, "early"...)
	socksWrite(t, c, msg)
	if got := socksRead(t, c, 4); !bytes.Equal(got, []byte{5, 2, 1, 0}) {
		t.Fatalf("method and auth replies %x", got)
	}
	if rep, _ := socksReadReply(t, c); rep != 0 {
		t.Fatalf("reply 0x%02x", rep)
	}
	if got := string(socksRead(t, c, 5)); got != "early" {
		t.Fatalf("echo %q", got)
	}
	if got, want := d.last(t), (client.DialRequest{Host: "site.test", Port: 7, Username: "u", Password: "p", Early: []byte("early")}); !reflect.DeepEqual(got, want) {
		t.Errorf("client.DialRequest = %+v, want %+v", got, want)
	}
}

// TestSOCKSEchoHalfClose: the client sends a body and half-closes; the whole
// answer still comes back, then EOF. BND.ADDR leaks no address.
func TestSOCKSEchoHalfClose(t *testing.T) {
	d := socksEchoDialer(t)
	ts := startSOCKS(t, &SOCKSServer{Dialer: d})
	c := socksDialRaw(t, ts.addr)
	socksGreet(t, c, 0)
	socksWrite(t, c, socksRequest(1, "echo.test", 7))
	rep, bnd := socksReadReply(t, c)
	if rep != 0 || bnd != "0.0.0.0:0" {
		t.Fatalf("reply 0x%02x bound %s, want 0x00 0.0.0.0:0", rep, bnd)
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	go func() {
		c.Write(body)
		c.CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("got %d bytes back, want the %d sent", len(got), len(body))
	}
}

// TestSOCKSStreamWithoutCloseWrite: a stream conn that is not a TCPConn
// (net.Pipe) works too.
func TestSOCKSStreamWithoutCloseWrite(t *testing.T) {
	d := &socksFakeDialer{open: func(context.Context, client.DialRequest) (net.Conn, error) {
		a, b := net.Pipe()
		go func() {
			defer b.Close()
			buf := make([]byte, 5)
			if _, err := io.ReadFull(b, buf); err == nil {
				b.Write(bytes.ToUpper(buf))
			}
		}()
		return a, nil
	}}
	ts := startSOCKS(t, &SOCKSServer{Dialer: d})
	c, err := dialSOCKS(t, ts.addr, nil, "pipe.test:1")
	if err != nil {
		t.Fatal(err)
	}
	socksWrite(t, c, []byte("hello"))
	if got, _ := io.ReadAll(c); string(got) != "HELLO" {
		t.Errorf("got %q, want HELLO", got)
	}
}
