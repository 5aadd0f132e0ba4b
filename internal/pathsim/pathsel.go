package pathsim

// The client's path selection (client/pathsel) as a Selector.

import (
	"fmt"
	"math/rand/v2"

	"onion/client/pathsel"
	"onion/onion"
)

// Pathsel is the client's selection, client/pathsel, over relays whose
// descriptors carry the authorities' weights (see Admission.Weigh).
func Pathsel(relays []Relay) Selector {
	p := &pathselSel{index: make(map[string]int, len(relays))}
	descs := make([]onion.RelayDescriptor, len(relays))
	for i := range relays {
		descs[i] = relays[i].Desc
		fp := relays[i].Fingerprint()
		p.index[fp] = i
		p.fps = append(p.fps, fp)
		p.subnets = append(p.subnets, pathsel.Subnet(descs[i].Address))
	}
	p.list, p.descs = pathsel.New(descs), descs
	return p
}

type pathselSel struct {
	list    *pathsel.List
	descs   []onion.RelayDescriptor
	index   map[string]int // fingerprint -> index
	fps     []string
	subnets []string
}

func (p *pathselSel) Path(guards []int, rng *rand.Rand) ([3]int, error) {
	opt := pathsel.Options{}
	for _, g := range guards {
		opt.Guards = append(opt.Guards, p.descs[g])
	}
	path, err := p.list.Select(opt, rng.Int64N)
	if err != nil {
		return [3]int{}, err
	}
	if len(path) != 3 {
		return [3]int{}, fmt.Errorf("pathsim: pathsel chose %d hops", len(path))
	}
	var out [3]int
	for k := range path {
		out[k] = p.index[path[k].Fingerprint()]
	}
	return out, nil
}

func (p *pathselSel) PickGuard(exclude func(int) bool, rng *rand.Rand) (int, bool) {
	d, ok := p.list.PickGuard(func(fp string) bool { return exclude != nil && exclude(p.index[fp]) }, rng.Int64N)
	if !ok {
		return 0, false
	}
	return p.index[d.Fingerprint()], true
}

// Weights are pathsel's position weights (weights.go): a relay's weight
// as guard or middle is its list weight, times ExitElsewhere for an exit;
// as exit, its list weight if it is an exit.
func (p *pathselSel) Weights() (first, exit []float64) {
	w := p.list.Weights()
	first, exit = make([]float64, len(p.descs)), make([]float64, len(p.descs))
	for i := range p.descs {
		wt := float64(pathsel.Weight(&p.descs[i]))
		first[i] = wt
		if p.descs[i].Exit {
			first[i], exit[i] = wt*w.ExitElsewhere, wt
		}
	}
	return first, exit
}

// Compatible is pathsel.Compatible outside lab mode; the synthetic relays
// declare no family.
func (p *pathselSel) Compatible(i, j int) bool {
	return p.fps[i] != p.fps[j] && p.subnets[i] != p.subnets[j]
}
