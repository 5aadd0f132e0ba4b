package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"onion/client"
	"onion/onion"
)

// startHTTPProxy serves h on 127.0.0.1:0 and closes it at the end.
func startHTTPProxy(t *testing.T, h *HTTPProxy) (string, *socksLogBuffer) {
	t.Helper()
	logs := &socksLogBuffer{}
	h.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.Serve(ln) }()
	t.Cleanup(func() {
		h.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if t.Failed() {
			t.Logf("proxy log:\n%s", logs)
		}
	})
	return ln.Addr().String(), logs
}

// httpConnect sends CONNECT target with extra header lines and returns the
// response, the conn positioned after it.
func httpConnect(t *testing.T, addr, target, extra string) (*http.Response, net.Conn, *bufio.Reader) {
	t.Helper()
	c := socksDialRaw(t, addr)
	socksWrite(t, c, []byte("CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n"+extra+"\r\n"))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatal(err)
	}
	return resp, c, br
}

func TestHTTPConnect(t *testing.T) {
	d := socksEchoDialer(t)
	addr, _ := startHTTPProxy(t, &HTTPProxy{Dialer: d})
	// Basic u:p: isolates, and is the login for this address only.
	resp, c, br := httpConnect(t, addr, "example.test:443", "Proxy-Authorization: Basic dTpw\r\n")
	if resp.StatusCode != 200 {
		t.Fatalf("status %s", resp.Status)
	}
	socksWrite(t, c, []byte("ping"))
	c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(br)
	if err != nil || string(got) != "ping" {
		t.Fatalf("echo %q, %v", got, err)
	}
	want := client.DialRequest{Host: "example.test", Port: 443, Username: "u", Password: "p"}
	if r := d.last(t); r.Host != want.Host || r.Port != want.Port || r.Username != "u" || r.Password != "p" {
		t.Errorf("request %+v, want %+v", r, want)
	}
}

// TestHTTPOnSOCKSPort: a SOCKS port with an HTTPProxy serves CONNECT.
func TestHTTPOnSOCKSPort(t *testing.T) {
	d := socksEchoDialer(t)
	hp := &HTTPProxy{Dialer: d}
	t.Cleanup(func() { hp.Close() })
	ts := startSOCKS(t, &SOCKSServer{Dialer: d, HTTP: hp})
	resp, c, br := httpConnect(t, ts.addr, "example.test:443", "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %s", resp.Status)
	}
	socksWrite(t, c, []byte("x"))
	c.(*net.TCPConn).CloseWrite()
	if got, _ := io.ReadAll(br); string(got) != "x" {
		t.Errorf("echo %q", got)
	}
}

func TestHTTPConnectFailures(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		body   string
	}{
		{&client.OpenError{Reason: onion.EndRefused}, 502, "connection refused"},
		{&client.OpenError{Reason: onion.EndTimeout}, 504, "TTL expired"},
		{&client.OpenError{Reason: onion.EndExitPolicy}, 403, "not allowed"},
		{&client.OpenError{Reason: onion.EndResolve, Err: client.ErrDescriptorNotFound}, 502, "descriptor not found"},
	} {
		addr, _ := startHTTPProxy(t, &HTTPProxy{Dialer: socksFailDialer(tc.err)})
		resp, _, _ := httpConnect(t, addr, "example.test:443", "")
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.body) {
			t.Errorf("%v: %s %q, want %d %q", tc.err, resp.Status, body, tc.status, tc.body)
		}
	}
}

func TestHTTPProxyAccounts(t *testing.T) {
	users, err := LoadSOCKSUsers(writeSOCKSAccounts(t, "alice s3cret\n", 0o600))
	if err != nil {
		t.Fatal(err)
	}
	d := socksEchoDialer(t)
	addr, _ := startHTTPProxy(t, &HTTPProxy{Dialer: d, Users: users})
	for _, auth := range []string{"", "Proxy-Authorization: Basic YWxpY2U6d3Jvbmc=\r\n"} { // none; alice:wrong
		resp, _, _ := httpConnect(t, addr, "example.test:443", auth)
		if resp.StatusCode != 407 || resp.Header.Get("Proxy-Authenticate") == "" {
			t.Errorf("auth %q: %s, want 407 with Proxy-Authenticate", auth, resp.Status)
		}
	}
	resp, _, _ := httpConnect(t, addr, "example.test:443", "Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n")
	if resp.StatusCode != 200 {
		t.Fatalf("alice: %s", resp.Status)
	}
	if r := d.last(t); r.Username != "" || r.Password != "" || r.Isolation != "socks account\x00alice" {
		t.Errorf("request %+v: the account must isolate, never be a login", r)
	}
	if len(d.requests()) != 1 {
		t.Errorf("%d requests reached DialStream, want 1", len(d.requests()))
	}
}

// TestHTTPForward: an absolute-form GET reaches the named host through a
// stream, unresolved, without the proxy's credentials or hop-by-hop
// headers.
func TestHTTPForward(t *testing.T) {
	var gotHeader http.Header
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHeader = r.Header.Clone()
		io.WriteString(w, "hello from "+r.Host+r.URL.Path)
	}))
	t.Cleanup(origin.Close)
	d := &socksFakeDialer{open: func(ctx context.Context, req client.DialRequest) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, "tcp", origin.Listener.Addr().String())
	}}
	addr, _ := startHTTPProxy(t, &HTTPProxy{Dialer: d})
	pu, _ := url.Parse("http://u:p@" + addr)
	hc := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}
	resp, err := hc.Get("http://name.example:8080/path")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello from name.example:8080/path" {
		t.Fatalf("%s %q", resp.Status, body)
	}
	if r := d.last(t); r.Host != "name.example" || r.Port != 8080 || r.Username != "u" || r.Password != "p" {
		t.Errorf("request %+v", r)
	}
	for _, h := range []string{"Proxy-Authorization", "Proxy-Connection", "X-Forwarded-For"} {
		if v := gotHeader.Get(h); v != "" {
			t.Errorf("origin got %s: %q", h, v)
		}
	}
	// Not a proxy request: 400, and nothing dialled.
	n := len(d.requests())
	resp, err = http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || len(d.requests()) != n {
		t.Errorf("origin-form request: %s", resp.Status)
	}
}

// TestHTTPOnSOCKSPortAccounts: the SOCKS port's HTTP clients need an
// account too.
func TestHTTPOnSOCKSPortAccounts(t *testing.T) {
	users, err := LoadSOCKSUsers(writeSOCKSAccounts(t, "alice s3cret\n", 0o600))
	if err != nil {
		t.Fatal(err)
	}
	d := socksEchoDialer(t)
	hp := &HTTPProxy{Dialer: d, Users: users}
	t.Cleanup(func() { hp.Close() })
	ts := startSOCKS(t, &SOCKSServer{Dialer: d, Users: users, HTTP: hp})
	if resp, _, _ := httpConnect(t, ts.addr, "example.test:443", ""); resp.StatusCode != 407 {
		t.Errorf("no account: %s, want 407", resp.Status)
	}
	if len(d.requests()) != 0 {
		t.Error("a request without an account reached DialStream")
	}
}

// TestHTTPHeaderBound: headers past the bound are refused before any
// stream is opened.
func TestHTTPHeaderBound(t *testing.T) {
	d := socksEchoDialer(t)
	addr, _ := startHTTPProxy(t, &HTTPProxy{Dialer: d})
	resp, _, _ := httpConnect(t, addr, "example.test:443", "X-Big: "+strings.Repeat("a", 2*httpMaxHeaderBytes)+"\r\n")
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %s, want 431", resp.Status)
	}
	if len(d.requests()) != 0 {
		t.Error("an oversized request reached DialStream")
	}
}

// TestHTTPCloseEndsTunnels: Close ends an open tunnel and returns.
func TestHTTPCloseEndsTunnels(t *testing.T) {
	d := socksEchoDialer(t)
	hp := &HTTPProxy{Dialer: d}
	addr, _ := startHTTPProxy(t, hp)
	resp, c, br := httpConnect(t, addr, "example.test:443", "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %s", resp.Status)
	}
	hp.Close()
	if _, err := io.ReadAll(br); err != nil && !errors.Is(err, net.ErrClosed) {
		t.Logf("tunnel ended with %v", err) // a reset is fine; hanging is not
	}
	c.Close()
}
