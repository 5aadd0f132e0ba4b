package pathsim

// Path selection, behind an interface so that the simulation runs the
// client's selection code and the selection of today's client alike.

import (
	"errors"
	"math/rand/v2"
)

// Selector is path selection over one relay list, indexed as the list.
type Selector interface {
	// Path chooses a three-hop path: first hop, middle, exit. With
	// guards, the first hop is the first of them that completes a path.
	Path(guards []int, rng *rand.Rand) ([3]int, error)
	// PickGuard draws a guard for a client's guard set, skipping those
	// exclude names; false if none is left.
	PickGuard(exclude func(i int) bool, rng *rand.Rand) (int, bool)
	// Weights are each relay's selection weight as first hop and as exit
	// (unnormalised), for the closed-form expectation.
	Weights() (first, exit []float64)
	// Compatible reports whether two relays may share a path.
	Compatible(i, j int) bool
}

// NewSelector indexes a relay list for selection.
type NewSelector func(relays []Relay) Selector

// errNoPath: the list cannot make a path.
var errNoPath = errors.New("pathsim: no path")

// Uniform is the selection of the client before bandwidth weights
// (client/path.go at the start of issue 13): every relay equally likely in
// every position, exits for the exit, the first usable guard first; no
// subnet or family rule, only distinct relays.
func Uniform(relays []Relay) Selector {
	u := &uniform{n: len(relays)}
	for i, r := range relays {
		if r.Desc.Exit {
			u.exits = append(u.exits, i)
		}
	}
	return u
}

type uniform struct {
	n     int
	exits []int
}

func (u *uniform) Path(guards []int, rng *rand.Rand) ([3]int, error) {
	if u.n < 3 || len(u.exits) == 0 {
		return [3]int{}, errNoPath
	}
	first := -1
	for _, g := range guards {
		if len(u.exits) > 1 || u.exits[0] != g { // as pickGuard: never the only exit
			first = g
			break
		}
	}
	if len(guards) > 0 && first < 0 {
		return [3]int{}, errNoPath
	}
	exit := u.exits[rng.IntN(len(u.exits))]
	for exit == first {
		exit = u.exits[rng.IntN(len(u.exits))]
	}
	for first < 0 || first == exit {
		first = rng.IntN(u.n)
	}
	middle := rng.IntN(u.n)
	for middle == first || middle == exit {
		middle = rng.IntN(u.n)
	}
	return [3]int{first, middle, exit}, nil
}

func (u *uniform) PickGuard(exclude func(int) bool, rng *rand.Rand) (int, bool) {
	var rest []int
	for i := range u.n {
		if exclude == nil || !exclude(i) {
			rest = append(rest, i)
		}
	}
	if len(rest) == 0 {
		return 0, false
	}
	return rest[rng.IntN(len(rest))], true
}

func (u *uniform) Weights() (first, exit []float64) {
	first, exit = make([]float64, u.n), make([]float64, u.n)
	for i := range first {
		first[i] = 1
	}
	for _, i := range u.exits {
		exit[i] = 1
	}
	return first, exit
}

func (u *uniform) Compatible(i, j int) bool { return i != j }
