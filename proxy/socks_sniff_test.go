package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestSOCKSHTTPGets501(t *testing.T) {
	ts := startSOCKS(t, &SOCKSServer{Dialer: socksEchoDialer(t)})
	for _, req := range []string{
		"GET http://example.test/ HTTP/1.1\r\nHost: example.test\r\n\r\n",
		"CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n",
	} {
		c := socksDialRaw(t, ts.addr)
		socksWrite(t, c, []byte(req))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusNotImplemented {
			t.Errorf("status %s, want 501", resp.Status)
		}
		if want := "curl --socks5-hostname " + ts.addr; !strings.Contains(string(body), want) {
			t.Errorf("body %q does not say %q", body, want)
		}
	}
}

// TestSOCKSHTTPWithBody: a client still sending a large body gets the 501
// too, not a reset.
func TestSOCKSHTTPWithBody(t *testing.T) {
	ts := startSOCKS(t, &SOCKSServer{Dialer: socksEchoDialer(t)})
	const size = 4 << 20
	c := socksDialRaw(t, ts.addr)
	go func() {
		fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: %d\r\n\r\n", size)
		c.Write(make([]byte, size)) // fails once the server closes; fine
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatalf("501 body: %v", err)
	}
	if resp.StatusCode != http.StatusNotImplemented {
		t.Errorf("status %s, want 501", resp.Status)
	}
}

func TestSOCKSGarbageClosed(t *testing.T) {
	ts := startSOCKS(t, &SOCKSServer{Dialer: socksEchoDialer(t)})
	for _, junk := range []string{"\x16\x03\x01\x02\x00", "get / HTTP/1.0\r\n\r\n", "BREW /pot HTCPCP/1.0\r\n"} {
		c := socksDialRaw(t, ts.addr)
		socksWrite(t, c, []byte(junk))
		socksExpectClosed(t, c)
	}
	// The server still serves.
	c, rep := socksConnectRaw(t, ts.addr, "site.test", 80)
	if rep != 0 {
		t.Fatalf("reply 0x%02x", rep)
	}
	socksEcho(t, c, "still here")
}
