package pathsim

// The attacker's Sybil relays, and what the directory lists of them.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"onion/directory"
	"onion/onion"
)

// AttackerParams describe the attacker: it holds Share of all the
// bandwidth (its own and the honest relays'), publishes Relays
// descriptors from Addresses IP addresses, each in a /16 of its own, and
// makes ExitFraction of them exits. Its bandwidth is real capacity: it is
// spread over the relays that get listed (whichever identities the
// directory lists carry the attacker's traffic), not over those published.
type AttackerParams struct {
	Share        float64
	Relays       int
	Addresses    int
	ExitFraction float64
}

// DefaultAttacker holds 10% of the bandwidth and publishes 200 relays,
// half of them exits, from 4 addresses.
func DefaultAttacker() AttackerParams {
	return AttackerParams{Share: 0.10, Relays: 200, Addresses: 4, ExitFraction: 0.5}
}

// Sybils draws the attacker's descriptors, ports 10000 and up on each of
// its addresses in turn. Their bandwidth is set by Spread.
func Sybils(p AttackerParams, rng *rand.Rand) ([]Relay, error) {
	if p.Share < 0 || p.Share >= 1 || p.Relays < 0 || p.Addresses <= 0 || p.Addresses > 256 || p.ExitFraction < 0 || p.ExitFraction > 1 {
		return nil, fmt.Errorf("pathsim: bad attacker parameters %+v", p)
	}
	relays := make([]Relay, p.Relays)
	for i := range relays {
		// Two relays at each address in turn, and exits spread evenly
		// through the order of publication, so that the relays listed
		// (the first two of each address) hold the same mix as all, and
		// at half exits each address has one exit and one other relay.
		// (An attacker that keeps its exits and its other relays in
		// different /16s escapes the /16 rule's toll; Expectation.Exact.)
		ip := netip.AddrFrom4([4]byte{attackerFirstOctet, byte(i / 2 % p.Addresses), 0, 1})
		addr := netip.AddrPortFrom(ip, uint16(10000+i))
		exit := int(float64(i+1)*p.ExitFraction) > int(float64(i)*p.ExitFraction)
		relays[i] = newRelay(descriptor(rng, fmt.Sprintf("sybil%d", i), addr, exit), true)
	}
	return relays, nil
}

// Admission is what the directory made of the published relays.
type Admission struct {
	Listed         []Relay
	HonestRefused  int
	SybilsListed   int
	SybilsRefused  int
	FirstRefusal   string // why the first Sybil was refused, as the directory says it
	PerAddressRule int    // the per-address limit in force
}

// Admit publishes the honest relays, then the Sybils, to an authority
// with cfg's rules (the real code: directory.Admit, address by address;
// see admitByAddress), and gives the attacker's capacity to its relays
// that are listed (Spread).
func Admit(cfg directory.Config, honest, sybils []Relay, share float64) (Admission, error) {
	all := append(append([]Relay(nil), honest...), sybils...)
	if cfg.Now == nil {
		now := time.Unix(1_700_000_000, 0)
		cfg.Now = func() time.Time { return now }
	}
	if cfg.MaxRelays == 0 {
		cfg.MaxRelays = len(all) // a what-if of more relays than the default 10,000
	}
	a := Admission{PerAddressRule: cfg.MaxRelaysPerAddress}
	if a.PerAddressRule == 0 {
		a.PerAddressRule = directory.DefaultMaxRelaysPerAddress
	}
	why, err := admitByAddress(cfg, all)
	if err != nil {
		return Admission{}, err
	}
	for i, r := range all {
		switch {
		case why[i] == nil:
			a.Listed = append(a.Listed, r)
			if r.Attacker {
				a.SybilsListed++
			}
		case r.Attacker:
			if a.SybilsRefused == 0 {
				a.FirstRefusal = why[i].Error()
			}
			a.SybilsRefused++
		default:
			a.HonestRefused++
		}
	}
	return a, Spread(a.Listed, share)
}

// Spread gives the attacker's relays in relays its capacity, share/(1−share)
// of the honest relays' total there, evenly.
func Spread(relays []Relay, share float64) error {
	if share < 0 || share >= 1 {
		return errors.New("pathsim: the attacker's share must be in [0, 1)")
	}
	var honest int64
	n := 0
	for _, r := range relays {
		if r.Attacker {
			n++
		} else {
			honest += r.Bandwidth
		}
	}
	if n == 0 {
		return nil
	}
	each := int64(share / (1 - share) * float64(honest) / float64(n))
	for i := range relays {
		if relays[i].Attacker {
			relays[i].Bandwidth = max(minBandwidth, min(each, onion.MaxBandwidth))
		}
	}
	return nil
}

// admitByAddress runs directory.Admit on the relays of each IP address
// apart, in the order given, and returns why each relay was refused (nil:
// listed). The admission rules judge a relay by the relays at its own
// address only (directory/admission.go), so the verdicts are those of one
// authority given the whole list, which TestAdmitByAddress checks; but the
// cost is linear, where one authority rescans every listed relay at each
// publication (7,200 relays take seconds, too long for a test under -race).
// MaxRelays, which counts all relays, is not applied.
func admitByAddress(cfg directory.Config, relays []Relay) ([]error, error) {
	byHost := map[netip.Addr][]int{}
	var hosts []netip.Addr
	for i, r := range relays {
		ap, err := netip.ParseAddrPort(r.Desc.Address)
		if err != nil {
			return nil, err
		}
		h := ap.Addr().Unmap()
		if byHost[h] == nil {
			hosts = append(hosts, h)
		}
		byHost[h] = append(byHost[h], i)
	}
	why := make([]error, len(relays))
	for _, h := range hosts {
		descs := make([]onion.RelayDescriptor, len(byHost[h]))
		for k, i := range byHost[h] {
			descs[k] = relays[i].Desc
		}
		_, w, err := directory.Admit(cfg, descs)
		if err != nil {
			return nil, err
		}
		for k, i := range byHost[h] {
			why[i] = w[k]
		}
	}
	return why, nil
}
