package pathsim

// The closed-form expectation of end-to-end compromise.

// Expectation is what a selector should give the attacker, computed from
// its own weights.
type Expectation struct {
	// GuardShare and ExitShare are the attacker's share of the first-hop
	// and exit weight.
	GuardShare, ExitShare float64
	// Product is GuardShare × ExitShare: the fraction of circuits whose
	// first hop and exit are both the attacker's if the two were drawn
	// independently.
	Product float64
	// Exact conditions on the path rules: the exit is drawn first, then
	// the first hop among the relays that may share a path with it (not
	// the same relay, nor, for the client's rules, its /16). An attacker
	// whose relays share /16s loses circuits to that rule: Exact is below
	// Product by about the share of its exit weight in the exit's /16.
	Exact float64
}

// Expect computes the expectation for relays under sel.
func Expect(sel Selector, relays []Relay) Expectation {
	first, exit := sel.Weights()
	var f, fa, e, ea float64
	for i, r := range relays {
		f, e = f+first[i], e+exit[i]
		if r.Attacker {
			fa, ea = fa+first[i], ea+exit[i]
		}
	}
	var x Expectation
	if f == 0 || e == 0 {
		return x
	}
	x.GuardShare, x.ExitShare = fa/f, ea/e
	x.Product = x.GuardShare * x.ExitShare
	for i, r := range relays {
		if !r.Attacker || exit[i] == 0 {
			continue
		}
		var fc, fac float64 // first-hop weight compatible with exit i, and the attacker's part
		for j := range relays {
			if sel.Compatible(i, j) {
				fc += first[j]
				if relays[j].Attacker {
					fac += first[j]
				}
			}
		}
		if fc > 0 {
			x.Exact += exit[i] / e * fac / fc
		}
	}
	return x
}
