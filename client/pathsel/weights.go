package pathsel

// Bandwidth weights by position (PROTOCOL.md §8.5).

import "onion/onion"

// Weight is d's selection weight: the weight the authorities put on the
// list. A relay without one (0) is chosen only where every candidate has
// none, and then uniformly: a list from authorities that give no weights
// is drawn uniformly.
func Weight(d *onion.RelayDescriptor) int64 { return d.Weight }

// Weights are a list's position weights, Tor's in spirit with no Guard
// flag: every circuit has one exit and Len−1 other hops, so exits should
// carry 1/Len of the traffic of every position together. With W the total
// weight and E the exits' total: an exit weighs its weight in the exit
// position, and ExitElsewhere × its weight in the others, where
// ExitElsewhere = (Len·E − W)/(Len·E) when Len·E > W (the exits' capacity
// beyond what the exit position needs) and 0 otherwise (exits are scarce:
// they serve as exits only). A relay that is not an exit weighs its weight
// in the non-exit positions and 0 as exit.
type Weights struct {
	Total, Exits  int64   // W and E
	ExitElsewhere float64 // the factor on an exit's weight as guard or middle
}

func positionWeights(nodes []node, pathLen int) Weights {
	var w Weights
	for i := range nodes {
		wt := Weight(&nodes[i].d)
		w.Total += wt
		if nodes[i].d.Exit {
			w.Exits += wt
		}
	}
	le := float64(pathLen) * float64(w.Exits)
	if le > float64(w.Total) {
		w.ExitElsewhere = (le - float64(w.Total)) / le
	}
	return w
}

// position is where in a path a relay goes.
type position int

const (
	posOther position = iota // guard or middle
	posExit
)

func (w Weights) of(d *onion.RelayDescriptor, p position) float64 {
	wt := float64(Weight(d))
	switch {
	case p == posExit && !d.Exit:
		return 0
	case p == posOther && d.Exit:
		return wt * w.ExitElsewhere
	}
	return wt
}
