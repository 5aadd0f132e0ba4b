package bench

// Idle circuits built from this process with the circuit engine, straight
// to the relays of the network the run started. The proxy cannot serve
// here: it builds a circuit per isolation key on demand, at random, while
// the memory figures need many circuits held open on a known path.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"onion/linktls"
	"onion/onion"
	"onion/onion/circuit"
)

// buildConcurrency bounds the circuit builds in flight: enough to keep the
// relays busy, few enough that no build waits long on another's handshake.
const buildConcurrency = 16

// fleet is a set of idle three-hop circuits whose middle hop is always
// pinned, and whose first and last hops take turns among the others: every
// ordered pair of others in turn (pairs), so that each of them carries as
// many circuits as the next.
type fleet struct {
	pinned onion.RelayDescriptor
	others []onion.RelayDescriptor
	pairs  [][2]int
	links  map[string]*circuit.ClientLink // by first hop's address
	circs  []*circuit.Circuit
	built  func() // called after each build, for progress
}

// openFleet opens a link to every relay that can be a first hop.
func openFleet(ctx context.Context, pinned onion.RelayDescriptor, others []onion.RelayDescriptor) (*fleet, error) {
	if len(others) < 2 {
		return nil, fmt.Errorf("%d relays besides %s: a path through it needs two", len(others), pinned.Nickname)
	}
	f := &fleet{pinned: pinned, others: others, pairs: orderedPairs(len(others)),
		links: make(map[string]*circuit.ClientLink), built: func() {}}
	var d net.Dialer
	for _, o := range others {
		conn, err := d.DialContext(ctx, "tcp", o.Address)
		if err != nil {
			f.close()
			return nil, fmt.Errorf("link to %s: %w", o.Nickname, err)
		}
		tc, err := linktls.Client(ctx, conn, o.IdentityKey)
		if err != nil {
			f.close()
			return nil, fmt.Errorf("link to %s: %w", o.Nickname, err)
		}
		cl, err := circuit.NewClientLink(tc, nil, nil)
		if err != nil {
			f.close()
			return nil, fmt.Errorf("link to %s: %w", o.Nickname, err)
		}
		f.links[o.Address] = cl
	}
	return f, nil
}

// orderedPairs lists the ordered pairs of distinct indexes below k.
func orderedPairs(k int) [][2]int {
	var ps [][2]int
	for a := range k {
		for b := range k {
			if a != b {
				ps = append(ps, [2]int{a, b})
			}
		}
	}
	return ps
}

// path is the path of the i-th circuit: first, pinned, last.
func (f *fleet) path(i int) [3]onion.RelayDescriptor {
	p := f.pairs[i%len(f.pairs)]
	return [3]onion.RelayDescriptor{f.others[p[0]], f.pinned, f.others[p[1]]}
}

// grow builds n more circuits, buildConcurrency at a time, each within
// timeout. The first failure stops the others; the circuits built so far
// stay in the fleet, to be closed with it.
func (f *fleet) grow(ctx context.Context, n int, timeout time.Duration) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	start := len(f.circs)
	got := make([]*circuit.Circuit, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(buildConcurrency, n) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
				c, err := f.build(ctx, start+i, timeout)
				if err != nil {
					cancel(fmt.Errorf("circuit %d: %w", start+i+1, err))
					return
				}
				got[i] = c
				f.built()
			}
		})
	}
	wg.Wait()
	for _, c := range got {
		if c != nil {
			f.circs = append(f.circs, c)
		}
	}
	return context.Cause(ctx)
}

// build makes the i-th circuit: CREATE to the first hop, then two EXTENDs.
func (f *fleet) build(ctx context.Context, i int, timeout time.Duration) (*circuit.Circuit, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	path := f.path(i)
	c, err := f.links[path[0].Address].Create(ctx, hop(path[0]))
	if err != nil {
		return nil, fmt.Errorf("create at %s: %w", path[0].Nickname, err)
	}
	for _, d := range path[1:] {
		if err := c.Extend(ctx, hop(d)); err != nil {
			c.Close()
			return nil, fmt.Errorf("extend to %s: %w", d.Nickname, err)
		}
	}
	return c, nil
}

func hop(d onion.RelayDescriptor) circuit.Hop {
	return circuit.Hop{Address: d.Address, IdentityKey: d.IdentityKey, OnionKey: d.OnionKey}
}

// close tears down every circuit (a DESTROY to its first hop, which passes
// it on) and then the links, and reports a link that had already failed.
func (f *fleet) close() error {
	for _, c := range f.circs {
		c.Close()
	}
	f.circs = nil
	var errs []error
	for addr, cl := range f.links {
		select {
		case <-cl.Done():
			errs = append(errs, fmt.Errorf("link to %s: %w", addr, cl.Err()))
		default:
		}
		cl.Close()
	}
	return errors.Join(errs...)
}
