package proxy

// The SOCKS5 front end: applications (curl, a browser) connect here and each
// CONNECT becomes one stream through the network.
//
// It is built on github.com/armon/go-socks5 and wrapped against that
// library's known traps:
//   - hostnames are never resolved here (no DNS leak): the exit resolves them;
//   - reply codes follow the exit's END reason, not the error's text;
//   - username/password (RFC 1929) is chosen over no-auth whatever the
//     client's order, so it can isolate streams;
//   - handshake and connect timeouts, Close that ends every conn, and a
//     recover per conn;
//   - the library's logger, which prints destinations, goes to debug only.
//
// This file holds the API and the accept loop. socks_session.go serves one
// client; socks_auth.go negotiates the method; socks_reply.go picks reply
// codes; socks_conn.go wraps the conns go-socks5 sees; socks_sniff.go
// answers clients that are not SOCKS5.

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Default timeouts of a SOCKSServer.
const (
	DefaultHandshakeTimeout = 30 * time.Second
	// DefaultConnectTimeout is Tor's SocksTimeout: long enough for a
	// person to type a hidden service's password at the proxy's prompt.
	DefaultConnectTimeout = 2 * time.Minute
)

// SOCKSServer is the SOCKS5 front end. Set its fields, then call Serve; do
// not change them afterwards.
type SOCKSServer struct {
	Dialer StreamDialer
	Logger *slog.Logger // nil = discard
	// HandshakeTimeout bounds greeting, authentication and request together,
	// from accept. 0 = DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// ConnectTimeout is the deadline of the DialStream ctx.
	// 0 = DefaultConnectTimeout.
	ConnectTimeout time.Duration

	initOnce sync.Once
	log      *slog.Logger
	libLog   *log.Logger     // for go-socks5
	ctx      context.Context // cancelled by Close: ends DialStream calls
	cancel   context.CancelFunc

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	sessions  map[*socksSession]struct{}
	wg        sync.WaitGroup // one per session goroutine
}

func (s *SOCKSServer) init() {
	s.initOnce.Do(func() {
		s.log = s.Logger
		if s.log == nil {
			s.log = slog.New(slog.DiscardHandler)
		}
		s.libLog = log.New(libLogWriter{s.log}, "", 0)
		s.ctx, s.cancel = context.WithCancel(context.Background())
		s.listeners = make(map[net.Listener]struct{})
		s.sessions = make(map[*socksSession]struct{})
	})
}

func (s *SOCKSServer) handshakeTimeout() time.Duration {
	if s.HandshakeTimeout > 0 {
		return s.HandshakeTimeout
	}
	return DefaultHandshakeTimeout
}

func (s *SOCKSServer) connectTimeout() time.Duration {
	if s.ConnectTimeout > 0 {
		return s.ConnectTimeout
	}
	return DefaultConnectTimeout
}

// Serve accepts SOCKS clients on ln until Close, then returns nil. It closes
// ln. Any other accept error is returned.
func (s *SOCKSServer) Serve(ln net.Listener) error {
	s.init()
	if s.Dialer == nil {
		ln.Close()
		return errors.New("proxy: SOCKSServer without a Dialer")
	}
	if !s.addListener(ln) {
		ln.Close()
		return nil
	}
	defer s.removeListener(ln)
	s.log.Debug("SOCKS5 proxy listening", "addr", ln.Addr().String())

	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return nil
			}
			var tmp interface{ Temporary() bool } // as net/http: EMFILE and the like
			if !errors.As(err, &tmp) || !tmp.Temporary() {
				return fmt.Errorf("socks accept: %w", err)
			}
			// Out of file descriptors and the like: wait rather than spin.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("SOCKS accept failed; retrying", "err", err, "in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		s.start(c)
	}
}

// start serves c on its own goroutine, unless the server is closed.
func (s *SOCKSServer) start(c net.Conn) {
	// The whole handshake must arrive within the timeout; dial clears it.
	c.SetDeadline(time.Now().Add(s.handshakeTimeout()))
	ss := newSocksSession(s, c)

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.Close()
		return
	}
	s.sessions[ss] = struct{}{}
	s.wg.Add(1) // under mu, so never after Close started waiting
	s.mu.Unlock()

	go func() {
		defer s.wg.Done()
		defer s.forget(ss)
		ss.run()
	}()
}

func (s *SOCKSServer) forget(ss *socksSession) {
	ss.close()
	s.mu.Lock()
	delete(s.sessions, ss)
	s.mu.Unlock()
}

func (s *SOCKSServer) addListener(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *SOCKSServer) removeListener(ln net.Listener) {
	s.mu.Lock()
	delete(s.listeners, ln)
	s.mu.Unlock()
	ln.Close()
}

func (s *SOCKSServer) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close stops every Serve, closes every client conn and its stream, cancels
// pending DialStream calls, and waits for the per-client goroutines. It is
// idempotent and safe to call concurrently with Serve.
func (s *SOCKSServer) Close() error {
	s.init()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	lns := make([]net.Listener, 0, len(s.listeners))
	for ln := range s.listeners {
		lns = append(lns, ln)
	}
	sessions := make([]*socksSession, 0, len(s.sessions))
	for ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	s.mu.Unlock()

	for _, ln := range lns {
		ln.Close()
	}
	s.cancel()
	for _, ss := range sessions {
		ss.close()
	}
	s.wg.Wait()
	return nil
}
