package proxy

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"onion/client"

	xproxy "golang.org/x/net/proxy"
)

// Test doubles and helpers for the SOCKS front end. The tests themselves are
// in socks_*_test.go.

// socksLogBuffer collects log output written from many goroutines.
type socksLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *socksLogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *socksLogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lines returns the log lines at info or above.
func (l *socksLogBuffer) infoLines() []string {
	var out []string
	for _, line := range strings.Split(l.String(), "\n") {
		if line != "" && !strings.Contains(line, "level=DEBUG") {
			out = append(out, line)
		}
	}
	return out
}

// socksFakeDialer records every request and answers with open.
type socksFakeDialer struct {
	open func(ctx context.Context, req client.DialRequest) (net.Conn, error)

	mu   sync.Mutex
	reqs []client.DialRequest
}

func (d *socksFakeDialer) DialStream(ctx context.Context, req client.DialRequest) (net.Conn, error) {
	d.mu.Lock()
	d.reqs = append(d.reqs, req)
	d.mu.Unlock()
	return d.open(ctx, req)
}

func (d *socksFakeDialer) requests() []client.DialRequest {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]client.DialRequest(nil), d.reqs...)
}

func (d *socksFakeDialer) last(t *testing.T) client.DialRequest {
	t.Helper()
	reqs := d.requests()
	if len(reqs) == 0 {
		t.Fatal("DialStream was not called")
	}
	return reqs[len(reqs)-1]
}

// startSOCKSEcho runs a TCP echo server that half-closes after its peer did.
func startSOCKSEcho(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				io.Copy(c, c)
				c.(*net.TCPConn).CloseWrite()
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// socksEchoDialer opens every stream to an echo server, over TCP so that
// CloseWrite works.
func socksEchoDialer(t testing.TB) *socksFakeDialer {
	addr := startSOCKSEcho(t)
	return &socksFakeDialer{open: func(ctx context.Context, req client.DialRequest) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil && len(req.Early) > 0 { // a StreamDialer sends the optimistic data
			_, err = c.Write(req.Early)
		}
		return c, err
	}}
}

type socksTestServer struct {
	srv    *SOCKSServer
	addr   string
	logs   *socksLogBuffer
	served chan error
}

// startSOCKS serves srv (its Dialer and timeouts set by the caller) on
// 127.0.0.1:0 with a debug logger, and closes it at the end of the test.
func startSOCKS(t *testing.T, srv *SOCKSServer) *socksTestServer {
	t.Helper()
	logs := &socksLogBuffer{}
	srv.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &socksTestServer{srv: srv, addr: ln.Addr().String(), logs: logs, served: make(chan error, 1)}
	go func() { ts.served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-ts.served; err != nil {
			t.Errorf("Serve returned %v after Close, want nil", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return ts
}

func socksDialRaw(t *testing.T, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c.(*net.TCPConn)
}

func socksRead(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	return b
}

func socksWrite(t *testing.T, c net.Conn, b []byte) {
	t.Helper()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

// socksGreet offers methods and returns the method the server chose.
func socksGreet(t *testing.T, c net.Conn, methods ...byte) byte {
	t.Helper()
	socksWrite(t, c, append([]byte{5, byte(len(methods))}, methods...))
	r := socksRead(t, c, 2)
	if r[0] != 5 {
		t.Fatalf("method reply %x, want version 5", r)
	}
	return r[1]
}

func socksUserPass(user, pass string) []byte {
	b := []byte{1, byte(len(user))}
	b = append(b, user...)
	b = append(b, byte(len(pass)))
	return append(b, pass...)
}

// socksRequest is a SOCKS5 request for host:port; host is sent as an IPv4 or
// IPv6 address if it is one, else as a name.
func socksRequest(cmd byte, host string, port uint16) []byte {
	b := []byte{5, cmd, 0}
	ip := net.ParseIP(host)
	switch {
	case ip != nil && ip.To4() != nil:
		b = append(append(b, 1), ip.To4()...)
	case ip != nil:
		b = append(append(b, 4), ip.To16()...)
	default:
		b = append(append(b, 3, byte(len(host))), host...)
	}
	return binary.BigEndian.AppendUint16(b, port)
}

// socksReadReply reads a SOCKS5 reply and returns REP and BND.ADDR:BND.PORT.
func socksReadReply(t *testing.T, c net.Conn) (byte, string) {
	t.Helper()
	h := socksRead(t, c, 4)
	if h[0] != 5 {
		t.Fatalf("reply %x, want version 5", h)
	}
	var host string
	switch h[3] {
	case 1:
		host = net.IP(socksRead(t, c, 4)).String()
	case 4:
		host = net.IP(socksRead(t, c, 16)).String()
	case 3:
		host = string(socksRead(t, c, int(socksRead(t, c, 1)[0])))
	default:
		t.Fatalf("reply address type %d", h[3])
	}
	port := binary.BigEndian.Uint16(socksRead(t, c, 2))
	return h[1], net.JoinHostPort(host, fmt.Sprint(port))
}

// socksConnectRaw does a no-auth CONNECT by hand and returns the conn and REP.
func socksConnectRaw(t *testing.T, addr, host string, port uint16) (*net.TCPConn, byte) {
	t.Helper()
	c := socksDialRaw(t, addr)
	if m := socksGreet(t, c, 0); m != 0 {
		t.Fatalf("method %d, want 0", m)
	}
	socksWrite(t, c, socksRequest(1, host, port))
	rep, _ := socksReadReply(t, c)
	return c, rep
}

// dialSOCKS dials through the proxy with x/net's SOCKS5 client.
func dialSOCKS(t *testing.T, addr string, auth *xproxy.Auth, target string) (net.Conn, error) {
	t.Helper()
	d, err := xproxy.SOCKS5("tcp", addr, auth, xproxy.Direct)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Dial("tcp", target)
	if err == nil {
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(10 * time.Second))
	}
	return c, err
}

// socksEcho writes msg on c and expects it back.
func socksEcho(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	socksWrite(t, c, []byte(msg))
	if got := string(socksRead(t, c, len(msg))); got != msg {
		t.Fatalf("echo: got %q, want %q", got, msg)
	}
}

// socksExpectClosed expects c to be closed by the server without more bytes.
func socksExpectClosed(t *testing.T, c net.Conn) {
	t.Helper()
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, net.ErrClosed) && !socksIsReset(err) {
		t.Fatalf("read until close: %v", err)
	}
	if len(b) != 0 {
		t.Fatalf("got %x before close, want nothing", b)
	}
}

func socksIsReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// socksBlockDialer returns a dialer whose DialStream waits for its ctx.
func socksBlockDialer(started chan<- struct{}) *socksFakeDialer {
	return &socksFakeDialer{open: func(ctx context.Context, _ client.DialRequest) (net.Conn, error) {
		if started != nil {
			started <- struct{}{}
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}}
}

func socksFailDialer(err error) *socksFakeDialer {
	return &socksFakeDialer{open: func(context.Context, client.DialRequest) (net.Conn, error) { return nil, err }}
}
