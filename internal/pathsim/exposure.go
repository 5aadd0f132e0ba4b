package pathsim

// How many first hops a client exposes itself to over simulated time,
// with and without entry guards.

import (
	"fmt"
	"math/rand/v2"
	"time"

	"onion/client"
)

// ExposureParams describe the clients and the network's churn.
type ExposureParams struct {
	Clients int           // independent clients simulated
	Days    int           // how long
	Every   time.Duration // a new circuit this often
	// Churn is the chance that a relay is missing from a given day's list
	// (down at the vote, gone for good, or rekeyed): the client drops a
	// guard no longer listed, as client.Guards does.
	Churn float64
}

// DefaultExposure: 30 days, a circuit every 10 minutes (4,320 circuits), 2%
// of the relays missing from each day's list.
func DefaultExposure() ExposureParams {
	return ExposureParams{Clients: 200, Days: 30, Every: 10 * time.Minute, Churn: 0.02}
}

// Exposure is what the clients saw.
type Exposure struct {
	Guards            bool
	Clients           int
	CircuitsPerClient int
	// DistinctMean and DistinctMax count the distinct first hops per client.
	DistinctMean float64
	DistinctMax  int
	// AttackerFirst is the share of clients that had an attacker's relay
	// as a first hop at least once; Compromised, the share that had a
	// circuit with the attacker at both ends at least once.
	AttackerFirst, Compromised float64
	// CircuitsCompromised is the share of all circuits with the attacker
	// at both ends.
	CircuitsCompromised float64
}

// guardSet is a client's guards as client.Guards keeps them (guards.go):
// in the order sampled, GuardSetSize of them, each dropped when no longer
// listed or GuardLifetime after it was added, the first usable used. It
// holds indexes into the whole network.
type guardSet struct {
	idx   []int
	added []time.Duration
}

// refresh rotates and fills the set on day d's list at time now.
func (g *guardSet) refresh(d *dayList, now time.Duration, rng *rand.Rand) {
	keep := 0
	for k, i := range g.idx {
		if d.local[i] >= 0 && now-g.added[k] < client.GuardLifetime {
			g.idx[keep], g.added[keep] = i, g.added[k]
			keep++
		}
	}
	g.idx, g.added = g.idx[:keep], g.added[:keep]
	for len(g.idx) < client.GuardSetSize {
		j, ok := d.sel.PickGuard(func(j int) bool { return g.holds(d.global[j]) }, rng)
		if !ok {
			return
		}
		g.idx, g.added = append(g.idx, d.global[j]), append(g.added, now)
	}
}

func (g *guardSet) holds(i int) bool {
	for _, j := range g.idx {
		if j == i {
			return true
		}
	}
	return false
}

// dayList is one day's relay list: the relays not missing that day.
type dayList struct {
	relays []Relay
	global []int // day index -> network index
	local  []int // network index -> day index, -1 if missing
	sel    Selector
}

func newDayList(relays []Relay, churn float64, newSel NewSelector, rng *rand.Rand) *dayList {
	d := &dayList{local: make([]int, len(relays))}
	for i, r := range relays {
		d.local[i] = -1
		if rng.Float64() >= churn {
			d.local[i] = len(d.relays)
			d.relays = append(d.relays, r)
			d.global = append(d.global, i)
		}
	}
	d.sel = newSel(d.relays)
	return d
}

// client is one simulated client.
type simClient struct {
	guards      guardSet
	seen        map[int]bool // network indexes of its first hops
	first, both bool
}

// Expose simulates p.Clients clients over relays, each building a circuit
// every p.Every for p.Days, through a guard set if guards. The relays
// missing from a day's list are drawn once per day for all clients; each
// client's guards were sampled at a random time within one guard lifetime
// before the start (a client in its steady state, not a new one).
func Expose(newSel NewSelector, relays []Relay, p ExposureParams, guards bool, rng *rand.Rand) (Exposure, error) {
	perDay := 0
	if p.Every > 0 {
		perDay = int(24 * time.Hour / p.Every)
	}
	x := Exposure{Guards: guards, Clients: p.Clients, CircuitsPerClient: p.Days * perDay}
	if p.Clients <= 0 || p.Days <= 0 || perDay <= 0 || p.Churn < 0 || p.Churn >= 1 {
		return x, fmt.Errorf("pathsim: bad exposure parameters %+v", p)
	}
	clients := make([]simClient, p.Clients)
	compromised := 0
	for day := range p.Days {
		d := newDayList(relays, p.Churn, newSel, rng)
		for c := range clients {
			cl := &clients[c]
			if day == 0 {
				cl.seen = map[int]bool{}
				if guards {
					cl.guards.refresh(d, -time.Duration(rng.Int64N(int64(client.GuardLifetime))), rng)
				}
			}
			for k := range perDay {
				now := time.Duration(day)*24*time.Hour + time.Duration(k)*p.Every
				both, err := cl.circuit(d, guards, now, rng)
				if err != nil {
					return x, fmt.Errorf("day %d: %w", day, err)
				}
				if both {
					compromised++
				}
			}
		}
	}
	for _, cl := range clients {
		x.DistinctMean += float64(len(cl.seen)) / float64(len(clients))
		x.DistinctMax = max(x.DistinctMax, len(cl.seen))
		if cl.first {
			x.AttackerFirst += 1 / float64(len(clients))
		}
		if cl.both {
			x.Compromised += 1 / float64(len(clients))
		}
	}
	x.CircuitsCompromised = float64(compromised) / float64(len(clients)*x.CircuitsPerClient)
	return x, nil
}

// circuit builds one circuit on day d's list; it reports whether the
// attacker holds both ends.
func (cl *simClient) circuit(d *dayList, guards bool, now time.Duration, rng *rand.Rand) (bool, error) {
	var gs []int
	if guards {
		cl.guards.refresh(d, now, rng)
		for _, i := range cl.guards.idx {
			gs = append(gs, d.local[i])
		}
	}
	path, err := d.sel.Path(gs, rng)
	if err != nil {
		return false, err
	}
	first := d.global[path[0]]
	cl.seen[first] = true
	fa := d.relays[path[0]].Attacker
	both := fa && d.relays[path[2]].Attacker
	cl.first, cl.both = cl.first || fa, cl.both || both
	return both, nil
}
