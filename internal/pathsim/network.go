package pathsim

// The synthetic relay list.

import (
	"crypto/sha256"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"

	"onion/onion"
)

// Relay is one relay of the synthetic network.
type Relay struct {
	Desc      onion.RelayDescriptor
	Bandwidth int64 // bytes/s it can carry (and advertises)
	Attacker  bool
	fp        string // Desc.Fingerprint(), a hash, kept
}

func newRelay(d onion.RelayDescriptor, attacker bool) Relay {
	return Relay{Desc: d, Attacker: attacker, fp: d.Fingerprint()}
}

// Fingerprint is the relay's fingerprint.
func (r *Relay) Fingerprint() string {
	if r.fp == "" {
		return r.Desc.Fingerprint()
	}
	return r.fp
}

// Network parameters. The defaults describe Tor's consensus in spirit
// (metrics.torproject.org, 2024-2025): about 7,000 relays, about a quarter
// of them exits, mean advertised bandwidth about 100 Mbit/s with a heavy
// tail. We draw bandwidths from a log-normal distribution, the usual fit
// for relay capacities: median 4 MB/s and sigma 1.5 give a mean of
// 4·e^(1.5²/2) ≈ 12.3 MB/s, and the top 10% of relays advertise about 59%
// of the bandwidth (1 − Φ(1.2816 − 1.5)).
const (
	DefaultRelays         = 7000
	DefaultExitFraction   = 0.25
	DefaultMedianBW       = 4e6 // bytes/s
	DefaultSigma          = 1.5
	DefaultSubnets        = 2500 // IPv4 /16s the honest relays live in
	DefaultSubnetSkew     = 1.2  // Zipf exponent: hosting providers crowd a few /16s
	minBandwidth          = 10 << 10
	honestPort            = 9001
	attackerFirstOctet    = 185 // the attacker's /16s are 185.0-185.K; honest ones are in 11-99
	honestFirstOctetLow   = 11
	honestFirstOctetCount = 89
)

// NetworkParams describe the honest relays.
type NetworkParams struct {
	Relays       int     // how many
	ExitFraction float64 // the share of them that are exits
	MedianBW     float64 // log-normal median, bytes/s
	Sigma        float64 // log-normal sigma (of the natural log)
	Subnets      int     // distinct /16s they are spread over, Zipf-weighted
	SubnetSkew   float64 // the Zipf exponent (> 1)
}

// DefaultNetwork is the network of the figures in docs/SECURITY.md.
func DefaultNetwork() NetworkParams {
	return NetworkParams{Relays: DefaultRelays, ExitFraction: DefaultExitFraction,
		MedianBW: DefaultMedianBW, Sigma: DefaultSigma, Subnets: DefaultSubnets, SubnetSkew: DefaultSubnetSkew}
}

// Honest draws the honest relays. Addresses are public IPv4 addresses
// (first octet 11-99), one relay per address unless two draws meet.
func Honest(p NetworkParams, rng *rand.Rand) ([]Relay, error) {
	if p.Relays <= 0 || p.Subnets <= 0 || p.Subnets > honestFirstOctetCount*256 || p.SubnetSkew <= 1 || p.Sigma < 0 || p.MedianBW <= 0 {
		return nil, fmt.Errorf("pathsim: bad network parameters %+v", p)
	}
	prefixes := rng.Perm(honestFirstOctetCount * 256)[:p.Subnets]
	zipf := rand.NewZipf(rng, p.SubnetSkew, 1, uint64(p.Subnets-1))
	relays := make([]Relay, p.Relays)
	for i := range relays {
		pre := prefixes[zipf.Uint64()]
		ip := netip.AddrFrom4([4]byte{byte(honestFirstOctetLow + pre/256), byte(pre % 256), byte(rng.IntN(256)), byte(1 + rng.IntN(254))})
		bw := p.MedianBW * math.Exp(p.Sigma*rng.NormFloat64())
		relays[i] = newRelay(descriptor(rng, fmt.Sprintf("honest%d", i), netip.AddrPortFrom(ip, honestPort),
			rng.Float64() < p.ExitFraction), false)
		relays[i].Bandwidth = int64(max(minBandwidth, min(bw, onion.MaxBandwidth)))
	}
	return relays, nil
}

// descriptor is an unsigned descriptor with random keys: admission and
// selection read neither the keys nor the signature, only the
// fingerprint (a hash of the identity key), address and flags.
func descriptor(rng *rand.Rand, nick string, addr netip.AddrPort, exit bool) onion.RelayDescriptor {
	d := onion.RelayDescriptor{Nickname: nick, Address: addr.String(), Exit: exit,
		IdentityKey: randomKey(rng), OnionKey: randomKey(rng)}
	return d
}

func randomKey(rng *rand.Rand) []byte {
	var seed [16]byte
	for i := range seed {
		seed[i] = byte(rng.Uint32())
	}
	sum := sha256.Sum256(seed[:])
	return sum[:]
}

// Stats summarise a set of relays.
type Stats struct {
	Relays, Exits      int
	Total, ExitBW      int64   // bytes/s
	TopTenthShare      float64 // the share of the bandwidth of the 10% largest relays
	Subnets, Addresses int     // distinct /16s and IP addresses
}

// Summarise counts relays.
func Summarise(relays []Relay) Stats {
	s := Stats{Relays: len(relays)}
	bws := make([]int64, len(relays))
	subnets, addrs := map[string]bool{}, map[string]bool{}
	for i, r := range relays {
		bws[i] = r.Bandwidth
		s.Total += r.Bandwidth
		if r.Desc.Exit {
			s.Exits++
			s.ExitBW += r.Bandwidth
		}
		ap := netip.MustParseAddrPort(r.Desc.Address)
		addrs[ap.Addr().String()] = true
		p, _ := ap.Addr().Prefix(16)
		subnets[p.String()] = true
	}
	slices.Sort(bws)
	var top int64
	for _, bw := range bws[len(bws)-len(bws)/10:] {
		top += bw
	}
	if s.Total > 0 {
		s.TopTenthShare = float64(top) / float64(s.Total)
	}
	s.Subnets, s.Addresses = len(subnets), len(addrs)
	return s
}

// Weigh returns a copy of relays as an authority lists them: each
// descriptor advertising its Bandwidth, with the weight the authorities
// give it: onion.CappedWeight with limit, as the directory computes it when
// a relay publishes (directory.Admit sets it too, but the attacker's
// bandwidth is known only after admission), or with a limit of 0 or less
// the bandwidth itself, as if measured.
func Weigh(relays []Relay, limit int64) []Relay {
	out := append([]Relay(nil), relays...)
	for i := range out {
		out[i].Desc.Bandwidth = out[i].Bandwidth
		out[i].Desc.Weight = out[i].Bandwidth
		if limit > 0 {
			out[i].Desc.Weight = onion.CappedWeight(out[i].Bandwidth, limit)
		}
	}
	return out
}
