package main

import (
	"cmp"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"onion/internal/localnet"
	"onion/internal/prompt"
)

func upCommand() *cli.Command {
	return &cli.Command{
		Name:  "up",
		Usage: "run a whole network on this machine: a directory, relays, a hidden server and the SOCKS5 proxy",
		Description: "Starts --authorities directory authorities, --relays relays, a hidden server (with a demo user) and the proxy as separate processes on\n" +
			"127.0.0.1, waits until all are ready, prints the SOCKS5 address and commands to try,\n" +
			"and stops everything on Ctrl-C. Each part is the same command you would run by hand\n" +
			"(`onion directory`, `onion relay`, `onion proxy`); their logs are prefixed with their names.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "relays", Value: 5, Usage: "number of relays (at least 3)"},
			&cli.IntFlag{Name: "authorities", Value: 3, Usage: "number of directory authorities; with more than one they vote, and a relay list counts only when a majority signed it"},
			&cli.IntFlag{Name: "exits", Value: 2, Usage: "how many of the relays are exits (1 to --relays)"},
			&cli.StringFlag{Name: "socks", Value: "127.0.0.1:1080", Usage: "SOCKS5 listen address (port 0 picks a free port)"},
			&cli.StringFlag{Name: "status", Value: "127.0.0.1:0", Usage: "status page listen address, loopback only (the picture at /, GET /circuits, /relays, /metrics)"},
			&cli.StringFlag{Name: "http-tunnel", Value: "127.0.0.1:0", Usage: "passed to the proxy: its HTTP proxy port (CONNECT, absolute http:// URLs), loopback; empty for none"},
			&cli.StringFlag{Name: "data-dir", Usage: "keep keys and state here, one directory per part, never removed, and an example config up.toml (default: a temporary directory removed on exit)"},
			&cli.StringFlag{Name: "info-file", Usage: "when ready, write the addresses, directory key, relays, onion address and demo credentials here as JSON"},
			&cli.StringFlag{Name: "open-urls", Usage: "passed to the proxy: ask, always or never open URLs the hidden server sends (default: ask on up's terminal, never without one)"},
			&cli.StringFlag{Name: "user", Usage: "passed to the proxy: default user name for hidden-service logins"},
			&cli.StringSliceFlag{Name: "forward", Usage: "passed to the hidden server: relay its virtual port to a local app, `VPORT=HOST:PORT` or VPORT=unix:/PATH (repeatable)"},
			&cli.BoolFlag{Name: "wait-connected", Usage: "passed to the proxy: answer every SOCKS CONNECT only once the exit has connected (no early replies)"},
			plainLinksFlag(), // passed to the relays, the hidden server and the proxy
			noCCFlag("passed to the proxy: no circuit congestion control, stream windows alone"),
			upMetricsFlag(),
		},
		Action: runUp,
	}
}

func runUp(c *cli.Context) error {
	stderr, asker := upTerminal()
	log, err := newLoggerOn(c, "up", stderr, localnet.OwnPrefix(c.Int("relays"), stderrIsColourTerminal()))
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the onion executable: %w", err)
	}
	logFormat, err := childLogFormat(c)
	if err != nil {
		return err
	}
	if err := upConfigExample(c, log); err != nil {
		return err
	}
	defer keepTerminal()()
	return localnet.Run(c.Context, localnet.Config{
		Executable: exe,
		Relays:     c.Int("relays"), Exits: c.Int("exits"), Authorities: c.Int("authorities"),
		Socks: c.String("socks"), Status: c.String("status"), HTTPTunnel: c.String("http-tunnel"),
		Metrics: c.String("metrics"),
		DataDir: c.String("data-dir"), InfoFile: c.String("info-file"),
		LogLevel: cmp.Or(logFlag(c, logLevelFlag), "info"), LogFormat: logFormat,
		OpenURLs: c.String("open-urls"), User: c.String("user"), WaitConnected: c.Bool("wait-connected"),
		Forwards:            c.StringSlice("forward"),
		PlainLinks:          c.Bool("insecure-plain-links"),
		NoCongestionControl: c.Bool("no-congestion-control"),
		Prompt:              asker,
		Stdout:              os.Stdout, Stderr: stderr, Colour: stderrIsColourTerminal(), Logger: log,
	})
}

func stderrIsColourTerminal() bool {
	return term.IsTerminal(int(os.Stderr.Fd())) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// upTerminal is where up's parts log and, when stdin is a terminal, who
// asks their questions there: the proxy's logins and URLs. While a
// question is open the parts' log lines are held back, to follow it.
func upTerminal() (io.Writer, prompt.Asker) {
	if !prompt.Supported || !term.IsTerminal(int(os.Stdin.Fd())) {
		return os.Stderr, nil
	}
	held := &prompt.HeldWriter{W: os.Stderr}
	t := prompt.NewTerminal(os.Stdin, os.Stderr)
	t.Hold = held
	return held, t
}

// keepTerminal saves the state of stdin's terminal and returns what puts it
// back: a password prompt open when the process stops must not leave the
// terminal without echo.
func keepTerminal() (restore func()) {
	fd := int(os.Stdin.Fd())
	st, err := term.GetState(fd)
	if err != nil {
		return func() {}
	}
	return func() { term.Restore(fd, st) }
}
