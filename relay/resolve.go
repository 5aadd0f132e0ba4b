package relay

// RESOLVE at the exit (PROTOCOL.md §5.5): the exit resolves the name a
// client sends, with its own resolver, and answers RESOLVED on the same
// stream id, keeping no stream. Answers pass the exit policy as a BEGIN's
// address would: under reject-private a name that resolves only to
// private addresses gets a permanent error, and a reverse lookup of a
// private address is refused, so that an exit's network is not mapped
// through it. The resolver gives no TTL: answers carry resolvedTTL.

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"

	"onion/onion"
)

// ExitResolver looks names up for RESOLVE; *net.Resolver is one.
type ExitResolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

const (
	resolvedTTL   = 60 // seconds
	maxResolvedIP = 16 // answers in one RESOLVED
)

func (c *relayCirc) resolve(m onion.RelayMsg) error {
	if m.Stream == 0 {
		return errors.New("RESOLVE on stream 0")
	}
	name, err := onion.ParseResolve(m.Body)
	if err != nil {
		return err
	}
	c.mu.Lock()
	notLast := c.next != nil || c.extending
	c.mu.Unlock()
	if notLast {
		return errors.New("RESOLVE on a relay that is not the last hop")
	}
	if !c.r.cfg.Exit {
		c.r.logger.Info("refused RESOLVE: not an exit", "circ", c.prevID, "stream", m.Stream)
		c.refuse(m.Stream, onion.EndExitPolicy)
		return nil
	}
	p := c.prev.peer
	if err := c.r.exitConns.take(p, c.r.bounds.exitConns); err != nil {
		c.r.refused("refused RESOLVE", err, "circ", c.prevID, "stream", m.Stream)
		c.refuse(m.Stream, onion.EndResource)
		return nil
	}
	c.r.wg.Add(1)
	go func() {
		defer c.r.wg.Done()
		defer c.r.exitConns.give(p)
		answers := c.lookup(name)
		body, err := onion.MarshalResolved(answers)
		if err != nil { // a name the resolver returned that cannot be sent
			body, _ = onion.MarshalResolved([]onion.ResolvedAnswer{{Type: onion.ResolvedErrPermanent}})
		}
		c.SendMsg(onion.RelayMsg{Cmd: onion.RelayResolved, Stream: m.Stream, Body: body})
	}()
	return nil
}

// lookup resolves name, or the address of a reverse name, under the exit
// policy. It never fails: an error is an answer.
func (c *relayCirc) lookup(name string) []onion.ResolvedAnswer {
	log := c.r.logger.With("circ", c.prevID)
	ctx, cancel := context.WithTimeout(context.Background(), c.r.cfg.ConnectTimeout)
	defer cancel()
	allowed := func(a netip.Addr) bool { return c.r.cfg.Policy.Allow(netip.AddrPortFrom(a.Unmap(), 0)) }
	if onion.IsOnionHost(name) {
		return resolvedErr(nil)
	}
	if addr, ok := onion.ParseReverseName(name); ok {
		if !allowed(addr) {
			log.Debug("RESOLVE_PTR refused by exit policy")
			return resolvedErr(nil)
		}
		names, err := c.r.cfg.Resolver.LookupAddr(ctx, addr.String())
		if err != nil || len(names) == 0 {
			log.Debug("exit reverse lookup failed", "err", err)
			return resolvedErr(err)
		}
		return []onion.ResolvedAnswer{{Type: onion.ResolvedHostname, Name: strings.TrimSuffix(names[0], "."), TTL: resolvedTTL}}
	}
	addrs, err := c.r.cfg.Resolver.LookupNetIP(ctx, "ip", name)
	if err != nil {
		log.Debug("exit lookup failed", "err", err)
		return resolvedErr(err)
	}
	var out []onion.ResolvedAnswer
	for _, a := range addrs {
		a = a.Unmap()
		if !allowed(a) || len(out) == maxResolvedIP {
			continue
		}
		t := onion.ResolvedIPv6
		if a.Is4() {
			t = onion.ResolvedIPv4
		}
		out = append(out, onion.ResolvedAnswer{Type: t, Addr: a, TTL: resolvedTTL})
	}
	if len(out) == 0 {
		log.Debug("RESOLVE answers refused by exit policy")
		return resolvedErr(nil)
	}
	return out
}

// resolvedErr is the error answer for err: transient for a timeout or a
// resolver that could not answer, permanent otherwise (no such name,
// refused by policy).
func resolvedErr(err error) []onion.ResolvedAnswer {
	t := onion.ResolvedErrPermanent
	var de *net.DNSError
	if errors.As(err, &de) && (de.IsTimeout || de.IsTemporary) && !de.IsNotFound ||
		errors.Is(err, context.DeadlineExceeded) {
		t = onion.ResolvedErrTransient
	}
	return []onion.ResolvedAnswer{{Type: t}}
}
