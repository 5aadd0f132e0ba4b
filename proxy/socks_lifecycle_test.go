package proxy

import (
	"context"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"onion/client"

	xproxy "golang.org/x/net/proxy"

	"onion/onion"
)

// TestSOCKSHandshakeTimeout: a client that sends nothing, or stops after its
// greeting, is cut off after HandshakeTimeout; a stream opened meanwhile
// lives on past it.
func TestSOCKSHandshakeTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	ts := startSOCKS(t, &SOCKSServer{Dialer: socksEchoDialer(t), HandshakeTimeout: timeout})

	start := time.Now()
	silent := socksDialRaw(t, ts.addr)
	greeted := socksDialRaw(t, ts.addr)
	socksGreet(t, greeted, 0)

	c, err := dialSOCKS(t, ts.addr, nil, "busy.test:80")
	if err != nil {
		t.Fatal(err)
	}
	socksEcho(t, c, "during")

	for _, sc := range []net.Conn{silent, greeted} {
		if n, err := io.Copy(io.Discard, sc); err != nil && !socksIsReset(err) || n != 0 {
			t.Fatalf("stalled client: read %d bytes, err %v; want a close", n, err)
		}
	}
	if took := time.Since(start); took < timeout*3/4 || took > timeout+5*time.Second {
		t.Errorf("stalled clients cut after %v, want about %v", took, timeout)
	}

	time.Sleep(timeout) // past the handshake deadline: the stream must not care
	socksEcho(t, c, "after")
}

// TestSOCKSClose: Close ends established streams and pending dials, Serve
// returns nil, a second Close is harmless, and new clients are refused.
func TestSOCKSClose(t *testing.T) {
	echoAddr := startSOCKSEcho(t)
	started := make(chan struct{}, 1)
	d := &socksFakeDialer{open: func(ctx context.Context, req client.DialRequest) (net.Conn, error) {
		switch req.Host {
		case "block.test":
			started <- struct{}{}
			<-ctx.Done()
			return nil, ctx.Err()
		case "sink.test": // a stream that never answers nor ends
			ours, theirs := net.Pipe()
			go io.Copy(io.Discard, theirs)
			t.Cleanup(func() { theirs.Close() })
			return ours, nil
		}
		var nd net.Dialer
		return nd.DialContext(ctx, "tcp", echoAddr)
	}}
	ts := startSOCKS(t, &SOCKSServer{Dialer: d})

	// The client is done sending; only Close can end the stream's side.
	sink, rep := socksConnectRaw(t, ts.addr, "sink.test", 80)
	if rep != 0 {
		t.Fatalf("reply 0x%02x", rep)
	}
	socksWrite(t, sink, []byte("request"))
	sink.CloseWrite()

	live, err := dialSOCKS(t, ts.addr, nil, "echo.test:7")
	if err != nil {
		t.Fatal(err)
	}
	socksEcho(t, live, "x")
	pending := socksDialRaw(t, ts.addr)
	socksGreet(t, pending, 0)
	socksWrite(t, pending, socksRequest(1, "block.test", 80))
	<-started

	closed := make(chan error, 1)
	go func() { closed <- ts.srv.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	select {
	case err := <-ts.served:
		ts.served <- err // for the cleanup's check
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after Close")
	}
	if err := ts.srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	for name, c := range map[string]net.Conn{"live": live, "pending": pending, "sink": sink} {
		if _, err := io.ReadAll(c); err != nil && !socksIsReset(err) {
			t.Errorf("%s conn: %v, want closed", name, err)
		}
	}
	if c, err := net.Dial("tcp", ts.addr); err == nil {
		c.Close()
		t.Error("listener still accepts after Close")
	}
}

func TestSOCKSServeAfterClose(t *testing.T) {
	s := &SOCKSServer{Dialer: socksEchoDialer(t)}
	s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(ln); err != nil {
		t.Errorf("Serve after Close = %v, want nil", err)
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Error("listener not closed")
	}
}

// TestSOCKSNoGoroutineLeak drives every kind of client, then Close, and
// expects the goroutine count back where it started.
func TestSOCKSNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		echoAddr := startSOCKSEchoUntil(t)
		defer echoAddr.close()
		started := make(chan struct{}, 1)
		d := &socksFakeDialer{open: func(ctx context.Context, req client.DialRequest) (net.Conn, error) {
			switch req.Host {
			case "block.test":
				started <- struct{}{}
				<-ctx.Done()
				return nil, ctx.Err()
			case "refused.test":
				return nil, &client.OpenError{Reason: onion.EndRefused}
			}
			var nd net.Dialer
			return nd.DialContext(ctx, "tcp", echoAddr.addr)
		}}
		s := &SOCKSServer{Dialer: d, HandshakeTimeout: time.Minute}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- s.Serve(ln) }()
		addr := ln.Addr().String()

		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		dial := func() net.Conn {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
			return c
		}
		dial()                              // silent
		socksWrite(t, dial(), []byte{5, 1}) // half a greeting
		idle := dial()                      // established, idle stream
		socksGreet(t, idle, 0)
		socksWrite(t, idle, socksRequest(1, "echo.test", 7))
		socksReadReply(t, idle)
		halfClosed := dial() // established, client half-closed
		socksGreet(t, halfClosed, 0)
		socksWrite(t, halfClosed, socksRequest(1, "echo.test", 7))
		socksReadReply(t, halfClosed)
		halfClosed.(*net.TCPConn).CloseWrite()
		pending := dial() // DialStream in progress
		socksGreet(t, pending, 0)
		socksWrite(t, pending, socksRequest(1, "block.test", 7))
		<-started
		refused := dial()
		socksGreet(t, refused, 0)
		socksWrite(t, refused, socksRequest(1, "refused.test", 7))
		socksReadReply(t, refused)
		socksWrite(t, dial(), []byte("GET / HTTP/1.1\r\n\r\n"))
		socksWrite(t, dial(), []byte{4, 1, 0, 80, 1, 2, 3, 4, 0})
		xd, _ := xproxy.SOCKS5("tcp", addr, nil, xproxy.Direct)
		xc, err := xd.Dial("tcp", "echo.test:7")
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, xc)

		s.Close()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// socksEchoServer is startSOCKSEcho with an explicit close, for the leak test.
type socksEchoServer struct {
	addr  string
	close func()
}

func startSOCKSEchoUntil(t *testing.T) socksEchoServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	conns := make(chan net.Conn, 64)
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c
			go func() {
				io.Copy(c, c)
				c.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	return socksEchoServer{addr: ln.Addr().String(), close: func() {
		ln.Close()
		<-done
		close(conns)
		for c := range conns {
			c.Close()
		}
	}}
}

// TestSOCKSPanicEndsOnlyThatConn: a panic while serving one client closes
// that client, is logged, and leaves the server serving.
func TestSOCKSPanicEndsOnlyThatConn(t *testing.T) {
	echoAddr := startSOCKSEcho(t)
	d := &socksFakeDialer{open: func(ctx context.Context, req client.DialRequest) (net.Conn, error) {
		if req.Host == "panic.test" {
			panic("dialer bug")
		}
		var nd net.Dialer
		return nd.DialContext(ctx, "tcp", echoAddr)
	}}
	ts := startSOCKS(t, &SOCKSServer{Dialer: d})
	live, err := dialSOCKS(t, ts.addr, nil, "echo.test:7")
	if err != nil {
		t.Fatal(err)
	}

	c := socksDialRaw(t, ts.addr)
	socksGreet(t, c, 0)
	socksWrite(t, c, socksRequest(1, "panic.test", 80))
	socksExpectClosed(t, c)
	// The conn closes before the recovering goroutine writes its log line:
	// wait for it, boundedly.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(ts.logs.String(), "dialer bug"); {
		if time.Now().After(deadline) {
			t.Fatalf("panic not logged:\n%s", ts.logs)
		}
		time.Sleep(5 * time.Millisecond)
	}

	socksEcho(t, live, "alive")
	c2, err := dialSOCKS(t, ts.addr, nil, "echo.test:7")
	if err != nil {
		t.Fatal(err)
	}
	socksEcho(t, c2, "new")
}

// TestSOCKSLogs: a failed request is logged once at info with its reply
// code; destinations and usernames appear at debug only, passwords never.
func TestSOCKSLogs(t *testing.T) {
	d := socksFailDialer(&client.OpenError{Reason: onion.EndRefused})
	ts := startSOCKS(t, &SOCKSServer{Dialer: d})
	c := socksDialRaw(t, ts.addr)
	socksGreet(t, c, 0, 2)
	socksWrite(t, c, socksUserPass("user-alice", "pass-s3cret"))
	socksRead(t, c, 2)
	socksWrite(t, c, socksRequest(1, "secret-site.test", 80))
	if rep, _ := socksReadReply(t, c); rep != 0x05 {
		t.Fatalf("reply 0x%02x", rep)
	}
	socksExpectClosed(t, c)
	ts.srv.Close()

	logs := ts.logs.String()
	if !strings.Contains(logs, "secret-site.test") {
		t.Errorf("destination missing from the debug log:\n%s", logs)
	}
	if strings.Contains(logs, "pass-s3cret") {
		t.Errorf("password logged:\n%s", logs)
	}
	failed := 0
	for _, line := range ts.logs.infoLines() {
		for _, secret := range []string{"secret-site", "user-alice"} {
			if strings.Contains(line, secret) {
				t.Errorf("%q logged above debug: %s", secret, line)
			}
		}
		if strings.Contains(line, "SOCKS request failed") {
			failed++
			if !strings.Contains(line, `reply="connection refused"`) {
				t.Errorf("failure line without its reply code: %s", line)
			}
		}
	}
	if failed != 1 {
		t.Errorf("%d info lines for the failed request, want 1:\n%s", failed, logs)
	}
}
