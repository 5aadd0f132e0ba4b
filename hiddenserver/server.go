package hiddenserver

import (
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"onion/client"
	"onion/onion"
	"onion/onion/circuit"
)

// Defaults.
const (
	DefaultMeetingPoints   = 2
	DefaultPublishInterval = 30 * time.Second
	rebuildBackoff         = 2 * time.Second
)

// Builder builds circuits; client.Manager satisfies it.
type Builder interface {
	BuildCircuit(ctx context.Context, last *onion.RelayDescriptor) (*circuit.Circuit, []onion.RelayDescriptor, error)
	Relays() []onion.RelayDescriptor
}

// Publisher publishes service descriptors; directory.Client satisfies it.
type Publisher interface {
	PublishService(ctx context.Context, d onion.ServiceDescriptor) error
}

// Config configures a hidden server (Run, or New for a Server alone).
type Config struct {
	Key    ed25519.PrivateKey // the service identity; the onion address derives from it
	E2EKey *ecdh.PrivateKey   // answers clients' end-to-end handshakes
	// Builder builds the service's circuits. Run makes a circuit manager
	// from Client when it is nil; New requires it.
	Builder Builder
	Client  client.Config
	// Directory publishes the descriptor. Run makes one with PublishVia
	// when it is nil, handing it an HTTP client whose connections go
	// through the network.
	Directory       Publisher
	PublishVia      func(hc *http.Client) Publisher
	MeetingPoints   int           // optional: DefaultMeetingPoints
	PublishInterval time.Duration // optional: DefaultPublishInterval
	Users           *Users        // optional: nil serves everyone without auth
	// Clients, when set, are the only clients admitted, by their keys and
	// without a password (clientauth.go).
	Clients []AuthorizedClient
	Links   map[string]string
	// Forwards relay virtual ports to local apps (forward.go); a forward
	// takes its port from the built-in echo (7) and web pages (80).
	Forwards    []Forward
	MaxStreams  int                                                               // concurrent forwarded streams: DefaultMaxStreams
	DialForward func(ctx context.Context, network, addr string) (net.Conn, error) // nil: net.Dialer
	Logger      *slog.Logger
	Now         func() time.Time // the clock of the login budget and descriptors; nil = time.Now
	// Ready, if set, is called by Run once the service is reachable.
	Ready func(Info)

	// The login budget (throttle.go, PROTOCOL.md §12.2); zero values take the defaults.
	UserGuesses    Budget        // per user in the users file: DefaultUserBurst, one back per DefaultUserRefill
	ServiceGuesses Budget        // all names together: DefaultServiceBurst, one back per DefaultServiceRefill
	MaxLockout     time.Duration // the longest wait for a guess after a failure: DefaultMaxLockout

	// Metrics, if set, counts builds, logins, streams and meeting circuits
	// (metrics.go); several services may share one.
	Metrics *Metrics
	// Status, if set, shows the meeting relays on a page (status.go);
	// several services may share one.
	Status *Status
}

// Server is a running hidden service.
type Server struct {
	cfg    Config
	logger *slog.Logger
	svc    *circuit.Service
	pub    ed25519.PublicKey
	addr   string
	web    *web
	budget *throttle

	forwards map[uint16]Forward
	streams  chan struct{} // one token per forwarded stream: MaxStreams
	runCtx   context.Context
	stopRun  context.CancelFunc // ends forwarded streams when Run returns

	mu      sync.Mutex
	meeting map[string]*meetingCirc // by relay fingerprint

	ready     chan struct{}
	readyOnce sync.Once
}

type meetingCirc struct {
	relay onion.RelayDescriptor
	c     *circuit.Circuit
	path  []onion.RelayDescriptor // to the relay, which is its last hop
	since time.Time               // when established
}

// New checks cfg.
func New(cfg Config) (*Server, error) {
	if len(cfg.Key) != ed25519.PrivateKeySize || cfg.E2EKey == nil || cfg.Builder == nil {
		return nil, errors.New("hiddenserver: key, e2e key and circuit builder are required")
	}
	if cfg.MeetingPoints <= 0 {
		cfg.MeetingPoints = DefaultMeetingPoints
	}
	cfg.MeetingPoints = min(cfg.MeetingPoints, onion.MaxMeetingPoints)
	if cfg.PublishInterval <= 0 {
		cfg.PublishInterval = DefaultPublishInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Links == nil {
		cfg.Links = DefaultLinks()
	}
	if err := CheckForwards(cfg.Forwards); err != nil {
		return nil, fmt.Errorf("hiddenserver: %w", err)
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = DefaultMaxStreams
	}
	if cfg.DialForward == nil {
		cfg.DialForward = dialForward
	}
	cfg.UserGuesses = cfg.UserGuesses.orDefault(DefaultUserBurst, DefaultUserRefill)
	cfg.ServiceGuesses = cfg.ServiceGuesses.orDefault(DefaultServiceBurst, DefaultServiceRefill)
	if cfg.MaxLockout <= 0 {
		cfg.MaxLockout = DefaultMaxLockout
	}
	s := &Server{
		cfg:     cfg,
		logger:  cfg.Logger,
		pub:     cfg.Key.Public().(ed25519.PublicKey),
		meeting: make(map[string]*meetingCirc),
		ready:   make(chan struct{}),
	}
	s.addr = onion.EncodeAddress(s.pub)
	s.forwards = make(map[uint16]Forward, len(cfg.Forwards))
	for _, f := range cfg.Forwards {
		s.forwards[f.Port] = f
	}
	s.streams = make(chan struct{}, cfg.MaxStreams)
	s.runCtx, s.stopRun = context.WithCancel(context.Background())
	s.web = newWeb(s)
	s.budget = newThrottle(cfg.UserGuesses, cfg.ServiceGuesses, cfg.MaxLockout, cfg.Now)
	s.svc = &circuit.Service{
		Key:    cfg.Key,
		E2EKey: onion.RelayKeys{ID: s.pub, OnionKey: cfg.E2EKey},
		Accept: s.accept,
		Logger: cfg.Logger,
	}
	if len(cfg.Clients) > 0 {
		s.svc.Authorize = newClientKeys(cfg, s.pub).authorize
	}
	cfg.Metrics.add(s)
	cfg.Status.add(s)
	return s, nil
}

// Address is the service's onion address.
func (s *Server) Address() string { return s.addr }

// Ready is closed once the service is established at a meeting relay and
// its descriptor is published.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Run keeps the service reachable until ctx is done: it builds circuits to
// meeting relays, replaces those that die, and publishes the descriptor
// whenever the set changes and every PublishInterval.
func (s *Server) Run(ctx context.Context) error {
	defer s.web.close()
	defer s.closeAll()
	defer s.stopRun()
	tick := time.NewTicker(s.cfg.PublishInterval)
	defer tick.Stop()
	stale := false // the directory holds an older set than ours
	for {
		if s.fillMeetingPoints(ctx) || s.count() > 0 && !s.isReady() {
			stale = true
		}
		if stale {
			stale = !s.publish(ctx)
		}
		anyDone, stop := s.anyDone()
		select {
		case <-ctx.Done():
			stop()
			return nil
		case <-anyDone:
		case <-tick.C:
			stale = true
		case <-time.After(s.retryDelay(stale)):
		}
		stop()
	}
}

func (s *Server) isReady() bool {
	select {
	case <-s.ready:
		return true
	default:
		return false
	}
}

func (s *Server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.meeting)
}

// retryDelay is how soon to try again when short of meeting points or
// when the last publish failed.
func (s *Server) retryDelay(stale bool) time.Duration {
	if stale || s.count() < s.cfg.MeetingPoints {
		return rebuildBackoff
	}
	return time.Hour
}

// anyDone fires when one of the meeting circuits closes; stop releases
// its watchers.
func (s *Server) anyDone() (<-chan struct{}, func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, quit := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for _, mc := range s.meeting {
		done := mc.c.Done()
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-done:
				once.Do(func() { close(ch) })
			case <-quit:
			}
		}()
	}
	return ch, func() { close(quit); wg.Wait() }
}

func (s *Server) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for fp, mc := range s.meeting {
		mc.c.Close()
		delete(s.meeting, fp)
	}
}
