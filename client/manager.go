package client

import (
	"context"
	"crypto/ecdh"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"onion/internal/sockopt"
	"onion/linktls"
	"onion/onion"
	"onion/onion/circuit"
)

// Defaults.
const (
	DefaultCircuitLifetime = 10 * time.Minute // Tor's MaxCircuitDirtiness
	DefaultBuildTimeout    = 30 * time.Second
	DefaultBuildAttempts   = 4
	DefaultRefreshInterval = time.Minute
	relayDownFor           = time.Minute // how long a relay that failed a build is avoided
	maintainEvery          = 15 * time.Second
)

// Directory is what the manager needs from the directory: the verified list
// of live relays. directory.Client satisfies it.
type Directory interface {
	Relays(ctx context.Context) (onion.RelayList, error)
}

// Config configures a Manager. Optional fields have working zero values.
type Config struct {
	Directory       Directory
	CircuitLifetime time.Duration // optional: new streams stop using a circuit this old
	BuildTimeout    time.Duration // optional: one build attempt, three hops
	BuildAttempts   int           // optional: paths tried before giving up
	RefreshInterval time.Duration // optional: how often the relay list is fetched
	// DialLink opens the connections of links to first hops (TLS goes on
	// top, pinned to the hop's identity key); optional, net.Dialer.
	DialLink func(ctx context.Context, network, addr string) (net.Conn, error)
	// PlainLinks turns TLS off on links, for benchmarks that measure what
	// TLS costs and nothing else: the relays must have plain links too.
	PlainLinks bool
	// Lab turns off the rule that no two relays of a path share an IPv4
	// /16 or IPv6 /32 (PROTOCOL.md §8.5): for test networks whose relays
	// share an address.
	Lab bool
	// NoCongestionControl keeps circuits on stream windows alone
	// (PROTOCOL.md §6.1): no CC_OFFER, for exits and services that predate
	// it, and to measure what it changes.
	NoCongestionControl bool
	Logger              *slog.Logger // optional
	Rand                io.Reader    // optional: crypto/rand; drives path choice and handshakes
	Now                 func() time.Time

	// Credentials answers hidden services' login challenges; nil refuses them.
	Credentials Credentials
	// Guards, if set, is the entry guard set every circuit starts at
	// (guards.go); nil chooses every first hop afresh.
	Guards *Guards
	// CostPins holds each service's password cost from its first proven
	// login; a lower one later is refused. Nil keeps them in memory.
	CostPins *CostPins
	// OpenURL is called with each URL a hidden service sends (already
	// received; the callee validates and decides). Nil ignores them.
	OpenURL func(url string)
	// WaitConnected answers every CONNECT only once the exit has
	// connected. By default a CONNECT to a destination that its circuit
	// reached before is answered at once (open.go).
	WaitConnected bool
	// OnIdle, if set, is called from the maintenance loop when no stream
	// is open any more after some were: a moment for the process to give
	// freed memory back to the system, say.
	OnIdle func()
	// OnBuild, if set, is called after each attempt to build a circuit
	// path, with the time it took and its error (nil: built): metrics.
	OnBuild func(took time.Duration, err error)
	// Services, if set, makes the onion-address lookup from hc, an HTTP
	// client whose connections go through the network on circuits of their
	// own (TunnelHTTP): the directory then cannot tie this machine to the
	// addresses it asks for. Nil looks them up with Directory if it can.
	Services func(hc *http.Client) ServiceDirectory
	// ClientKeys are the client-authorization keys (PROTOCOL.md §11.9) by
	// onion address (ADDRESS.onion, lower case): a service that admits
	// authorized clients only is reachable with its key alone.
	ClientKeys map[string]*ecdh.PrivateKey
}

// Manager owns the proxy's circuits. It implements StreamDialer.
type Manager struct {
	cfg    Config
	logger *slog.Logger

	mu           sync.Mutex
	relays       []onion.RelayDescriptor
	expires      time.Time            // the list's ValidUntil: no circuit is built with it after (expiry.go)
	expiryLogged bool                 // the expired list was reported
	down         map[string]time.Time // fingerprint -> avoid until (failed a build)
	suspect      map[string]time.Time // fingerprint -> avoid while possible until (bad layer)
	links        map[linkKey]*linkEntry
	current      map[string]*circEntry // isolation key -> circuit new streams use
	building     map[string]*buildCall
	all          map[*circEntry]struct{}
	nextID       int
	closed       bool
	// lastEarly is when the relay list was last fetched before its time
	// (refreshEarly).
	lastEarly time.Time
	// stop is cancelled by Close: it ends the waits of early streams
	// (open.go) that nothing else would wake.
	stop context.Context
	halt context.CancelFunc

	services ServiceDirectory // nil: none
	pins     *CostPins
	trim     memoryTrim
	wg       sync.WaitGroup

	// Bytes of the circuits that have closed (Totals adds the open ones').
	closedSent, closedReceived atomic.Uint64
}

type circEntry struct {
	c    *circuit.Circuit
	id   int
	path []onion.RelayDescriptor
	born time.Time
	key  string

	mu      sync.Mutex
	reached map[string]struct{} // targets that answered CONNECTED here (open.go)
}

type buildCall struct {
	done chan struct{}
	ce   *circEntry
	err  error
}

type linkEntry struct {
	ready chan struct{}
	cl    *circuit.ClientLink
	err   error
}

// NewManager returns a Manager; call Refresh before the first DialStream.
func NewManager(cfg Config) *Manager {
	if cfg.CircuitLifetime <= 0 {
		cfg.CircuitLifetime = DefaultCircuitLifetime
	}
	if cfg.BuildTimeout <= 0 {
		cfg.BuildTimeout = DefaultBuildTimeout
	}
	if cfg.BuildAttempts <= 0 {
		cfg.BuildAttempts = DefaultBuildAttempts
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = DefaultRefreshInterval
	}
	if cfg.DialLink == nil {
		cfg.DialLink = sockopt.Dial(sockopt.Dialer())
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	stop, halt := context.WithCancel(context.Background())
	m := &Manager{
		stop:     stop,
		halt:     halt,
		cfg:      cfg,
		logger:   cfg.Logger,
		down:     make(map[string]time.Time),
		suspect:  make(map[string]time.Time),
		links:    make(map[linkKey]*linkEntry),
		current:  make(map[string]*circEntry),
		building: make(map[string]*buildCall),
		all:      make(map[*circEntry]struct{}),
		nextID:   1,
		pins:     cfg.CostPins,
	}
	if m.pins == nil {
		m.pins, _ = LoadCostPins("") // in memory: cannot fail
	}
	if sd, ok := cfg.Directory.(ServiceDirectory); ok {
		m.services = sd
	}
	if cfg.Services != nil {
		m.services = cfg.Services(m.TunnelHTTP("directory", tunnelTimeout))
	}
	return m
}

// Refresh fetches and verifies the relay list. On failure the last good
// list stays in use.
func (m *Manager) Refresh(ctx context.Context) error {
	l, err := m.cfg.Directory.Relays(ctx)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.relays = l.Relays
	m.expires, m.expiryLogged = time.Unix(l.ValidUntil, 0), false
	m.mu.Unlock()
	return nil
}

// Usable reports whether the current list can make a circuit: at least three
// relays, one of them an exit.
func (m *Manager) Usable() (relays, exits int, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range m.relays {
		relays++
		if d.Exit {
			exits++
		}
	}
	return relays, exits, relays >= 3 && exits >= 1
}

// WaitUsable fetches the relay list until it can make a circuit, retrying
// with a logged warning (the directory may still be starting, or know too
// few relays yet). It returns ctx's error if ctx ends first.
func (m *Manager) WaitUsable(ctx context.Context) error {
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := m.Refresh(rctx)
		cancel()
		relays, exits, ok := m.Usable()
		if err == nil && ok {
			m.logger.Info("relay list verified", "relays", relays, "exits", exits)
			return nil
		}
		if err == nil {
			err = errors.New("need at least 3 relays and 1 exit")
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		m.logger.Warn("waiting for a usable relay list", "relays", relays, "exits", exits, "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// Run refreshes the relay list and retires old idle circuits until ctx is
// done, then closes every circuit and link.
func (m *Manager) Run(ctx context.Context) {
	refresh := time.NewTicker(m.cfg.RefreshInterval)
	defer refresh.Stop()
	maintain := time.NewTicker(min(maintainEvery, m.cfg.CircuitLifetime))
	defer maintain.Stop()
	for {
		select {
		case <-ctx.Done():
			m.Close()
			return
		case <-refresh.C:
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			if err := m.Refresh(rctx); err != nil && ctx.Err() == nil {
				m.logger.Warn("relay list refresh failed; keeping the last verified list", "err", err)
			}
			cancel()
		case <-maintain.C:
			m.retireIdle()
			if m.trim.tick(m.anyStreams()) && m.cfg.OnIdle != nil {
				m.cfg.OnIdle()
			}
		}
	}
}

// DialStream opens a stream to req's host and port through a circuit chosen
// by req's isolation key.
func (m *Manager) DialStream(ctx context.Context, req DialRequest) (net.Conn, error) {
	m.trim.streamOpened()
	if onion.IsOnionHost(req.Host) {
		return m.dialOnion(ctx, req)
	}
	target := net.JoinHostPort(req.Host, strconv.Itoa(int(req.Port)))
	key := isolationKey(req)
	if deadline, ok := ctx.Deadline(); ok && !m.cfg.WaitConnected {
		if ce := m.warm(key); ce != nil && ce.hasReached(target) {
			if s, err := m.dialEarly(deadline, ce, key, target, req.Port, req.Early); err == nil {
				return s, nil
			}
			// No stream on it (the circuit is closing, or full): the usual path.
		}
	}
	var at atomic.Pointer[circEntry]
	s, err := newStream(target, req.Early, &at)
	if err != nil {
		return nil, err
	}
	s.Begin() // on no circuit yet: BEGIN goes out as soon as it has one
	if err := m.connect(ctx, key, req.Port, &at, s); err != nil {
		return nil, err
	}
	return s, nil
}

// isolationKey separates streams whose SOCKS credentials differ, like Tor's
// IsolateSOCKSAuth. The key is never logged.
func isolationKey(req DialRequest) string {
	if req.Username == "" && req.Password == "" && req.Isolation == "" {
		return ""
	}
	return strconv.Itoa(len(req.Isolation)) + ":" + req.Isolation +
		strconv.Itoa(len(req.Username)) + ":" + req.Username + req.Password
}

// circuitFor returns the circuit new streams with this key to port use
// (0: any port), building one if there is none young enough. Concurrent
// callers share one build.
func (m *Manager) circuitFor(ctx context.Context, key string, port uint16) (*circEntry, error) {
	k := m.exitKey(key, port)
	return m.circuitForWith(ctx, k, func() (*circEntry, error) { return m.build(k, port) })
}

// exitKey is key, unless key's circuit ends at an exit whose policy
// summary refuses port: then a key of its own for circuits to that port
// (still apart from every other isolation key, since it starts with key).
// A key's circuit is built for the first port asked for.
func (m *Manager) exitKey(key string, port uint16) string {
	if port == 0 {
		return key
	}
	m.mu.Lock()
	ce := m.current[key]
	m.mu.Unlock()
	if ce == nil || ce.path[len(ce.path)-1].Summary().Allows(port) {
		return key
	}
	return key + "\x00port " + strconv.Itoa(int(port))
}

// circuitForWith is circuitFor with the build step given.
func (m *Manager) circuitForWith(ctx context.Context, key string, build func() (*circEntry, error)) (*circEntry, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, errors.New("client: shutting down")
	}
	if ce := m.current[key]; ce != nil && m.cfg.Now().Sub(ce.born) < m.cfg.CircuitLifetime && ce.c.Err() == nil {
		m.mu.Unlock()
		return ce, nil
	}
	call := m.building[key]
	if call == nil {
		call = &buildCall{done: make(chan struct{})}
		m.building[key] = call
		m.wg.Add(1)
		go m.runBuild(key, call, build)
	}
	m.mu.Unlock()
	select {
	case <-call.done:
		return call.ce, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (m *Manager) runBuild(key string, call *buildCall, build func() (*circEntry, error)) {
	defer m.wg.Done()
	call.ce, call.err = build()
	m.mu.Lock()
	delete(m.building, key)
	if call.err == nil {
		if m.closed {
			call.ce.c.Close()
			call.err = errors.New("client: shutting down")
		} else {
			m.current[key] = call.ce
			m.all[call.ce] = struct{}{}
			m.wg.Add(1)
			go m.watch(call.ce)
		}
	}
	m.mu.Unlock()
	close(call.done)
}

// watch forgets a circuit once it closes.
func (m *Manager) watch(ce *circEntry) {
	defer m.wg.Done()
	<-ce.c.Done()
	m.mu.Lock()
	// Counted as closed in the same step as it leaves m.all: Totals never
	// goes back.
	sent, received := ce.c.Bytes()
	m.closedSent.Add(sent)
	m.closedReceived.Add(received)
	delete(m.all, ce)
	if m.current[ce.key] == ce {
		delete(m.current, ce.key)
	}
	m.mu.Unlock()
	err := ce.c.Err()
	m.logger.Info("circuit closed", "circ", ce.id, "err", err)
	var le *circuit.LayerError
	if errors.As(err, &le) && le.Hop >= 1 && le.Hop <= len(ce.path) {
		// A cell was tampered with, replayed or dropped between hop Hop
		// sealing it and us: avoid both suspects for a while.
		for _, d := range ce.path[max(0, le.Hop-2):le.Hop] {
			m.logger.Warn("avoiding a relay suspected of tampering", "relay", d.Nickname, "fingerprint", d.Fingerprint(), "for", relayDownFor)
			m.markSuspect(d.Fingerprint())
		}
	}
}

// retire stops new streams from using ce; it closes once idle.
func (m *Manager) retire(ce *circEntry) {
	m.mu.Lock()
	if m.current[ce.key] == ce {
		delete(m.current, ce.key)
	}
	m.mu.Unlock()
	if ce.c.NumStreams() == 0 {
		ce.c.Close()
	}
}

// retireIdle closes circuits past their lifetime that carry no streams.
func (m *Manager) retireIdle() {
	now := m.cfg.Now()
	m.mu.Lock()
	var old []*circEntry
	for ce := range m.all {
		if now.Sub(ce.born) >= m.cfg.CircuitLifetime {
			old = append(old, ce)
		}
	}
	m.mu.Unlock()
	for _, ce := range old {
		m.retire(ce)
	}
}

// Close closes every circuit and link and waits for the manager's goroutines.
func (m *Manager) Close() {
	m.halt()
	m.mu.Lock()
	m.closed = true
	links := make([]*linkEntry, 0, len(m.links))
	for _, e := range m.links {
		links = append(links, e)
	}
	m.mu.Unlock()
	for _, e := range links {
		<-e.ready
		if e.cl != nil {
			e.cl.Close()
		}
	}
	m.wg.Wait()
}

// linkKey names a link: a different identity at the same address is
// another relay, and never gets the link of the first.
type linkKey struct {
	addr string
	id   string // identity key
}

// link returns an open link to the relay d, dialing if needed.
func (m *Manager) link(ctx context.Context, d onion.RelayDescriptor) (*circuit.ClientLink, error) {
	k := linkKey{addr: d.Address, id: string(d.IdentityKey)}
	m.mu.Lock()
	e := m.links[k]
	if e != nil {
		select {
		case <-e.ready:
			if e.err != nil || isDone(e.cl.Done()) {
				e = nil
			}
		default:
		}
	}
	if e == nil {
		e = &linkEntry{ready: make(chan struct{})}
		m.links[k] = e
		m.mu.Unlock()
		e.cl, e.err = m.dialLink(ctx, d)
		if e.err != nil {
			m.mu.Lock()
			if m.links[k] == e {
				delete(m.links, k)
			}
			m.mu.Unlock()
		}
		close(e.ready)
		return e.cl, e.err
	}
	m.mu.Unlock()
	select {
	case <-e.ready:
		return e.cl, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// dialLink opens a link to d: TLS that accepts only d's identity key
// (PROTOCOL.md §2.1), then the preface.
func (m *Manager) dialLink(ctx context.Context, d onion.RelayDescriptor) (*circuit.ClientLink, error) {
	conn, err := m.cfg.DialLink(ctx, "tcp", d.Address)
	if err != nil {
		return nil, err
	}
	if !m.cfg.PlainLinks {
		if conn, err = linktls.Client(ctx, conn, d.IdentityKey); err != nil {
			return nil, fmt.Errorf("link to %s: %w", d.Address, err)
		}
	}
	// The preface exchange inside NewClientLink has its own 10 s bound.
	cl, err := circuit.NewClientLink(conn, m.logger, m.cfg.Rand)
	if err != nil {
		return nil, fmt.Errorf("link handshake: %w", err)
	}
	cl.SetCongestionControl(!m.cfg.NoCongestionControl)
	return cl, nil
}

// timedOut reports whether err, from a wait bounded by ctx, means that
// ctx's time ran out. Stream.WaitConnected's own timer may fire a moment
// before ctx's: that is a timeout too, not a failed circuit.
func timedOut(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded)
}

// goTracked runs f in a goroutine that Close waits for, unless the
// manager is closed (then it returns false and f does not run).
func (m *Manager) goTracked(f func()) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		f()
	}()
	return true
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
