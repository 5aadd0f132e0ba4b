package proxy

// Telling SOCKS5, SOCKS4 and HTTP clients apart by their first bytes. An
// HTTP client goes to SOCKSServer.HTTP; without one it gets a 501 that says
// how to use the proxy, logged at info (a misconfigured application).

import (
	"bufio"
	"fmt"
	"io"
	"time"
)

const (
	socks4Version = 0x04
	socks5Version = 0x05

	// lingerTimeout bounds how long a rejected client may still send after
	// its answer (see answerAndClose).
	lingerTimeout = 500 * time.Millisecond

	maxMethodLen = len("OPTIONS")
)

var httpMethods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "DELETE": true,
	"CONNECT": true, "OPTIONS": true, "TRACE": true, "PATCH": true,
}

// looksLikeHTTP reports whether br starts with an HTTP method and a space. It
// peeks at most maxMethodLen+1 bytes.
func looksLikeHTTP(br *bufio.Reader) bool {
	for n := 1; n <= maxMethodLen+1; n++ {
		b, err := br.Peek(n)
		if err != nil {
			return false
		}
		switch c := b[n-1]; {
		case c == ' ':
			return httpMethods[string(b[:n-1])]
		case c < 'A' || c > 'Z':
			return false
		}
	}
	return false
}

func (c *socksConn) rejectHTTP() {
	c.srv.log.Info("HTTP request on the SOCKS5 port; answered 501")
	addr := c.Conn.LocalAddr().String()
	body := fmt.Sprintf("This is a SOCKS5 proxy, not an HTTP proxy.\n"+
		"Use it as a SOCKS5 proxy that resolves hostnames remotely, e.g.:\n"+
		"  curl --socks5-hostname %s URL\n"+
		"  curl -x socks5h://%s URL\n", addr, addr)
	resp := fmt.Sprintf("HTTP/1.1 501 Not Implemented\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n"+
		"Content-Length: %d\r\n"+
		"Connection: close\r\n\r\n%s", len(body), body)
	c.answerAndClose([]byte(resp))
}

// answerAndClose writes b, then half-closes and discards what the client
// still sends, until it closes or for lingerTimeout: closing a socket with
// unread input sends a reset, which can destroy the answer before the client
// has read it (an HTTP client may still be sending a body). The session's
// close follows.
func (c *socksConn) answerAndClose(b []byte) {
	if _, err := c.Conn.Write(b); err != nil {
		return
	}
	closeWrite(c.Conn)
	c.Conn.SetReadDeadline(time.Now().Add(lingerTimeout))
	io.Copy(io.Discard, c.Conn)
}
