package relay

// When a relay runs its reachability self-test (reach.go) and what it logs:
// before its first publication, and later if it had to publish untested
// (PROTOCOL.md §7.3, "A relay's start-up").

import (
	"context"
	"errors"
	"net"
	"net/netip"
)

// awaitReachable runs the self-test before the first publication and
// reports whether it passed (tested); ok is false only if ctx ended. A
// relay found unreachable does not go on: it logs a warning and tests
// again, waiting reachFirstWait doubling to reachMaxWait. One that no
// relay can test yet (none other is listed: the first relays of a
// network) goes on untested, and testLater tests it once one can.
func (r *Relay) awaitReachable(ctx context.Context) (tested, ok bool) {
	if r.list == nil {
		return false, true // no list, no tester (tests)
	}
	for wait := reachFirstWait; ; wait = min(2*wait, reachMaxWait) {
		res, via, err := r.selfTest(ctx)
		if ctx.Err() != nil {
			return false, false
		}
		switch res {
		case reachable:
			r.logReachable(via)
			return true, true
		case untested:
			r.logUntested(err, true)
			return false, true
		}
		r.logger.Warn("relay is not reachable at its address: not publishing until it is",
			"address", r.cfg.Address, "via", via, "err", err, "check", reachCheck, "retry_in", wait)
		if !pause(ctx, wait) {
			return false, false
		}
	}
}

// testLater tests a relay that published untested, on a fresh list each
// time, until the test passes or ctx ends: first after reachFirstWait,
// then doubling up to reachMaxWait. A relay found unreachable then stays
// published and says so at each try: the directory cannot be asked to
// forget a descriptor before it expires anyway, and clients avoid a relay
// that fails their builds for a while.
func (r *Relay) testLater(ctx context.Context) {
	if r.list == nil || errors.Is(r.untestable(), errNameAddr) {
		return // awaitReachable said why, once
	}
	for wait := reachFirstWait; ; wait = min(2*wait, reachMaxWait) {
		if !pause(ctx, wait) {
			return
		}
		r.list.refresh(ctx)
		res, via, err := r.selfTest(ctx)
		if ctx.Err() != nil {
			return
		}
		switch res {
		case reachable:
			r.logReachable(via)
			return
		case unreachable:
			r.logger.Warn("relay is not reachable at its address, though published: circuits through it will fail",
				"address", r.cfg.Address, "via", via, "err", err, "check", reachCheck, "retry_in", wait)
		default:
			r.logUntested(err, false)
		}
	}
}

func (r *Relay) logReachable(via string) {
	r.logger.Info("reachability self-test passed: a listed relay reached this one at its address",
		"address", r.cfg.Address, "via", via)
}

// logUntested says why the test could not run: at info when no other
// relay is listed yet (the first relays of every network), else as a
// warning. Later rounds with no tester log at debug.
func (r *Relay) logUntested(err error, first bool) {
	switch {
	case errors.Is(err, errNameAddr):
		r.logger.Warn("publishing untested: the reachability self-test needs an IP address in --address (relays connect back to IP addresses only)",
			"address", r.cfg.Address)
	case !errors.Is(err, errNoTester) && first:
		r.logger.Warn("could not run the reachability self-test: publishing untested, testing again later", "err", err)
	case !errors.Is(err, errNoTester):
		r.logger.Warn("could not run the reachability self-test; testing again later", "err", err)
	case first:
		r.logger.Info("no other relay is listed yet: publishing untested; the reachability self-test runs once one is",
			"address", r.cfg.Address)
	default:
		r.logger.Debug("reachability self-test: still no other relay listed")
	}
}

// reachWord is the ready line's word for the self-test's outcome.
func reachWord(tested bool) string {
	if tested {
		return "yes"
	}
	return "untested"
}

// untestable is why no self-test can ever run for this relay, or nil.
func (r *Relay) untestable() error {
	host, _, _ := net.SplitHostPort(r.cfg.Address)
	if _, err := netip.ParseAddr(host); err != nil {
		return errNameAddr
	}
	return nil
}
