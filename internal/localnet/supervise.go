package localnet

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"onion/internal/launch"
)

// maxDirectoryRestarts bounds how often up brings its directory back.
const maxDirectoryRestarts = 5

// supervise waits for ctx or for a child to die. A relay may die: the proxy
// builds its next circuits around it. Without the directory or the proxy
// the network is useless, so their death stops everything (the directory
// is first brought back, a few times).
func (n *network) supervise(ctx context.Context) error {
	all := n.children()
	// Room for every child and every restarted directory: a watcher never
	// blocks, even after supervise has returned.
	exited := make(chan *launch.Child, len(all)+maxDirectoryRestarts)
	for _, c := range all {
		watch(ctx, c, exited)
	}
	n.relaysAlive, n.exitsAlive = len(n.relays), n.cfg.Exits
	for {
		select {
		case <-ctx.Done():
			n.log.Info("stopping the network")
			return nil
		case c := <-exited:
			if ctx.Err() != nil {
				return nil // a signal and an exit at once: this is a shutdown
			}
			if err := n.exited(ctx, c, exited); err != nil {
				return err
			}
		}
	}
}

// watch sends c to exited when it exits before ctx ends.
func watch(ctx context.Context, c *launch.Child, exited chan<- *launch.Child) {
	go func() {
		select {
		case <-c.Done():
			exited <- c
		case <-ctx.Done():
		}
	}()
}

// exited handles a child that exited on its own; an error ends the network.
func (n *network) exited(ctx context.Context, c *launch.Child, exited chan<- *launch.Child) error {
	n.log.Error("component exited unexpectedly", "name", c.Name, "status", c.State())
	switch {
	case c == n.hidden || (c != n.directory && n.isAuthority(c)):
		return nil // the network itself still works; the log says what happened
	case c == n.directory && n.restarts < maxDirectoryRestarts:
		// Relays re-publish and the proxy keeps its last verified list
		// meanwhile: bring the directory back where it was, with its key
		// from its data dir.
		n.restarts++
		if err := n.restartDirectory(ctx); err != nil {
			return fmt.Errorf("directory exited and could not be restarted: %w", err)
		}
		watch(ctx, n.directory, exited)
		return nil
	case c == n.directory || c == n.proxy:
		return fmt.Errorf("%s exited (%s); stopped the network", c.Name, c.State())
	}
	n.relayExited(c)
	return nil
}

// relayExited counts a dead relay, and warns once too few are left to
// build new circuits.
func (n *network) relayExited(c *launch.Child) {
	n.relaysAlive--
	if n.isExit(c) {
		n.exitsAlive--
	}
	if n.relaysAlive < 3 || n.exitsAlive < 1 {
		n.log.Warn("too few relays left for new circuits", "relays", n.relaysAlive, "exits", n.exitsAlive)
	}
}

// restartDirectory starts the directory again on the address and data dir
// it had, so relays and the proxy find it where they expect it, and
// rewrites the info file with its new pid.
func (n *network) restartDirectory(ctx context.Context) error {
	addr := strings.TrimPrefix(n.info.Directory, "http://")
	n.log.Warn("restarting the directory", "listen", addr)
	d := n.directoryChild(0, addr)
	ready, err := d.Start(ctx)
	if err != nil {
		return err
	}
	if ready["key"] != n.info.DirectoryKey {
		d.Stop(n.cfg.StopTimeout)
		return fmt.Errorf("restarted directory has key %s, want %s", ready["key"], n.info.DirectoryKey)
	}
	n.directory = d
	if len(n.authorities) > 0 {
		n.authorities[0] = d
	}
	n.info.DirectoryPID = d.Pid()
	if err := n.noteMetrics("directory", ready); err != nil {
		return err
	}
	return n.writeInfo()
}

func (n *network) isExit(c *launch.Child) bool {
	for i, r := range n.relays {
		if r == c {
			return i < n.cfg.Exits
		}
	}
	return false
}

// children lists every child that was created, proxy first.
func (n *network) children() []*launch.Child {
	var all []*launch.Child
	for _, c := range append(append([]*launch.Child{n.proxy, n.hidden}, n.relays...), n.allAuthorities()...) {
		if c != nil {
			all = append(all, c)
		}
	}
	return all
}

// stopAll sends SIGTERM to every child at once and kills those still
// running after cfg.StopTimeout. Stopping an exited child only reports it.
func (n *network) stopAll() {
	var wg sync.WaitGroup
	for _, c := range n.children() {
		wg.Go(func() {
			running := c.State() == "running"
			if err := c.Stop(n.cfg.StopTimeout); err != nil && running {
				n.log.Warn("stop", "name", c.Name, "err", err)
			}
		})
	}
	wg.Wait()
}
