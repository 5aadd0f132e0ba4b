package pathsim

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"onion/directory"
	"onion/onion"
)

func testRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }

// smallNetwork is a network of n honest relays, more crowded than the
// default so that some share addresses.
func smallNetwork(t *testing.T, n int, rng *rand.Rand) []Relay {
	t.Helper()
	p := DefaultNetwork()
	p.Relays, p.Subnets = n, 40
	honest, err := Honest(p, rng)
	if err != nil {
		t.Fatal(err)
	}
	// Three honest relays at one address: the third must be refused.
	for i := 1; i < 3; i++ {
		honest[i].Desc.Address = honest[0].Desc.Address[:len(honest[0].Desc.Address)-4] + "900" + string(rune('0'+i))
	}
	return honest
}

// TestAdmitByAddress: admitting address by address gives the verdicts of
// one authority given the whole list in order.
func TestAdmitByAddress(t *testing.T) {
	rng := testRand(1)
	honest := smallNetwork(t, 300, rng)
	sybils, err := Sybils(AttackerParams{Share: 0.1, Relays: 50, Addresses: 3, ExitFraction: 0.5}, rng)
	if err != nil {
		t.Fatal(err)
	}
	all := append(append([]Relay(nil), honest...), sybils...)
	got, err := admitByAddress(directory.Config{}, all)
	if err != nil {
		t.Fatal(err)
	}
	descs := make([]onion.RelayDescriptor, len(all))
	for i := range all {
		descs[i] = all[i].Desc
	}
	_, want, err := directory.Admit(directory.Config{MaxRelays: len(all)}, descs)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for i := range all {
		if (got[i] == nil) != (want[i] == nil) {
			t.Errorf("relay %d (%s): by address %v, whole list %v", i, all[i].Desc.Address, got[i], want[i])
		}
		if want[i] != nil {
			refused++
		}
	}
	if refused != 1+50-6 {
		t.Errorf("%d relays refused, want 45 Sybils and 1 honest", refused)
	}
}

// TestSybilsAdmitted: an attacker's 200 relays from 4 addresses get 8
// listed, and they carry its whole share of the bandwidth.
func TestSybilsAdmitted(t *testing.T) {
	rng := testRand(2)
	honest, err := Honest(DefaultNetwork(), rng)
	if err != nil {
		t.Fatal(err)
	}
	sybils, err := Sybils(DefaultAttacker(), rng)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Admit(directory.Config{}, honest, sybils, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if a.SybilsListed != 8 || a.SybilsRefused != 192 || a.HonestRefused > 5 {
		t.Fatalf("listed %d, refused %d Sybils and %d honest relays; want 8, 192, at most 5 (honest draws that met at one address)", a.SybilsListed, a.SybilsRefused, a.HonestRefused)
	}
	var total, att int64
	exits := 0
	for _, r := range a.Listed {
		total += r.Bandwidth
		if r.Attacker {
			att += r.Bandwidth
			if r.Desc.Exit {
				exits++
			}
		}
	}
	if share := float64(att) / float64(total); math.Abs(share-0.1) > 0.001 {
		t.Errorf("attacker's share of the listed bandwidth %.4f, want 0.1", share)
	}
	if exits != 4 {
		t.Errorf("%d of the attacker's 8 listed relays are exits, want 4", exits)
	}
}

// checkClosedForm draws circuits under sel and fails unless the measured
// compromise fraction is within 4.5 standard errors of the closed form
// (a test that fails by chance once in about 150,000 runs).
func checkClosedForm(t *testing.T, name string, sel NewSelector, relays []Relay, n int, rng *rand.Rand) Expectation {
	t.Helper()
	s := sel(relays)
	x := Expect(s, relays)
	m, err := Circuits(s, relays, n, rng)
	if err != nil {
		t.Fatal(err)
	}
	se := m.StdErr(x.Exact)
	t.Logf("%s: guard share %.4f, exit share %.4f, g×e %.5f, exact %.5f, measured %.5f ± %.5f (%d circuits)",
		name, x.GuardShare, x.ExitShare, x.Product, x.Exact, m.Fraction(), se, n)
	if math.Abs(m.Fraction()-x.Exact) > 4.5*se {
		t.Errorf("%s: measured %.5f, closed form %.5f: off by %.1f standard errors", name, m.Fraction(), x.Exact, math.Abs(m.Fraction()-x.Exact)/se)
	}
	return x
}

// TestUniformMatchesClosedForm: today's uniform selection over a list the
// attacker floods (no admission) gives it g × e of the circuits.
func TestUniformMatchesClosedForm(t *testing.T) {
	rng := testRand(3)
	honest := smallNetwork(t, 2000, rng)
	sybils, err := Sybils(AttackerParams{Share: 0.1, Relays: 500, Addresses: 4, ExitFraction: 0.5}, rng)
	if err != nil {
		t.Fatal(err)
	}
	x := checkClosedForm(t, "uniform", Uniform, append(honest, sybils...), 40000, rng)
	if x.Product < 0.02 {
		t.Fatalf("g × e = %.4f: the attacker should hold a good share of a list it floods", x.Product)
	}
}

// TestDeterministic: one seed, one report.
func TestDeterministic(t *testing.T) {
	p := DefaultParams()
	p.Network.Relays, p.Circuits, p.Exposure.Clients, p.Exposure.Days = 500, 2000, 2, 2
	var out [2]bytes.Buffer
	for i := range out {
		r, err := Run(p)
		if err != nil {
			t.Fatal(err)
		}
		r.Write(&out[i])
	}
	if out[0].String() != out[1].String() {
		t.Fatalf("two runs with seed %d differ:\n%s\n%s", p.Seed, out[0].String(), out[1].String())
	}
}

// TestGuardsLimitExposure: over 30 days a client with guards uses a few
// first hops, one without uses hundreds (2,000 relays here, to keep the
// test fast under -race; `onion sim` runs 7,000).
func TestGuardsLimitExposure(t *testing.T) {
	rng := testRand(4)
	n := DefaultNetwork()
	n.Relays = 2000
	honest, err := Honest(n, rng)
	if err != nil {
		t.Fatal(err)
	}
	p := DefaultExposure()
	p.Clients = 4
	var distinct [2]float64
	for i, guards := range []bool{false, true} {
		x, err := Expose(Pathsel, Weigh(honest, 0), p, guards, rng)
		if err != nil {
			t.Fatal(err)
		}
		distinct[i] = x.DistinctMean
	}
	t.Logf("distinct first hops in 30 days: %.1f without guards, %.1f with", distinct[0], distinct[1])
	if distinct[0] < 500 || distinct[1] < 1 || distinct[1] > 6 {
		t.Fatalf("distinct first hops: %.1f without guards (want > 500), %.1f with (want 1-6)", distinct[0], distinct[1])
	}
}

// attackedNetwork is the default network after admission, with the
// default attacker, its weights its bandwidth: the attacker holds 10% of
// the weight.
func attackedNetwork(t *testing.T, rng *rand.Rand) []Relay {
	t.Helper()
	honest, err := Honest(DefaultNetwork(), rng)
	if err != nil {
		t.Fatal(err)
	}
	sybils, err := Sybils(DefaultAttacker(), rng)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Admit(directory.Config{}, honest, sybils, DefaultAttacker().Share)
	if err != nil {
		t.Fatal(err)
	}
	return Weigh(a.Listed, 0)
}

// TestPathselMatchesClosedForm: the client's selection over 7,000 relays
// gives an attacker with 10% of the weight on 8 relays in 4 /16s the
// closed-form share of circuits. It fails if selection is biased: drawing
// relays uniformly (the attacker's 8 relays of 7,008 would get about
// 0.0003%, 19 standard errors off) or ignoring the /16 rule (g × e, a
// quarter above the exact figure here: 6 standard errors).
func TestPathselMatchesClosedForm(t *testing.T) {
	rng := testRand(5)
	relays := attackedNetwork(t, rng)
	x := checkClosedForm(t, "pathsel", Pathsel, relays, 40000, rng)
	if x.GuardShare < 0.05 || x.ExitShare < 0.1 {
		t.Fatalf("guard share %.4f, exit share %.4f: the attacker should hold about 7%% and 19%%", x.GuardShare, x.ExitShare)
	}
	if se := math.Sqrt(x.Exact * (1 - x.Exact) / 40000); x.Product-x.Exact < 4.5*se {
		t.Errorf("g × e %.5f and exact %.5f are within 4.5 standard errors (%.5f): the test cannot tell whether the /16 rule holds", x.Product, x.Exact, se)
	}
	if se := math.Sqrt(x.Exact * (1 - x.Exact) / 40000); x.Product-x.Exact < 4.5*se {
		t.Errorf("g × e %.5f and exact %.5f are within 4.5 standard errors (%.5f): the test cannot tell whether the /16 rule holds", x.Product, x.Exact, se)
	}
}
