// Package pathsel chooses the relays of a circuit from a relay list
// (PROTOCOL.md §8.5): bandwidth-weighted with Tor-like position weights,
// no two relays from one IPv4 /16 or IPv6 /32 (unless lab mode), no two
// of one family, an exit whose policy summary allows the port.
//
// It is pure: no sockets, no clock, no goroutines, randomness injected.
// The client runtime (client.Manager) and the path simulation use it.
// It does not know which relays are down or which guards a client keeps:
// callers pass those in (Options.Avoid, Options.Guards).
//
// API (stable; add, do not rename):
//
//	New(relays) *List                   // index a list once (fingerprints, subnets, weights)
//	(*List).Select(opt, rng) ([]onion.RelayDescriptor, error)
//	(*List).PickGuard(exclude, rng) (onion.RelayDescriptor, bool)
//	Select(relays, opt, rng)            // New(relays).Select(opt, rng)
//	PickGuard(relays, exclude, rng)     // New(relays).PickGuard(exclude, rng)
//	Compatible(a, b, lab), Subnet(address), SameFamily(a, b)
//	Weight(d) and the position weights (*List).Weights()
//
// Rand is func(n int64) int64, uniform in [0, n): math/rand/v2's
// (*Rand).Int64N for simulations, CryptoRand for clients.
package pathsel
