package proxy

// One SOCKS client, from accept to close. Each session gets its own small
// go-socks5 Server, so the library's callbacks (Rules, Dial) are methods of
// the session and reach its conn directly: no lookup by client address.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	socks5 "github.com/armon/go-socks5"

	"onion/client"
	"onion/onion"
)

// sniffBufSize is enough for the longest SOCKS5 greeting (2+255 bytes) and
// an HTTP method.
const sniffBufSize = 512

type socksSession struct {
	srv    *SOCKSServer
	raw    net.Conn // as accepted
	client *socksClientConn
	log    *slog.Logger
	ctx    context.Context // parent of the DialStream ctx; cancelled by close
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	stream *socksStreamConn // the open stream, once dialled
}

func newSocksSession(s *SOCKSServer, c net.Conn) *socksSession {
	ctx, cancel := context.WithCancel(s.ctx)
	return &socksSession{srv: s, raw: c, log: s.log, ctx: ctx, cancel: cancel}
}

// close ends the client conn, the stream and a pending dial. Idempotent.
func (ss *socksSession) close() {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return
	}
	ss.closed = true
	stream := ss.stream
	ss.mu.Unlock()

	ss.cancel()
	if stream != nil && stream.failed() {
		// go-socks5 returns on the first pump's error, which may be the
		// write toward a failed stream, before the other pump reset the
		// application's side: a plain close here would look like a
		// complete answer.
		resetOnClose(ss.raw)
	}
	ss.raw.Close()
	if stream != nil {
		stream.Close()
	}
}

// setStream records the dialled stream so close can end it; false if the
// session closed meanwhile.
func (ss *socksSession) setStream(c *socksStreamConn) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return false
	}
	ss.stream = c
	return true
}

// run serves the client until it or the server is done. A panic ends this
// client only.
func (ss *socksSession) run() {
	defer func() {
		if v := recover(); v != nil {
			ss.log.Error("panic serving a SOCKS client; closed it", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	br := bufio.NewReaderSize(ss.raw, sniffBufSize)
	first, err := br.Peek(1)
	if err != nil {
		ss.log.Debug("SOCKS client sent nothing", "err", err)
		return
	}
	switch {
	case first[0] == socks5Version:
		ss.serveSOCKS5(br)
	case first[0] == socks4Version:
		ss.rejectSOCKS4()
	case looksLikeHTTP(br):
		ss.rejectHTTP()
	default:
		ss.log.Debug("not a SOCKS5 client; closed", "first_byte", fmt.Sprintf("0x%02x", first[0]))
	}
}

// serveSOCKS5 reads the greeting itself, so that username/password wins over
// no-auth, then hands the client to go-socks5.
func (ss *socksSession) serveSOCKS5(br *bufio.Reader) {
	greeting, err := readGreeting(br)
	if err != nil {
		ss.log.Debug("SOCKS5 greeting", "err", err)
		return
	}
	preferUserPass(greeting[greetingHeaderLen:])
	ss.client = newSocksClientConn(ss.raw, greeting, br)

	lib, err := socks5.New(&socks5.Config{
		AuthMethods: []socks5.Authenticator{socks5.NoAuthAuthenticator{}, userPassAuth{}},
		Resolver:    noResolver{},
		Rules:       ss,
		Logger:      ss.srv.libLog,
		Dial:        ss.dial,
	})
	if err != nil { // cannot happen with this Config; the client is closed
		ss.log.Error("go-socks5 setup", "err", err)
		return
	}
	// Not logged: its errors name destinations, and go-socks5 has logged the
	// interesting ones to debug already.
	_ = lib.ServeConn(ss.client)
}

// noResolver keeps hostnames for the exit: returning no IP makes go-socks5
// pass FQDN:port on (no DNS leak).
type noResolver struct{}

func (noResolver) Resolve(ctx context.Context, _ string) (context.Context, net.IP, error) {
	return ctx, nil, nil
}

type dialRequestKey struct{}

// Allow is the go-socks5 RuleSet. It permits CONNECT only, and passes the
// request, with its credentials, to dial in the ctx (go-socks5 hands the
// ctx Allow returns to Dial).
func (ss *socksSession) Allow(ctx context.Context, req *socks5.Request) (context.Context, bool) {
	if req.Command != socks5.ConnectCommand {
		// go-socks5 answers a refusal "not allowed"; say what it is.
		ss.client.setReply(replyCommandNotSupported)
		ss.log.Debug("SOCKS command not supported", "command", req.Command)
		return ctx, false
	}
	dr, ok := newDialRequest(req)
	if !ok {
		ss.log.Debug("SOCKS request with an empty host or port 0")
		return ctx, false
	}
	return context.WithValue(ctx, dialRequestKey{}, dr), true
}

func newDialRequest(req *socks5.Request) (client.DialRequest, bool) {
	d := req.DestAddr
	host := d.FQDN
	if host == "" && d.IP != nil {
		host = d.IP.String() // IPv6 without brackets
	}
	if host == "" || d.Port <= 0 || d.Port > 0xffff {
		return client.DialRequest{}, false
	}
	dr := client.DialRequest{Host: host, Port: uint16(d.Port)}
	if a := req.AuthContext; a != nil && a.Method == socks5.UserPassAuth {
		dr.Username = a.Payload[payloadUsername]
		dr.Password = a.Payload[payloadPassword]
	}
	return dr, true
}

// dial is go-socks5's Dial: it opens the stream for the request Allow
// passed in ctx, ignoring addr.
func (ss *socksSession) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	req, ok := ctx.Value(dialRequestKey{}).(client.DialRequest)
	if !ok {
		return nil, errors.New("proxy: socks dial without a request") // Allow always sets it
	}
	// The request has arrived: the handshake deadline no longer applies.
	ss.raw.SetDeadline(time.Time{})
	dest := net.JoinHostPort(req.Host, strconv.Itoa(int(req.Port)))
	ss.log.Debug("SOCKS CONNECT", "dest", dest)
	if !onion.IsOnionHost(req.Host) { // a hidden service asks for a login first
		req.Early = ss.client.early()
	}

	// go-socks5's ctx is rooted at context.Background; ours ends with Close.
	dctx, cancel := context.WithTimeout(ss.ctx, ss.srv.connectTimeout())
	defer cancel()
	conn, err := ss.srv.Dialer.DialStream(dctx, req)
	if err == nil && conn == nil {
		err = errors.New("proxy: DialStream returned no conn")
	}
	if err != nil {
		ss.failed(dest, err)
		return nil, err
	}
	stream := &socksStreamConn{Conn: conn}
	if !ss.setStream(stream) {
		stream.Close()
		return nil, net.ErrClosed
	}
	ss.client.stream.Store(stream)
	return stream, nil
}

// failed sets the reply code for err and logs the failure once at info,
// without the destination.
func (ss *socksSession) failed(dest string, err error) {
	code := replyFor(err)
	ss.client.setReply(code)
	ss.log.Debug("SOCKS request failed", "dest", dest, "reply", code, "err", err)
	if ss.ctx.Err() != nil {
		return // shutting down: not worth an info line per client
	}
	attrs := []any{"reply", code}
	if oe, ok := errors.AsType[*client.OpenError](err); ok {
		attrs = append(attrs, "reason", oe.Reason)
	}
	ss.log.Info("SOCKS request failed", attrs...)
}

// libLogWriter makes go-socks5's log.Logger write to slog at debug: its lines
// name destinations.
type libLogWriter struct{ log *slog.Logger }

func (w libLogWriter) Write(p []byte) (int, error) {
	w.log.Debug("go-socks5", "msg", strings.TrimSpace(string(p)))
	return len(p), nil
}
