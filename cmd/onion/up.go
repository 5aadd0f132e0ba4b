package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"onion/hiddenserver"
	"onion/internal/launch"
)

// Timings of the local network. Relays re-publish often and the directory
// forgets them soon, so a relay that dies leaves the list within seconds
// rather than minutes; on one machine the extra publishing costs nothing.
const (
	upPublishInterval = 10 * time.Second
	upRelayTTL        = 30 * time.Second
	upReadyTimeout    = 30 * time.Second
	upStopTimeout     = 5 * time.Second
)

func upCommand() *cli.Command {
	return &cli.Command{
		Name:  "up",
		Usage: "run a whole network on this machine: a directory, relays, a hidden server and the SOCKS5 proxy",
		Description: "Starts a directory, --relays relays, a hidden server (with a demo user) and the proxy as separate processes on\n" +
			"127.0.0.1, waits until all are ready, prints the SOCKS5 address and commands to try,\n" +
			"and stops everything on Ctrl-C. Each part is the same command you would run by hand\n" +
			"(`onion directory`, `onion relay`, `onion proxy`); their logs are prefixed with their names.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "relays", Value: 5, Usage: "number of relays (at least 3)"},
			&cli.IntFlag{Name: "exits", Value: 2, Usage: "how many of the relays are exits (1 to --relays)"},
			&cli.StringFlag{Name: "socks", Value: "127.0.0.1:1080", Usage: "SOCKS5 listen address (port 0 picks a free port)"},
			&cli.StringFlag{Name: "status", Value: "127.0.0.1:0", Usage: "status HTTP listen address (GET /circuits)"},
			&cli.StringFlag{Name: "data-dir", Usage: "keep keys and state here, one directory per part, never removed (default: a temporary directory removed on exit)"},
			&cli.StringFlag{Name: "info-file", Usage: "when ready, write the addresses, directory key, relays, onion address and demo credentials here as JSON"},
			&cli.StringFlag{Name: "open-urls", Value: "never", Usage: "passed to the proxy: ask, always or never open URLs the hidden server sends (the proxy runs without a terminal under up, so ask means never)"},
			&cli.StringFlag{Name: "user", Usage: "passed to the proxy: default user name for hidden-service logins"},
			&cli.BoolFlag{Name: "wait-connected", Usage: "passed to the proxy: answer every SOCKS CONNECT only once the exit has connected (no early replies)"},
		},
		Action: runUp,
	}
}

// upConfig is what `onion up` was asked for.
type upConfig struct {
	relays, exits   int
	socks, status   string
	dataDir         string
	tempDataDir     bool
	infoFile        string
	logLevel        string
	openURLs, user  string
	waitConnected   bool
	readyTimeout    time.Duration
	publishInterval time.Duration
	relayTTL        time.Duration
}

func runUp(c *cli.Context) error {
	log, err := newLogger(c, "up")
	if err != nil {
		return err
	}
	cfg := upConfig{
		relays: c.Int("relays"), exits: c.Int("exits"),
		socks: c.String("socks"), status: c.String("status"),
		dataDir: c.String("data-dir"), infoFile: c.String("info-file"),
		logLevel: c.String("log-level"),
		openURLs: c.String("open-urls"), user: c.String("user"), waitConnected: c.Bool("wait-connected"),
		readyTimeout: upReadyTimeout, publishInterval: upPublishInterval, relayTTL: upRelayTTL,
	}
	if err := cfg.check(); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the onion executable: %w", err)
	}
	if cfg.infoFile != "" {
		// Whoever waits for the info file must not read one from an earlier run.
		if err := os.Remove(cfg.infoFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("--info-file: %w", err)
		}
	}
	cfg.tempDataDir = cfg.dataDir == ""
	if cfg.dataDir, err = prepareDataDir(cfg.dataDir); err != nil {
		return err
	}
	if cfg.tempDataDir {
		defer func() {
			if err := os.RemoveAll(cfg.dataDir); err != nil {
				log.Warn("remove temporary data dir", "dir", cfg.dataDir, "err", err)
			}
		}()
	}
	n := &network{cfg: cfg, log: log, exe: exe, out: os.Stdout, colour: stderrIsColourTerminal()}
	return n.run(c.Context)
}

// check validates the flags and that the listen addresses are free, so that
// a busy port is a clear error before anything starts rather than a proxy
// that fails after the relays are up.
func (cfg *upConfig) check() error {
	if cfg.relays < 3 {
		return fmt.Errorf("--relays %d: a circuit needs 3 distinct relays", cfg.relays)
	}
	if cfg.exits < 1 || cfg.exits > cfg.relays {
		return fmt.Errorf("--exits %d: want 1 to --relays (%d)", cfg.exits, cfg.relays)
	}
	for _, a := range []struct{ flag, addr string }{{"socks", cfg.socks}, {"status", cfg.status}} {
		if a.addr == "" {
			return fmt.Errorf("--%s: need an address (port 0 picks a free one)", a.flag)
		}
		ln, err := net.Listen("tcp", a.addr)
		if err != nil {
			return fmt.Errorf("--%s %s is not usable: %w (is another onion up or proxy running? pick another address; port 0 picks a free one)", a.flag, a.addr, err)
		}
		ln.Close()
	}
	return nil
}

// prepareDataDir returns the absolute data directory, creating it; "" means
// a fresh temporary directory.
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

func stderrIsColourTerminal() bool {
	return term.IsTerminal(int(os.Stderr.Fd())) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// network is one run of `onion up`: the children it started and what they
// reported when ready.
type network struct {
	cfg    upConfig
	log    *slog.Logger
	exe    string
	out    io.Writer // the banner; logs go to stderr
	colour bool

	directory *launch.Child
	relays    []*launch.Child
	hidden    *launch.Child
	proxy     *launch.Child
	info      upInfo
}

// upInfo is the --info-file, and the source of the banner.
type upInfo struct {
	Socks        string        `json:"socks"`
	Status       string        `json:"status"`
	CircuitsURL  string        `json:"circuits_url"`
	Directory    string        `json:"directory"`
	DirectoryKey string        `json:"directory_key"`
	DataDir      string        `json:"data_dir"`
	TempDataDir  bool          `json:"data_dir_temporary"`
	PID          int           `json:"pid"`
	DirectoryPID int           `json:"directory_pid"`
	ProxyPID     int           `json:"proxy_pid"`
	Relays       []upRelayInfo `json:"relays"`
	OnionAddress string        `json:"onion_address"`
	HiddenPID    int           `json:"hiddenserver_pid"`
	DemoUser     string        `json:"demo_user"`
	DemoPassword string        `json:"demo_password"`
}

type upRelayInfo struct {
	Nickname    string `json:"nickname"`
	Fingerprint string `json:"fingerprint"`
	Address     string `json:"address"`
	Exit        bool   `json:"exit"`
	PID         int    `json:"pid"`
}

// run starts the network, announces it, and supervises it until ctx ends
// (exit 0) or the directory or proxy dies (an error). Every child is
// stopped before run returns.
func (n *network) run(ctx context.Context) error {
	defer n.stopAll()
	if err := n.start(ctx); err != nil {
		if ctx.Err() != nil {
			n.log.Info("interrupted while starting; stopping")
			return nil
		}
		return err
	}
	if n.cfg.infoFile != "" {
		if err := writeInfoFile(n.cfg.infoFile, n.info); err != nil {
			return err
		}
	}
	n.printBanner()
	return n.supervise(ctx)
}

func (n *network) start(ctx context.Context) error {
	n.info = upInfo{DataDir: n.cfg.dataDir, TempDataDir: n.cfg.tempDataDir, PID: os.Getpid()}
	n.directory = n.child("directory", "directory",
		"--listen", "127.0.0.1:0", "--data-dir", n.subdir("directory"),
		"--relay-ttl", n.cfg.relayTTL.String())
	ready, err := n.directory.Start(ctx)
	if err != nil {
		return err
	}
	n.info.Directory, n.info.DirectoryKey, n.info.DirectoryPID = ready["url"], ready["key"], n.directory.Pid()
	if err := need(ready, "directory", "url", "key"); err != nil {
		return err
	}
	if err := n.startRelays(ctx); err != nil {
		return err
	}
	if err := n.startHidden(ctx); err != nil {
		return err
	}
	args := []string{"--socks", n.cfg.socks, "--status", n.cfg.status,
		"--directory", n.info.Directory, "--directory-key", n.info.DirectoryKey,
		"--open-urls", n.cfg.openURLs}
	if n.cfg.user != "" {
		args = append(args, "--user", n.cfg.user)
	}
	if n.cfg.waitConnected {
		args = append(args, "--wait-connected")
	}
	n.proxy = n.child("proxy", "proxy", args...)
	if ready, err = n.proxy.Start(ctx); err != nil {
		return err
	}
	n.info.Socks, n.info.Status, n.info.ProxyPID = ready["socks"], ready["status"], n.proxy.Pid()
	n.info.CircuitsURL = "http://" + n.info.Status + "/circuits"
	return need(ready, "proxy", "socks", "status")
}

// startHidden creates the demo user (its password kept in the data dir, so a
// kept --data-dir keeps it) and starts the hidden server.
func (n *network) startHidden(ctx context.Context) error {
	dir := n.subdir("hiddenserver")
	user, pw, err := demoUser(dir)
	if err != nil {
		return fmt.Errorf("demo user: %w", err)
	}
	n.info.DemoUser, n.info.DemoPassword = user, pw
	n.hidden = n.child("hiddenserver", "hiddenserver",
		"--directory", n.info.Directory, "--directory-key", n.info.DirectoryKey,
		"--data-dir", dir, "--users", filepath.Join(dir, "users"),
		"--publish-interval", n.cfg.publishInterval.String())
	ready, err := n.hidden.Start(ctx)
	if err != nil {
		return err
	}
	n.info.OnionAddress, n.info.HiddenPID = ready["address"], n.hidden.Pid()
	return need(ready, "hiddenserver", "address")
}

// demoUser returns the demo account. Its password is made once and kept in
// the data dir; the users entry is written every time, so the two always
// agree (a kept data dir from an older run, a deleted users file).
func demoUser(dir string) (string, string, error) {
	const user = "demo"
	key, err := serviceKeys(dir)
	if err != nil {
		return "", "", err
	}
	pwFile := filepath.Join(dir, "demo-password")
	var pw string
	if b, err := os.ReadFile(pwFile); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		pw = strings.TrimSpace(string(b))
	} else {
		raw := make([]byte, 9)
		if _, err := rand.Read(raw); err != nil {
			return "", "", err
		}
		pw = base64.RawURLEncoding.EncodeToString(raw)
		if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o600); err != nil {
			return "", "", err
		}
	}
	pub := key.Public().(ed25519.PublicKey)
	if err := hiddenserver.AddUser(filepath.Join(dir, "users"), pub, user, pw); err != nil {
		return "", "", err
	}
	return user, pw, nil
}

// startRelays starts the relays side by side (each is ready only after its
// first publish) and stops the others as soon as one fails.
func (n *network) startRelays(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n.relays = make([]*launch.Child, n.cfg.relays)
	n.info.Relays = make([]upRelayInfo, n.cfg.relays)
	errs := make([]error, n.cfg.relays)
	var wg sync.WaitGroup
	for i := range n.relays {
		name := "relay" + strconv.Itoa(i+1)
		args := []string{"--listen", "127.0.0.1:0", "--directory", n.info.Directory,
			"--nickname", name, "--data-dir", n.subdir(name),
			"--exit-policy", "accept-all", "--publish-interval", n.cfg.publishInterval.String()}
		if i < n.cfg.exits {
			args = append(args, "--exit")
		}
		n.relays[i] = n.child(name, "relay", args...)
		wg.Go(func() {
			ready, err := n.relays[i].Start(ctx)
			if err == nil {
				err = need(ready, name, "addr", "fingerprint")
			}
			if err != nil {
				errs[i] = err
				cancel()
				return
			}
			n.info.Relays[i] = upRelayInfo{Nickname: name, Fingerprint: ready["fingerprint"],
				Address: ready["addr"], Exit: i < n.cfg.exits, PID: n.relays[i].Pid()}
		})
	}
	wg.Wait()
	// Report the failure that caused the others, not the cancellations it caused.
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return errors.Join(errs...)
}

// child prepares one part: the same executable, with the global log level.
func (n *network) child(name, command string, args ...string) *launch.Child {
	all := append([]string{"--log-level", n.cfg.logLevel, command}, args...)
	c := launch.New(name, n.exe, all...)
	c.Output = os.Stderr
	c.ReadyTimeout = n.cfg.readyTimeout
	width := launch.PrefixWidth("directory", "relay"+strconv.Itoa(n.cfg.relays), "proxy", "hiddenserver")
	c.Prefix = launch.Prefix(name, width, colourIndex(name), n.colour)
	return c
}

// colourIndex keeps the directory, the proxy and each relay in their own colour.
func colourIndex(name string) int {
	switch name {
	case "directory":
		return 0
	case "proxy":
		return 1
	case "hiddenserver":
		return 2
	}
	k, _ := strconv.Atoi(strings.TrimPrefix(name, "relay"))
	return 2 + k
}

func (n *network) subdir(name string) string { return filepath.Join(n.cfg.dataDir, name) }

// need checks that a ready line carried the fields up relies on.
func need(ready map[string]string, name string, keys ...string) error {
	for _, k := range keys {
		if ready[k] == "" {
			return fmt.Errorf("%s: ready line has no %s= field", name, k)
		}
	}
	return nil
}

// supervise waits for ctx or for a child to die. A relay may die: the proxy
// builds its next circuits around it. Without the directory or the proxy
// the network is useless, so their death stops everything.
func (n *network) supervise(ctx context.Context) error {
	all := n.children()
	exited := make(chan *launch.Child, len(all)+maxDirectoryRestarts)
	watch := func(c *launch.Child) {
		go func() {
			select {
			case <-c.Done():
				exited <- c
			case <-ctx.Done():
			}
		}()
	}
	for _, c := range all {
		watch(c)
	}
	restarts := 0
	alive, exitsAlive := len(n.relays), n.cfg.exits
	for {
		select {
		case <-ctx.Done():
			n.log.Info("stopping the network")
			return nil
		case c := <-exited:
			if ctx.Err() != nil {
				return nil // a signal and an exit at once: this is a shutdown
			}
			n.log.Error("component exited unexpectedly", "name", c.Name, "status", c.State())
			if c == n.hidden {
				continue // the network itself still works; the log says what happened
			}
			if c == n.directory && restarts < maxDirectoryRestarts {
				// Relays re-publish and the proxy keeps its last verified
				// list meanwhile: bring the directory back where it was, with
				// its key from its data dir.
				restarts++
				if err := n.restartDirectory(ctx); err != nil {
					return fmt.Errorf("directory exited and could not be restarted: %w", err)
				}
				watch(n.directory)
				continue
			}
			if c == n.directory || c == n.proxy {
				return fmt.Errorf("%s exited (%s); stopped the network", c.Name, c.State())
			}
			alive--
			if n.isExit(c) {
				exitsAlive--
			}
			if alive < 3 || exitsAlive < 1 {
				n.log.Warn("too few relays left for new circuits", "relays", alive, "exits", exitsAlive)
			}
		}
	}
}

// maxDirectoryRestarts bounds how often up brings its directory back.
const maxDirectoryRestarts = 5

// restartDirectory starts the directory again on the address and data dir
// it had, so relays and the proxy find it where they expect it.
func (n *network) restartDirectory(ctx context.Context) error {
	addr := strings.TrimPrefix(n.info.Directory, "http://")
	n.log.Warn("restarting the directory", "listen", addr)
	d := n.child("directory", "directory",
		"--listen", addr, "--data-dir", n.subdir("directory"),
		"--relay-ttl", n.cfg.relayTTL.String())
	ready, err := d.Start(ctx)
	if err != nil {
		return err
	}
	if ready["key"] != n.info.DirectoryKey {
		d.Stop(upStopTimeout)
		return fmt.Errorf("restarted directory has key %s, want %s", ready["key"], n.info.DirectoryKey)
	}
	n.directory = d
	n.info.DirectoryPID = d.Pid()
	if n.cfg.infoFile != "" {
		return writeInfoFile(n.cfg.infoFile, n.info)
	}
	return nil
}

func (n *network) isExit(c *launch.Child) bool {
	for i, r := range n.relays {
		if r == c {
			return i < n.cfg.exits
		}
	}
	return false
}

// children lists every child that was created, proxy first.
func (n *network) children() []*launch.Child {
	var all []*launch.Child
	if n.proxy != nil {
		all = append(all, n.proxy)
	}
	if n.hidden != nil {
		all = append(all, n.hidden)
	}
	for _, r := range n.relays {
		if r != nil {
			all = append(all, r)
		}
	}
	if n.directory != nil {
		all = append(all, n.directory)
	}
	return all
}

// stopAll sends SIGTERM to every child at once and kills those still
// running after upStopTimeout. Stopping an exited child only reports it.
func (n *network) stopAll() {
	var wg sync.WaitGroup
	for _, c := range n.children() {
		wg.Go(func() {
			running := c.State() == "running"
			if err := c.Stop(upStopTimeout); err != nil && running {
				n.log.Warn("stop", "name", c.Name, "err", err)
			}
		})
	}
	wg.Wait()
}

// writeInfoFile writes info as JSON to path atomically: a reader sees either
// no file or the whole of it.
func writeInfoFile(path string, info upInfo) error {
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("--info-file: %w", err)
	}
	defer os.Remove(f.Name()) // fails harmlessly once renamed
	_, err = f.Write(append(data, '\n'))
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("--info-file: %w", err)
	}
	return nil
}

// printBanner writes the ready line (for scripts, first as for every
// command) and then a summary for people.
func (n *network) printBanner() {
	i := n.info
	exits := make([]string, 0, n.cfg.exits)
	relays := make([]string, 0, len(i.Relays))
	for _, r := range i.Relays {
		relays = append(relays, r.Nickname)
		if r.Exit {
			exits = append(exits, r.Nickname)
		}
	}
	dataDir := i.DataDir
	if i.TempDataDir {
		dataDir += " (temporary: removed when up exits; keep one with --data-dir)"
	}
	fmt.Fprintf(n.out, "up ready socks=%s status=%s directory=%s key=%s relays=%d onion=%s\n",
		i.Socks, i.Status, i.Directory, i.DirectoryKey, len(i.Relays), i.OnionAddress)
	creds := i.DemoUser + ":" + i.DemoPassword
	fmt.Fprintf(n.out, `
onion network is up: a directory, %d relays, a hidden server and the SOCKS5 proxy, each its own process.

  SOCKS5 proxy   %s
  circuits       %s
  directory      %s
  directory key  %s
  relays         %s (exits: %s)
  hidden server  http://%s/
  demo login     user %s, password %s
  data dir       %s

Try (the proxy resolves names at the exit; socks5h / --socks5-hostname, never --socks5):
  curl --socks5-hostname %s http://example.com/
  curl %s
  curl -x socks5h://%s@%s http://%s/echo -d hello
  curl -x socks5h://%s@%s http://%s/
  curl -x socks5h://%s@%s http://%s/open/tor     (the proxy opens URLs per --open-urls)

Ctrl-C stops the network.
`, len(i.Relays), i.Socks, i.CircuitsURL, i.Directory, i.DirectoryKey,
		strings.Join(relays, " "), strings.Join(exits, " "), i.OnionAddress, i.DemoUser, i.DemoPassword, dataDir,
		i.Socks, i.CircuitsURL,
		creds, i.Socks, i.OnionAddress,
		creds, i.Socks, i.OnionAddress,
		creds, i.Socks, i.OnionAddress)
}
