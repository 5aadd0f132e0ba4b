package proxy

// The HTTP proxy front end (PROTOCOL.md §8.3): `CONNECT host:port` opens a
// stream exactly as a SOCKS CONNECT does, and an absolute-form request
// (`GET http://host/...`, what git, pip and apt send for plain http URLs)
// is forwarded through a stream by httputil.ReverseProxy. net/http parses
// every request; names go to the exit unresolved.
//
// Credentials follow the SOCKS rules: Proxy-Authorization Basic carries a
// user name and password that, without Users, isolate the request's
// streams and are a hidden-service login for the request's own address
// only; with Users (--socks-auth) they must name an account (else 407) and
// the account isolates, as for SOCKS (the same isolation key: a SOCKS and
// an HTTP client of one account share circuits).
//
// It serves its own listener (--http-tunnel) and the HTTP clients the
// SOCKS port hands it (ServeConn).

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"onion/client"
)

// HTTP proxy bounds.
const (
	httpMaxHeaderBytes = 16 << 10
	httpIdleTimeout    = 2 * time.Minute
)

// HTTPProxy is the HTTP proxy front end. Set its fields, then call Serve or
// ServeConn; do not change them afterwards.
type HTTPProxy struct {
	Dialer StreamDialer
	Logger *slog.Logger // nil = discard
	// Users, if set, are the accounts the proxy requires (Basic); nil
	// admits every client.
	Users *SOCKSUsers
	// HandshakeTimeout bounds reading a request's headers; 0 =
	// DefaultHandshakeTimeout. ConnectTimeout bounds opening its stream; 0
	// = DefaultConnectTimeout.
	HandshakeTimeout time.Duration
	ConnectTimeout   time.Duration

	initOnce sync.Once
	log      *slog.Logger
	srv      *http.Server
	handed   *connListener // conns from the SOCKS port
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup // tunnels (hijacked conns)
}

func (h *HTTPProxy) init() {
	h.initOnce.Do(func() {
		h.log = cmp.Or(h.Logger, slog.New(slog.DiscardHandler))
		h.ctx, h.cancel = context.WithCancel(context.Background())
		h.srv = &http.Server{
			Handler:           h,
			ReadHeaderTimeout: cmp.Or(max(h.HandshakeTimeout, 0), DefaultHandshakeTimeout),
			IdleTimeout:       httpIdleTimeout,
			MaxHeaderBytes:    httpMaxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(h.log.Handler(), slog.LevelDebug),
			BaseContext:       func(net.Listener) context.Context { return h.ctx },
		}
		h.handed = newConnListener()
		go h.srv.Serve(h.handed)
	})
}

func (h *HTTPProxy) connectTimeout() time.Duration {
	return cmp.Or(max(h.ConnectTimeout, 0), DefaultConnectTimeout)
}

// Serve serves HTTP proxy clients on ln until Close, then returns nil.
func (h *HTTPProxy) Serve(ln net.Listener) error {
	h.init()
	if h.Dialer == nil {
		ln.Close()
		return errors.New("proxy: HTTPProxy without a Dialer")
	}
	if err := h.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ServeConn serves one conn whose first bytes are an HTTP request, and
// returns once the conn is closed.
func (h *HTTPProxy) ServeConn(c net.Conn) {
	h.init()
	hc := &handedConn{Conn: c, done: make(chan struct{})}
	if !h.handed.push(hc) {
		c.Close()
		return
	}
	<-hc.done
}

// Close ends every client and tunnel and waits for the tunnels.
func (h *HTTPProxy) Close() error {
	h.init()
	h.cancel()
	h.handed.Close()
	h.srv.Close()
	h.wg.Wait()
	return nil
}

// ServeHTTP answers one proxy request.
func (h *HTTPProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, ok := h.credentials(w, r)
	if !ok {
		return
	}
	switch {
	case r.Method == http.MethodConnect:
		h.connect(w, r, req)
	case r.URL.IsAbs() && r.URL.Scheme == "http" && r.URL.Host != "":
		h.forward(w, r, req)
	default:
		h.log.Info("HTTP request that is not a proxy request; answered 400")
		httpError(w, http.StatusBadRequest, "This is an HTTP proxy: send CONNECT host:port, or an absolute http:// URL.\n"+
			"For https URLs, e.g.: curl -x http://"+r.Host+" https://example.org/\n")
	}
}

// credentials reads Proxy-Authorization into the request's identity, or
// answers 407 where an account is required and not given.
func (h *HTTPProxy) credentials(w http.ResponseWriter, r *http.Request) (client.DialRequest, bool) {
	var req client.DialRequest
	user, pass, given := proxyBasicAuth(r)
	if h.Users == nil {
		req.Username, req.Password = user, pass
		return req, true
	}
	if !given || !h.Users.Valid(user, pass) {
		if given {
			h.log.Info("HTTP proxy client refused: unknown account or wrong password")
		}
		w.Header().Set("Proxy-Authenticate", `Basic realm="onion"`)
		httpError(w, http.StatusProxyAuthRequired, "This proxy requires an account (--socks-auth).\n")
		return req, false
	}
	req.Isolation = "socks account\x00" + user
	return req, true
}

// proxyBasicAuth parses Proxy-Authorization as Basic credentials.
func proxyBasicAuth(r *http.Request) (user, pass string, ok bool) {
	auth := r.Header.Get("Proxy-Authorization")
	if auth == "" {
		return "", "", false
	}
	// http.Request.BasicAuth reads Authorization; give it the proxy's.
	fake := http.Request{Header: http.Header{"Authorization": {auth}}}
	return fake.BasicAuth()
}

// target fills req's host and port from hostport, a default port if none.
func target(req *client.DialRequest, hostport, defPort string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, defPort
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 || host == "" {
		return false
	}
	req.Host, req.Port = host, uint16(p)
	return true
}

// dial opens the request's stream under the connect timeout.
func (h *HTTPProxy) dial(ctx context.Context, req client.DialRequest) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, h.connectTimeout())
	defer cancel()
	s, err := h.Dialer.DialStream(ctx, req)
	if err == nil && s == nil {
		err = errors.New("proxy: DialStream returned no conn")
	}
	return s, err
}

// statusFor maps a DialStream error to an HTTP status: 504 for a
// timeout, 403 where the exit's policy refused, 502 otherwise. The body
// names the reason as the SOCKS reply would (the extended onion-service
// names included).
func statusFor(err error) (int, string) {
	code := replyCode(err, false)
	switch code {
	case replyTTLExpired, replyOnionIntroTimedOut:
		return http.StatusGatewayTimeout, code.String()
	case replyNotAllowed:
		return http.StatusForbidden, code.String()
	}
	return http.StatusBadGateway, code.String()
}

func (h *HTTPProxy) failed(w http.ResponseWriter, err error) {
	status, reason := statusFor(err)
	h.log.Info("HTTP proxy request failed", "status", status, "reason", reason)
	h.log.Debug("HTTP proxy request failed", "err", err)
	httpError(w, status, reason+"\n")
}

func httpError(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Connection", "close")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// connListener is a net.Listener fed by push: the SOCKS port's HTTP clients.
type connListener struct {
	ch        chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

func newConnListener() *connListener {
	return &connListener{ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *connListener) push(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *connListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4zero} }

// handedConn tells ServeConn when the HTTP server is done with its conn.
type handedConn struct {
	net.Conn
	once sync.Once
	done chan struct{}
}

func (c *handedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { close(c.done) })
	return err
}
