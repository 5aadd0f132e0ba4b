package pathsim

// One run of the whole simulation, and its report.

import (
	"fmt"
	"math/rand/v2"
	"time"

	"onion/directory"
	"onion/onion"
)

// Params are a whole run's parameters.
type Params struct {
	Seed     uint64
	Network  NetworkParams
	Attacker AttackerParams
	// PerAddress is the directory's per-address limit (0: its default).
	PerAddress int
	// WeightCap is the most weight the authorities give one relay (0 or
	// less: none).
	WeightCap int64
	// Circuits is how many circuits each scenario draws for the measured
	// compromise fraction.
	Circuits int
	Exposure ExposureParams
}

// DefaultParams are the parameters of the figures in docs/SECURITY.md.
func DefaultParams() Params {
	return Params{Seed: 1, Network: DefaultNetwork(), Attacker: DefaultAttacker(),
		WeightCap: onion.DefaultWeightCap, Circuits: 1_000_000, Exposure: DefaultExposure()}
}

// Scenario is one selector over one list: what it should give the
// attacker and what drawing circuits gave.
type Scenario struct {
	Name     string
	Relays   int // listed
	Expect   Expectation
	Measured Measured
}

// Report is a run's outcome.
type Report struct {
	Params    Params
	Honest    Stats
	Admission Admission
	Scenarios []Scenario
	Exposure  []Exposure // without guards, then with
}

// Run runs the simulation: the lists, then each scenario's circuits, then
// the exposure of clients (over the list after admission, the attacker's
// weight its bandwidth).
func Run(p Params) (*Report, error) {
	if e := p.Exposure; p.Circuits <= 0 || e.Clients <= 0 || e.Days <= 0 || e.Every <= 0 || e.Every > 24*time.Hour {
		return nil, fmt.Errorf("pathsim: bad circuit or exposure parameters: %d circuits, %+v", p.Circuits, e)
	}
	rng := rand.New(rand.NewPCG(p.Seed, 0x6f6e696f6e)) // "onion"
	honest, err := Honest(p.Network, rng)
	if err != nil {
		return nil, err
	}
	sybils, err := Sybils(p.Attacker, rng)
	if err != nil {
		return nil, err
	}
	adm, err := Admit(directory.Config{MaxRelaysPerAddress: p.PerAddress}, honest, sybils, p.Attacker.Share)
	if err != nil {
		return nil, err
	}
	everyone := append(append([]Relay(nil), honest...), sybils...)
	if err := Spread(everyone, p.Attacker.Share); err != nil {
		return nil, err
	}
	capped := "weights uncapped"
	if p.WeightCap > 0 {
		capped = "weights capped at " + rate(float64(p.WeightCap))
	}
	measured := Weigh(adm.Listed, 0)
	r := &Report{Params: p, Honest: Summarise(honest), Admission: adm}
	for _, sc := range []struct {
		name   string
		relays []Relay
		sel    NewSelector
	}{
		{"uniform (before issue 13), all Sybils listed", everyone, Uniform},
		{"pathsel, all Sybils listed, " + capped, Weigh(everyone, p.WeightCap), Pathsel},
		{"pathsel, admission, " + capped, Weigh(adm.Listed, p.WeightCap), Pathsel},
		{"pathsel, admission, weight = bandwidth", measured, Pathsel},
	} {
		s, err := scenario(sc.name, sc.relays, sc.sel, p.Circuits, rng)
		if err != nil {
			return nil, err
		}
		r.Scenarios = append(r.Scenarios, s)
	}
	for _, guards := range []bool{false, true} {
		x, err := Expose(Pathsel, measured, p.Exposure, guards, rng)
		if err != nil {
			return nil, err
		}
		r.Exposure = append(r.Exposure, x)
	}
	return r, nil
}

func scenario(name string, relays []Relay, newSel NewSelector, n int, rng *rand.Rand) (Scenario, error) {
	sel := newSel(relays)
	m, err := Circuits(sel, relays, n, rng)
	if err != nil {
		return Scenario{}, fmt.Errorf("%s: %w", name, err)
	}
	return Scenario{Name: name, Relays: len(relays), Expect: Expect(sel, relays), Measured: m}, nil
}
