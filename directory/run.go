package directory

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onion/onion"
)

// Defaults, used when the matching Config field is zero.
const (
	DefaultRelayTTL     = 90 * time.Second
	DefaultListValidity = 10 * time.Minute
	// DefaultMaxRelays is more than Tor's ~7,000 relays. What keeps the
	// list under onion.MaxDocumentLen is maxRelayBytes, whatever the count.
	DefaultMaxRelays = 10000
	// DefaultMaxServices is the default for Config.MaxServices.
	DefaultMaxServices = 10000
)

// maxRelayBytes bounds the JSON of the relays an authority holds: half a
// document, so that a consensus, whose every relay a majority of the
// authorities hold, stays within one however their lists differ (each
// relay of it counts in more than half of the votes).
const maxRelayBytes = onion.MaxDocumentLen/2 - 4<<10

// HTTP server limits.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 16 << 10
	shutdownGrace     = 5 * time.Second
)

// Config is everything Run needs.
type Config struct {
	// Key signs the relay list. It must be set.
	Key ed25519.PrivateKey
	// Listen is the address to serve HTTP on; port 0 picks a free port.
	Listen string
	// Listener, when set, is served instead of listening on Listen. Run
	// closes it.
	Listener net.Listener
	// RelayTTL is how long a relay stays listed after its descriptor was
	// published. Zero means DefaultRelayTTL.
	RelayTTL time.Duration
	// ServiceTTL is how long a hidden service stays reachable after its
	// descriptor was published. Zero means DefaultRelayTTL.
	ServiceTTL time.Duration
	// ListValidity is how long a served list is valid. Zero means
	// DefaultListValidity.
	ListValidity time.Duration
	// MaxRelays bounds the number of relays held; a new fingerprint beyond
	// it is refused with 503. Zero means DefaultMaxRelays.
	MaxRelays int
	// MaxServices bounds the number of hidden services held; a new address
	// beyond it is refused with 503. Zero means DefaultMaxServices.
	MaxServices int
	// AllowPrivateAddresses lists relays at loopback, private, link-local
	// and unspecified addresses and at host names, for a network on one
	// machine or a LAN. By default only public IP addresses are listed,
	// since every relay dials the addresses the list holds.
	AllowPrivateAddresses bool
	// MaxRelaysPerAddress is how many relays one IP address (host) may
	// have listed; a new one beyond it is refused with 403. Zero means
	// DefaultMaxRelaysPerAddress.
	MaxRelaysPerAddress int
	// MaxRelayWeight caps the weight (bytes/s) the authority gives a
	// relay on its list: min(advertised bandwidth, MaxRelayWeight), or
	// onion.UnadvertisedWeight for a relay that advertises none
	// (PROTOCOL.md §7.4). Zero means onion.DefaultWeightCap.
	MaxRelayWeight int64
	// Approved fingerprints are exempt from the per-address limit; with
	// ApprovedOnly, no other relay is listed. Rejected fingerprints are
	// refused (403).
	Approved, Rejected []string
	ApprovedOnly       bool
	// PublishRate is how many relay publications one source IP may make
	// per minute; more are refused with 429. Zero means
	// DefaultPublishRate.
	PublishRate int
	// Authorities, when it names more than one, are all the authorities of
	// the network, this one (by its key) among them: the list served is
	// then the consensus they sign each VoteInterval (PROTOCOL.md §7.4),
	// not this authority's own view.
	Authorities []Authority
	// VoteInterval is how often the authorities agree on a list. Zero
	// means DefaultVoteInterval.
	VoteInterval time.Duration
	// Logger receives the directory's logs. Nil means discard.
	Logger *slog.Logger
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Ready, if set, is called once, when the directory answers requests.
	Ready func(Info)
	// Metrics, if set, gets the directory's Prometheus instruments
	// (metrics.go): relays and services listed.
	Metrics prometheus.Registerer
}

// Info is what a ready directory tells its users.
type Info struct {
	URL string // e.g. http://127.0.0.1:7000
	Key string // the public key, onion.EncodeKey: what clients check the list with
}

// Run runs the directory until ctx is done, then shuts it down gracefully,
// giving requests in flight a few seconds to finish, and returns nil; it
// returns an error only if it could not start or its server failed.
func Run(ctx context.Context, cfg Config) error {
	if len(cfg.Key) != ed25519.PrivateKeySize {
		if cfg.Listener != nil {
			cfg.Listener.Close()
		}
		return errors.New("directory: no signing key")
	}
	ln, err := listen(cfg)
	if err != nil {
		return err
	}
	s, err := newServer(cfg)
	if err == nil && cfg.Metrics != nil {
		err = s.registerMetrics(cfg.Metrics)
	}
	if err != nil {
		ln.Close()
		return err
	}
	info := Info{URL: "http://" + ln.Addr().String(), Key: onion.EncodeKey(cfg.Key.Public().(ed25519.PublicKey))}
	s.log.Info("directory listening", "url", info.URL, "key", info.Key)
	if cfg.Ready != nil {
		cfg.Ready(info)
	}
	if s.rounds != nil {
		rctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); s.rounds.run(rctx) }()
		defer func() { stop(); <-done }()
	}
	if err := serve(ctx, s, ln); err != nil {
		return err
	}
	s.log.Info("directory stopped")
	return nil
}

func listen(cfg Config) (net.Listener, error) {
	if cfg.Listener != nil {
		return cfg.Listener, nil
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("listen on %s: address already in use (is another directory running? choose another --listen)", cfg.Listen)
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	return ln, nil
}

// serve answers on ln until ctx is done, then shuts down, giving requests
// in flight shutdownGrace to finish. It returns nil after a shutdown caused
// by ctx, and the server's error otherwise. It closes ln.
func serve(ctx context.Context, s *server, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc: // Serve never returns nil
		return fmt.Errorf("directory: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		srv.Close() // the grace period ran out: drop what is left
		err = fmt.Errorf("directory: shutdown: %w", err)
	}
	<-errc // http.ErrServerClosed, now that Shutdown or Close has run
	return err
}
