package proxy

// One SOCKS client, from accept to close: socksConn is both the session and
// the conn go-socks5 serves. Its RuleSet, CredentialStore and Dial methods
// are go-socks5's callbacks; socks_conn.go has its net.Conn side.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"onion/client"

	socks5 "github.com/armon/go-socks5"

	"onion/onion"
)

// optimisticMax bounds the optimistic data sent behind BEGIN: one cell. It
// is the size of socksConn's read buffer, which also holds the longest
// greeting (2+255 bytes) and an HTTP method while they are peeked at.
const optimisticMax = onion.MaxData

type socksConn struct {
	net.Conn // as accepted
	srv      *SOCKSServer
	br       *bufio.Reader // reads Conn; what it holds past the request is early data

	// Owned by the serving goroutine until dial returns, before go-socks5
	// starts its pumps.
	spliced    bool               // the request is read: no more one-byte reads
	user, pass string             // RFC 1929 credentials, from Valid
	account    string             // with SOCKSServer.Users: the account Valid admitted
	req        client.DialRequest // the CONNECT, from Allow

	stream atomic.Pointer[socksStream] // once dialled; Close reads it from any goroutine
}

func newSocksConn(s *SOCKSServer, raw net.Conn) *socksConn {
	return &socksConn{Conn: raw, srv: s, br: bufio.NewReaderSize(raw, optimisticMax)}
}

// serve serves the client until it or the server is done. A panic ends this
// client only.
func (c *socksConn) serve() {
	defer func() {
		if v := recover(); v != nil {
			c.srv.log.Error("panic serving a SOCKS client; closed it", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	first, err := c.br.Peek(1)
	switch {
	case err != nil:
		c.srv.log.Debug("SOCKS client sent nothing", "err", err)
	case first[0] == socks5Version:
		c.serveSOCKS5()
	case first[0] == socks4Version:
		c.serveSOCKS4()
	case looksLikeHTTP(c.br) && c.srv.HTTP != nil:
		c.spliced = true           // the HTTP server reads in blocks
		c.SetDeadline(time.Time{}) // and sets its own (ReadHeaderTimeout)
		c.srv.HTTP.ServeConn(c)
	case looksLikeHTTP(c.br):
		c.rejectHTTP()
	default:
		c.srv.log.Debug("not a SOCKS5 client; closed", "first_byte", fmt.Sprintf("0x%02x", first[0]))
	}
}

// serveSOCKS5 hands the client to a go-socks5 Server of its own.
// go-socks5 takes the first method in the client's list that it knows, so
// it is given only username/password when the client offers that, or when
// the port requires an account (a client that offers no username/password
// then gets "no acceptable methods" and is closed).
func (c *socksConn) serveSOCKS5() {
	var auth socks5.Authenticator = socks5.NoAuthAuthenticator{}
	if c.srv.Users != nil || c.offersUserPass() {
		auth = socks5.UserPassAuthenticator{Credentials: c}
	}
	lib, _ := socks5.New(&socks5.Config{ // New never fails
		AuthMethods: []socks5.Authenticator{auth},
		Resolver:    noResolver{},
		Rules:       c,
		Rewriter:    c, // RESOLVE and RESOLVE_PTR (socks_resolve.go)
		Logger:      c.srv.libLog,
		Dial:        c.dial,
	})
	// Not logged: its errors name destinations, and go-socks5 has logged the
	// interesting ones to debug already.
	_ = lib.ServeConn(c)
}

// offersUserPass peeks at the greeting (VER NMETHODS METHODS) for
// username/password. A short greeting fails in go-socks5, which reads it.
func (c *socksConn) offersUserPass() bool {
	hdr, err := c.br.Peek(2)
	if err != nil {
		return false
	}
	g, _ := c.br.Peek(2 + int(hdr[1]))
	return bytes.IndexByte(g[2:], socks5.UserPassAuth) >= 0
}

// Valid is go-socks5's CredentialStore. Without SOCKSServer.Users any
// username and password pass: they choose a circuit (stream isolation),
// and are the request's own hidden-service login. go-socks5 keeps only the
// username, so the conn keeps both for the client.DialRequest. With Users,
// only an account passes (go-socks5 then answers the RFC 1929 failure and
// closes), and the account is the isolation identity, never a login sent
// to a service.
func (c *socksConn) Valid(user, pass string) bool {
	if c.srv.Users == nil {
		c.user, c.pass = user, pass
		return true
	}
	if !c.srv.Users.Valid(user, pass) {
		c.srv.log.Info("SOCKS client refused: unknown account or wrong password")
		return false
	}
	c.account = user
	return true
}

// Allow is go-socks5's RuleSet. It keeps a CONNECT for dial, and refuses
// one to an empty host or port 0; other commands pass, for go-socks5 to
// answer "command not supported".
func (c *socksConn) Allow(ctx context.Context, r *socks5.Request) (context.Context, bool) {
	if r.Command != socks5.ConnectCommand {
		return ctx, true
	}
	c.req = c.dialRequest(r.DestAddr)
	return ctx, c.req.Host != "" && c.req.Port != 0
}

// dial is go-socks5's Dial, called once the CONNECT is read and allowed: it
// opens the stream for c.req, ignoring go-socks5's ctx (which never ends)
// and address. A failure is answered here (fail).
func (c *socksConn) dial(context.Context, string, string) (net.Conn, error) {
	s, err := c.open()
	if err != nil {
		c.fail(err)
		return nil, err
	}
	return s, nil
}

// open opens the stream for c.req, once its request is read, and keeps it
// for Close. What the client sent behind the request goes with BEGIN.
func (c *socksConn) open() (net.Conn, error) {
	c.SetDeadline(time.Time{}) // the handshake is over
	c.spliced = true
	req := c.req
	c.srv.log.Debug("SOCKS CONNECT", "dest", net.JoinHostPort(req.Host, strconv.Itoa(int(req.Port))))
	if !onion.IsOnionHost(req.Host) { // a hidden service asks for a login first
		req.Early = c.early()
	}
	ctx, cancel := context.WithTimeout(c.srv.ctx, c.srv.connect)
	defer cancel()
	stopWatch := func() {}
	if onion.IsOnionHost(req.Host) { // a login prompt for a client that hung up is withdrawn
		stopWatch = watchGone(c.Conn, cancel)
	}
	stream, err := c.srv.Dialer.DialStream(ctx, req)
	stopWatch()
	if err == nil && stream == nil {
		err = errors.New("proxy: DialStream returned no conn")
	}
	if err != nil {
		return nil, err
	}
	// If Close ran meanwhile, the reply fails and the stream is closed.
	s := &socksStream{Conn: stream}
	c.stream.Store(s)
	return s, nil
}

// noResolver keeps hostnames for the exit: returning no IP makes go-socks5
// pass FQDN:port on (no DNS leak).
type noResolver struct{}

func (noResolver) Resolve(ctx context.Context, _ string) (context.Context, net.IP, error) {
	return ctx, nil, nil
}
