package pathsim

// Measuring end-to-end compromise by drawing circuits.

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Measured is the outcome of drawing circuits.
type Measured struct {
	Circuits, Compromised int
}

// Fraction is the share of circuits whose first hop and exit were both the
// attacker's.
func (m Measured) Fraction() float64 {
	if m.Circuits == 0 {
		return 0
	}
	return float64(m.Compromised) / float64(m.Circuits)
}

// StdErr is the binomial standard error of Fraction about expectation p.
func (m Measured) StdErr(p float64) float64 {
	if m.Circuits == 0 {
		return 0
	}
	return math.Sqrt(p * (1 - p) / float64(m.Circuits))
}

// Circuits draws n circuits without guards (a fresh first hop each) and
// counts those the attacker holds at both ends.
func Circuits(sel Selector, relays []Relay, n int, rng *rand.Rand) (Measured, error) {
	m := Measured{Circuits: n}
	for range n {
		p, err := sel.Path(nil, rng)
		if err != nil {
			return Measured{}, fmt.Errorf("circuit %d: %w", m.Circuits, err)
		}
		if relays[p[0]].Attacker && relays[p[2]].Attacker {
			m.Compromised++
		}
	}
	return m, nil
}
