package onion

// The descriptor fields path selection reads: bandwidth, family, exit
// policy summary (PROTOCOL.md §7.1, §8).

import (
	"errors"
	"fmt"
)

// Bounds on the path-selection fields of a descriptor.
const (
	// MaxFamily bounds the fingerprints a relay may declare as family.
	MaxFamily = 64
	// MaxBandwidth bounds an advertised bandwidth (1 TB/s): a larger
	// number is a lie or a bug, and sums of many must not overflow.
	MaxBandwidth = 1 << 40
)

func (d *RelayDescriptor) checkExtensions() error {
	if d.Bandwidth < 0 || d.Bandwidth > MaxBandwidth || d.Weight < 0 || d.Weight > MaxBandwidth {
		return fmt.Errorf("onion: descriptor bandwidth %d or weight %d out of range", d.Bandwidth, d.Weight)
	}
	if len(d.Family) > MaxFamily {
		return fmt.Errorf("onion: descriptor declares %d family members, at most %d", len(d.Family), MaxFamily)
	}
	for _, fp := range d.Family {
		if !IsFingerprint(fp) {
			return errors.New("onion: descriptor family: want 40 upper-case hex digits per fingerprint")
		}
	}
	if d.ExitPolicy != "" {
		if _, err := ParsePolicySummary(d.ExitPolicy); err != nil {
			return fmt.Errorf("descriptor exit policy: %w", err)
		}
	}
	return nil
}

// IsFingerprint reports whether s has a fingerprint's form: 40 upper-case
// hex digits.
func IsFingerprint(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// Summary is d's exit policy summary; an exit without one allows every
// port, and a relay that is not an exit allows none.
func (d *RelayDescriptor) Summary() PolicySummary {
	if !d.Exit {
		return PolicySummary{}
	}
	if d.ExitPolicy == "" {
		return AcceptAllPorts
	}
	s, err := ParsePolicySummary(d.ExitPolicy)
	if err != nil { // Check refused it; a descriptor not checked allows nothing
		return PolicySummary{}
	}
	return s
}

// Bandwidth defaults (PROTOCOL.md §7.4, §8.5), in bytes/s.
const (
	// DefaultBandwidth is what a relay advertises unless told otherwise.
	DefaultBandwidth = 1 << 20
	// DefaultWeightCap is the most weight an authority gives one relay
	// unless configured otherwise: a relay that claims more gets this.
	DefaultWeightCap = 10 << 20
	// UnadvertisedWeight is the weight of a relay that advertises no
	// bandwidth (a revision-3 relay): small, as Tor weighs unmeasured relays.
	UnadvertisedWeight = 20 << 10
)

// CappedWeight is the weight an authority with the given cap gives a
// relay advertising bandwidth bw.
func CappedWeight(bw, limit int64) int64 {
	if bw <= 0 {
		bw = UnadvertisedWeight
	}
	return min(bw, limit)
}
