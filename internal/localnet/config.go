package localnet

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"onion/internal/prompt"
)

// Defaults for Config's zero timings. Relays re-publish often and the
// directory forgets them soon, so a relay that dies leaves the list within
// seconds rather than minutes; on one machine the extra publishing costs
// nothing.
const (
	DefaultPublishInterval = 10 * time.Second
	DefaultRelayTTL        = 30 * time.Second
	DefaultReadyTimeout    = 30 * time.Second
	DefaultStopTimeout     = 5 * time.Second
)

// Config is the network to run. Its error messages name the `onion up`
// flags that set each field.
type Config struct {
	// Executable is the onion binary each part runs as a child; required.
	Executable string

	Relays int // at least 3
	// Authorities is how many directory authorities to run; 0 or 1 means
	// one directory, as before voting existed.
	Authorities int
	Exits       int // how many of the relays are exits: 1 to Relays
	// Socks and Status are the proxy's listen addresses; port 0 picks a
	// free one. Both must be free when Run starts.
	Socks, Status string
	// HTTPTunnel is the proxy's HTTP proxy port (loopback); "" for none.
	HTTPTunnel string
	// Metrics, if set, is passed to every part as --metrics: a loopback
	// address with port 0, so that each picks a free port of its own.
	Metrics string
	// DataDir keeps keys and state, one directory per part, and is never
	// removed; "" means a temporary directory removed when Run returns.
	DataDir string
	// InfoFile, if set, receives the info file once the network is ready
	// (an earlier one is removed first).
	InfoFile string
	// LogLevel is passed to every child as --log-level; "" means info.
	LogLevel string
	// LogFormat is passed to every child as --log-format: json, human or
	// plain (logfmt's resolved forms); "" means plain. With json a child's
	// lines are copied without a prefix, each child naming itself in a
	// "part" attribute instead.
	LogFormat string

	// Forwards are passed to the hidden server as --forward VPORT=TARGET.
	Forwards []string
	// Prompt, if set, is up's terminal: the proxy's questions (logins,
	// URLs to open) are put to it through a socket in DataDir. Nil: the
	// proxy has no one to ask.
	Prompt prompt.Asker

	// Passed to the proxy: --open-urls, --user, --wait-connected.
	OpenURLs      string
	User          string
	WaitConnected bool
	// PlainLinks passes --insecure-plain-links to every part but the
	// directory: links without TLS, for benchmarks only.
	PlainLinks bool
	// NoCongestionControl passes --no-congestion-control to the proxy.
	NoCongestionControl bool

	// Timings; zero means the Default of the same name.
	ReadyTimeout    time.Duration // each child's wait for its ready line
	PublishInterval time.Duration // relays' and the hidden server's
	RelayTTL        time.Duration // the directory's
	VoteInterval    time.Duration // the authorities', when several
	StopTimeout     time.Duration // SIGTERM to SIGKILL, each child

	// Stdout receives the ready line and the banner; nil discards them.
	Stdout io.Writer
	// Stderr receives the children's output, each line behind its name. It
	// is written from several goroutines at once, and must be safe for
	// that, as an *os.File is; nil discards it.
	Stderr io.Writer
	// Colour draws each child's name in a colour of its own.
	Colour bool
	// Logger receives what up itself logs; nil discards it.
	Logger *slog.Logger
}

func (cfg Config) withDefaults() Config {
	setDefault(&cfg.ReadyTimeout, DefaultReadyTimeout)
	setDefault(&cfg.PublishInterval, DefaultPublishInterval)
	setDefault(&cfg.RelayTTL, DefaultRelayTTL)
	setDefault(&cfg.VoteInterval, DefaultVoteInterval)
	setDefault(&cfg.StopTimeout, DefaultStopTimeout)
	if cfg.LogLevel == "" {
		cfg.LogLevel = "info"
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

// check validates cfg and that the listen addresses are free, so that a
// busy port is a clear error before anything starts rather than a proxy
// that fails after the relays are up.
func (cfg *Config) check() error {
	if cfg.Executable == "" {
		return errors.New("localnet: no executable to run the parts with")
	}
	if cfg.Relays < 3 {
		return fmt.Errorf("--relays %d: a circuit needs 3 distinct relays", cfg.Relays)
	}
	if cfg.Exits < 1 || cfg.Exits > cfg.Relays {
		return fmt.Errorf("--exits %d: want 1 to --relays (%d)", cfg.Exits, cfg.Relays)
	}
	for _, a := range []struct{ flag, addr string }{{"socks", cfg.Socks}, {"status", cfg.Status}} {
		if err := checkListen(a.flag, a.addr); err != nil {
			return err
		}
	}
	return checkMetrics(cfg.Metrics)
}

func checkListen(flag, addr string) error {
	if addr == "" {
		return fmt.Errorf("--%s: need an address (port 0 picks a free one)", flag)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--%s %s is not usable: %w (is another onion up or proxy running? pick another address; port 0 picks a free one)", flag, addr, err)
	}
	ln.Close()
	return nil
}

// prepareDataDir returns the absolute data directory, creating it; ""
// means a fresh temporary directory.
func prepareDataDir(dir string) (string, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "onion-up-")
		if err != nil {
			return "", fmt.Errorf("temporary data dir: %w", err)
		}
		return d, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("--data-dir: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return "", fmt.Errorf("--data-dir: %w", err)
	}
	return abs, nil
}
