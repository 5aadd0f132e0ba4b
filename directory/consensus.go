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
// they hold for it (ties: the smallest signature). votes holds at most one
// vote per authority. The result depends on nothing but its arguments, so
// authorities with the same votes make the same document byte for byte.
func makeConsensus(votes []Vote, n int, validAfter int64, validity time.Duration) onion.RelayList {
	count := make(map[string]int)
	best := make(map[string]onion.RelayDescriptor)
	for _, v := range votes {
		for _, d := range v.Relays {
			fp := d.Fingerprint()
			count[fp]++
			if b, ok := best[fp]; !ok || newerDescriptor(d, b) {
				best[fp] = d
			}
		}
	}
	relays := []onion.RelayDescriptor{}
	for _, fp := range slices.Sorted(maps.Keys(count)) {
		if count[fp] >= onion.Majority(n) {
			relays = append(relays, best[fp])
		}
	}
	return onion.RelayList{ValidAfter: validAfter, ValidUntil: validAfter + int64(validity/time.Second), Relays: relays}
}

func newerDescriptor(d, than onion.RelayDescriptor) bool {
	if d.Published != than.Published {
		return d.Published > than.Published
	}
	return bytes.Compare(d.Signature, than.Signature) < 0
}
