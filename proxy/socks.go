package proxy

// The SOCKS5 front end (docs/PROTOCOL.md §8): applications (curl, a browser)
// connect here and each CONNECT becomes one stream through the network.
//
// github.com/armon/go-socks5 speaks the protocol: method choice, RFC 1929
// (its UserPassAuthenticator), the request, the replies "command not
// supported" (BIND, UDP ASSOCIATE, unknown), "address type not supported"
// and "succeeded", and the two pumps with their half-closes. Its Dial gets
// only a ctx and an address, so each client has a go-socks5 Server of its
// own (a Config and a one-entry map) whose RuleSet, CredentialStore and Dial
// are the client's socksConn: no ctx values, no lookups.
//
// socksConn, the conn go-socks5 serves, adds what go-socks5 cannot do:
//   - no DNS: a Resolver that never resolves, so FQDNs reach the exit;
//   - username/password, when offered, is the only method go-socks5 is
//     given, as go-socks5 takes the client's first (curl lists no-auth
//     first); any credentials pass: they isolate streams, and are a login
//     for the request's own address only; with Users (--socks-auth) it is
//     the only method, only an account passes, and the account isolates;
//   - optimistic data: go-socks5 reads one byte at a time until the request
//     is read, so what follows stays with socksConn for client.DialRequest.Early;
//   - a failed CONNECT gets the code replyFor picks from the DialStream
//     error (go-socks5 would pick it from the error's text);
//   - a client whose stream failed gets a TCP reset, not a clean end;
//   - SOCKS4 and HTTP clients get an answer they understand;
//   - handshake and connect timeouts, Close that ends every client and
//     pending dial, a recover per client, and go-socks5's logger (it prints
//     destinations) at debug only.
//
// Tor's RESOLVE and RESOLVE_PTR are answered by socksConn as go-socks5's
// AddressRewriter (socks_resolve.go); SOCKS4(a) and HTTP proxy clients are
// told apart by their first bytes (socks_sniff.go) and served by socks4.go
// and SOCKSServer.HTTP. Tor's extended reply codes (0xF0-0xF7) come from
// replyCode (replycodes.go).

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
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
	// Users, if set, are the accounts the port requires (RFC 1929); nil
	// admits every client.
	Users *SOCKSUsers
	// GenericErrors answers onion-service failures with the generic RFC
	// 1928 codes instead of Tor's extended ones (0xF0-0xF7).
	GenericErrors bool
	// HTTP, if set, serves the HTTP proxy clients that connect to this
	// port; nil answers them 501.
	HTTP *HTTPProxy

	initOnce  sync.Once
	log       *slog.Logger
	libLog    *log.Logger // for go-socks5
	handshake time.Duration
	connect   time.Duration
	ctx       context.Context // cancelled by Close: ends DialStream calls
	cancel    context.CancelFunc

	mu sync.Mutex     // orders track's wg.Add before Close's wg.Wait
	wg sync.WaitGroup // Serve calls and client goroutines
}

func (s *SOCKSServer) init() {
	s.initOnce.Do(func() {
		s.log = s.Logger
		if s.log == nil {
			s.log = slog.New(slog.DiscardHandler)
		}
		s.libLog = slog.NewLogLogger(s.log.Handler(), slog.LevelDebug) // its lines name destinations
		s.handshake = cmp.Or(max(s.HandshakeTimeout, 0), DefaultHandshakeTimeout)
		s.connect = cmp.Or(max(s.ConnectTimeout, 0), DefaultConnectTimeout)
		s.ctx, s.cancel = context.WithCancel(context.Background())
	})
}

// Serve accepts SOCKS clients on ln until Close, then returns nil. It closes
// ln. Any other accept error is returned.
func (s *SOCKSServer) Serve(ln net.Listener) error {
	s.init()
	if s.Dialer == nil {
		ln.Close()
		return errors.New("proxy: SOCKSServer without a Dialer")
	}
	done, ok := s.track(ln)
	if !ok {
		return nil
	}
	defer done()
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

// start serves raw on its own goroutine, or closes it if the server is closed.
func (s *SOCKSServer) start(raw net.Conn) {
	// The whole handshake must arrive within the timeout; dial clears it.
	raw.SetDeadline(time.Now().Add(s.handshake))
	c := newSocksConn(s, raw)
	if done, ok := s.track(c); ok {
		go func() {
			defer done()
			c.serve()
		}()
	}
}

// track has Close close x (a listener or a client conn) and wait for the
// goroutine that serves it, until that calls done, which closes x. Once
// closed, it closes x and returns !ok.
func (s *SOCKSServer) track(x io.Closer) (done func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		x.Close()
		return nil, false
	}
	s.wg.Add(1)
	stop := context.AfterFunc(s.ctx, func() { x.Close() })
	return func() {
		stop()
		x.Close()
		s.wg.Done()
	}, true
}

// Close stops every Serve, closes every client conn and its stream, cancels
// pending DialStream calls, and waits for Serve and the per-client
// goroutines to return. It is idempotent and safe to call concurrently with
// Serve.
func (s *SOCKSServer) Close() error {
	s.init()
	s.mu.Lock()
	s.cancel() // closes what track holds
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}
