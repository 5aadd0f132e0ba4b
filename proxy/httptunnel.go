package proxy

// CONNECT and absolute-form forwarding, the two kinds of HTTP proxy
// request (httpproxy.go).

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"time"

	"onion/client"
)

// connect answers CONNECT host:port: 200 once the exit has connected,
// then the conn is the stream's.
func (h *HTTPProxy) connect(w http.ResponseWriter, r *http.Request, req client.DialRequest) {
	if !target(&req, r.Host, "") {
		httpError(w, http.StatusBadRequest, "CONNECT wants host:port\n")
		return
	}
	s, err := h.dial(r.Context(), req)
	if err != nil {
		h.failed(w, err)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		s.Close()
		h.log.Debug("HTTP CONNECT: hijack failed", "err", err)
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.tunnel(conn, brw, s)
	}()
}

// tunnel answers 200 and splices conn to s, what the client sent behind
// its request (in brw) first.
func (h *HTTPProxy) tunnel(conn net.Conn, brw *bufio.ReadWriter, s net.Conn) {
	conn.SetDeadline(time.Time{})
	tc := &tunnelConn{Conn: conn, r: brw.Reader, stream: s}
	defer tc.Close()
	stop := context.AfterFunc(h.ctx, func() { tc.Close() })
	defer stop()
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	splice(tc, s)
}

// tunnelConn is a hijacked conn: reads come through the server's buffer,
// and, like socksConn, a failed stream resets it rather than ending it
// cleanly.
type tunnelConn struct {
	net.Conn
	r      *bufio.Reader
	stream net.Conn
}

func (c *tunnelConn) Read(b []byte) (int, error) { return c.r.Read(b) }

func (c *tunnelConn) failed() bool {
	f, ok := c.stream.(interface{ Failed() bool })
	return ok && f.Failed()
}

func (c *tunnelConn) Close() error {
	if tc := tcpConn(c.Conn); tc != nil && c.failed() {
		tc.SetLinger(0)
	}
	c.stream.Close()
	return c.Conn.Close()
}

// tcpConn is the TCP conn under c: the listener's, or the SOCKS port's
// that it handed over.
func tcpConn(c net.Conn) *net.TCPConn {
	for {
		switch x := c.(type) {
		case *net.TCPConn:
			return x
		case *handedConn:
			c = x.Conn
		case *socksConn:
			c = x.Conn
		default:
			return nil
		}
	}
}

func (c *tunnelConn) CloseWrite() error {
	if c.failed() {
		return c.Close()
	}
	return closeWrite(c.Conn)
}

// forward sends an absolute-form request through a stream to its host.
// The Transport's dial opens the stream (no local DNS); it keeps no idle
// conns, so no stream outlives its request or serves another identity.
// ReverseProxy drops the hop-by-hop headers, Proxy-Authorization among
// them, and adds no X-Forwarded-For.
func (h *HTTPProxy) forward(w http.ResponseWriter, r *http.Request, req client.DialRequest) {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			dreq := req
			if !target(&dreq, addr, "80") {
				return nil, &net.AddrError{Err: "bad address", Addr: addr}
			}
			return h.dial(ctx, dreq)
		},
		DisableKeepAlives:      true,
		ResponseHeaderTimeout:  h.connectTimeout(),
		MaxResponseHeaderBytes: httpMaxHeaderBytes * 4,
	}
	defer tr.CloseIdleConnections()
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.Host = pr.In.Host
		},
		Transport:    tr,
		ErrorLog:     nil,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) { h.failed(w, err) },
	}
	rp.ServeHTTP(w, r)
}
