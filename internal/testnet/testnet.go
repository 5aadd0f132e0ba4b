// Package testnet runs a whole onion network inside one test process: a
// directory, relays and a proxy (circuit manager plus SOCKS5 front end), all
// on 127.0.0.1:0 with t.Cleanup. Readiness is awaited, never slept for. It
// is for tests only; e2e/ runs the real binary.
package testnet

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"onion/directory"
	"onion/hiddenserver"
	"onion/onion"
	"onion/proxy"
	"onion/relay"
)

// Options shape a network. Zero values give 5 relays, 2 of them exits.
type Options struct {
	Relays int
	Exits  int
	// Relay, when set, may change each relay's config before it starts
	// (index i counts from 0; exits come first).
	Relay func(i int, cfg *relay.Config)
	// Proxy may change the manager's config.
	Proxy func(cfg *proxy.Config)
	// HiddenServer starts a hidden server; Service may change its config.
	HiddenServer bool
	Service      func(cfg *hiddenserver.Config)
	Logger       *slog.Logger // nil: logs go to t.Log at debug when ONION_TEST_LOG is set
}

// Net is a running network.
type Net struct {
	DirURL    string
	DirKey    ed25519.PublicKey
	Relays    []*RelayProc
	Manager   *proxy.Manager
	SOCKSAddr string
	// Service is the hidden server, when Options.HiddenServer is set.
	Service *hiddenserver.Server
}

// RelayProc is one relay of the network.
type RelayProc struct {
	Relay  *relay.Relay
	Addr   string
	cancel context.CancelFunc
	done   chan struct{}
}

// Stop stops the relay and waits for it, as if its process died.
func (r *RelayProc) Stop() {
	r.cancel()
	<-r.done
}

// Start runs a network and registers its shutdown with t.Cleanup.
func Start(t testing.TB, o Options) *Net {
	t.Helper()
	if o.Relays == 0 {
		o.Relays, o.Exits = 5, 2
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
		if os.Getenv("ONION_TEST_LOG") != "" {
			logger = slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	n := &Net{}

	dirKey := ed25519.NewKeyFromSeed(seed("directory", 0))
	n.DirURL = startDirectory(t, ctx, &wg, dirKey, logger)
	n.DirKey = dirKey.Public().(ed25519.PublicKey)

	for i := 0; i < o.Relays; i++ {
		n.Relays = append(n.Relays, startRelay(t, ctx, &wg, n.DirURL, i, i < o.Exits, o, logger))
	}

	pcfg := proxy.Config{
		Directory: &directory.Client{URL: n.DirURL, Key: n.DirKey},
		Logger:    logger.With("role", "proxy"),
	}
	if o.Proxy != nil {
		o.Proxy(&pcfg)
	}
	n.Manager = proxy.NewManager(pcfg)
	if pcfg.Services == nil {
		n.Manager.SetServices(&directory.Client{URL: n.DirURL, HTTP: n.Manager.TunnelHTTP("directory", 30*time.Second)})
	}
	if err := n.Manager.Refresh(ctx); err != nil {
		t.Fatalf("testnet: proxy relay list: %v", err)
	}
	wg.Add(1)
	go func() { defer wg.Done(); n.Manager.Run(ctx) }()

	if o.HiddenServer {
		n.Service = startService(t, ctx, &wg, n, o, logger)
	}

	socksLn := listen(t)
	socks := &proxy.SOCKSServer{Dialer: n.Manager, Logger: logger.With("role", "socks")}
	wg.Add(1)
	go func() { defer wg.Done(); socks.Serve(socksLn) }()
	context.AfterFunc(ctx, func() { socks.Close() })
	n.SOCKSAddr = socksLn.Addr().String()
	return n
}

func startRelay(t testing.TB, ctx context.Context, wg *sync.WaitGroup, dirURL string, i int, exit bool, o Options, logger *slog.Logger) *RelayProc {
	t.Helper()
	ln := listen(t)
	onionKey, err := onion.GenerateOnionKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := relay.Config{
		Identity:  ed25519.NewKeyFromSeed(seed("relay", i)),
		OnionKey:  onionKey,
		Nickname:  fmt.Sprintf("relay%d", i+1),
		Address:   ln.Addr().String(),
		Exit:      exit,
		Policy:    relay.AcceptAll,
		Directory: &directory.Client{URL: dirURL},
		Logger:    logger.With("role", fmt.Sprintf("relay%d", i+1)),
	}
	if o.Relay != nil {
		o.Relay(i, &cfg)
	}
	r, err := relay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Publish(ctx); err != nil {
		t.Fatalf("testnet: relay %d publish: %v", i+1, err)
	}
	rctx, cancel := context.WithCancel(ctx)
	rp := &RelayProc{Relay: r, Addr: cfg.Address, cancel: cancel, done: make(chan struct{})}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(rp.done)
		r.Serve(rctx, ln)
	}()
	return rp
}

func startService(t testing.TB, ctx context.Context, wg *sync.WaitGroup, n *Net, o Options, logger *slog.Logger) *hiddenserver.Server {
	t.Helper()
	dir := &directory.Client{URL: n.DirURL, Key: n.DirKey}
	m := proxy.NewManager(proxy.Config{Directory: dir, Logger: logger.With("role", "hiddenserver")})
	if err := m.Refresh(ctx); err != nil {
		t.Fatalf("testnet: hidden server relay list: %v", err)
	}
	e2eKey, err := onion.GenerateOnionKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := hiddenserver.Config{
		Key:       ed25519.NewKeyFromSeed(seed("service", 0)),
		E2EKey:    e2eKey,
		Builder:   m,
		Directory: &directory.Client{URL: n.DirURL, HTTP: m.TunnelHTTP("publish", 30*time.Second)},
		Logger:    logger.With("role", "hiddenserver"),
	}
	if o.Service != nil {
		o.Service(&cfg)
	}
	srv, err := hiddenserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		srv.Run(ctx)
		m.Close()
	}()
	select {
	case <-srv.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("testnet: hidden server not reachable after 30s")
	}
	return srv
}

// ServiceKey is the fixed key of the testnet's hidden server.
func ServiceKey() ed25519.PrivateKey { return ed25519.NewKeyFromSeed(seed("service", 0)) }

// startDirectory runs the directory until ctx ends and returns its URL
// once it is ready.
func startDirectory(t testing.TB, ctx context.Context, wg *sync.WaitGroup, key ed25519.PrivateKey, logger *slog.Logger) string {
	t.Helper()
	ready := make(chan directory.Info, 1)
	errc := make(chan error, 1)
	cfg := directory.Config{
		Key:    key,
		Listen: "127.0.0.1:0",
		Logger: logger.With("role", "directory"),
		Ready:  func(i directory.Info) { ready <- i },
	}
	wg.Add(1)
	go func() { defer wg.Done(); errc <- directory.Run(ctx, cfg) }()
	select {
	case i := <-ready:
		return i.URL
	case err := <-errc:
		t.Fatalf("testnet: directory: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("testnet: directory not ready after 10s")
	}
	return ""
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// seed makes a fixed 32-byte seed so keys (and fingerprints) are stable
// from run to run.
func seed(role string, i int) []byte {
	s := make([]byte, ed25519.SeedSize)
	copy(s, fmt.Sprintf("testnet-%s-%d", role, i))
	return s
}

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// Deadline is a context for one test step.
func Deadline(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
