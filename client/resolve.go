package client

// Resolving names at the exit (PROTOCOL.md §5.5), for Tor's SOCKS RESOLVE
// and RESOLVE_PTR: one RESOLVE on a circuit chosen as for a stream with
// the same identity, answered by the exit. Nothing is resolved here.

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"onion/onion"
	"onion/onion/circuit"
)

// ErrResolveOnion: .onion names are not resolved (they have no address;
// applications connect to them by name, as torsocks does).
var ErrResolveOnion = errors.New("client: .onion names have no address to resolve")

// ResolveError is an exit's error answer to RESOLVE.
type ResolveError struct{ Transient bool }

func (e *ResolveError) Error() string {
	if e.Transient {
		return "exit could not resolve the name now"
	}
	return "exit: no such name, or refused by its policy"
}

// Resolve asks an exit for req.Host's addresses (req.Port is ignored), or,
// with reverse, for the name of the address req.Host. req's credentials
// choose the circuit as for DialStream. The answers are the exit's,
// already filtered by its policy.
func (m *Manager) Resolve(ctx context.Context, req DialRequest, reverse bool) ([]onion.ResolvedAnswer, error) {
	name := req.Host
	if reverse {
		a, err := netip.ParseAddr(req.Host)
		if err != nil {
			return nil, fmt.Errorf("client: reverse lookup of %q: not an address", req.Host)
		}
		name = onion.ReverseName(a)
	} else if onion.IsOnionHost(name) {
		return nil, ErrResolveOnion
	}
	ce, err := m.circuitFor(ctx, isolationKey(req), 0)
	if err != nil {
		return nil, err
	}
	s, err := circuit.NewResolveStream(name)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if err := ce.c.Attach(s); err != nil {
		m.retire(ce)
		return nil, &OpenError{Reason: onion.EndUnreachable, Err: err}
	}
	s.Begin()
	select {
	case msg := <-s.Control():
		return resolvedAnswers(msg)
	case <-s.Done():
		select { // RESOLVED releases the stream as it arrives
		case msg := <-s.Control():
			return resolvedAnswers(msg)
		default:
		}
		return nil, m.streamEnded(s, nil)
	case <-ctx.Done():
		return nil, &OpenError{Reason: onion.EndTimeout, Err: ctx.Err()}
	}
}

func resolvedAnswers(msg onion.RelayMsg) ([]onion.ResolvedAnswer, error) {
	answers, err := onion.ParseResolved(msg.Body)
	if err != nil {
		return nil, err
	}
	switch answers[0].Type {
	case onion.ResolvedErrTransient:
		return nil, &ResolveError{Transient: true}
	case onion.ResolvedErrPermanent:
		return nil, &ResolveError{}
	}
	return answers, nil
}
