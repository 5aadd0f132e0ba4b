package relay

import (
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onion/internal/sockopt"
	"onion/linktls"
	"onion/onion"
	"onion/onion/circuit"
)

// Defaults and bounds. The bounds a relay shares with the other end of a
// link or circuit (circuits per link, streams per circuit) are the engine's:
// circuit.MaxCircuitsPerLink and circuit.MaxStreamsPerCircuit; those on
// what peers make it hold are in Limits (limits.go).
const (
	DefaultPublishInterval = 30 * time.Second
	DefaultExtendTimeout   = 15 * time.Second
	DefaultConnectTimeout  = 10 * time.Second
	DefaultIdleLinkTimeout = 3 * time.Minute // an inbound link with no circuits closes after this silence
	// DefaultMaxCircuits bounds the circuits of a relay as a whole (~3 KiB
	// each when idle): the per-link bound alone would allow 4096 links of 4096.
	DefaultMaxCircuits = 65536
)

// Publisher is the part of the directory client a relay uses.
type Publisher interface {
	Publish(ctx context.Context, d onion.RelayDescriptor) error
}

// Config is everything a relay needs. Fields marked optional have working
// zero values.
type Config struct {
	Identity ed25519.PrivateKey // long-term identity; signs the descriptor
	OnionKey *ecdh.PrivateKey   // answers CREATE
	Nickname string             // optional; "relay" and the fingerprint's first 8 characters
	Address  string             // host:port published in the descriptor; Run's default: the listener's address
	Exit     bool
	Policy   Policy // exit policy; nil means RejectPrivate
	// Bandwidth is the bandwidth (bytes/s) the descriptor advertises;
	// zero means onion.DefaultBandwidth. Family names the fingerprints of
	// the operator's other relays (PROTOCOL.md §7.1, §8.5).
	Bandwidth int64
	Family    []string
	Directory Publisher // nil: never publish (tests)
	// Relays is the verified relay list: circuits are extended only to the
	// relays in it, at their listed address, and to this relay itself
	// (PROTOCOL.md §3.3). Serve fetches it at once and every minute; Run
	// calls Ready only once it has verified. Nil: extend to nothing but
	// this relay (tests).
	Relays RelayLister

	// Listen is the address Run accepts links on ("127.0.0.1:0" picks a
	// free port); Listener, when set, is used instead (tests and wrappers
	// inject one). Run closes it.
	Listen   string
	Listener net.Listener
	// Ready, optional, is called once by Run when the directory has the
	// descriptor and the relay carries circuits.
	Ready func(Info)

	PublishInterval time.Duration // optional; DefaultPublishInterval
	ExtendTimeout   time.Duration // optional; DefaultExtendTimeout
	ConnectTimeout  time.Duration // optional; DefaultConnectTimeout
	IdleLinkTimeout time.Duration // optional; DefaultIdleLinkTimeout
	MaxCircuits     int           // optional; DefaultMaxCircuits
	Limits          Limits        // optional; each zero field its default

	// DialLink opens the connections of links to other relays (TLS goes
	// on top, linklayer.go); optional, net.Dialer.
	DialLink func(ctx context.Context, network, addr string) (net.Conn, error)
	// WrapLink, optional, wraps the plaintext side of every link, below
	// the preface and above TLS: accepted says which end this relay is.
	// Tests and the rogue relay (e2e/rogue) misbehave through it.
	WrapLink func(conn net.Conn, accepted bool) net.Conn
	// PlainLinks turns TLS off on this relay's links, both ways: for
	// benchmarks that measure what TLS costs, and nothing else. A relay
	// with plain links cannot link with one that has TLS.
	PlainLinks bool
	// DialExit opens exit connections; optional, a net.Dialer that applies
	// Policy to every resolved address. A custom one must apply the policy itself.
	DialExit func(ctx context.Context, network, addr string) (net.Conn, error)
	// Resolver answers RESOLVE (the policy is applied to its answers);
	// optional, net.DefaultResolver.
	Resolver ExitResolver

	Logger *slog.Logger // optional; discard
	// Metrics, optional, gets the relay's Prometheus instruments (metrics.go).
	Metrics prometheus.Registerer
	Rand    io.Reader // optional; crypto/rand
	Now     func() time.Time
}

// Relay is a running relay.
type Relay struct {
	cfg    Config
	keys   onion.RelayKeys
	logger *slog.Logger
	fp     string
	tls    *tls.Config // accepts links; nil with PlainLinks
	// summary is the exit policy summary the descriptor carries ("" for
	// a relay that is not an exit).
	summary string

	list *listedRelays // nil without cfg.Relays
	// publishing is closed once the relay may re-publish its descriptor:
	// at once for Serve alone; Run closes it after its first publication,
	// which waits for the reachability self-test.
	publishing chan struct{}

	mu       sync.Mutex
	inbound  map[*inLink]struct{}
	out      map[outKey]*outEntry  // by address and identity
	meetings map[string]*relayCirc // service key -> its established circuit
	closed   bool

	// What peers hold, for cfg.Limits and cfg.MaxCircuits.
	bounds     bounds
	conns      share // inbound connections from accept until they close
	handshakes share // inbound connections before their preface
	circuits   share // live circuits, by the peer of their inbound link
	exitConns  share // exit connections, by the peer of their circuit's link
	exitBuf    exitBudget
	refusals   refusals
	stats      stats // for Config.Metrics; always counted

	wg sync.WaitGroup
}

// New checks cfg and fills in defaults.
func New(cfg Config) (*Relay, error) {
	if len(cfg.Identity) != ed25519.PrivateKeySize || cfg.OnionKey == nil {
		return nil, errors.New("relay: identity and onion keys are required")
	}
	id := cfg.Identity.Public().(ed25519.PublicKey)
	if cfg.Nickname == "" {
		cfg.Nickname = "relay" + onion.Fingerprint(id)[:8]
	}
	if err := CheckAddress(cfg.Address); err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	if cfg.Policy == nil {
		cfg.Policy = RejectPrivate
	}
	if err := checkPathFields(&cfg); err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	if cfg.PublishInterval <= 0 {
		cfg.PublishInterval = DefaultPublishInterval
	}
	if cfg.ExtendTimeout <= 0 {
		cfg.ExtendTimeout = DefaultExtendTimeout
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.IdleLinkTimeout <= 0 {
		cfg.IdleLinkTimeout = DefaultIdleLinkTimeout
	}
	if cfg.MaxCircuits <= 0 {
		cfg.MaxCircuits = DefaultMaxCircuits
	}
	cfg.Limits.fill()
	if cfg.DialLink == nil {
		cfg.DialLink = sockopt.Dial(sockopt.Dialer())
	}
	if cfg.DialExit == nil {
		cfg.DialExit = policyDialer(cfg.Policy).DialContext
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Relay{
		cfg:      cfg,
		keys:     onion.RelayKeys{ID: id, OnionKey: cfg.OnionKey},
		fp:       onion.Fingerprint(id),
		inbound:  make(map[*inLink]struct{}),
		out:      make(map[outKey]*outEntry),
		meetings: make(map[string]*relayCirc),

		publishing: make(chan struct{}),
	}
	close(r.publishing)
	if !cfg.PlainLinks {
		var err error
		if r.tls, err = linktls.ServerConfig(cfg.Identity, cfg.Now); err != nil {
			return nil, fmt.Errorf("relay: %w", err)
		}
	}
	if cfg.Exit {
		r.summary = Summarize(cfg.Policy).String()
	}
	r.bounds = newBounds(&r.cfg)
	r.exitBuf.max, r.exitBuf.perCircuit = cfg.Limits.MaxExitBuffered, cfg.Limits.MaxExitBufferedPerCircuit
	r.logger = cfg.Logger.With("relay", cfg.Nickname)
	if cfg.Relays != nil {
		r.list = newListedRelays(cfg.Relays, cfg.Now, r.logger)
	}
	if cfg.Metrics != nil {
		if err := r.registerMetrics(cfg.Metrics); err != nil {
			return nil, fmt.Errorf("relay metrics: %w", err)
		}
	}
	return r, nil
}

// Fingerprint is this relay's fingerprint.
func (r *Relay) Fingerprint() string { return r.fp }

// Descriptor is this relay's signed descriptor as of now.
func (r *Relay) Descriptor() onion.RelayDescriptor {
	d := onion.RelayDescriptor{
		Nickname:   r.cfg.Nickname,
		Address:    r.cfg.Address,
		OnionKey:   r.cfg.OnionKey.PublicKey().Bytes(),
		Exit:       r.cfg.Exit,
		Published:  r.cfg.Now().Unix(),
		Bandwidth:  r.cfg.Bandwidth,
		Family:     r.cfg.Family,
		ExitPolicy: r.summary,
	}
	d.Sign(r.cfg.Identity)
	return d
}

// Publish sends the descriptor to the directory once.
func (r *Relay) Publish(ctx context.Context) error {
	if r.cfg.Directory == nil {
		return nil
	}
	return r.cfg.Directory.Publish(ctx, r.Descriptor())
}

// Serve accepts links on ln, re-publishes the descriptor every
// PublishInterval and keeps the relay list fresh until ctx is done or ln
// fails; then it closes every link and waits for its goroutines.
func (r *Relay) Serve(ctx context.Context, ln net.Listener) error {
	pctx, stopPublishing := context.WithCancel(ctx) // also when ln fails on its own
	defer stopPublishing()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.publishLoop(pctx)
	}()
	if r.list != nil {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.list.run(pctx)
		}()
	}
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var err error
	for {
		var conn net.Conn
		conn, err = ln.Accept()
		if err != nil {
			break
		}
		conn = sockopt.Accepted(conn) // notice a dead peer in seconds
		p, ok := r.admit(conn)
		if !ok {
			continue
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.serveInbound(conn, p)
		}()
	}
	stopPublishing()
	r.shutdown()
	r.wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// admit counts a new connection against the bounds on inbound links and
// on those in the preface exchange, from accept on: a peer that opens
// connections and says nothing holds as much as one that finished its
// preface. A refused connection is closed at once. serveInbound gives the
// counts back.
func (r *Relay) admit(conn net.Conn) (peer, bool) {
	p := peerOf(conn.RemoteAddr())
	err := r.conns.take(p, r.bounds.links)
	if err == nil {
		if err = r.handshakes.take(p, r.bounds.handshakes); err != nil {
			r.conns.give(p)
		}
	}
	if err != nil {
		conn.Close()
		r.refused("refusing link", err, "peer", conn.RemoteAddr())
		return p, false
	}
	return p, true
}

func (r *Relay) publishLoop(ctx context.Context) {
	if r.cfg.Directory == nil {
		return // nothing to publish to (tests): no ticker to keep time moving
	}
	select {
	case <-ctx.Done():
		return
	case <-r.publishing:
	}
	t := time.NewTicker(r.cfg.PublishInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, r.cfg.PublishInterval)
		if err := r.Publish(pctx); err != nil && ctx.Err() == nil {
			r.logger.Warn("re-publishing descriptor failed; will retry", "err", err)
		}
		cancel()
	}
}

// shutdown closes every link; circuits die with them.
func (r *Relay) shutdown() {
	r.mu.Lock()
	r.closed = true
	var links []*circuit.Link
	for in := range r.inbound {
		links = append(links, in.link)
	}
	var dialing []*outEntry
	for _, e := range r.out {
		dialing = append(dialing, e)
	}
	r.mu.Unlock()
	for _, e := range dialing {
		// e.link is written by the dialer before it closes ready; a dial that
		// finishes after closed was set closes its own link (outLink).
		<-e.ready
		if e.link != nil {
			links = append(links, e.link.link)
		}
	}
	for _, l := range links {
		l.Close()
	}
}
