package directory

// Making the consensus from the votes of one round, PROTOCOL.md §7.4.

import (
	"bytes"
	"maps"
	"slices"
	"time"

	"onion/onion"
)

// makeConsensus is the relay list of the round at validAfter: a relay is
// listed when a majority of all n authorities voted for it (an authority
// that did not vote counts against), with the newest of the descriptors
// they hold for it (ties: the smallest signature), weighted with the low
// median of the weights the votes give it. votes holds at most one
// vote per authority. The result depends on nothing but its arguments, so
// authorities with the same votes make the same document byte for byte.
func makeConsensus(votes []Vote, n int, validAfter int64, validity time.Duration) onion.RelayList {
	count := make(map[string]int)
	best := make(map[string]onion.RelayDescriptor)
	weights := make(map[string][]int64)
	for _, v := range votes {
		for _, d := range v.Relays {
			fp := d.Fingerprint()
			count[fp]++
			weights[fp] = append(weights[fp], d.Weight)
			if b, ok := best[fp]; !ok || newerDescriptor(d, b) {
				best[fp] = d
			}
		}
	}
	relays := []onion.RelayDescriptor{}
	for _, fp := range slices.Sorted(maps.Keys(count)) {
		if count[fp] >= onion.Majority(n) {
			d := best[fp]
			d.Weight = lowMedian(weights[fp])
			relays = append(relays, d)
		}
	}
	return onion.RelayList{ValidAfter: validAfter, ValidUntil: validAfter + int64(validity/time.Second), Relays: relays}
}

// lowMedian is the lower of the middle two of ws (sorted in place), as
// Tor takes the authorities' measured bandwidths: a minority of
// authorities cannot raise a relay's weight.
func lowMedian(ws []int64) int64 {
	slices.Sort(ws)
	return ws[(len(ws)-1)/2]
}

func newerDescriptor(d, than onion.RelayDescriptor) bool {
	if d.Published != than.Published {
		return d.Published > than.Published
	}
	return bytes.Compare(d.Signature, than.Signature) < 0
}
