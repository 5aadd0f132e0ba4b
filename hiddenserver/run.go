package hiddenserver

// Run: the hidden server whole, as `onion hiddenserver` and the in-process
// test network start it.

import (
	"context"
	"fmt"
	"time"

	"onion/client"
)

// publishTimeout bounds one descriptor upload through the network.
const publishTimeout = 30 * time.Second

// Info is what a running hidden server reports when it is reachable.
type Info struct {
	Address string  // ADDRESS.onion
	Server  *Server // the running service, for in-process users (tests)
}

// Run runs the hidden server until ctx is done: it waits for a usable relay
// list, keeps circuits to its meeting relays, publishes its descriptor
// through the network, calls cfg.Ready once reachable, and stops its
// circuits in order when ctx ends. Without cfg.Builder it builds with a
// circuit manager of its own, made from cfg.Client; without
// cfg.Directory it publishes with cfg.PublishVia, handed an HTTP client
// whose connections go through that manager's circuits, so the directory
// never sees this machine's address next to the onion address.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Builder == nil {
		if cfg.Client.Logger == nil {
			cfg.Client.Logger = cfg.Logger
		}
		cfg.Metrics.observeBuild(&cfg.Client)
		m := client.NewManager(cfg.Client)
		cfg.Metrics.watch(m)
		defer m.Close()
		if err := m.WaitUsable(ctx); err != nil {
			return nil // ctx ended first
		}
		go m.Run(ctx)
		cfg.Builder = m
		if cfg.Directory == nil && cfg.PublishVia != nil {
			cfg.Directory = cfg.PublishVia(m.TunnelHTTP("publish", publishTimeout))
		}
	}
	srv, err := New(cfg)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		return err
	}
	auth := "off"
	if cfg.Users != nil {
		auth = fmt.Sprintf("%d users", cfg.Users.Len())
	}
	if len(cfg.Clients) > 0 {
		auth = fmt.Sprintf("%d client keys", len(cfg.Clients))
	}
	srv.logger.Info("hidden server reachable", "auth", auth, "forwards", len(cfg.Forwards))
	srv.logger.Debug("hidden server address", "address", srv.Address())
	if cfg.Ready != nil {
		cfg.Ready(Info{Address: srv.Address(), Server: srv})
	}
	return <-done
}
