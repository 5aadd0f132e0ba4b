package directory

import (
	"net/http"
	"testing"
	"time"

	"onion/onion"
)

// TestAdmit: Admit gives the verdicts and weights of publishing: three
// relays at one address, two listed, and the weight capped.
func TestAdmit(t *testing.T) {
	var descs []onion.RelayDescriptor
	for n, addr := range []string{"203.0.113.7:9001", "203.0.113.7:9002", "203.0.113.7:9003", "198.51.100.1:9001", "10.0.0.1:9001"} {
		d := relayAt(t, n, addr, t0)
		d.Bandwidth = 50 << 20
		descs = append(descs, d)
	}
	listed, why, err := Admit(Config{Now: func() time.Time { return t0 }, MaxRelayWeight: 1 << 20}, descs)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 3 || why[0] != nil || why[1] != nil || why[3] != nil {
		t.Fatalf("listed %d, verdicts %v; want relays 0, 1 and 3", len(listed), why)
	}
	for i, want := range []int{2, 4} {
		rf, ok := why[want].(*refusal)
		if !ok || rf.status != []int{http.StatusForbidden, http.StatusBadRequest}[i] {
			t.Errorf("relay %d: %v, want refused with %d", want, why[want], []int{http.StatusForbidden, http.StatusBadRequest}[i])
		}
	}
	for _, d := range listed {
		if d.Weight != 1<<20 {
			t.Errorf("%s: weight %d, want the cap %d", d.Address, d.Weight, 1<<20)
		}
	}
}
