// Package testnet runs a whole onion network inside one test process: a
// directory, relays, a proxy (circuit manager plus SOCKS5 front end) and,
// if asked, the hidden server, all on 127.0.0.1:0 with t.Cleanup. Each part
// is started by the same entry point the onion binary calls (proxy.Run,
// hiddenserver.Run, ...), so these tests run the production wiring,
// retries included; only keys (fixed seeds) and listeners are handed in.
// Readiness is awaited, never slept for. It is for tests only; e2e/ runs
// the real binary.
package testnet

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"onion/client"
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
	Proxy func(cfg *client.Config)
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
	Manager   *client.Manager
	SOCKSAddr string
	// Service is the hidden server, when Options.HiddenServer is set.
	Service *hiddenserver.Server
}

// RelayProc is one relay of the network.
type RelayProc struct {
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
		dir := &directory.Client{URL: n.DirURL, Key: n.DirKey} // publishes, and lists the relays it extends to
		n.Relays = append(n.Relays, startRelay(t, ctx, &wg, dir, i, i < o.Exits, o, logger))
	}

	n.startProxy(t, ctx, &wg, o, logger)
	if o.HiddenServer {
		n.Service = n.startService(t, ctx, &wg, o, logger)
	}
	return n
}

func startRelay(t testing.TB, ctx context.Context, wg *sync.WaitGroup, dir *directory.Client, i int, exit bool, o Options, logger *slog.Logger) *RelayProc {
	t.Helper()
	onionKey, err := onion.GenerateOnionKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := relay.Config{
		Identity:  ed25519.NewKeyFromSeed(seed("relay", i)),
		OnionKey:  onionKey,
		Nickname:  fmt.Sprintf("relay%d", i+1),
		Listener:  listen(t),
		Exit:      exit,
		Policy:    relay.AcceptAll,
		Directory: dir,
		Relays:    dir,
		Logger:    logger.With("role", fmt.Sprintf("relay%d", i+1)),
	}
	if o.Relay != nil {
		o.Relay(i, &cfg)
	}
	rctx, cancel := context.WithCancel(ctx)
	rp := &RelayProc{cancel: cancel, done: make(chan struct{})}
	info := runUntilReady(t, rctx, wg, fmt.Sprintf("relay %d", i+1), func(ctx context.Context, ready func(relay.Info)) error {
		defer close(rp.done)
		cfg.Ready = ready
		return relay.Run(ctx, cfg)
	})
	rp.Addr = info.Addr
	return rp
}

// startProxy runs the proxy as `onion proxy` does (proxy.Run) and waits
// until it is ready.
func (n *Net) startProxy(t testing.TB, ctx context.Context, wg *sync.WaitGroup, o Options, logger *slog.Logger) {
	t.Helper()
	dir := &directory.Client{URL: n.DirURL, Key: n.DirKey}
	cfg := proxy.Config{
		Client: client.Config{
			Directory: dir,
			Lab:       true, // every relay is on 127.0.0.1
			Services: func(hc *http.Client) client.ServiceDirectory {
				return &directory.Client{URL: n.DirURL, HTTP: hc}
			},
		},
		SOCKSListener: listen(t),
		Logger:        logger.With("role", "proxy"),
	}
	if o.Proxy != nil {
		o.Proxy(&cfg.Client)
	}
	info := runUntilReady(t, ctx, wg, "proxy", func(ctx context.Context, ready func(proxy.Info)) error {
		cfg.Ready = ready
		return proxy.Run(ctx, cfg)
	})
	n.Manager, n.SOCKSAddr = info.Manager, info.SOCKS
}

// startService runs the hidden server as `onion hiddenserver` does
// (hiddenserver.Run) and waits until it is reachable.
func (n *Net) startService(t testing.TB, ctx context.Context, wg *sync.WaitGroup, o Options, logger *slog.Logger) *hiddenserver.Server {
	t.Helper()
	e2eKey, err := onion.GenerateOnionKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := hiddenserver.Config{
		Key:    ServiceKey(),
		E2EKey: e2eKey,
		Client: client.Config{Directory: &directory.Client{URL: n.DirURL, Key: n.DirKey}, Lab: true},
		PublishVia: func(hc *http.Client) hiddenserver.Publisher {
			return &directory.Client{URL: n.DirURL, HTTP: hc}
		},
		Logger: logger.With("role", "hiddenserver"),
	}
	if o.Service != nil {
		o.Service(&cfg)
	}
	info := runUntilReady(t, ctx, wg, "hidden server", func(ctx context.Context, ready func(hiddenserver.Info)) error {
		cfg.Ready = ready
		return hiddenserver.Run(ctx, cfg)
	})
	return info.Server
}

// runUntilReady runs a role's entry point in a goroutine that the
// network's shutdown waits for, and returns what it reported ready. The
// test fails if it is not ready within readyTimeout or ends first.
func runUntilReady[I any](t testing.TB, ctx context.Context, wg *sync.WaitGroup, name string, run func(context.Context, func(I)) error) I {
	t.Helper()
	ready := make(chan I, 1)
	ended := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		ended <- run(ctx, func(i I) { ready <- i })
	}()
	select {
	case i := <-ready:
		return i
	case err := <-ended:
		t.Fatalf("testnet: %s ended before it was ready: %v", name, err)
	case <-time.After(readyTimeout):
		t.Fatalf("testnet: %s not ready after %s", name, readyTimeout)
	}
	panic("unreachable")
}

// readyTimeout bounds each part's start.
const readyTimeout = 30 * time.Second

// ServiceKey is the fixed key of the testnet's hidden server.
func ServiceKey() ed25519.PrivateKey { return ed25519.NewKeyFromSeed(seed("service", 0)) }

// startDirectory runs the directory until ctx ends and returns its URL
// once it is ready.
func startDirectory(t testing.TB, ctx context.Context, wg *sync.WaitGroup, key ed25519.PrivateKey, logger *slog.Logger) string {
	t.Helper()
	// Its relays are all on 127.0.0.1.
	// Every relay here is 127.0.0.1: the per-address limit would list two.
	cfg := directory.Config{Key: key, Listen: "127.0.0.1:0", AllowPrivateAddresses: true, MaxRelaysPerAddress: 1 << 10, Logger: logger.With("role", "directory")}
	info := runUntilReady(t, ctx, wg, "directory", func(ctx context.Context, ready func(directory.Info)) error {
		cfg.Ready = ready
		return directory.Run(ctx, cfg)
	})
	return info.URL
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
