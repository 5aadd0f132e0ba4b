package bench

// The network under test: one this run starts with `onion up` on free
// loopback ports, or one already running that the user points at.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"onion/internal/launch"
	"onion/internal/upinfo"
)

// Bounds of starting and stopping `onion up`.
const (
	upReadyTimeout = 60 * time.Second
	// upStopTimeout leaves up time to stop its own children (5s each, in
	// parallel) before it is killed with its process group.
	upStopTimeout = 12 * time.Second
	netLogLines   = 60
)

// network is the network under test.
type network struct {
	socks string
	info  *upinfo.Info  // nil when an external network was given without --info-file
	up    *launch.Child // nil for an external network
	dir   string        // temporary data dir of up, removed by stop
	log   *netLog
}

// startNetwork runs `exe up` (with extra flags of up's) on free loopback
// ports with a temporary data directory and waits until it is ready. Its output is kept, not shown: it
// is printed only if the run fails.
func startNetwork(ctx context.Context, exe string, extra ...string) (*network, error) {
	dir, err := os.MkdirTemp("", "onion-bench-")
	if err != nil {
		return nil, err
	}
	n := &network{dir: dir, log: newNetLog(netLogLines)}
	infoPath := filepath.Join(dir, "info.json")
	args := append([]string{"--log-level", "warn", "up",
		"--socks", "127.0.0.1:0", "--status", "127.0.0.1:0",
		"--info-file", infoPath, "--data-dir", filepath.Join(dir, "data")}, extra...)
	n.up = launch.New("up", exe, args...)
	n.up.Cmd.Env = withoutOnionEnv(os.Environ())
	n.up.Output = n.log
	n.up.Prefix = "up | "
	n.up.ReadyTimeout = upReadyTimeout
	if _, err := n.up.Start(ctx); err != nil {
		n.stop()
		return nil, fmt.Errorf("start the network: %w", err)
	}
	if n.info, err = upinfo.Read(infoPath); err != nil {
		n.stop()
		return nil, err
	}
	n.socks = n.info.Socks
	return n, nil
}

// externalNetwork is a network that is already running; infoPath may be "".
func externalNetwork(socks, infoPath string) (*network, error) {
	n := &network{socks: socks}
	if infoPath == "" {
		return n, nil
	}
	info, err := upinfo.Read(infoPath)
	if err != nil {
		return nil, err
	}
	if info.Socks != "" && info.Socks != socks {
		return nil, fmt.Errorf("--info-file describes a proxy at %s, not --socks %s", info.Socks, socks)
	}
	n.info = info
	return n, nil
}

// processes lists the network's processes with known pids, what CPU and
// memory are measured of; nil if unknown.
func (n *network) processes() []process {
	if n.info == nil {
		return nil
	}
	var ps []process
	add := func(name, role string, pid int) {
		if pid > 0 {
			ps = append(ps, process{name: name, role: role, pid: pid})
		}
	}
	add("proxy", roleProxy, n.info.ProxyPID)
	for _, r := range n.info.Relays {
		add(r.Nickname, roleRelays, r.PID)
	}
	add("hiddenserver", roleHidden, n.info.HiddenPID)
	add("directory", roleDirectory, n.info.DirectoryPID)
	return ps
}

// stop stops a network this run started (SIGTERM, then a bounded wait)
// and removes its data; an external network is left alone.
func (n *network) stop() error {
	if n.up == nil {
		return nil
	}
	err := n.up.Stop(upStopTimeout)
	if rmErr := os.RemoveAll(n.dir); rmErr != nil {
		err = errors.Join(err, rmErr)
	}
	if err != nil {
		return fmt.Errorf("stop the network: %w", err)
	}
	return nil
}

// logFaults are lines of the network's output that show a panic or a race.
func (n *network) logFaults() []string {
	if n.log == nil {
		return nil
	}
	return n.log.faultLines()
}

// withoutOnionEnv drops ONION_* variables: they would configure the
// network's processes (a proxy with ONION_PASSWORD answers every login) and
// the benchmark must measure the same network wherever it runs.
func withoutOnionEnv(env []string) []string {
	kept := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "ONION_") {
			kept = append(kept, kv)
		}
	}
	return kept
}
