// Package pathsim simulates path selection at the scale of the real Tor
// network (issue 13, docs/SECURITY.md "Path selection at scale"): a
// synthetic list of thousands of relays with a heavy-tailed bandwidth
// distribution, an attacker who adds Sybil relays from a few addresses,
// the directory's real admission rules (directory.Admit) deciding how
// many of them are listed, and the client's path selection run over the
// result. It measures how many circuits the attacker sees end to end
// against the closed-form expectation, and how many first hops a client
// exposes itself to over simulated weeks with and without entry guards.
//
// It is deterministic for a seed, uses no sockets and no clock, and is
// not part of any running role: `onion sim` and the package's tests run it.
package pathsim
