package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"onion/client"
	"os"
	"runtime/debug"
	"time"

	"github.com/urfave/cli/v2"

	"onion/directory"
	"onion/onion"
	"onion/proxy"
)

func proxyCommand() *cli.Command {
	return &cli.Command{
		Name:  "proxy",
		Usage: "run the SOCKS5 proxy that sends each connection through three relays",
		Description: "Point applications at --socks with remote name resolution (curl --socks5-hostname,\n" +
			"socks5h://): hostnames are resolved by the exit, never on this machine.\n" +
			"SOCKS username/password, if given, isolate streams onto separate circuits.\n" +
			"Prints `proxy ready socks=HOST:PORT status=HOST:PORT` once it holds a verified relay list.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "socks", Value: "127.0.0.1:1080", Usage: "SOCKS5 listen address (port 0 picks a free port)", EnvVars: []string{"ONION_SOCKS"}},
			&cli.StringFlag{Name: "status", Value: "127.0.0.1:0", Usage: "status endpoint listen address, loopback only (GET /circuits); empty to disable", EnvVars: []string{"ONION_STATUS"}},
			&cli.StringFlag{Name: "directory", Usage: "directory URL, e.g. http://127.0.0.1:7000", Required: true, EnvVars: []string{"ONION_DIRECTORY"}},
			&cli.StringFlag{Name: "directory-key", Usage: "the directory's public key, as printed by `onion directory` (also in its directory.pub)", Required: true, EnvVars: []string{"ONION_DIRECTORY_KEY"}},
			&cli.DurationFlag{Name: "circuit-lifetime", Value: client.DefaultCircuitLifetime, Usage: "new streams stop using a circuit this old", EnvVars: []string{"ONION_CIRCUIT_LIFETIME"}},
			&cli.DurationFlag{Name: "build-timeout", Value: client.DefaultBuildTimeout, Usage: "time allowed for one three-hop circuit build", EnvVars: []string{"ONION_BUILD_TIMEOUT"}},
			&cli.DurationFlag{Name: "refresh-interval", Value: client.DefaultRefreshInterval, Usage: "how often to fetch the relay list", EnvVars: []string{"ONION_REFRESH_INTERVAL"}},
			&cli.BoolFlag{Name: "wait-connected", Usage: "answer every SOCKS CONNECT only once the exit has connected; by default a destination this circuit reached before is answered at once, which saves a trip through the circuit but, if the exit then fails, resets the connection instead of giving a SOCKS error code", EnvVars: []string{"ONION_WAIT_CONNECTED"}},
			&cli.StringFlag{Name: "user", Usage: "user name for hidden services that ask for a login (a SOCKS5 username overrides it)", EnvVars: []string{"ONION_USER"}},
			&cli.StringFlag{Name: "password-file", Usage: "password for hidden-service logins, first line of this file (mode 0600); ONION_PASSWORD works too; otherwise the proxy asks on its terminal"},
			&cli.BoolFlag{Name: "no-password-cache", Usage: "ask again for every login instead of keeping the derived verifier in memory", EnvVars: []string{"ONION_NO_PASSWORD_CACHE"}},
			&cli.StringFlag{Name: "open-urls", Usage: "what to do with URLs hidden services send: ask, always or never (default: ask on a terminal, never without one)", EnvVars: []string{"ONION_OPEN_URLS"}},
		},
		Action: runProxy,
	}
}

func runProxy(c *cli.Context) error {
	logger, err := newLogger(c, "proxy")
	if err != nil {
		return err
	}
	dirKey, err := onion.DecodeDirectoryKey(c.String("directory-key"))
	if err != nil {
		return err
	}
	socksLn, err := net.Listen("tcp", c.String("socks"))
	if err != nil {
		return fmt.Errorf("SOCKS listen: %w", err)
	}
	defer socksLn.Close()
	statusAddr := "off"
	var statusLn net.Listener
	if a := c.String("status"); a != "" {
		if statusLn, err = listenLoopback(a); err != nil {
			return fmt.Errorf("status listen: %w", err)
		}
		defer statusLn.Close()
		statusAddr = statusLn.Addr().String()
	}
	passwords, opener, err := hiddenServiceClient(c, logger)
	if err != nil {
		return err
	}
	m := client.NewManager(client.Config{
		Directory:       &directory.Client{URL: c.String("directory"), Key: dirKey},
		CircuitLifetime: c.Duration("circuit-lifetime"),
		BuildTimeout:    c.Duration("build-timeout"),
		RefreshInterval: c.Duration("refresh-interval"),
		Logger:          logger,
		Credentials:     passwords,
		OpenURL:         opener.Handle,
		WaitConnected:   c.Bool("wait-connected"),
		// Streams all closed after a burst: give their memory back now.
		OnIdle: debug.FreeOSMemory,
	})
	// Descriptor lookups go through the network: the directory must not
	// learn which onion addresses this machine asks for.
	m.SetServices(&directory.Client{URL: c.String("directory"), HTTP: m.TunnelHTTP("directory", 30*time.Second)})
	ctx := c.Context
	if err := waitForRelays(ctx, m, logger); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil
	}
	socks := &proxy.SOCKSServer{Dialer: m, Logger: logger}
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	if statusLn != nil {
		srv := &http.Server{Handler: proxy.StatusHandler(m), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(statusLn)
		defer srv.Close()
	}
	go func() {
		<-ctx.Done()
		socks.Close()
	}()
	logger.Info("proxy running", "socks", socksLn.Addr().String(), "status", statusAddr)
	fmt.Printf("proxy ready socks=%s status=%s\n", socksLn.Addr(), statusAddr)
	err = socks.Serve(socksLn)
	<-done
	return err
}

// hiddenServiceClient sets up password sources and the URL opener.
func hiddenServiceClient(c *cli.Context, logger *slog.Logger) (*proxy.Passwords, *proxy.URLOpener, error) {
	prompt := proxy.StdinPrompter()
	pw := os.Getenv("ONION_PASSWORD")
	if f := c.String("password-file"); f != "" {
		var err error
		if pw, err = proxy.ReadPasswordFile(f); err != nil {
			return nil, nil, err
		}
	}
	mode, err := proxy.ParseOpenMode(c.String("open-urls"), prompt != nil)
	if err != nil {
		return nil, nil, err
	}
	passwords := &proxy.Passwords{User: c.String("user"), Password: pw, NoCache: c.Bool("no-password-cache"), Prompt: prompt, AskUser: true}
	opener := &proxy.URLOpener{Mode: mode, Prompt: prompt, Out: os.Stderr, Logger: logger}
	return passwords, opener, nil
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

// waitForRelays fetches the relay list until it can make a circuit.
func waitForRelays(ctx context.Context, m *client.Manager, logger *slog.Logger) error {
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := m.Refresh(rctx)
		cancel()
		relays, exits, ok := m.Usable()
		if err == nil && ok {
			logger.Info("relay list verified", "relays", relays, "exits", exits)
			return nil
		}
		if err == nil {
			err = errors.New("need at least 3 relays and 1 exit")
		}
		logger.Warn("waiting for a usable relay list", "relays", relays, "exits", exits, "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}
