package relay

// The reachability self-test (PROTOCOL.md §3.3, the connect-back; §7.3,
// start-up). Before it publishes, a relay checks that others can reach it
// at the address it publishes, as Tor's relays do: it opens a one-hop
// circuit to a listed relay (the tester), as a client would, and asks it
// to extend back to this relay's own address. The tester dials that
// address; the circuit is extended only if this relay's listener answers
// with this relay's onion key.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"time"

	"onion/onion"
	"onion/onion/circuit"
)

// Self-test timings and bounds.
const (
	// reachAttemptTimeout bounds one test through one tester: longer than
	// the tester's own bound on the extend (DefaultExtendTimeout), so that
	// its answer, EXTEND_FAILED included, arrives first.
	reachAttemptTimeout = DefaultExtendTimeout + 5*time.Second
	// reachTesters is how many listed relays one round asks before it
	// counts as untested: one may be down or too old for the connect-back.
	reachTesters = 3
	// A failed or untested round is repeated after reachFirstWait,
	// doubling up to reachMaxWait.
	reachFirstWait = 5 * time.Second
	reachMaxWait   = 5 * time.Minute
)

// reachCheck is what an operator should check when the test fails.
const reachCheck = "that a firewall lets TCP in to this port, that --address is this host's public IP address and port, " +
	"and that a NAT forwards that port to --listen"

// reachResult is one round's verdict.
type reachResult int

const (
	reachable   reachResult = iota
	unreachable             // a tester dialled the address and got no answer from this relay
	untested                // no tester could run the test
)

// Why a round could not test: no other relay is listed yet; the address
// is a host name, which no relay connects back to (§3.3).
var (
	errNoTester = errors.New("no other relay is listed yet")
	errNameAddr = errors.New("the self-test needs an IP address in --address, not a host name")
)

// selfTest runs one round: it asks up to reachTesters listed relays, in
// random order, until one gives a verdict.
func (r *Relay) selfTest(ctx context.Context) (reachResult, string, error) {
	if err := r.untestable(); err != nil {
		return untested, "", err
	}
	testers := r.testers()
	if len(testers) == 0 {
		return untested, "", errNoTester
	}
	var errs []error
	for _, t := range testers[:min(len(testers), reachTesters)] {
		fp := onion.Fingerprint(t.IdentityKey)
		res, err := r.testVia(ctx, t)
		if res != untested || ctx.Err() != nil {
			return res, fp, err
		}
		errs = append(errs, fmt.Errorf("via %s: %w", fp, err))
	}
	return untested, "", errors.Join(errs...)
}

// testers is the listed relays other than this one, shuffled.
func (r *Relay) testers() []onion.RelayDescriptor {
	if r.list == nil {
		return nil
	}
	var out []onion.RelayDescriptor
	for _, d := range r.list.listed() {
		if onion.Fingerprint(d.IdentityKey) != r.fp {
			out = append(out, d)
		}
	}
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err == nil {
			out[i], out[j.Int64()] = out[j.Int64()], out[i]
		}
	}
	return out
}

// testVia runs the test through tester t: a one-hop circuit to t, from a
// link of this relay's own as a client's (so its circuit ids lack
// relayCircBit), then EXTEND back to this relay's address.
func (r *Relay) testVia(ctx context.Context, t onion.RelayDescriptor) (reachResult, error) {
	ctx, cancel := context.WithTimeout(ctx, reachAttemptTimeout)
	defer cancel()
	// The tester is pinned by its listed key, as a client pins a first hop.
	conn, err := r.dialLink(ctx, t.Address, t.IdentityKey)
	if err != nil {
		return untested, fmt.Errorf("link to tester: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() }) // the preface has its own bound only
	defer stop()
	cl, err := circuit.NewClientLink(conn, r.logger, r.cfg.Rand)
	if err != nil {
		return untested, fmt.Errorf("link to tester: %w", err)
	}
	defer cl.Close()
	c, err := cl.Create(ctx, circuit.Hop{Address: t.Address, IdentityKey: t.IdentityKey, OnionKey: t.OnionKey})
	if err != nil {
		return untested, fmt.Errorf("circuit to tester: %w", err)
	}
	defer c.Close()
	self := circuit.Hop{Address: r.cfg.Address, IdentityKey: r.keys.ID, OnionKey: r.cfg.OnionKey.PublicKey().Bytes()}
	err = c.Extend(ctx, self)
	var failed *circuit.ExtendError
	switch {
	case err == nil:
		return reachable, nil
	case errors.As(err, &failed) && failed.Reason == onion.DestroyNotListed:
		// The tester does not know the connect-back (an older relay), or
		// this relay's links leave from another IP than its address's.
		return untested, fmt.Errorf("tester refused to connect back (an older relay, or this host's connections leave from another IP than --address's): %w", err)
	case errors.As(err, &failed) && failed.Reason == onion.DestroyResource:
		return untested, err
	}
	return unreachable, err
}
