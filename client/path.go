package client

// Path selection and the telescoping build (PROTOCOL.md §3.3).

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"onion/client/pathsel"
	"onion/onion"
	"onion/onion/circuit"
)

// ErrNotEnoughRelays means the relay list cannot make a three-hop path.
var ErrNotEnoughRelays = errors.New("client: not enough relays for a three-hop circuit")

// pathLen is the number of hops of every circuit.
const pathLen = 3

// Fetching the relay list early, when it cannot make a path.
const (
	minEarlyRefresh     = 2 * time.Second
	earlyRefreshTimeout = 10 * time.Second
)

// build makes the circuit that streams with key share, to an exit that
// allows port (0: any).
func (m *Manager) build(key string, port uint16) (*circEntry, error) {
	c, path, err := m.buildCircuit(context.Background(), nil, port)
	if err != nil {
		return nil, err
	}
	id := m.newID()
	m.logger.Info("circuit built", "circ", id, "path", nicknames(path))
	return &circEntry{c: c, id: id, path: path, born: m.cfg.Now(), key: key}, nil
}

// refreshEarly fetches the relay list before its time when the list in
// hand cannot make a path (a directory that just restarted may have served
// a list its relays had not all re-published to yet), at most once per
// minEarlyRefresh. It reports whether the list was refreshed.
func (m *Manager) refreshEarly(ctx context.Context) bool {
	now := m.cfg.Now()
	m.mu.Lock()
	due := now.Sub(m.lastEarly) >= minEarlyRefresh
	if due {
		m.lastEarly = now
	}
	m.mu.Unlock()
	if !due {
		return false
	}
	rctx, cancel := context.WithTimeout(ctx, earlyRefreshTimeout)
	defer cancel()
	if err := m.Refresh(rctx); err != nil {
		m.logger.Info("relay list cannot make a path; fetching it again failed", "err", err)
		return false
	}
	m.logger.Info("relay list could not make a path; fetched it again")
	return true
}

func (m *Manager) newID() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.nextID
	m.nextID++
	return id
}

// BuildCircuit builds a fresh circuit. If last is not nil it is the last
// hop (a meeting relay, say) and need not be an exit; otherwise the last
// hop is a random exit. When a build fails it avoids the relay that failed
// for a while and tries another path, up to BuildAttempts in all, but
// never another last hop that was given.
func (m *Manager) BuildCircuit(ctx context.Context, last *onion.RelayDescriptor) (*circuit.Circuit, []onion.RelayDescriptor, error) {
	return m.buildCircuit(ctx, last, 0)
}

// buildCircuit is BuildCircuit with an exit that allows port (0: any)
// when last is nil.
func (m *Manager) buildCircuit(ctx context.Context, last *onion.RelayDescriptor, port uint16) (*circuit.Circuit, []onion.RelayDescriptor, error) {
	var lastErr error
	for attempt := 1; attempt <= m.cfg.BuildAttempts; attempt++ {
		path, err := m.pickPath(last, port)
		if errors.Is(err, ErrNotEnoughRelays) && m.refreshEarly(ctx) {
			path, err = m.pickPath(last, port)
		}
		if err != nil {
			if lastErr != nil {
				return nil, nil, fmt.Errorf("%w (last build error: %v)", err, lastErr)
			}
			return nil, nil, err
		}
		bctx, cancel := context.WithTimeout(ctx, m.cfg.BuildTimeout)
		start := time.Now()
		c, failed, err := m.buildPath(bctx, path)
		cancel()
		if m.cfg.OnBuild != nil {
			m.cfg.OnBuild(time.Since(start), err)
		}
		if err == nil {
			return c, path, nil
		}
		lastErr = err
		if last != nil && failed == len(path)-1 {
			return nil, nil, err // the given last hop itself failed
		}
		bad := path[failed]
		m.logger.Info("circuit build failed; trying another path", "attempt", attempt,
			"hop", failed+1, "relay", bad.Nickname, "fingerprint", bad.Fingerprint(), "err", err)
		m.blame(path, failed, err)
		if ctx.Err() != nil {
			return nil, nil, err
		}
	}
	return nil, nil, fmt.Errorf("client: no circuit after %d attempts: %w", m.cfg.BuildAttempts, lastErr)
}

// blame avoids the relay at which a build failed. When the hop before it
// could not reach it (EXTEND_FAILED "could not reach next relay"), either
// may be at fault: the next relay is down, or the one before cannot reach
// its address (an IPv6-only relay and an IPv4 address, a firewall). Both
// are then suspects, avoided while others can take their place, so that
// one relay with a partial view of the network cannot take healthy
// relays out of every path. A suspect that a relay fails to reach again
// is down, as is the relay of any other failure.
func (m *Manager) blame(path []onion.RelayDescriptor, failed int, err error) {
	bad := path[failed].Fingerprint()
	var ee *circuit.ExtendError
	if failed > 0 && errors.As(err, &ee) && ee.Reason == onion.DestroyConnectFail {
		prev := path[failed-1].Fingerprint()
		if m.isSuspect(bad) { // a second failure to reach it, from whichever relay
			m.markDown(bad)
			return
		}
		m.markSuspect(prev)
		m.markSuspect(bad)
		return
	}
	m.markDown(bad)
}

func (m *Manager) isSuspect(fp string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	until, ok := m.suspect[fp]
	return ok && m.cfg.Now().Before(until)
}

// Relays is the current verified relay list.
func (m *Manager) Relays() []onion.RelayDescriptor {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]onion.RelayDescriptor(nil), m.relays...)
}

// buildPath builds through path; on failure it reports which hop failed.
func (m *Manager) buildPath(ctx context.Context, path []onion.RelayDescriptor) (*circuit.Circuit, int, error) {
	cl, err := m.link(ctx, path[0])
	if err != nil {
		return nil, 0, fmt.Errorf("connect to first hop: %w", err)
	}
	c, err := cl.Create(ctx, hop(path[0]))
	if err != nil {
		return nil, 0, err
	}
	for i := 1; i < len(path); i++ {
		if err := c.Extend(ctx, hop(path[i])); err != nil {
			c.Close()
			return nil, i, err
		}
	}
	return c, 0, nil
}

func hop(d onion.RelayDescriptor) circuit.Hop {
	return circuit.Hop{Address: d.Address, IdentityKey: d.IdentityKey, OnionKey: d.OnionKey}
}

// guardCandidates are the guards that may start a path, in order: the
// usable guards not suspect, then the suspect ones (a suspect guard
// rather than a relay outside the guard set: guards exist so that
// failures do not walk the first hop). Nil without a guard set.
func (m *Manager) guardCandidates(usable []onion.RelayDescriptor, suspect map[string]bool) []onion.RelayDescriptor {
	if m.cfg.Guards == nil {
		return nil
	}
	guards := m.cfg.Guards.usable(m.Relays(), usable, m.cfg.Now(), m.rand64, m.logger)
	var clean, suspects []onion.RelayDescriptor
	for _, g := range guards {
		if suspect[g.Fingerprint()] {
			suspects = append(suspects, g)
		} else {
			clean = append(clean, g)
		}
	}
	return append(clean, suspects...)
}

// pickPathTo is pickPath to any port.
func (m *Manager) pickPathTo(last *onion.RelayDescriptor) ([]onion.RelayDescriptor, error) {
	return m.pickPath(last, 0)
}

// pickPath chooses three relays by the path rules (client/pathsel,
// PROTOCOL.md §8.5): the last one given or else an exit whose policy
// summary allows port (0: any), starting at a guard when the manager
// keeps guards. Suspects (of tampering, or of not reaching the next
// relay) are avoided in each position where another relay can take their
// place: a network of few relays would otherwise be left with none, and
// falling back to suspects everywhere would send the next build through
// the very pair that failed.
func (m *Manager) pickPath(last *onion.RelayDescriptor, port uint16) ([]onion.RelayDescriptor, error) {
	usable, exits := m.usable(false)
	n := len(usable)
	if last != nil {
		exits = []onion.RelayDescriptor{*last}
		if !slices.ContainsFunc(usable, func(d onion.RelayDescriptor) bool { return d.Fingerprint() == last.Fingerprint() }) {
			n++ // it may be down for us, but it is the service's choice
		}
	}
	if n < pathLen || len(exits) == 0 {
		return nil, fmt.Errorf("%w: %d usable relays, %d exits", ErrNotEnoughRelays, n, len(exits))
	}
	suspect := m.suspects()
	opt := pathsel.Options{Lab: m.cfg.Lab, Port: port, Last: last, Avoid: func(fp string) bool { return suspect[fp] }}
	list := pathsel.New(usable)
	if opt.Guards = m.guardCandidates(usable, suspect); len(opt.Guards) > 0 {
		path, err := list.Select(opt, m.rand64)
		if err == nil {
			m.cfg.Guards.served()
			return path, nil
		}
		if !errors.Is(err, pathsel.ErrGuardsUnusable) {
			return nil, pathError(err)
		}
		opt.Guards = nil
	}
	path, err := list.Select(opt, m.rand64)
	if err != nil {
		return nil, pathError(err)
	}
	if m.cfg.Guards != nil {
		m.cfg.Guards.fellBackOnce(m.logger)
	}
	return path, nil
}

// pathError is a pathsel error as the manager reports it: a list that
// cannot make a path is ErrNotEnoughRelays (fetched again early), an exit
// policy that allows no exit the port is an OpenError the SOCKS client
// sees as "not allowed".
func pathError(err error) error {
	if errors.Is(err, pathsel.ErrNoExitForPort) {
		return &OpenError{Reason: onion.EndExitPolicy, Err: err}
	}
	return fmt.Errorf("%w: %w", ErrNotEnoughRelays, err)
}

// suspects are the relays suspect now.
func (m *Manager) suspects() map[string]bool {
	now := m.cfg.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]bool, len(m.suspect))
	for fp, until := range m.suspect {
		if now.Before(until) {
			out[fp] = true
		}
	}
	return out
}

// rand64 is a pathsel.Rand from Config.Rand.
func (m *Manager) rand64(n int64) int64 {
	r := m.cfg.Rand
	if r == nil {
		r = rand.Reader
	}
	v, err := rand.Int(r, big.NewInt(n))
	if err != nil {
		panic("client: entropy source failed: " + err.Error())
	}
	return v.Int64()
}

func (m *Manager) randIntn(n int) int { return int(m.rand64(int64(n))) }

// usable lists the relays not down, and not suspect if avoidSuspects.
func (m *Manager) usable(avoidSuspects bool) (usable, exits []onion.RelayDescriptor) {
	now := m.cfg.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.listExpiredLocked(now) {
		return nil, nil
	}
	for _, d := range m.relays {
		fp := d.Fingerprint()
		if until, ok := m.down[fp]; ok && now.Before(until) {
			continue
		}
		if until, ok := m.suspect[fp]; avoidSuspects && ok && now.Before(until) {
			continue
		}
		usable = append(usable, d)
		if d.Exit {
			exits = append(exits, d)
		}
	}
	return usable, exits
}

// markSuspect avoids a relay while others can take its place.
func (m *Manager) markSuspect(fp string) {
	m.mu.Lock()
	m.suspect[fp] = m.cfg.Now().Add(relayDownFor)
	m.mu.Unlock()
}

func (m *Manager) markDown(fp string) {
	m.mu.Lock()
	m.down[fp] = m.cfg.Now().Add(relayDownFor)
	m.mu.Unlock()
}

func nicknames(path []onion.RelayDescriptor) []string {
	out := make([]string, len(path))
	for i, d := range path {
		out[i] = d.Nickname
	}
	return out
}
