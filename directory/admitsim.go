package directory

// Admission without HTTP, for simulations (internal/pathsim).

import "onion/onion"

// Admit runs the listing rules of an authority configured by cfg over
// descs, published in that order, each once, at cfg.Now (or the clock):
// the public-address check (unless cfg.AllowPrivateAddresses), the
// admission rules (per-address limit, rejected and approved lists), the
// MaxRelays bound, and the weight it gives each relay listed (its
// Bandwidth capped at cfg.MaxRelayWeight). That is the very code POST
// /v1/relays runs after its per-source rate limit and the descriptor's signature check, which Admit
// skips: a simulation feeds an authority thousands of relays without
// signing or sending them. Each descriptor's Published is set to now.
// Admit returns the descriptors listed, in the order given, and, index for
// index with descs, why each refused one was refused (nil if listed).
func Admit(cfg Config, descs []onion.RelayDescriptor) ([]onion.RelayDescriptor, []error, error) {
	s, err := newServer(Config{
		Now: cfg.Now, MaxRelays: cfg.MaxRelays, MaxRelaysPerAddress: cfg.MaxRelaysPerAddress,
		Approved: cfg.Approved, Rejected: cfg.Rejected, ApprovedOnly: cfg.ApprovedOnly,
		AllowPrivateAddresses: cfg.AllowPrivateAddresses, MaxRelayWeight: cfg.MaxRelayWeight,
	})
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	var listed []onion.RelayDescriptor
	why := make([]error, len(descs))
	for i, d := range descs {
		d.Published = now.Unix()
		_, _, why[i] = s.storeRelay(&d)
		if why[i] == nil {
			listed = append(listed, d)
		}
	}
	return listed, why, nil
}
