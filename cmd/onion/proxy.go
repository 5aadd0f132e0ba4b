package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"

	"onion/client"

	"github.com/urfave/cli/v2"

	"onion/proxy"
)

func proxyCommand() *cli.Command {
	return &cli.Command{
		Name:  "proxy",
		Usage: "run the SOCKS5 proxy that sends each connection through three relays",
		Description: "Point applications at --socks with remote name resolution (curl --socks5-hostname,\n" +
			"socks5h://): hostnames are resolved by the exit, never on this machine.\n" +
			"SOCKS username/password, if given, isolate streams onto separate circuits.\n" +
			"The SOCKS port also speaks SOCKS4a and HTTP proxy (CONNECT host:port, absolute http:// URLs);\n" +
			"--http-tunnel adds a port that speaks only HTTP proxy, for HTTPS_PROXY and the like.\n" +
			"Prints `proxy ready socks=HOST:PORT status=HOST:PORT http_tunnel=HOST:PORT|off [metrics=HOST:PORT]` once it holds a verified relay list.",
		Flags: append(append(directoryFlagDefs(true),
			&cli.StringFlag{Name: "socks", Value: "127.0.0.1:1080", Usage: "SOCKS5 listen address (port 0 picks a free port)", EnvVars: []string{"ONION_SOCKS"}},
			&cli.StringFlag{Name: "status", Value: "127.0.0.1:0", Usage: "status page listen address, loopback only (the picture at /, GET /circuits, /relays, /metrics); empty to disable", EnvVars: []string{"ONION_STATUS"}},
			&cli.StringFlag{Name: "http-tunnel", Usage: "also serve an HTTP proxy (CONNECT, absolute http:// URLs) on this loopback address, e.g. 127.0.0.1:8118; empty for none", EnvVars: []string{"ONION_HTTP_TUNNEL"}},
			&cli.BoolFlag{Name: "socks-generic-errors", Usage: "answer failed .onion connections with the generic SOCKS5 codes instead of Tor's extended ones (0xF0-0xF7), for clients that reject unknown codes", EnvVars: []string{"ONION_SOCKS_GENERIC_ERRORS"}},
			&cli.DurationFlag{Name: "circuit-lifetime", Value: client.DefaultCircuitLifetime, Usage: "new streams stop using a circuit this old", EnvVars: []string{"ONION_CIRCUIT_LIFETIME"}},
			&cli.DurationFlag{Name: "build-timeout", Value: client.DefaultBuildTimeout, Usage: "time allowed for one three-hop circuit build", EnvVars: []string{"ONION_BUILD_TIMEOUT"}},
			&cli.DurationFlag{Name: "refresh-interval", Value: client.DefaultRefreshInterval, Usage: "how often to fetch the relay list", EnvVars: []string{"ONION_REFRESH_INTERVAL"}},
			&cli.BoolFlag{Name: "wait-connected", Usage: "answer every SOCKS CONNECT only once the exit has connected; by default a destination this circuit reached before is answered at once, which saves a trip through the circuit but, if the exit then fails, resets the connection instead of giving a SOCKS error code", EnvVars: []string{"ONION_WAIT_CONNECTED"}},
			&cli.StringFlag{Name: "user", Usage: "user name for hidden services that ask for a login (a SOCKS5 username overrides it)", EnvVars: []string{"ONION_USER"}},
			&cli.StringFlag{Name: "password-file", Usage: "hidden-service logins, one `ADDRESS.onion USER PASSWORD` per line (mode 0600); each password goes to its address only; otherwise the proxy asks on its terminal"},
			&cli.StringFlag{Name: "password-for", Usage: "the ADDRESS.onion that ONION_PASSWORD (or a --password-file holding one bare password) is for", EnvVars: []string{"ONION_PASSWORD_FOR"}},
			&cli.StringFlag{Name: "socks-auth", Usage: "require a SOCKS5 username/password on the proxy port: a file of `USER PASSWORD` lines (mode 0600)", EnvVars: []string{"ONION_SOCKS_AUTH"}},
			&cli.StringFlag{Name: "data-dir", Usage: "keep state across restarts here (mode 0700): the scrypt cost each service was logged into with; default: memory only", EnvVars: []string{"ONION_PROXY_DATA_DIR"}},
			&cli.BoolFlag{Name: "no-password-cache", Usage: "ask again for every login instead of keeping the derived verifier in memory", EnvVars: []string{"ONION_NO_PASSWORD_CACHE"}},
			plainLinksFlag(),
			labFlag(),
			noCCFlag("do not ask exits and hidden services for circuit congestion control (for ones that predate it): stream windows alone pace downloads, with longer queues under load"),
			&cli.StringFlag{Name: "link-source", Hidden: true, Usage: "local IP address to open links to relays from (tests playing several users)"},
			clientKeyFlag(),
			&cli.StringFlag{Name: "prompt-socket", Hidden: true, Usage: "ask for logins and URLs through this unix socket (onion up passes its own, to ask on its terminal)"},
			&cli.StringFlag{Name: "hidden-status", Hidden: true, Usage: "the loopback status address of this network's hidden server, whose meeting relays the status page shows (onion up passes it)"},
			&cli.StringFlag{Name: "open-urls", Usage: "what to do with URLs hidden services send: ask, always or never (default: ask on a terminal, never without one)", EnvVars: []string{"ONION_OPEN_URLS"}},
		), metricsFlags()...),
		Action: runProxy,
	}
}

func runProxy(c *cli.Context) error {
	logger, err := newLogger(c, "proxy")
	if err != nil {
		return err
	}
	dir, err := directoryFlags(c)
	if err != nil {
		return err
	}
	passwords, opener, err := hiddenServiceClient(c, logger, c.String("password-for"))
	keys, kerr := clientKeys(c)
	met, merr := startMetrics(c, logger)
	if err = errors.Join(err, kerr, merr); err != nil {
		return err
	}
	defer keepTerminal()()
	return proxy.Run(c.Context, proxy.Config{
		Client: client.Config{
			Directory:           dir,
			DialLink:            client.DialFrom(c.String("link-source")),
			PlainLinks:          c.Bool("insecure-plain-links"),
			Lab:                 c.Bool("lab"),
			NoCongestionControl: c.Bool("no-congestion-control"),
			Services:            dir.services,
			CircuitLifetime:     c.Duration("circuit-lifetime"),
			BuildTimeout:        c.Duration("build-timeout"),
			RefreshInterval:     c.Duration("refresh-interval"),
			Credentials:         passwords,
			OpenURL:             opener.Handle,
			WaitConnected:       c.Bool("wait-connected"),
			ClientKeys:          keys,
			// Streams all closed after a burst: give their memory back now.
			OnIdle: debug.FreeOSMemory,
		},
		SOCKS:         c.String("socks"),
		Status:        c.String("status"),
		HTTPTunnel:    c.String("http-tunnel"),
		GenericErrors: c.Bool("socks-generic-errors"),
		SOCKSAuth:     c.String("socks-auth"),
		HiddenStatus:  c.String("hidden-status"),
		DataDir:       c.String("data-dir"),
		Logger:        logger,
		Metrics:       met.reg,
		Ready: func(i proxy.Info) {
			fmt.Printf("proxy ready socks=%s status=%s http_tunnel=%s%s\n", i.SOCKS, i.Status, i.HTTP, met.readyField())
		},
	})
}

// hiddenServiceClient sets up password sources and the URL opener.
// boundTo is the address ONION_PASSWORD, or a bare --password-file, is for.
func hiddenServiceClient(c *cli.Context, logger *slog.Logger, boundTo string) (*proxy.Passwords, *proxy.URLOpener, error) {
	prompt := proxy.StdinPrompter()
	if path := c.String("prompt-socket"); path != "" {
		prompt = proxy.SocketPrompter(path)
	}
	stored, err := proxy.LoadLogins(c.String("password-file"), os.Getenv("ONION_PASSWORD"), boundTo, c.String("user"))
	if err != nil {
		return nil, nil, err
	}
	mode, err := proxy.ParseOpenMode(c.String("open-urls"), prompt != nil)
	if err != nil {
		return nil, nil, err
	}
	passwords := &proxy.Passwords{User: c.String("user"), Stored: stored, NoCache: c.Bool("no-password-cache"), Prompt: prompt, AskUser: true}
	opener := proxy.NewURLOpener(mode, prompt, os.Stderr, logger)
	return passwords, opener, nil
}
