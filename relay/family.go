package relay

// Bandwidth and family, the descriptor fields path selection reads
// (PROTOCOL.md §7.1, §8.5).

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"onion/onion"
)

// checkPathFields fills in the default bandwidth and checks the family:
// fingerprints in canonical form, sorted, each once, not the relay's own.
func checkPathFields(cfg *Config) error {
	if cfg.Bandwidth == 0 {
		cfg.Bandwidth = onion.DefaultBandwidth
	}
	if cfg.Bandwidth < 0 || cfg.Bandwidth > onion.MaxBandwidth {
		return fmt.Errorf("bandwidth %d bytes/s out of range", cfg.Bandwidth)
	}
	if len(cfg.Family) > onion.MaxFamily {
		return fmt.Errorf("family of %d relays, at most %d", len(cfg.Family), onion.MaxFamily)
	}
	own := onion.Fingerprint(cfg.Identity.Public().(ed25519.PublicKey))
	fam := make([]string, 0, len(cfg.Family))
	for _, fp := range cfg.Family {
		fp = strings.ToUpper(strings.TrimPrefix(strings.TrimSpace(fp), "$"))
		if !onion.IsFingerprint(fp) {
			return fmt.Errorf("family member %q: want a fingerprint, 40 hex digits", fp)
		}
		if fp != own { // naming itself says nothing
			fam = append(fam, fp)
		}
	}
	slices.Sort(fam)
	cfg.Family = slices.Compact(fam)
	return nil
}

// ParseFamily reads a comma-separated list of fingerprints ("" is none).
func ParseFamily(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// ParseBandwidth reads a bandwidth in bytes/s: a number with an optional
// suffix K, M or G (powers of 1024), "" for the default (0).
func ParseBandwidth(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	mult := int64(1)
	switch strings.ToUpper(s[len(s)-1:]) {
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	}
	if mult > 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > onion.MaxBandwidth/mult {
		return 0, errors.New("bandwidth: want a positive number of bytes/s, with an optional K, M or G (1024^n)")
	}
	return n * mult, nil
}
