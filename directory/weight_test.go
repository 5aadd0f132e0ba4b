package directory

import (
	"crypto/ed25519"
	"testing"
	"time"

	"onion/onion"
)

// TestListedWeightCapped: the list carries the authority's weight, the
// advertised bandwidth capped (PROTOCOL.md §7.4), whatever weight the
// relay put in its descriptor; no bandwidth gets onion.UnadvertisedWeight.
func TestListedWeightCapped(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxRelayWeight = 5 << 20 })
	for n, bw := range map[int]int64{1: 50 << 20, 2: 1 << 20, 3: 0} {
		d := descriptor(t, n, t0)
		d.Bandwidth = bw
		d.Sign(relayKey(n))
		d.Weight = 1 << 40 // not signed, not believed
		if err := h.client.Publish(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := h.getSigned(t)
	l, err := s.Open([]ed25519.PublicKey{dirKey(1).Public().(ed25519.PublicKey)}, t0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"relay1": 5 << 20, "relay2": 1 << 20, "relay3": onion.UnadvertisedWeight}
	for _, d := range l.Relays {
		if d.Weight != want[d.Nickname] {
			t.Errorf("%s: weight %d, want %d", d.Nickname, d.Weight, want[d.Nickname])
		}
	}
	if len(l.Relays) != 3 {
		t.Fatalf("%d relays listed", len(l.Relays))
	}
}

// TestConsensusWeightLowMedian: the consensus weight is the low median of
// the votes' weights, so one authority cannot raise it.
func TestConsensusWeightLowMedian(t *testing.T) {
	d := descriptor(t, 1, t0)
	at := func(w int64) onion.RelayDescriptor { c := d; c.Weight = w; return c }
	for _, c := range []struct {
		weights []int64
		want    int64
	}{
		{[]int64{100, 1 << 40, 200}, 200},
		{[]int64{300, 100}, 100},
		{[]int64{7}, 7},
	} {
		var votes []Vote
		for _, w := range c.weights {
			votes = append(votes, Vote{ValidAfter: 60, Relays: []onion.RelayDescriptor{at(w)}})
		}
		l := makeConsensus(votes, 1, 60, time.Minute)
		if len(l.Relays) != 1 || l.Relays[0].Weight != c.want {
			t.Errorf("weights %v: consensus %+v, want weight %d", c.weights, l.Relays, c.want)
		}
	}
}
