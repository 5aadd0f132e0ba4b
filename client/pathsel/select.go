package pathsel

// Choosing a path (PROTOCOL.md §8.5).

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"sort"

	"onion/onion"
)

// PathLen is the number of hops of every path.
const PathLen = 3

// Errors from Select. Every error wraps ErrNoPath.
var (
	// ErrNoPath means the list cannot make a path under the rules.
	ErrNoPath = errors.New("pathsel: no path")
	// ErrNoExit means no exit in the list allows the requested port (or,
	// with the other rules, none can end a path).
	ErrNoExit = fmt.Errorf("%w: no usable exit", ErrNoPath)
	// ErrNoExitForPort means no exit's policy summary allows the
	// requested port (it wraps ErrNoExit).
	ErrNoExitForPort = fmt.Errorf("%w for the port", ErrNoExit)
	// ErrGuardsUnusable means none of Options.Guards can start a path.
	ErrGuardsUnusable = fmt.Errorf("%w: no entry guard can start a path", ErrNoPath)
)

// Rand returns a uniform integer in [0, n), n > 0.
type Rand func(n int64) int64

// CryptoRand is a Rand from crypto/rand; it panics if the system's
// entropy source fails.
func CryptoRand(n int64) int64 {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		panic("pathsel: entropy source failed: " + err.Error())
	}
	return v.Int64()
}

// Options are the constraints on one path. The zero value asks for any
// exit, no guards, the subnet rule on.
type Options struct {
	// Lab turns the subnet rule off (a test network on one machine).
	Lab bool
	// Port, if not 0, is the destination port the exit's policy summary
	// must allow. Addr, if valid, is the destination address literal
	// (kept for rules a summary can express; summaries today say ports
	// only, the exit judges the address).
	Port uint16
	Addr netip.Addr
	// Last, if not nil, is the last hop (a meeting relay): it need not be
	// an exit nor be in the list, and Port does not apply to it.
	Last *onion.RelayDescriptor
	// Guards, if not empty, are the candidate first hops in order: the
	// path starts at the first one with which the rules can complete it,
	// and Select fails with ErrGuardsUnusable if none can.
	Guards []onion.RelayDescriptor
	// Avoid, if not nil, names relays (by fingerprint) to use in a
	// position only when no other relay can take it: suspects.
	Avoid func(fp string) bool
}

// List is a relay list indexed for selection. It is read-only after New
// and safe for concurrent use.
type List struct {
	nodes   []node
	weights Weights
	// cumulative weights for the two positions, for sampling by bisection
	cum [2][]float64
}

// New indexes relays. The slice is not retained.
func New(relays []onion.RelayDescriptor) *List {
	l := &List{nodes: make([]node, len(relays))}
	for i, d := range relays {
		l.nodes[i] = newNode(d)
	}
	l.weights = positionWeights(l.nodes, PathLen)
	for p := range l.cum {
		c := make([]float64, len(l.nodes))
		sum := 0.0
		for i := range l.nodes {
			sum += l.weights.of(&l.nodes[i].d, position(p))
			c[i] = sum
		}
		l.cum[p] = c
	}
	return l
}

// Weights are the list's position weights.
func (l *List) Weights() Weights { return l.weights }

// Len is the number of relays.
func (l *List) Len() int { return len(l.nodes) }

// Select chooses a path from relays; see List.Select.
func Select(relays []onion.RelayDescriptor, opt Options, rng Rand) ([]onion.RelayDescriptor, error) {
	return New(relays).Select(opt, rng)
}

// PickGuard chooses a guard from relays; see List.PickGuard.
func PickGuard(relays []onion.RelayDescriptor, exclude func(fp string) bool, rng Rand) (onion.RelayDescriptor, bool) {
	return New(relays).PickGuard(exclude, rng)
}

// PickGuard draws one relay weighted for the guard position, skipping
// those exclude names (nil: none); false if none is left.
func (l *List) PickGuard(exclude func(fp string) bool, rng Rand) (onion.RelayDescriptor, bool) {
	i := l.pick(posOther, rng, func(n *node) bool { return exclude == nil || !exclude(n.fp) })
	if i < 0 {
		return onion.RelayDescriptor{}, false
	}
	return l.nodes[i].d, true
}

// Select chooses PathLen relays: first hop, middle, exit (or opt.Last).
// Without guards it draws the exit first (the scarcest position), then
// the first hop, then the middle, each weighted for its position among
// the relays that the rules allow beside those already chosen. With
// guards, the first hop is the first guard that completes a path.
func (l *List) Select(opt Options, rng Rand) ([]onion.RelayDescriptor, error) {
	var last *node
	if opt.Last != nil {
		n := newNode(*opt.Last)
		last = &n
	}
	if len(opt.Guards) == 0 {
		return l.selectFrom(nil, last, opt, rng)
	}
	var err error
	for _, g := range opt.Guards {
		gn := newNode(g)
		var path []onion.RelayDescriptor
		if path, err = l.selectFrom(&gn, last, opt, rng); err == nil {
			return path, nil
		}
	}
	return nil, fmt.Errorf("%w (%d guards; last: %v)", ErrGuardsUnusable, len(opt.Guards), err)
}

// selectFrom completes a path from a given first hop and last hop, either
// of which may be nil.
func (l *List) selectFrom(first, last *node, opt Options, rng Rand) ([]onion.RelayDescriptor, error) {
	var chosen []*node
	for _, n := range []*node{first, last} {
		if n != nil {
			for _, c := range chosen {
				if !n.compatible(c, opt.Lab) {
					return nil, fmt.Errorf("%w: first hop %s and last hop %s may not share a path", ErrNoPath, first.d.Nickname, last.d.Nickname)
				}
			}
			chosen = append(chosen, n)
		}
	}
	fits := func(n *node) bool {
		for _, c := range chosen {
			if !n.compatible(c, opt.Lab) {
				return false
			}
		}
		return true
	}
	if last == nil {
		exitOK := func(n *node) bool { return fits(n) && exitAllows(n, opt) }
		i := l.pickAvoiding(posExit, rng, exitOK, opt.Avoid)
		if i < 0 {
			return nil, l.noExit(opt, first)
		}
		last = &l.nodes[i]
		chosen = append(chosen, last)
	}
	if first == nil {
		i := l.pickAvoiding(posOther, rng, fits, opt.Avoid)
		if i < 0 {
			return nil, fmt.Errorf("%w: no first hop fits beside exit %s (%d relays)", ErrNoPath, last.d.Nickname, len(l.nodes))
		}
		first = &l.nodes[i]
		chosen = append(chosen, first)
	}
	i := l.pickAvoiding(posOther, rng, fits, opt.Avoid)
	if i < 0 {
		return nil, fmt.Errorf("%w: no middle fits between %s and %s (%d relays)", ErrNoPath, first.d.Nickname, last.d.Nickname, len(l.nodes))
	}
	return []onion.RelayDescriptor{first.d, l.nodes[i].d, last.d}, nil
}

func exitAllows(n *node, opt Options) bool {
	s := n.d.Summary()
	if opt.Port == 0 {
		return s.AllowsAny()
	}
	return s.Allows(opt.Port)
}

// noExit explains why no exit fits.
func (l *List) noExit(opt Options, first *node) error {
	exits, allow := 0, 0
	for i := range l.nodes {
		if l.nodes[i].d.Exit {
			exits++
			if exitAllows(&l.nodes[i], opt) {
				allow++
			}
		}
	}
	switch {
	case exits == 0:
		return fmt.Errorf("%w: the relay list has no exit", ErrNoExit)
	case allow == 0 && opt.Port != 0:
		return fmt.Errorf("%w: none of the %d exits allows port %d", ErrNoExitForPort, exits, opt.Port)
	case first != nil:
		return fmt.Errorf("%w: none of the %d exits that allow the port may share a path with first hop %s (same subnet or family, or it is the only one)", ErrNoExit, allow, first.d.Nickname)
	}
	return fmt.Errorf("%w: %d exits allow the port, none fits the path rules", ErrNoExit, allow)
}

// pickAvoiding draws from the relays ok accepts, those avoid names only
// if no other is accepted.
func (l *List) pickAvoiding(p position, rng Rand, ok func(*node) bool, avoid func(string) bool) int {
	if avoid != nil {
		if i := l.pick(p, rng, func(n *node) bool { return ok(n) && !avoid(n.fp) }); i >= 0 {
			return i
		}
	}
	return l.pick(p, rng, ok)
}

// sampleTries bounds the draws from the whole list before pick scans for
// the accepted relays (rejection sampling is exact: a draw from the
// whole distribution, kept only if accepted, is a draw from the
// distribution restricted to the accepted relays).
const sampleTries = 32

// pick draws an index weighted for position p among the relays ok
// accepts; uniformly among them if they all weigh 0; -1 if none.
func (l *List) pick(p position, rng Rand, ok func(*node) bool) int {
	cum := l.cum[p]
	if n := len(cum); n > 0 && cum[n-1] > 0 {
		for range sampleTries {
			x := uniform(rng) * cum[n-1]
			i := sort.SearchFloat64s(cum, x)
			for i < n-1 && cum[i] <= x { // skip zero-weight relays at the boundary
				i++
			}
			if i < n && ok(&l.nodes[i]) {
				return i
			}
		}
	}
	return l.scan(p, rng, ok)
}

// scan is pick by a pass over the whole list.
func (l *List) scan(p position, rng Rand, ok func(*node) bool) int {
	var idx []int
	var cum []float64
	sum := 0.0
	for i := range l.nodes {
		if ok(&l.nodes[i]) {
			sum += l.weights.of(&l.nodes[i].d, p)
			idx, cum = append(idx, i), append(cum, sum)
		}
	}
	switch {
	case len(idx) == 0:
		return -1
	case sum <= 0:
		return idx[rng(int64(len(idx)))]
	}
	x := uniform(rng) * sum
	j := sort.SearchFloat64s(cum, x)
	for j < len(cum)-1 && cum[j] <= x {
		j++
	}
	return idx[j]
}

// uniform is a float64 in [0, 1).
func uniform(rng Rand) float64 { return float64(rng(1<<53)) / (1 << 53) }
