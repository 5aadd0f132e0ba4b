package localnet

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"

	"onion/internal/launch"
	"onion/internal/upinfo"
)

// startRelays starts the relays side by side (each is ready only after its
// first publish) and stops the others as soon as one fails.
func (n *network) startRelays(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n.relays = make([]*launch.Child, n.cfg.Relays)
	n.info.Relays = make([]upinfo.Relay, n.cfg.Relays)
	errs := make([]error, n.cfg.Relays)
	var wg sync.WaitGroup
	n.log.Info("starting relays", "relays", n.cfg.Relays, "exits", n.cfg.Exits)
	var ready atomic.Int32
	for i := range n.relays {
		n.relays[i] = n.relayChild(i)
		wg.Go(func() {
			if errs[i] = n.startRelay(ctx, i, &ready); errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	return firstCause(errs)
}

// relayName is the nickname, data dir and log prefix of relay i.
func relayName(i int) string { return "relay" + strconv.Itoa(i+1) }

// relayChild prepares relay i; the first cfg.Exits relays are exits.
func (n *network) relayChild(i int) *launch.Child {
	name := relayName(i)
	args := append(n.directoryFlags(), "--listen", "127.0.0.1:0",
		"--nickname", name, "--data-dir", n.subdir(name),
		"--exit-policy", "accept-all", "--publish-interval", n.cfg.PublishInterval.String(),
		// Every client and relay here is 127.0.0.1: per-peer shares would
		// lump them all together (and cap `onion bench`'s idle circuits).
		"--no-peer-shares")
	if i < n.cfg.Exits {
		args = append(args, "--exit")
	}
	return n.child(name, "relay", args...)
}

// startRelay starts relay i and fills in its slot of the info. It touches
// only slot i, so relays start concurrently without a lock.
func (n *network) startRelay(ctx context.Context, i int, started *atomic.Int32) error {
	name := relayName(i)
	ready, err := n.startPart(ctx, n.relays[i], started)
	if err == nil {
		err = need(ready, name, "addr", "fingerprint")
	}
	if err == nil {
		err = n.noteMetrics(name, ready)
	}
	if err != nil {
		return err
	}
	n.info.Relays[i] = upinfo.Relay{Nickname: name, Fingerprint: ready["fingerprint"],
		Address: ready["addr"], Exit: i < n.cfg.Exits, PID: n.relays[i].Pid()}
	return nil
}

// firstCause reports the failure that caused the others, not the
// cancellations it caused; nil if none failed.
func firstCause(errs []error) error {
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return errors.Join(errs...)
}
