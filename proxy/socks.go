package proxy

// The SOCKS5 front end (docs/PROTOCOL.md §8): applications (curl, a browser)
// connect here and each CONNECT becomes one stream through the network.
//
// github.com/armon/go-socks5 speaks the protocol: the greeting and method
// choice, username/password (RFC 1929, its UserPassAuthenticator), the
// request, the "command not supported" (BIND, UDP ASSOCIATE, unknown) and
// "address type not supported" replies, the success reply, and the two pumps
// with their half-closes. Each client gets a go-socks5 Server of its own,
// because go-socks5 hands Dial only a ctx and an address: with the client's
// socksConn as RuleSet, CredentialStore and Dial, they reach it directly, with
// no ctx value and no lookup (a Server is a Config and a map of one entry).
//
// socksConn, the conn go-socks5 serves, adds what go-socks5 cannot do:
//   - no DNS (a Resolver that never resolves): FQDNs reach the exit as sent;
//   - username/password is the only method offered to go-socks5 when the
//     client lists it, whatever its order (curl lists no-auth first), and any
//     credentials pass: they isolate streams, they grant nothing;
//   - optimistic data: go-socks5 gets one byte per read until the request is
//     read, so bytes sent behind it stay with socksConn for DialRequest.Early;
//   - a failed CONNECT is answered with the code replyFor picks from the
//     DialStream error (go-socks5 would pick it from the error's text);
//   - a client whose stream failed gets a TCP reset, not a clean end;
//   - SOCKS4 and HTTP clients get an answer they understand (socks_sniff.go);
//   - handshake and connect timeouts, Close that ends every client and
//     pending dial, a recover per client, and go-socks5's logger, which
//     prints destinations, at debug only.
//
// Not implemented yet, and where it will go: Tor's RESOLVE (0xF0) and
// RESOLVE_PTR (0xF1) commands, which go-socks5 answers "command not
// supported", will be answered by socksConn as go-socks5's AddressRewriter,
// which sees every request before go-socks5 picks a handler by command: it
// writes the reply itself and closes the conn, as fail does. Tor's extended
// reply codes (0xF0-0xF7, onion-service failures) will be picked by replyFor.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"maps"
	"net"
	"slices"
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

	initOnce  sync.Once
	log       *slog.Logger
	libLog    *log.Logger // for go-socks5
	handshake time.Duration
	connect   time.Duration
	ctx       context.Context // cancelled by Close: ends DialStream calls
	cancel    context.CancelFunc

	mu     sync.Mutex
	closed bool
	open   map[io.Closer]struct{} // listeners and client conns, for Close
	wg     sync.WaitGroup         // one per entry of open
}

func (s *SOCKSServer) init() {
	s.initOnce.Do(func() {
		s.log = s.Logger
		if s.log == nil {
			s.log = slog.New(slog.DiscardHandler)
		}
		s.libLog = slog.NewLogLogger(s.log.Handler(), slog.LevelDebug) // its lines name destinations
		s.handshake = orDefault(s.HandshakeTimeout, DefaultHandshakeTimeout)
		s.connect = orDefault(s.ConnectTimeout, DefaultConnectTimeout)
		s.ctx, s.cancel = context.WithCancel(context.Background())
		s.open = make(map[io.Closer]struct{})
	})
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Serve accepts SOCKS clients on ln until Close, then returns nil. It closes
// ln. Any other accept error is returned.
func (s *SOCKSServer) Serve(ln net.Listener) error {
	s.init()
	if s.Dialer == nil {
		ln.Close()
		return errors.New("proxy: SOCKSServer without a Dialer")
	}
	if !s.track(ln) {
		ln.Close()
		return nil
	}
	defer s.untrack(ln)
	s.log.Debug("SOCKS5 proxy listening", "addr", ln.Addr().String())

	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil { // closed
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

// start serves raw on its own goroutine, unless the server is closed.
func (s *SOCKSServer) start(raw net.Conn) {
	// The whole handshake must arrive within the timeout; dial clears it.
	raw.SetDeadline(time.Now().Add(s.handshake))
	c := newSocksConn(s, raw)
	if !s.track(c) {
		raw.Close()
		return
	}
	go func() {
		defer s.untrack(c)
		c.serve()
	}()
}

// track registers x (a listener or a client conn) for Close; false once
// closed. The wg.Add is under mu, so never after Close started waiting.
func (s *SOCKSServer) track(x io.Closer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.open[x] = struct{}{}
	s.wg.Add(1)
	return true
}

// untrack closes x and forgets it.
func (s *SOCKSServer) untrack(x io.Closer) {
	x.Close()
	s.mu.Lock()
	delete(s.open, x)
	s.mu.Unlock()
	s.wg.Done()
}

// Close stops every Serve, closes every client conn and its stream, cancels
// pending DialStream calls, and waits for Serve and the per-client
// goroutines to return. It is idempotent and safe to call concurrently with
// Serve.
func (s *SOCKSServer) Close() error {
	s.init()
	s.mu.Lock()
	s.closed = true
	open := slices.Collect(maps.Keys(s.open))
	s.mu.Unlock()

	s.cancel()
	for _, x := range open {
		x.Close()
	}
	s.wg.Wait()
	return nil
}
