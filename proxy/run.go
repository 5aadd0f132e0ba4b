package proxy

// Run: the proxy whole, as `onion proxy` and the in-process test network
// start it: the circuit manager, the SOCKS5 front end and the status
// endpoint, started and stopped in order.

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onion/client"
	"onion/internal/loopback"
)

// Config is everything Run needs. Zero values of the optional fields work.
type Config struct {
	// Client configures the circuit manager: the directory, timings,
	// logins (Credentials), URL replies, early replies.
	Client client.Config
	// SOCKS is the SOCKS5 listen address; SOCKSListener, if set, is used
	// instead.
	SOCKS         string
	SOCKSListener net.Listener
	// Status is the loopback address of the status page, GET /circuits,
	// /relays and /metrics ("" for none);
	// StatusListener, if set, is used instead.
	Status         string
	StatusListener net.Listener
	// HTTPTunnel, if set, is the loopback address of the HTTP proxy
	// (CONNECT and absolute-form requests; the SOCKS port answers those
	// too); HTTPTunnelListener, if set, is used instead.
	HTTPTunnel         string
	HTTPTunnelListener net.Listener
	// GenericErrors answers onion-service failures with the generic SOCKS5
	// codes instead of Tor's extended ones.
	GenericErrors bool
	// SOCKSAuth, if set, is a file of `USER PASSWORD` lines (mode 0600):
	// the SOCKS port then requires one of these accounts.
	SOCKSAuth string
	// DataDir, if set, keeps state across restarts (mode 0700): the
	// services' pinned password costs. "" keeps it in memory.
	DataDir string
	// HandshakeTimeout and ConnectTimeout are the SOCKSServer's.
	HandshakeTimeout time.Duration
	ConnectTimeout   time.Duration
	Logger           *slog.Logger // nil: discard
	// HiddenStatus, if set, is the loopback status address of this
	// network's hidden server: the status page shows its meeting relays.
	HiddenStatus string
	// Metrics, if set, also gets the proxy's Prometheus instruments (the
	// status endpoint's /metrics has them in any case): `--metrics`.
	Metrics prometheus.Registerer
	// Ready, if set, is called once the proxy holds a usable relay list
	// and accepts SOCKS clients.
	Ready func(Info)
}

// Info is what a running proxy reports when it is ready.
type Info struct {
	SOCKS   string          // the SOCKS5 address clients connect to
	Status  string          // the status endpoint's address, or "off"
	HTTP    string          // the HTTP tunnel's address, or "off"
	Manager *client.Manager // the running circuit manager, for in-process users (tests)
}

// Run runs the proxy until ctx is done. It listens, waits for a usable
// relay list (retrying while the directory starts), serves SOCKS5 and the
// status endpoint, and on ctx's end closes the SOCKS front end (every
// client and pending dial), then the status endpoint, then every circuit.
func Run(ctx context.Context, cfg Config) error {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	users, err := cfg.load()
	if err != nil {
		return err
	}
	socksLn, statusLn, err := cfg.listen()
	if err != nil {
		return err
	}
	httpLn, err := cfg.listenHTTP()
	if err != nil {
		closeAll(socksLn, statusLn)
		return err
	}
	if cfg.Client.Logger == nil {
		cfg.Client.Logger = log
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	met := newMetrics(cfg.Metrics)
	failed := &client.Failures{}
	cfg.Client.OnBuild = chainBuild(chainBuild(cfg.Client.OnBuild, met.observeBuild), failed.Build)
	m := client.NewManager(cfg.Client)
	met.watch(m)
	managed := make(chan struct{})
	go func() { defer close(managed); m.Run(ctx) }()
	defer func() {
		cancel()
		<-managed // m.Run closes every circuit once ctx ends
	}()
	if err := m.WaitUsable(ctx); err != nil {
		closeAll(socksLn, statusLn, httpLn)
		return nil // ctx ended first
	}
	hp := &HTTPProxy{Dialer: m, Logger: log, Users: users, HandshakeTimeout: cfg.HandshakeTimeout, ConnectTimeout: cfg.ConnectTimeout}
	socks := &SOCKSServer{Dialer: m, Logger: log, Users: users, HandshakeTimeout: cfg.HandshakeTimeout, ConnectTimeout: cfg.ConnectTimeout,
		GenericErrors: cfg.GenericErrors, HTTP: hp}
	defer hp.Close() // after socks.Close: its HTTP clients are hp's
	defer socks.Close()
	context.AfterFunc(ctx, func() { socks.Close(); hp.Close() })
	info := Info{SOCKS: socksLn.Addr().String(), Status: "off", HTTP: "off", Manager: m}
	if httpLn != nil {
		go hp.Serve(httpLn)
		info.HTTP = httpLn.Addr().String()
	}
	if statusLn != nil {
		srv := &http.Server{Handler: statusHandler(m, met.handler(), statusSources{failed: failed, hidden: cfg.HiddenStatus}), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(statusLn)
		defer srv.Close()
		info.Status = statusLn.Addr().String()
	}
	log.Info("proxy running", "socks", info.SOCKS, "status", info.Status, "http_tunnel", info.HTTP)
	if cfg.Ready != nil {
		cfg.Ready(info)
	}
	return socks.Serve(socksLn)
}

// load reads the SOCKS accounts file and the data dir's pinned costs into
// cfg.Client.CostPins.
func (cfg *Config) load() (*SOCKSUsers, error) {
	if cfg.HiddenStatus != "" {
		if err := loopback.Addr(cfg.HiddenStatus); err != nil {
			return nil, fmt.Errorf("hidden server status: %w", err)
		}
	}
	if cfg.DataDir != "" {
		if err := privateDir(cfg.DataDir); err != nil {
			return nil, err
		}
		pins, err := client.LoadCostPins(filepath.Join(cfg.DataDir, costPinsFile))
		if err != nil {
			return nil, err
		}
		cfg.Client.CostPins = pins
	}
	if cfg.Client.Guards == nil { // in the data dir, or in memory without one
		guardsPath := ""
		if cfg.DataDir != "" {
			guardsPath = filepath.Join(cfg.DataDir, client.GuardsFile)
		}
		guards, err := client.LoadGuards(guardsPath)
		if err != nil {
			return nil, err
		}
		cfg.Client.Guards = guards
	}
	if cfg.SOCKSAuth == "" {
		return nil, nil
	}
	return LoadSOCKSUsers(cfg.SOCKSAuth)
}

// costPinsFile is the pinned costs' file in the data dir.
const costPinsFile = "scrypt-cost-pins.json"

// privateDir creates dir (mode 0700) and refuses one that others can
// enter: what it holds tells which services this user logs into.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("data dir %s has mode %04o: others can read it; run chmod 700 %s", dir, st.Mode().Perm(), dir)
	}
	return nil
}

// listen opens the SOCKS listener and, if asked for, the status listener.
func (cfg *Config) listen() (socks, status net.Listener, err error) {
	socks = cfg.SOCKSListener
	if socks == nil {
		if socks, err = net.Listen("tcp", cfg.SOCKS); err != nil {
			return nil, nil, fmt.Errorf("SOCKS listen: %w", err)
		}
	}
	status = cfg.StatusListener
	if status == nil && cfg.Status != "" {
		if status, err = listenLoopback(cfg.Status); err != nil {
			socks.Close()
			return nil, nil, fmt.Errorf("status listen: %w", err)
		}
	}
	return socks, status, nil
}

// listenHTTP opens the HTTP tunnel's listener, if asked for: loopback
// only, as it serves anyone who can connect.
func (cfg *Config) listenHTTP() (net.Listener, error) {
	if cfg.HTTPTunnelListener != nil || cfg.HTTPTunnel == "" {
		return cfg.HTTPTunnelListener, nil
	}
	ln, err := listenLoopback(cfg.HTTPTunnel)
	if err != nil {
		return nil, fmt.Errorf("http tunnel listen: %w", err)
	}
	return ln, nil
}

// listenLoopback refuses anything but a loopback address: the status
// endpoint shows circuit paths.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("%s is not a loopback address", addr)
	}
	return net.Listen("tcp", addr)
}

func closeAll(lns ...net.Listener) {
	for _, ln := range lns {
		if ln != nil {
			ln.Close()
		}
	}
}

// chainBuild calls both build observers; a nil one is skipped.
func chainBuild(a, b func(time.Duration, error)) func(time.Duration, error) {
	if a == nil {
		return b
	}
	return func(took time.Duration, err error) { a(took, err); b(took, err) }
}
