package localnet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"

	"onion/internal/launch"
	"onion/internal/upinfo"
)

// Run runs the network until ctx is done, then stops every child and
// returns nil. It returns an error if cfg is not valid, if a part could not
// start, or if the network failed on its own (the proxy died, or the
// directory died and could not be brought back). Every child is stopped,
// and a temporary data directory removed, before Run returns.
func Run(ctx context.Context, cfg Config) error {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return err
	}
	if err := removeStaleInfo(cfg.InfoFile); err != nil {
		return err
	}
	temp := cfg.DataDir == ""
	dir, err := prepareDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	if temp {
		defer func() {
			if err := os.RemoveAll(dir); err != nil {
				cfg.Logger.Warn("remove temporary data dir", "dir", dir, "err", err)
			}
		}()
	}
	cfg.DataDir = dir
	n := &network{cfg: cfg, log: cfg.Logger,
		info: upinfo.Info{DataDir: dir, TempDataDir: temp, PID: os.Getpid()}}
	return n.run(ctx)
}

// removeStaleInfo removes an info file of an earlier run: whoever waits for
// the info file must not read that one.
func removeStaleInfo(path string) error {
	if path == "" {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("--info-file: %w", err)
	}
	return nil
}

// network is one run: the children it started, what they reported when
// ready, and the supervisor's counts. One goroutine owns it; only
// startRelays fans out, each goroutine to its own relay's slots.
type network struct {
	cfg Config
	log *slog.Logger

	directory   *launch.Child   // the first authority, restarted if it dies
	authorities []*launch.Child // all of them, the first included, when several
	relays      []*launch.Child
	hidden      *launch.Child
	proxy       *launch.Child
	prompts     net.Listener // the proxy's prompt socket, or nil
	listeners   []*os.File   // the authorities' sockets, handed to each as fd 3
	info        upinfo.Info
	metricsMu   sync.Mutex // info.Metrics, which relays fill in concurrently

	restarts    int // of the directory, at most maxDirectoryRestarts
	relaysAlive int
	exitsAlive  int
}

// run starts the network, announces it, and supervises it until ctx ends
// (nil) or the network fails (an error). Every child is stopped before run
// returns.
func (n *network) run(ctx context.Context) error {
	defer n.closePrompts() // after the proxy has stopped asking
	defer n.closeListeners()
	defer n.stopAll()
	if err := n.start(ctx); err != nil {
		if ctx.Err() != nil {
			n.log.Info("interrupted while starting; stopping")
			return nil
		}
		return err
	}
	if err := n.writeInfo(); err != nil {
		return err
	}
	n.announce()
	return n.supervise(ctx)
}

// writeInfo writes the info file, if one was asked for.
func (n *network) writeInfo() error {
	if n.cfg.InfoFile == "" {
		return nil
	}
	if err := upinfo.Write(n.cfg.InfoFile, &n.info); err != nil {
		return fmt.Errorf("--info-file: %w", err)
	}
	return nil
}
