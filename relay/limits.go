package relay

// What one peer can make a relay hold (PROTOCOL.md §9). Every resource a
// peer can grow has a bound for the relay as a whole and a smaller share
// per peer, so that one client, however many connections it opens, cannot
// take all of it and deny it to others.

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"onion/onion"
	"onion/onion/circuit"
)

// Defaults of Limits.
const (
	DefaultMaxLinks                  = 4096
	DefaultMaxLinksPerPeer           = 64
	DefaultMaxHandshakes             = 512
	DefaultMaxHandshakesPerPeer      = 16
	DefaultHandshakeTimeout          = 10 * time.Second
	DefaultBusyLinkTimeout           = time.Hour
	DefaultMaxCircuitsPerPeer        = 8192
	DefaultMaxNextCircuitsPerPeer    = 1024
	DefaultMaxExitConns              = 4096
	DefaultMaxExitConnsPerPeer       = 1024
	DefaultMaxExitBuffered           = 256 << 20
	DefaultMaxExitBufferedPerCircuit = 8 << 20
	DefaultMaxJoinsPerPeer           = 512
)

// Limits bound what peers can make a relay hold. A peer is the remote IP
// address of an inbound link (for IPv6 its /64, which one subscriber
// usually holds whole); at an exit or a meeting point it is the previous
// hop's, so through a middle relay many clients share one. Zero fields take
// the defaults; a negative per-peer bound turns that share off.
type Limits struct {
	// NoPeerShares turns every per-peer share off, leaving the bounds for
	// all peers: for a network on one machine (`onion up`), where every
	// client and relay is 127.0.0.1 and shares would only lump them together.
	NoPeerShares bool

	// Inbound connections from accept on, preface done or not, and how
	// many of them may still be in the preface exchange, which must end
	// within HandshakeTimeout.
	MaxLinks, MaxLinksPerPeer           int
	MaxHandshakes, MaxHandshakesPerPeer int
	HandshakeTimeout                    time.Duration

	// BusyLinkTimeout closes an inbound link that carries circuits but no
	// cell either way for this long. The proxy retires a circuit with no
	// streams after 10 min, so only a stream silent for the whole time (or
	// an unvisited hidden service's meeting circuit) meets it.
	BusyLinkTimeout time.Duration

	// Circuits per peer at this relay (with Config.MaxCircuits for all),
	// and per peer on each link to a next relay (whose whole is
	// circuit.MaxCircuitsPerLink): one client cannot fill the link that
	// every client of a pair of relays shares.
	MaxCircuitsPerPeer, MaxNextCircuitsPerPeer int

	// Exit connections open or being opened, and the bytes DATA holds at
	// the exit while a destination does not read them. Past the whole,
	// a circuit may still add up to its fair share of it.
	MaxExitConns, MaxExitConnsPerPeer          int
	MaxExitBuffered, MaxExitBufferedPerCircuit int64

	// Clients joined to one service circuit from one peer (with
	// MaxJoinsPerService for all of them).
	MaxJoinsPerPeer int
}

func (l *Limits) fill() {
	if l.NoPeerShares {
		for _, v := range []*int{&l.MaxLinksPerPeer, &l.MaxHandshakesPerPeer, &l.MaxCircuitsPerPeer,
			&l.MaxNextCircuitsPerPeer, &l.MaxExitConnsPerPeer, &l.MaxJoinsPerPeer} {
			*v = -1
		}
	}
	setDefault(&l.MaxLinks, DefaultMaxLinks)
	setDefault(&l.MaxLinksPerPeer, DefaultMaxLinksPerPeer)
	setDefault(&l.MaxHandshakes, DefaultMaxHandshakes)
	setDefault(&l.MaxHandshakesPerPeer, DefaultMaxHandshakesPerPeer)
	setDefault(&l.HandshakeTimeout, DefaultHandshakeTimeout)
	setDefault(&l.BusyLinkTimeout, DefaultBusyLinkTimeout)
	setDefault(&l.MaxCircuitsPerPeer, DefaultMaxCircuitsPerPeer)
	setDefault(&l.MaxNextCircuitsPerPeer, DefaultMaxNextCircuitsPerPeer)
	setDefault(&l.MaxExitConns, DefaultMaxExitConns)
	setDefault(&l.MaxExitConnsPerPeer, DefaultMaxExitConnsPerPeer)
	setDefault(&l.MaxExitBuffered, DefaultMaxExitBuffered)
	setDefault(&l.MaxExitBufferedPerCircuit, DefaultMaxExitBufferedPerCircuit)
	setDefault(&l.MaxJoinsPerPeer, DefaultMaxJoinsPerPeer)
}

func setDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

// peer is the key a peer's shares are counted under.
type peer = netip.Addr

// peerOf is the peer behind a remote address: its IP, or its /64 for IPv6.
// Addresses that are not IP (net.Pipe in tests) are all one peer.
func peerOf(a net.Addr) peer {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return peer{}
	}
	ip := ap.Addr().Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.Addr()
	}
	return ip
}

// errLimit marks a refusal for a resource bound, as opposed to a broken peer.
var errLimit = errors.New("resource limit")

// bound is one resource's bound for all peers and its share per peer
// (negative: none).
type bound struct {
	what         string // for errors: "links", "circuits", ...
	max, perPeer int
}

// bounds are the relay's, from its Config.
type bounds struct {
	links, handshakes, circuits, next, exitConns, joins bound
}

func newBounds(cfg *Config) bounds {
	l := &cfg.Limits
	return bounds{
		links:      bound{"links", l.MaxLinks, l.MaxLinksPerPeer},
		handshakes: bound{"links in the preface exchange", l.MaxHandshakes, l.MaxHandshakesPerPeer},
		circuits:   bound{"circuits", cfg.MaxCircuits, l.MaxCircuitsPerPeer},
		next:       bound{"circuits on the link to the next relay", circuit.MaxCircuitsPerLink, l.MaxNextCircuitsPerPeer},
		exitConns:  bound{"exit connections", l.MaxExitConns, l.MaxExitConnsPerPeer},
		joins:      bound{"clients joined to one service circuit", MaxJoinsPerService, l.MaxJoinsPerPeer},
	}
}

// share counts what peers hold of one bounded resource. The zero value is
// empty.
type share struct {
	mu    sync.Mutex
	total int
	by    map[peer]int
}

// take counts one more for p, or returns an errLimit error saying which
// side of b refused it.
func (s *share) take(p peer, b bound) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.total >= b.max {
		return fmt.Errorf("%w: %d %s (all peers)", errLimit, b.max, b.what)
	}
	if b.perPeer >= 0 && s.by[p] >= b.perPeer {
		return fmt.Errorf("%w: %d %s (one peer)", errLimit, b.perPeer, b.what)
	}
	if s.by == nil {
		s.by = make(map[peer]int)
	}
	s.total++
	s.by[p]++
	return nil
}

// give undoes one take for p.
func (s *share) give(p peer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total--
	if s.by[p]--; s.by[p] <= 0 {
		delete(s.by, p)
	}
}

// extendFailReason is the reason EXTEND_FAILED gives for err.
func extendFailReason(err error) onion.DestroyReason {
	if errors.Is(err, errLimit) {
		return onion.DestroyResource
	}
	return onion.DestroyConnectFail
}

// count is how many are held, by all peers.
func (s *share) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}
