package relay

// Run: a relay whole, the one way `onion relay` and internal/testnet start one.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// The first publication's retries: the directory may still be starting.
const (
	publishFirstWait      = 250 * time.Millisecond
	publishMaxWait        = 5 * time.Second
	publishAttemptTimeout = 10 * time.Second
)

// Info is what a ready relay reports (the CLI prints it as its ready line).
type Info struct {
	Addr        string // the address published in the descriptor
	Fingerprint string
	Nickname    string
	// Reachable: the reachability self-test passed before publishing; false
	// when no other relay could test it yet (it runs later, reach.go).
	Reachable bool
}

// Run runs the relay whole until ctx is done, then shuts it down in order
// and returns nil; it returns an error only if it could not start or failed
// on its own. It listens, serves links, waits for a verified relay list
// (if cfg.Relays is set), tests that it is reachable at its address
// (reach.go: it waits, retrying, while it is not; it goes on untested
// while no other relay can test it), publishes the descriptor until the
// directory accepts it, and then calls cfg.Ready.
func Run(ctx context.Context, cfg Config) error {
	ln, err := cfg.listener()
	if err != nil {
		return err
	}
	cfg.Address, err = publishedAddress(cfg.Address, ln.Addr())
	if err != nil {
		ln.Close()
		return err
	}
	r, err := New(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	r.publishing = make(chan struct{}) // not before the self-test
	// A relay whose Serve ended on its own has nothing to announce.
	pctx, stopPublishing := context.WithCancel(ctx)
	defer stopPublishing()
	served := make(chan error, 1)
	go func() {
		err := r.Serve(ctx, ln)
		stopPublishing()
		served <- err
	}()
	tested, ok := false, r.awaitList(pctx)
	if ok {
		tested, ok = r.awaitReachable(pctx)
	}
	if ok && r.publishUntilAccepted(pctx) {
		close(r.publishing)
		r.announce(tested)
		if !tested {
			r.testLater(pctx)
		}
	}
	return <-served
}

// listener is cfg.Listener, or a new one on cfg.Listen.
func (cfg Config) listener() (net.Listener, error) {
	if cfg.Listener != nil {
		return cfg.Listener, nil
	}
	if cfg.Listen == "" {
		return nil, errors.New("relay: Listen or Listener is required")
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("relay listen: %w", err)
	}
	return ln, nil
}

// publishUntilAccepted publishes the descriptor until the directory accepts
// it (true) or ctx ends (false), waiting longer after each failure.
func (r *Relay) publishUntilAccepted(ctx context.Context) bool {
	for wait := publishFirstWait; ; wait = min(2*wait, publishMaxWait) {
		actx, cancel := context.WithTimeout(ctx, publishAttemptTimeout)
		err := r.Publish(actx)
		cancel()
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		r.cfg.Logger.Warn("publishing descriptor failed; retrying", "err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

// awaitList waits until the relay list first verifies (true) or ctx ends
// (false); Serve fetches it, logging each failure.
func (r *Relay) awaitList(ctx context.Context) bool {
	if r.list == nil {
		return true
	}
	select {
	case <-r.list.first:
		return true
	case <-ctx.Done():
		return false
	}
}

// announce logs that the relay runs and tells cfg.Ready.
func (r *Relay) announce(tested bool) {
	r.cfg.Logger.Info("relay running", "nickname", r.cfg.Nickname, "fingerprint", r.fp,
		"address", r.cfg.Address, "reachable", reachWord(tested), "exit", r.cfg.Exit, "exit_policy", r.cfg.Policy.String())
	if r.cfg.Ready != nil {
		r.cfg.Ready(Info{Addr: r.cfg.Address, Fingerprint: r.fp, Nickname: r.cfg.Nickname, Reachable: tested})
	}
}
